"""What every job-submitting command does after its submit: show the ref, wait, save."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from .. import TaskHandle

__all__ = ["follow"]

R = TypeVar("R")
#: What ``--out`` is: a folder ``Path``, or the text as typed (where "videos/" means a folder).
Out = TypeVar("Out", str, Path)


async def follow(
    handle: TaskHandle[R],
    console: Console,
    *,
    wait: bool,
    out: Out | None,
    describe: Callable[[R], str],
    save: Callable[[R, Out], Awaitable[list[Path]]] | None = None,
    noun: str = "job",
) -> R | None:
    """Print the job's id and ref; with ``wait`` (or ``out``) wait for it with a live status
    line (state and progress) and print ``describe(result)``; with ``out`` save into that
    folder: ``save(result, out)`` (the paths it wrote), by default every media file of the job.

    ``noun`` is what the family calls its jobs (Midjourney: ``"task"``). Raises what
    ``TaskHandle.wait`` raises (a failed or cancelled job, one that needs action).
    """
    console.print(f"submitted {handle.kind} {noun} [bold]{handle.id}[/bold]")
    console.print(f"ref: {json.dumps(handle.ref)}", markup=False, highlight=False)
    if not wait and out is None:
        return None
    waiting = f"waiting for {handle.kind} {noun} {handle.id}…"
    try:
        with console.status(waiting) as status:
            async for snap in handle.watch():
                progress = f" {snap.progress:.0%}" if snap.progress is not None else ""
                status.update(f"{waiting} {snap.state.value}{progress}")
        result = await handle.wait()  # the result, or the failure / needs-action error
    except asyncio.CancelledError:  # Ctrl-C: the job goes on without us; say how to rejoin it
        console.print(
            f"the {noun} keeps running on the service; wait for it again with: "
            f"api4gpt task wait {handle.kind}:{handle.id}",
            markup=False, highlight=False,
        )  # fmt: skip
        raise
    console.print(describe(result), markup=False, highlight=False)
    if out is not None:
        paths = await (save(result, out) if save is not None else handle.download_all(out))
        for path in paths:
            console.print(f"saved {path} ({path.stat().st_size} bytes)", markup=False)
    return result


def lines(*parts: Any) -> str:
    """The non-empty parts, one per line."""
    return "\n".join(str(p) for p in parts if p not in (None, ""))
