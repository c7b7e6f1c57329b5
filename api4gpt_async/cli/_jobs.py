"""What every job-submitting command does after its submit: show the ref, wait, save."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from .. import TaskHandle

__all__ = ["follow"]

R = TypeVar("R")


async def follow(
    handle: TaskHandle[R],
    console: Console,
    *,
    wait: bool,
    out: Path | None,
    describe: Callable[[R], str],
) -> R | None:
    """Print the job's id and ref; with ``wait`` (or ``out``) wait for it and print
    ``describe(result)``; with ``out`` save every media file of the job into that folder."""
    console.print(f"submitted {handle.kind} job [bold]{handle.id}[/bold]")
    console.print(f"ref: {json.dumps(handle.ref)}", markup=False, highlight=False)
    if not wait and out is None:
        return None
    with console.status(f"waiting for {handle.kind} job {handle.id}…"):
        result = await handle.wait()
    console.print(describe(result), markup=False, highlight=False)
    if out is not None:
        for path in await handle.download_all(out):
            console.print(f"saved {path} ({path.stat().st_size} bytes)", markup=False)
    return result


def lines(*parts: Any) -> str:
    """The non-empty parts, one per line."""
    return "\n".join(str(p) for p in parts if p not in (None, ""))
