"""``api4gpt batch run|status``: a resumable batch of jobs of any family, with live progress."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .. import AsyncAPI4GPT, PollPolicy, TaskHandle
from .._batch import (
    JOURNAL_NAME,
    BatchJob,
    BatchReport,
    bind_jobs,
    journal_rows,
    read_jobs,
    run_batch,
)
from ..journal import open_journal
from ._app import ApiKey, BaseUrl, Commands, _run, app, console, existing_file, expand_home
from ._errors import fail, require_api_key, run

__all__ = ["batch_app"]


batch_app = Commands(
    help="Run a JSONL file of jobs of any family, resumable after a crash.", no_args_is_help=True
)
app.add_typer(batch_app, name="batch")  # importing this module adds the commands

#: The order states are shown in; the first ones are still to end.
_STATES = (
    "queued",
    "submitting",
    "pending",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "refused",
    "uncertain",
    "unfinished",
)
_ENDED = frozenset(
    {"succeeded", "failed", "cancelled", "refused", "uncertain", "unfinished", "accepted"}
)
_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
    "refused": "red",
    "uncertain": "magenta",
    "unfinished": "yellow",
}


class _Board:
    """The live view: overall and per-family bars (with ETA), and a count per state."""

    def __init__(self, jobs: list[BatchJob]) -> None:
        self.jobs = {job.key: job for job in jobs}
        self.states: dict[str, str] = dict.fromkeys(self.jobs, "queued")
        self.handles: dict[str, TaskHandle[Any]] = {}
        self.progress = Progress(
            TextColumn("{task.description:>12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.overall = self.progress.add_task("all", total=len(jobs))
        self.families: dict[str, TaskID] = {}
        for family, count in sorted(Counter(job.family for job in jobs).items()):
            self.families[family] = self.progress.add_task(family, total=count)

    def update(self, job: BatchJob, status: str, handle: TaskHandle[Any] | None) -> None:
        if handle is not None:
            self.handles[job.key] = handle
        if status in ("accepted", "resumed"):
            status = "pending"  # on the service; its snapshots tell pending from running
        self.states[job.key] = status
        done = sum(1 for s in self.states.values() if s in _ENDED)
        self.progress.update(self.overall, completed=done)
        family_done = sum(
            1
            for key, s in self.states.items()
            if s in _ENDED and self.jobs[key].family == job.family
        )
        self.progress.update(self.families[job.family], completed=family_done)

    def _live_state(self, key: str) -> str:
        state = self.states[key]
        handle = self.handles.get(key)
        if state == "pending" and handle is not None and handle.last is not None:
            live = handle.last.state.value
            return live if live in ("pending", "running") else state
        return state

    def counts(self) -> Table:
        counts = Counter(self._live_state(key) for key in self.states)
        table = Table(box=None, show_header=False, pad_edge=False)
        for state in _STATES:
            if counts[state]:
                style = _STYLES.get(state, "")
                table.add_row(f"[{style}]{state}[/]" if style else state, str(counts[state]))
        return table

    def __rich__(self) -> RenderableType:
        return Group(self.progress.get_renderable(), self.counts())


def _tally(report: BatchReport) -> str:
    """``200 jobs: 180 succeeded, 20 failed`` (states in display order)."""
    parts = [f"{report.counts[s]} {s}" for s in (*_STATES, "accepted") if report.counts[s]]
    count = len(report.rows)
    return f"{count} job{'' if count == 1 else 's'}: {', '.join(parts) or 'none'}"


def _summary(report: BatchReport) -> Table:
    families = sorted({row["family"] for row in report.rows})
    states = [s for s in (*_STATES, "accepted") if report.counts[s]]
    table = Table(title="batch summary")
    table.add_column("family")
    for state in states:
        table.add_column(state, justify="right", style=_STYLES.get(state, ""))
    table.add_column("total", justify="right")
    for family in families:
        rows = [r for r in report.rows if r["family"] == family]
        counts = Counter(r["status"] for r in rows)
        table.add_row(family, *(str(counts[s]) for s in states), str(len(rows)))
    table.add_row("all", *(str(report.counts[s]) for s in states), str(len(report.rows)))
    return table


@batch_app.command("run")
def batch_run(
    jobs_file: Annotated[
        Path,
        typer.Argument(
            metavar="JOBS.jsonl",
            callback=existing_file,
            help='One job a line: {"family": "luma", "op": "generate", "params": {...}, '
            '"key": "optional"}.',
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder for results.jsonl, media and journal.", callback=expand_home
        ),
    ],
    concurrency: Annotated[
        int, typer.Option(min=1, help="Most jobs running on the service at once.")
    ] = 8,
    journal: Annotated[
        str | None,
        typer.Option(
            help="SQLite file or redis:// URL (default: OUT/journal.sqlite3).", callback=expand_home
        ),
    ] = None,
    resubmit_uncertain: Annotated[
        bool,
        typer.Option(
            "--resubmit-uncertain",
            help="Send again jobs whose submit was cut off (they may be billed twice).",
        ),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Seconds to wait for each job (default 1800).")
    ] = None,
    poll_every: Annotated[
        float | None,
        typer.Option(min=0.001, help="Poll each job every SECONDS (default: adaptive, from 2 s)."),
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Run every job of JOBS.jsonl; killed and run again, it finishes the same batch with no
    job submitted twice. Exit code 0 only when every job succeeded."""
    try:
        batch = read_jobs(jobs_file)
    except ValueError as exc:
        fail(f"{jobs_file}: {exc}", code=2)
    api_key = require_api_key(api_key)
    poll = (
        PollPolicy(initial_delay=poll_every, multiplier=1, max_delay=poll_every, jitter=0)
        if poll_every is not None
        else None
    )

    async def go() -> BatchReport:
        board = _Board(batch)
        started = time.monotonic()
        async with AsyncAPI4GPT(api_key=api_key, base_url=base_url, poll=poll) as client:
            bind_jobs(client, batch)  # every line checked before the live view starts
            with Live(board, console=console, refresh_per_second=8):
                report = await run_batch(
                    client,
                    batch,
                    out=out,
                    concurrency=concurrency,
                    journal=journal,
                    resubmit_uncertain=resubmit_uncertain,
                    timeout=timeout,
                    on_update=board.update,
                )
            if not console.is_terminal:
                console.line()  # rich ends the last view without a newline when not a terminal
        console.print(_summary(report))
        console.print(_tally(report), markup=False, highlight=False)
        console.print(
            f"results: {report.results_path} ({time.monotonic() - started:.1f}s)",
            markup=False,
            highlight=False,
        )
        if report.counts["uncertain"]:
            console.print(
                f"[magenta]{report.counts['uncertain']} job(s) may have been submitted when a "
                "run was cut off[/]: check them, then rerun with --resubmit-uncertain to send "
                "them again"
            )
        return report

    report = run(go, interrupted="interrupted: run the same command again to resume the batch")
    raise typer.Exit(0 if report.ok else 1)


@batch_app.command("status")
def batch_status(
    journal: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Journal: SQLite file, a run's --out folder, or redis://...",
            callback=expand_home,
        ),
    ],
) -> None:
    """Show what a batch's journal knows: counts per family and state, and the jobs that did
    not succeed."""
    if "://" not in journal and Path(journal).is_dir():
        journal = str(Path(journal) / JOURNAL_NAME)
    if "://" not in journal and not Path(journal).is_file():
        fail(f"no journal at {journal}", code=2)

    async def go() -> list[dict[str, Any]]:
        store = open_journal(journal)
        try:
            return journal_rows(await store.entries())
        finally:
            await store.aclose()

    rows = _run(go)
    report = BatchReport(rows=rows, out=Path())
    console.print(_summary(report))
    console.print(_tally(report), markup=False, highlight=False)
    cut = report.counts["submitting"]
    if cut:
        console.print(
            f"[magenta]{cut} job(s) were being submitted[/] when last seen: uncertain, unless a "
            "run is still going (rerun with --resubmit-uncertain to send them again)"
        )
    problems = [r for r in rows if r["status"] != "succeeded"]
    if problems:
        table = Table(title="not succeeded")
        for column in ("key", "family", "status", "ref", "error"):
            table.add_column(column, overflow="fold")
        for row in problems[:50]:
            ref = f"{row['ref']['kind']}:{row['ref']['id']}" if row["ref"] else ""
            table.add_row(row["key"], row["family"], row["status"], ref, row["error"] or "")
        console.print(table)
        if len(problems) > 50:
            console.print(f"... and {len(problems) - 50} more")
