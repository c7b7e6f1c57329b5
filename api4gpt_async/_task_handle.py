"""Handles of submitted jobs, and ``client.tasks`` (resume, ``as_completed``, ``gather``).

A handle owns a :class:`~._scheduler.JobRecord` it shares with the client's scheduler; waiting
is a future on that scheduler, not a coroutine per job.
"""

from __future__ import annotations

import ast
import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload
from urllib.parse import urlsplit

import anyio
import attrs

from ._files import DEFAULT_MAX_BYTES, check_writable, download, safe_filename
from ._json import read_json
from ._scheduler import JobRecord, PollScheduler
from ._submit import submit_many
from ._task_kind import PollPolicy, TaskKind, TaskSnapshot, TaskState
from .errors import (
    API4GPTError,
    TaskBatchError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNeedsActionError,
    TaskTimeoutError,
)

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["TaskHandle", "TaskNotSucceeded", "TaskOutcome", "TaskSucceeded", "Tasks"]

R = TypeVar("R")  # a family's result
T = TypeVar("T")


@attrs.frozen(kw_only=True)
class TaskOutcome(Generic[R]):
    """How one job of a batch ended: ``result`` or ``error``, never both.

    ``as_completed`` yields one of two subclasses, so a type checker narrows on either test::

        if outcome.ok:                 # mypy; pyright narrows on `outcome.ok is True`
            video = outcome.result     # R, not R | None
        if outcome.error is None:      # every checker
            video = outcome.result
    """

    handle: TaskHandle[R]
    index: int
    result: R | None
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen(kw_only=True)
class TaskSucceeded(TaskOutcome[R]):
    """A job that ended with its result."""

    result: R
    error: None = None

    @property
    def ok(self) -> Literal[True]:
        return True


@attrs.frozen(kw_only=True)
class TaskNotSucceeded(TaskOutcome[R]):
    """A job that failed, was cancelled, or did not end in time: ``error`` says which."""

    error: BaseException
    result: None = None

    @property
    def ok(self) -> Literal[False]:
        return False


class TaskHandle(Generic[R]):
    """A submitted job: await it, watch it, cancel it, download it, or save ``ref`` for later."""

    __slots__ = ("_record", "_tasks", "id")

    def __init__(
        self,
        kind: TaskKind[Any, R],
        task_id: str,
        *,
        tasks: Tasks,
        snapshot: TaskSnapshot[Any] | None = None,
    ) -> None:
        self.id: str = task_id
        self._tasks = tasks
        self._record = JobRecord(kind, task_id, tasks.transport.hooks)
        if snapshot is not None:
            self._record.observe(snapshot)

    @property
    def _kind(self) -> TaskKind[Any, R]:
        return self._record.kind

    @property
    def kind(self) -> str:
        return self._kind.name

    @property
    def ref(self) -> dict[str, str]:
        """A JSON-safe reference: ``client.tasks.resume(ref)`` re-attaches, in any process."""
        return {"kind": self._kind.name, "id": self.id}

    @property
    def last(self) -> TaskSnapshot[Any] | None:
        """The most recent snapshot seen, without a request."""
        return self._record.last

    def __repr__(self) -> str:
        last = self._record.last
        state = last.state.value if last else "unknown"
        return f"<TaskHandle {self.kind} {self.id} {state}>"

    async def refresh(self) -> TaskSnapshot[Any]:
        """Query the job now."""
        status = await self._kind.fetch(self.id)
        return self._record.observe(self._kind.snapshot(self.id, status))

    async def wait(self, *, timeout: float | None = None, poll: PollPolicy | None = None) -> R:
        """The job's result once it succeeds.

        Raises ``TaskFailedError`` / ``TaskCancelledError`` when it ends otherwise,
        ``TaskNeedsActionError`` as soon as it waits for input (a Midjourney task in MODAL:
        it would not move on alone), and ``TaskTimeoutError`` after ``timeout`` seconds
        (default ``poll.timeout``), leaving the handle usable: the job may still finish.
        """
        policy = poll or self._tasks.poll
        limit = policy.timeout if timeout is None else timeout
        snap = self._record.last
        if snap is None or not snap.state.terminal:
            try:
                with anyio.fail_after(limit):
                    snap = await self._tasks.scheduler.next_snapshot(
                        self._record, terminal_only=True, policy=policy
                    )
            except TimeoutError:
                raise TaskTimeoutError(
                    f"{self.kind} task {self.id} did not finish within {limit:g}s "
                    "(it may still finish: wait again or keep its ref)",
                    snapshot=self._record.last,
                ) from None
        return self._result_of(snap)

    async def watch(self, *, poll: PollPolicy | None = None) -> AsyncIterator[TaskSnapshot[Any]]:
        """Yield the current snapshot, then one on every change of state or progress.

        Ends after yielding the terminal snapshot, or one that ``needs_action`` (the job
        waits for input). Bound it with ``anyio.fail_after``.
        """
        policy = poll or self._tasks.poll
        snap = self._record.last or await self.refresh()
        yield snap
        while not snap.state.terminal and not snap.needs_action:
            snap = await self._tasks.scheduler.next_snapshot(
                self._record, terminal_only=False, policy=policy, after=snap
            )
            yield snap

    async def cancel(self) -> None:
        """Cancel the job on the service (``UnsupportedOperation`` where the API has no way)."""
        await self._kind.cancel(self.id)

    async def download(
        self,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        overwrite: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Path:
        """Save the job's main media file to ``dest`` and return its absolute path.

        A job still running is waited for first, as ``wait()`` does (its errors included). A
        leading ``~`` in ``dest`` is the home folder. ``dest`` ending in a separator
        (``"videos/"``), or an existing folder, is a folder: it is created if needed and the
        file named after the server's name or the job id, made unique (``<id>.mp4``,
        ``<id>-1.mp4``…). Any other ``dest`` is a file: an existing one raises
        ``FileExistsError`` unless ``overwrite=True``. The download is retried and resumed
        within ``timeout``, like ``client.download`` (``ResponseTooLargeError`` past
        ``max_bytes``).
        """
        result = await self._finished_result()
        url = self._kind.media_url(result)
        if not url:
            raise TaskError(f"{self.kind} task {self.id} has no media to download")
        return await download(
            self._tasks.transport,
            url,
            dest,
            timeout=timeout,
            fallback_stem=self.id,
            overwrite=overwrite,
            max_bytes=max_bytes,
        )

    async def download_all(
        self,
        folder: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        overwrite: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> list[Path]:
        """Save every media file of the job into ``folder`` (created if needed; ``~``
        expanded), waiting for the job first if it is still running.

        Each file is named ``<job id>-<role><suffix>`` (``3f2c…-video.mp4``,
        ``3f2c…-thumbnail.jpg``), so files of two jobs never collide. Returns the absolute
        paths in the family's order (main file first). ``timeout`` bounds each download. An
        existing file of one of those names raises ``FileExistsError`` unless
        ``overwrite=True``, before any file is fetched.
        Raises ``TaskError`` when the job has no media, and the job's own error when it did
        not succeed.
        """
        result = await self._finished_result()
        files = self._kind.media_urls(result)
        if not files:
            raise TaskError(f"{self.kind} task {self.id} has no media to download")
        targets = []
        for file in files:
            suffix = file.suffix or PurePosixPath(urlsplit(file.url).path).suffix
            name = safe_filename(f"{self.id}-{file.role}{suffix}", fallback_stem=self.id)
            targets.append((file.url, Path(folder) / name))
        for _, target in targets:  # every name refused before any file is fetched
            check_writable(target, overwrite=overwrite)
        return [
            await download(
                self._tasks.transport,
                url,
                target,
                timeout=timeout,
                overwrite=overwrite,
                max_bytes=max_bytes,
            )
            for url, target in targets
        ]

    # -- internals ---------------------------------------------------------------------------

    async def _finished_result(self) -> R:
        """The result, waiting for the job first if it is still running (as ``wait()``)."""
        snap = self._record.last
        if snap is None or not snap.state.terminal:
            snap = await self.refresh()
        if not snap.state.terminal and not snap.needs_action:
            return await self.wait()
        return self._result_of(snap)

    def _result_of(self, snap: TaskSnapshot[Any]) -> R:
        if snap.state is TaskState.SUCCEEDED:
            return self._kind.result(snap.raw)
        if snap.state is TaskState.FAILED:
            reason = snap.failure_reason or "no reason given"
            raise TaskFailedError(
                f"{self.kind} task {self.id} failed: {reason}",
                reason=snap.failure_reason,
                snapshot=snap,
            )
        if snap.state is TaskState.CANCELLED:
            raise TaskCancelledError(f"{self.kind} task {self.id} was cancelled", snapshot=snap)
        if snap.needs_action:
            suggested = self._kind.suggested_input(snap.raw)
            raise TaskNeedsActionError(
                f"{self.kind} task {self.id} waits for input and will not finish alone"
                + (f" (suggested prompt: {suggested!r})" if suggested else ""),
                snapshot=snap,
                suggested_prompt=suggested,
            )
        raise TaskError(f"{self.kind} task {self.id} has not finished ({snap.state.value})")


# ------------------------------------------------------------------------------------------------
# client.tasks


class Tasks:
    """``client.tasks``: re-attach jobs by ref, and wait for many at once."""

    def __init__(self, transport: Transport, poll: PollPolicy) -> None:
        self.transport = transport
        self.poll = poll
        self.scheduler: PollScheduler = PollScheduler()
        self._kinds: dict[str, TaskKind[Any, Any]] = {}

    def register(self, kind: TaskKind[Any, Any]) -> None:
        self._kinds[kind.name] = kind

    def handle(
        self, kind: TaskKind[Any, R], task_id: str, snapshot: TaskSnapshot[Any] | None = None
    ) -> TaskHandle[R]:
        return TaskHandle(kind, str(task_id), tasks=self, snapshot=snapshot)

    @overload
    def resume(self, ref: Mapping[str, Any] | str) -> TaskHandle[Any]: ...

    @overload
    def resume(self, ref: Mapping[str, Any] | str, result_type: type[R]) -> TaskHandle[R]: ...

    def resume(
        self, ref: Mapping[str, Any] | str, result_type: type[Any] | None = None
    ) -> TaskHandle[Any]:
        """A handle for a job saved with ``handle.ref`` (a mapping, its JSON text, or the short
        ``"kind:id"``).

        ``result_type`` types the handle for your type checker:
        ``client.tasks.resume(ref, LumaGeneration)`` is a ``TaskHandle[LumaGeneration]``
        (``client.luma.task(id)`` is typed already). The job's family decides the result;
        ``result_type`` changes nothing at run time. An unknown kind raises ``ValueError``.
        """
        if isinstance(ref, str):
            ref = ref.lstrip("\ufeff")  # a ref read from a file saved with a BOM
        if isinstance(ref, str) and not ref.lstrip().startswith("{"):
            kind_part, sep, id_part = ref.strip().partition(":")
            if not (sep and kind_part and id_part):
                raise ValueError(f"not a task ref (JSON or kind:id): {ref!r}")
            ref = {"kind": kind_part, "id": id_part}
        try:
            data = read_json(ref) if isinstance(ref, str) else ref
        except ValueError as exc:  # JSONDecodeError, or nested too deeply
            data = _python_literal(str(ref))  # print(handle.ref) shows {'kind': ..., 'id': ...}
            if data is None:
                reason = getattr(exc, "msg", str(exc))  # JSONDecodeError's, without the position
                raise ValueError(f"not a task ref: invalid JSON ({reason})") from None
        try:
            kind_name, task_id = data["kind"], data["id"]
        except (KeyError, TypeError):
            raise ValueError(f"not a task ref: {ref!r}") from None
        kind = self._kinds.get(kind_name)
        if kind is None:
            known = ", ".join(sorted(self._kinds))
            raise ValueError(f"unknown task kind {kind_name!r} (known: {known})")
        return self.handle(kind, str(task_id))

    def read(self, kind: str, status: object) -> TaskSnapshot[Any]:
        """A job's status received out of band (a ``notify_hook`` callback's JSON) as a snapshot.

        ``status`` is read as the ``kind`` family reads a status answer (its envelope
        unwrapped). Raises ``ValueError`` for an unknown kind, ``APIError`` for an envelope
        reporting a failure, ``ResponseDecodeError`` for a body that is not a status.
        """
        task_kind = self._kinds.get(kind)
        if task_kind is None:
            known = ", ".join(sorted(self._kinds))
            raise ValueError(f"unknown task kind {kind!r} (known: {known})")
        task_id, parsed = task_kind.parse(status)
        return task_kind.snapshot(task_id, parsed)

    def deliver(self, kind: str, status: object) -> TaskSnapshot[Any]:
        """Hand over a job's status received out of band (a ``notify_hook`` callback body).

        ``status`` is the JSON the service sent (see :meth:`read`), or a snapshot ``read``
        gave. Handles of this client waiting on that job get it at once, as if a poll had
        answered; polling goes on as the fallback. Returns the snapshot.
        """
        snap = status if isinstance(status, TaskSnapshot) else self.read(kind, status)
        self.scheduler.deliver(kind, snap.id, snap)
        return snap

    @property
    def kinds(self) -> list[str]:
        """The task kinds this client knows (``"luma"``, ``"midjourney"``…)."""
        return sorted(self._kinds)

    async def as_completed(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
    ) -> AsyncIterator[TaskSucceeded[R] | TaskNotSucceeded[R]]:
        """Yield each job's ``TaskOutcome`` as it ends; a failure never hides the others.

        At most ``concurrency`` jobs are polled at once: this bounds polling only (every job
        already submitted runs anyway); ``submit_many(max_running=)`` bounds jobs running on
        the service. After ``timeout`` seconds (default ``poll.timeout``) the jobs still
        running are yielded with a ``TaskTimeoutError``.
        """
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        policy = poll or self.poll
        queue = list(enumerate(handles))
        queue.reverse()
        limit = concurrency or max(1, len(queue))
        active: dict[asyncio.Future[TaskSnapshot[Any]], tuple[int, TaskHandle[R]]] = {}
        # Each future reports itself when done: a wake-up costs the jobs that ended, not a
        # pass over every job still waiting (10,000 of them make that quadratic).
        finished: deque[asyncio.Future[TaskSnapshot[Any]]] = deque()
        wakeup = asyncio.Event()

        def report(future: asyncio.Future[TaskSnapshot[Any]]) -> None:
            finished.append(future)
            wakeup.set()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + (policy.timeout if timeout is None else timeout)
        try:
            while queue or active:
                while queue and len(active) < limit:
                    index, handle = queue.pop()
                    last = handle.last
                    if last is not None and last.state.terminal:
                        yield _outcome(handle, index, last, None)
                        continue
                    future = self.scheduler.next_snapshot(
                        handle._record, terminal_only=True, policy=policy
                    )
                    active[future] = (index, handle)
                    future.add_done_callback(report)
                if not active:
                    continue
                if not finished:
                    wakeup.clear()
                    with anyio.move_on_after(deadline - loop.time()):
                        await wakeup.wait()
                done = [f for f in _drain(finished) if f in active]
                if not done and loop.time() < deadline:
                    continue
                if not done:  # the deadline passed
                    for future, (_, handle) in active.items():
                        self.scheduler.discard(future, handle._record)
                    leftovers = sorted([*active.values(), *queue])
                    active.clear()
                    queue.clear()
                    for index, handle in leftovers:
                        timed_out = TaskTimeoutError(
                            f"{handle.kind} task {handle.id} did not finish in time",
                            snapshot=handle.last,
                        )
                        yield TaskNotSucceeded(handle=handle, index=index, error=timed_out)
                    return
                for future in done:
                    index, handle = active.pop(future)
                    if future.cancelled():
                        continue
                    error = future.exception()
                    yield _outcome(handle, index, None if error else future.result(), error)
        finally:
            for future, (_, handle) in active.items():
                self.scheduler.discard(future, handle._record)

    @overload
    async def gather(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = ...,
        return_exceptions: Literal[False] = ...,
        timeout: float | None = ...,
        poll: PollPolicy | None = ...,
    ) -> list[R]: ...

    @overload
    async def gather(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = ...,
        return_exceptions: bool,
        timeout: float | None = ...,
        poll: PollPolicy | None = ...,
    ) -> list[R | BaseException]: ...

    async def gather(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
    ) -> list[R] | list[R | BaseException]:
        """Results in input order once every job has ended: ``list[R]``, or with
        ``return_exceptions=True`` ``list[R | BaseException]``.

        With ``return_exceptions=True`` an error stands in place of its result; otherwise a
        ``TaskBatchError`` is raised that still carries every outcome, successes included.
        """
        handles = list(handles)
        outcomes: list[TaskSucceeded[R] | TaskNotSucceeded[R] | None] = [None] * len(handles)
        async for outcome in self.as_completed(
            handles, concurrency=concurrency, timeout=timeout, poll=poll
        ):
            outcomes[outcome.index] = outcome
        done = [o for o in outcomes if o is not None]
        failed = [o for o in done if isinstance(o, TaskNotSucceeded)]
        if failed and not return_exceptions:
            raise TaskBatchError(
                f"{len(failed)} of {len(done)} tasks did not succeed (see .outcomes)",
                outcomes=done,
            )
        return [o.result if isinstance(o, TaskSucceeded) else o.error for o in done]

    #: ``client.tasks.submit_many(jobs, *, max_running=None, journal=None, ...)``: see
    #: :func:`api4gpt_async._submit.submit_many` (this client's ``tasks`` is its first argument).
    submit_many = submit_many


def _drain(items: deque[T]) -> list[T]:
    out = list(items)
    items.clear()
    return out


def _outcome(
    handle: TaskHandle[R],
    index: int,
    snap: TaskSnapshot[Any] | None,
    error: BaseException | None,
) -> TaskSucceeded[R] | TaskNotSucceeded[R]:
    if error is None and snap is not None:
        try:
            return TaskSucceeded(handle=handle, index=index, result=handle._result_of(snap))
        except API4GPTError as exc:
            error = exc
    if error is None:  # neither a snapshot nor an error: cannot happen, but never hide it
        error = TaskError(f"{handle.kind} task {handle.id} ended without a result")
    return TaskNotSucceeded(handle=handle, index=index, error=error)


def _python_literal(text: str) -> Any:
    """``text`` read as a Python literal (a dict as ``print`` shows it), or None."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
