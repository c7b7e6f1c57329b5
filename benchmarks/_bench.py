"""What every benchmark shares: CPU clocks, the environment record, tables and JSON files."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # run from a checkout; the SDK need not be installed


PROMPT = "a red fox running through fresh snow at dawn, cinematic, slow motion"

#: How the benchmarks submit one job of each task family (by client attribute). A family the
#: SDK has but this table lacks is skipped, and the benchmarks say so.
SUBMITTERS: dict[str, Callable[[Any], Awaitable[Any]]] = {
    "lumvip": lambda svc: svc.generate(PROMPT),
    "midjourney": lambda svc: svc.imagine(PROMPT),
    "suno": lambda svc: svc.generate(prompt=PROMPT),
    "zhipu_video": lambda svc: svc.generate(prompt=PROMPT),
    "digital_human": lambda svc: svc.create(
        "https://example.com/avatar.jpg", audio_url="https://example.com/voice.mp3"
    ),
}


def user_system() -> tuple[float, float]:
    """This process's user and system CPU seconds (µs resolution where ``resource`` exists)."""
    if sys.platform == "win32":
        times = os.times()
        return times.user, times.system
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or None
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return None


def environment() -> dict[str, Any]:
    """The machine and the versions that produced a result."""
    import aiohttp

    import api4gpt_async

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "event_loop": type(asyncio.get_event_loop_policy()).__name__,
        "api4gpt_async": api4gpt_async.__version__,
        "aiohttp": aiohttp.__version__,
        "openai": version("openai"),
        "httpx": version("httpx"),
        "httpx2": version("httpx2"),
        "attrs": version("attrs"),
        "cattrs": version("cattrs"),
    }


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for n, row in enumerate([header, *rows]):
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(v).rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"figures written to {path}")
