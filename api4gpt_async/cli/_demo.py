"""``api4gpt demo``: several Luma jobs at once, live progress, downloads, a summary.

It shows the SDK's shape in one screen: submit returns handles at once, ``watch`` feeds the
display, one failed job does not disturb the others, and results are saved atomically.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import attrs
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress_bar import ProgressBar

from .. import API4GPTError, AsyncAPI4GPT, PollPolicy, TaskHandle, TaskState
from ..models.luma import LumaGeneration
from ..testing import Emulator

PROMPTS = [
    "a paper boat drifting down a rainy street",
    "a cat surfing a wave at sunset",
    "a hummingbird hovering, slow motion",
    "timelapse of a city skyline from dusk to night",
    "a lighthouse in a storm, cinematic",
    "steam rising from a cup of coffee, macro",
]
#: On the emulator one job is asked to fail, to show that the others are unaffected.
FAILING_PROMPT = f"{Emulator.FAIL} a job told to fail, to show that nothing else is lost"
#: Emulated seconds per real second: a twelve-second Luma job takes two.
DEMO_TIME_SCALE = 6.0
DEMO_POLL = PollPolicy(initial_delay=0.2, multiplier=1.3, max_delay=0.5, jitter=0.1, timeout=60)


@attrs.define
class _Row:
    prompt: str
    flavour: str
    state: str = "submitting"
    path: Path | None = None
    seconds: float = 0.0
    note: str = ""


async def run_demo(
    *, out: Path, jobs: int, base_url: str | None, api_key: str | None, console: Console
) -> None:
    async with AsyncExitStack() as stack:
        emulated = base_url is None
        poll = DEMO_POLL if emulated else None
        if emulated:
            emu = await stack.enter_async_context(Emulator(time_scale=DEMO_TIME_SCALE))
            base_url, api_key = emu.base_url, emu.api_key
            console.print(f"[dim]built-in emulator on {base_url} (no key, no network needed)[/dim]")
        client = await stack.enter_async_context(
            AsyncAPI4GPT(api_key=api_key, base_url=base_url, poll=poll)
        )
        out.mkdir(parents=True, exist_ok=True)
        prompts = [PROMPTS[i % len(PROMPTS)] for i in range(jobs)]
        if emulated and jobs >= 3:
            prompts[-1] = FAILING_PROMPT
        rows = [_Row(p, "lumvip" if i % 2 else "luma") for i, p in enumerate(prompts)]

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", style="bold"),
            StateBar(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        )
        started = time.monotonic()
        with progress:
            async with anyio.create_task_group() as tg:
                for row in rows:
                    bar = progress.add_task(
                        escape(cut(row.prompt, PROMPT_WIDTH)), total=None, state="submitting"
                    )
                    tg.start_soon(_one_job, client, row, out, progress, bar)
        console.print(_summary(rows, time.monotonic() - started, out))


async def _one_job(
    client: AsyncAPI4GPT, row: _Row, out: Path, progress: Progress, bar: object
) -> None:
    """Run one job to the end; any error is recorded on its row, never raised to the others."""
    started = time.monotonic()
    service = client.lumvip if row.flavour == "lumvip" else client.luma
    try:
        handle: TaskHandle[LumaGeneration] = await service.generate(row.prompt)
        async for snap in handle.watch():
            row.state = snap.state.value
            eta = f" ~{snap.eta_seconds:.0f}s" if snap.eta_seconds else ""
            progress.update(bar, state=f"{row.state}{eta}")  # type: ignore[arg-type]
        if handle.last is not None and handle.last.state is TaskState.SUCCEEDED:
            progress.update(bar, state="downloading")  # type: ignore[arg-type]
            row.path = await handle.download(out)
            row.state = "saved"
        else:
            await handle.wait()  # raises the failure with its reason
    except API4GPTError as exc:
        row.state = "failed"
        row.note = str(getattr(exc, "reason", None) or exc)
    row.seconds = time.monotonic() - started
    progress.update(
        bar,  # type: ignore[arg-type]
        total=1,
        completed=1,
        state=row.state,
        failed=row.state == "failed",
    )


#: How much of a prompt the live bars and the summary show (the rest becomes "…").
PROMPT_WIDTH = 40


def cut(text: str, width: int) -> str:
    """``text`` if it fits in ``width`` characters, else its start and "…" (``width`` in all)."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


class StateBar(BarColumn):
    """The progress bar, red once its job has failed (the task field ``failed``)."""

    def render(self, task: Task) -> ProgressBar:
        bar = super().render(task)
        if task.fields.get("failed"):
            bar.complete_style = bar.finished_style = "red"
        return bar


def _summary(rows: list[_Row], seconds: float, out: Path) -> Group:
    """One line per job: result, flavour, seconds, the file name whole, then the prompt cut.

    Lines rather than a table: a table squeezed by a narrow terminal cuts what it holds, and
    the file name is what the user looks for.
    """
    saved = sum(r.state == "saved" for r in rows)
    lines: list[str] = [f"[bold]{saved} of {len(rows)} videos saved in {seconds:.1f}s[/bold]"]
    for row in rows:
        style = "green" if row.state == "saved" else "red"
        name = escape(row.path.name) if row.path else "-"
        prompt = escape(cut(row.prompt, PROMPT_WIDTH))
        lines.append(
            f"[{style}]{row.state:<6}[/{style}] {row.flavour:<6} {row.seconds:5.1f}s  "
            f"{name}  [dim]{prompt}[/dim]"
        )
    lines.append(f"[dim]files in {escape(str(out))}/[/dim]")
    notes = [
        f"[red]{escape(cut(row.prompt, PROMPT_WIDTH))}[/red]: {escape(row.note)}"
        for row in rows
        if row.note
    ]
    return Group(*lines, *notes)
