"""The batch runner: a JSONL file of jobs of any family, run once, resumable after a crash.

One job a line: ``{"family": "luma", "op": "generate", "params": {...}, "key": "..."}``.
``family`` is a task family of the client (``client.<family>``), ``op`` one of its submit
methods (found from the methods themselves: every coroutine method that returns a
``TaskHandle``, so a new family needs nothing here), ``params`` its keyword arguments, and
``key`` an optional unique name (default: a hash of the line's family, op and params).

Every line is checked before anything is sent. The jobs then go through ``submit_many`` with
a journal (default ``OUT/journal.sqlite3``): killed at any moment and run again, the runner
resumes accepted jobs and never submits one twice. Each job's media is saved under
``OUT/media/``, a line per ended job is appended to ``OUT/results.jsonl`` as it ends, and at the
end that file is rewritten with exactly one line per job, in input order.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import inspect
import json
import os
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio
import anyio.to_thread
import attrs

from ._files import user_path
from ._journal import FINISHED, Journal, JournalEntry, open_journal
from ._json import encode_body, read_json
from ._submit import Job, OnResult, SubmitOutcome
from .errors import TaskError
from .tasks import PollPolicy, TaskHandle

if TYPE_CHECKING:
    from ._client import AsyncAPI4GPT

__all__ = ["BatchJob", "BatchReport", "read_jobs", "run_batch", "run_job", "submit_ops"]

RESULTS_NAME: Final = "results.jsonl"
JOURNAL_NAME: Final = "journal.sqlite3"
MEDIA_DIR: Final = "media"

#: Called on every step of a job: ``(job, status, handle or None)``; statuses are the
#: journal's plus ``"resumed"`` and ``"queued"``.
OnBatchUpdate = Callable[["BatchJob", str, "TaskHandle[Any] | None"], None]


@attrs.frozen(kw_only=True)
class BatchJob:
    """One line of a jobs file.

    Attributes:
        family: the client attribute of a task family, e.g. ``"luma"``.
        op: the submit method, e.g. ``"generate"``.
        params: its keyword arguments.
        key: unique in the batch; default: the first 24 hex digits of the SHA-256 of
            ``{"family", "op", "params"}`` as canonical JSON.
        line: the line number in the file (1-based), for messages; 0 when built in code.
    """

    family: str
    op: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    key: str = ""
    line: int = 0

    def __attrs_post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", default_key(self.family, self.op, self.params))

    @property
    def meta(self) -> dict[str, Any]:
        return {"family": self.family, "op": self.op, "params": dict(self.params)}


def default_key(family: str, op: str, params: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"family": family, "op": op, "params": params},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def read_jobs(path: str | os.PathLike[str]) -> list[BatchJob]:
    """The jobs of a JSONL file (blank lines skipped; a leading ``~`` is the home folder).

    Raises:
        ValueError: naming the line, for a line that is not a job object or repeats a key.
    """
    jobs: list[BatchJob] = []
    with open(user_path(path), encoding="utf-8-sig") as file:  # a BOM (Windows editors) is no JSON
        for number, text in enumerate(file, start=1):
            if not text.strip():
                continue
            try:
                data = read_json(text)
            except ValueError as exc:
                raise ValueError(f"line {number}: not JSON ({exc})") from None
            jobs.append(_job_of(data, number))
    _check_keys(jobs)
    return jobs


def _job_of(data: Any, number: int) -> BatchJob:
    if not isinstance(data, dict):
        raise ValueError(f"line {number}: a job must be a JSON object")
    unknown = set(data) - {"family", "op", "params", "key"}
    if unknown:
        raise ValueError(f"line {number}: unknown field(s) {', '.join(sorted(unknown))}")
    family, op = data.get("family"), data.get("op")
    params = data.get("params", {})
    key = data.get("key") or ""
    if not isinstance(family, str) or not family:
        raise ValueError(f"line {number}: 'family' must be a family name such as \"luma\"")
    if not isinstance(op, str) or not op:
        raise ValueError(f"line {number}: 'op' must be a submit method such as \"generate\"")
    if not isinstance(params, dict):
        raise ValueError(f"line {number}: 'params' must be an object")
    if not isinstance(key, str):
        raise ValueError(f"line {number}: 'key' must be a string")
    try:
        encode_body(params)  # NaN, a lone surrogate…: JSON the file may hold but no request can
    except (TypeError, ValueError) as exc:
        raise ValueError(f"line {number}: 'params' cannot be sent: {exc}") from None
    return BatchJob(family=family, op=op, params=params, key=key, line=number)


def _check_keys(jobs: Iterable[BatchJob]) -> None:
    seen: dict[str, BatchJob] = {}
    for job in jobs:
        first = seen.setdefault(job.key, job)
        if first is not job:
            raise ValueError(
                f"line {job.line}: key {job.key!r} repeats line {first.line}'s "
                "(identical jobs need distinct keys)"
            )


# --------------------------------------------------------------------------- families


def submit_ops(client: AsyncAPI4GPT) -> dict[str, dict[str, Callable[..., Any]]]:
    """Every task family of ``client`` and its submit methods: ``{"luma": {"generate": ...}}``.

    A submit method is a public coroutine method whose return annotation is a ``TaskHandle``.
    """
    families: dict[str, dict[str, Callable[..., Any]]] = {}
    for name, service in sorted(vars(client).items()):
        if name.startswith("_"):
            continue
        ops = {
            op: getattr(service, op)
            for op, fn in inspect.getmembers(type(service), inspect.iscoroutinefunction)
            if not op.startswith("_") and _returns_handle(fn)
        }
        if ops:
            families[name] = ops
    return families


def _returns_handle(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is declared to return a ``TaskHandle`` (or a subclass of it).

    An annotation that cannot be resolved at run time (a name imported for type checking
    only) is read by its name: ``TaskHandle[...]``, or a class of the module, or ``...Handle``.
    """
    try:
        annotation = typing.get_type_hints(fn).get("return")
    except Exception:
        text = str(inspect.signature(fn).return_annotation)
        name = text.split("[", 1)[0].strip().rsplit(".", 1)[-1]
        annotation = getattr(fn, "__globals__", {}).get(name)
        if annotation is None:
            return name.endswith("Handle")
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, TaskHandle)


def bind_jobs(client: AsyncAPI4GPT, jobs: Iterable[BatchJob]) -> list[Job]:
    """``submit_many`` jobs for ``jobs``, every one checked first against its family's methods.

    Raises:
        ValueError: naming the line, for an unknown family or op, or parameters the method
            does not take (nothing is sent).
    """
    families = submit_ops(client)
    bound: list[Job] = []
    problems: list[str] = []
    for job in jobs:
        where = f"line {job.line}" if job.line else f"job {job.key!r}"
        ops = families.get(job.family)
        if ops is None:
            hint = _hint(job.family, families)
            problems.append(f"{where}: unknown family {job.family!r} ({hint})")
            continue
        method = ops.get(job.op)
        if method is None:
            hint = _hint(job.op, ops)
            problems.append(f"{where}: {job.family} has no submit {job.op!r} ({hint})")
            continue
        problem = _check_params(method, job.params)
        if problem:
            problems.append(f"{where}: {job.family}.{job.op}: {problem}")
            continue
        bound.append(Job(key=job.key, submit=_caller(method, job.params), meta=job.meta))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if problems[20:] else [])
        raise ValueError("invalid jobs:\n  " + "\n  ".join(shown))
    return bound


def _hint(name: str, known: Iterable[str]) -> str:
    """``did you mean 'luma'? known: ...`` for a misspelt name."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    return (f"did you mean {close[0]!r}? " if close else "") + f"known: {', '.join(names)}"


def _check_params(method: Callable[..., Any], params: Mapping[str, Any]) -> str | None:
    """Why ``method(**params)`` would not be a valid call, or None."""
    signature = inspect.signature(method)
    accepted = [
        name
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for name in params:
        if name not in accepted and not takes_any:
            close = difflib.get_close_matches(name, accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown parameter {name!r}{hint}"
    try:
        signature.bind(**params)
    except TypeError as exc:
        return str(exc)
    return None


def _caller(method: Callable[..., Any], params: Mapping[str, Any]) -> Callable[..., Any]:
    return lambda: method(**params)


# --------------------------------------------------------------------------- running


@attrs.frozen(kw_only=True)
class BatchReport:
    """How a batch ended. ``rows`` are the lines of ``results.jsonl``, one per job, in input
    order: ``key``, ``line``, ``family``, ``op``, ``status`` (a journal status), ``ref``,
    ``files`` (saved media, relative to ``out``) and ``error``."""

    rows: list[dict[str, Any]]
    out: Path

    @property
    def counts(self) -> Counter[str]:
        return Counter(row["status"] for row in self.rows)

    @property
    def ok(self) -> bool:
        """Whether every job succeeded."""
        return all(row["status"] == "succeeded" for row in self.rows)

    @property
    def results_path(self) -> Path:
        return self.out / RESULTS_NAME


async def run_batch(
    client: AsyncAPI4GPT,
    jobs: Iterable[BatchJob] | str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    concurrency: int = 8,
    journal: Journal | str | os.PathLike[str] | None = None,
    resubmit_uncertain: bool = False,
    timeout: float | None = None,
    poll: PollPolicy | None = None,
    on_update: OnBatchUpdate | None = None,
) -> BatchReport:
    """Run a batch (a list of :class:`BatchJob`, or a JSONL file of them) to its end.

    At most ``concurrency`` jobs run on the service at once. ``journal`` is a
    :class:`~api4gpt_async.journal.Journal`, or a SQLite path / ``redis://`` URL (default
    ``OUT/journal.sqlite3``); a journal passed as an object is left open. Jobs the journal
    shows finished are not touched again; accepted ones are resumed; uncertain ones are only
    re-sent with ``resubmit_uncertain``. ``timeout`` bounds each job's wait. In the paths
    (``jobs``, ``out``, ``journal``) a leading ``~`` is the home folder.

    Raises:
        ValueError: for invalid jobs (before anything is sent).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    batch = read_jobs(jobs) if isinstance(jobs, (str, os.PathLike)) else list(jobs)
    _check_keys(batch)
    bound = bind_jobs(client, batch)
    out_dir = Path(user_path(out))
    media = out_dir / MEDIA_DIR
    media.mkdir(parents=True, exist_ok=True)
    owned = not isinstance(journal, Journal)
    store: Journal = (
        journal
        if isinstance(journal, Journal)
        else open_journal(journal if journal is not None else out_dir / JOURNAL_NAME)
    )
    by_key = {job.key: job for job in batch}
    rows: dict[str, dict[str, Any]] = {}

    def tell(key: str, status: str, handle: TaskHandle[Any] | None) -> None:
        if on_update is not None:
            on_update(by_key[key], status, handle)

    async def save(handle: TaskHandle[Any], result: Any) -> dict[str, Any]:
        return {"files": await _save_media(handle, media, out_dir)}

    try:
        todo: list[Job] = []
        for job, runnable in zip(batch, bound, strict=True):
            entry = await store.get(job.key)
            if entry is not None and entry.status in FINISHED:
                rows[job.key] = _row(job, entry.status, entry.ref, entry.outcome, entry.error)
                tell(job.key, entry.status, None)
            else:
                todo.append(runnable)
                tell(job.key, "queued", None)
        async with await anyio.open_file(out_dir / RESULTS_NAME, "a", encoding="utf-8") as results:
            outcomes = client.tasks.submit_many(
                todo,
                max_running=concurrency,
                journal=store,
                resubmit_uncertain=resubmit_uncertain,
                timeout=timeout,
                poll=poll,
                on_result=save,
                on_update=tell,
            )
            async for outcome in outcomes:
                row = _outcome_row(by_key[outcome.key], outcome)
                rows[outcome.key] = row
                await results.write(json.dumps(row, ensure_ascii=False) + "\n")
                await results.flush()
        ordered = [rows[job.key] for job in batch]
        await anyio.to_thread.run_sync(_write_atomically, out_dir / RESULTS_NAME, ordered)
        return BatchReport(rows=ordered, out=out_dir)
    finally:
        if owned:
            await store.aclose()


async def run_job(
    client: AsyncAPI4GPT,
    job: BatchJob | Mapping[str, Any],
    *,
    journal: Journal,
    media: str | os.PathLike[str] | None = None,
    resubmit_uncertain: bool = False,
    timeout: float | None = None,
    poll: PollPolicy | None = None,
) -> dict[str, Any]:
    """Run one job (a :class:`BatchJob` or its JSON object) to its end, submit-once through
    ``journal``, and return its result row (see :class:`BatchReport`). For workers that get
    jobs one at a time from a queue (``api4gpt_async.integrations.taskiq``): a job delivered
    again is resumed, or answered from the journal, never submitted again.

    ``media``: a folder to save each finished job's media in (``files`` are relative to it;
    a leading ``~`` is the home folder).

    Raises:
        ValueError: for an invalid job (nothing is sent).
    """
    if not isinstance(job, BatchJob):
        job = _job_of(job, 0)
    (runnable,) = bind_jobs(client, [job])
    entry = await journal.get(job.key)
    if entry is not None and entry.status in FINISHED:
        return _row(job, entry.status, entry.ref, entry.outcome, entry.error)
    save: OnResult | None = None
    if media is not None:
        folder = Path(user_path(media))
        folder.mkdir(parents=True, exist_ok=True)

        async def save_media(handle: TaskHandle[Any], result: Any) -> dict[str, Any]:
            return {"files": await _save_media(handle, folder, folder)}

        save = save_media

    outcomes = client.tasks.submit_many(
        [runnable],
        journal=journal,
        resubmit_uncertain=resubmit_uncertain,
        timeout=timeout,
        poll=poll,
        on_result=save,
    )
    async with contextlib.aclosing(outcomes):
        async for outcome in outcomes:
            return _outcome_row(job, outcome)
    raise AssertionError("submit_many gave no outcome")  # pragma: no cover


async def _save_media(handle: TaskHandle[Any], folder: Path, root: Path) -> list[str]:
    """Save every media file of a succeeded job, as paths relative to ``root``.

    Files are named after the job (``<id>-video.mp4``): a rerun after a crash between the
    download and the journal's ``succeeded`` replaces that job's own files.
    """
    try:
        paths = await handle.download_all(folder, overwrite=True)
    except TaskError:  # the job succeeded (on_result runs only then): it has no media
        return []
    return [os.path.relpath(Path(p).resolve(), root.resolve()) for p in paths]


def _row(
    job: BatchJob,
    status: str,
    ref: Mapping[str, Any] | None,
    outcome: Mapping[str, Any] | None,
    error: str | None,
) -> dict[str, Any]:
    return {
        "key": job.key,
        "line": job.line,
        "family": job.family,
        "op": job.op,
        "status": status,
        "ref": dict(ref) if ref else None,
        "files": list((outcome or {}).get("files", [])),
        "error": error,
    }


def _outcome_row(job: BatchJob, outcome: SubmitOutcome[Any]) -> dict[str, Any]:
    error = None if outcome.error is None else f"{type(outcome.error).__name__}: {outcome.error}"
    ref = outcome.handle.ref if outcome.handle is not None else None
    return _row(job, outcome.status, ref, outcome.outcome, error)


def _write_atomically(path: Path, rows: list[dict[str, Any]]) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(part, path)


def journal_rows(entries: Iterable[JournalEntry]) -> list[dict[str, Any]]:
    """Journal entries as result rows (for ``api4gpt batch status``)."""
    rows = []
    for entry in entries:
        meta = entry.meta
        job = BatchJob(
            family=str(meta.get("family", "?")),
            op=str(meta.get("op", "?")),
            params=meta.get("params") or {},
            key=entry.key,
        )
        rows.append(_row(job, entry.status, entry.ref, entry.outcome, entry.error))
    return rows
