"""Long-running jobs: one handle type, one poller, for every task family.

A family contributes a small ``TaskKind`` (how to query one id, optionally many ids at once, how
to read state and progress from its status, how to cancel). Everything else lives here, once:
back-off with jitter, deadlines, cancellation, and the client's ``PollScheduler``, which polls
every waiting handle from a single driver task and folds handles of a family into batch queries
where the API has one. A waiting handle costs a future and a heap entry, not a coroutine.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import json
import logging
import random
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import attrs

from ._files import download
from ._hooks import call_hook
from ._retry import is_transient
from .errors import (
    API4GPTError,
    APIConnectionError,
    TaskBatchError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "PollPolicy",
    "PollScheduler",
    "TaskHandle",
    "TaskKind",
    "TaskOutcome",
    "TaskSnapshot",
    "TaskState",
    "Tasks",
    "state_from_text",
]

logger = logging.getLogger("api4gpt_async")

S = TypeVar("S")  # a family's status model
R = TypeVar("R")  # a family's result


class TaskState(str, enum.Enum):
    """Where a job is, the same words for every family."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


_STATE_WORDS: Mapping[str, TaskState] = {
    **dict.fromkeys(
        ("pending", "queued", "submitted", "not_start", "not_started", "waiting", "created"),
        TaskState.PENDING,
    ),
    **dict.fromkeys(
        ("processing", "dreaming", "in_progress", "running", "streaming", "generating", "started"),
        TaskState.RUNNING,
    ),
    **dict.fromkeys(
        ("completed", "complete", "success", "succeeded", "succeed", "done", "finished"),
        TaskState.SUCCEEDED,
    ),
    **dict.fromkeys(("failed", "failure", "fail", "error", "errored"), TaskState.FAILED),
    **dict.fromkeys(("cancelled", "canceled", "cancel"), TaskState.CANCELLED),
}
_unknown_states_logged: set[tuple[str, str]] = set()


def state_from_text(value: str | None, *, kind: str) -> TaskState:
    """Map a family's state word to ``TaskState``; an unknown word is logged once, RUNNING."""
    word = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    state = _STATE_WORDS.get(word)
    if state is None:
        if (kind, word) not in _unknown_states_logged:
            _unknown_states_logged.add((kind, word))
            logger.warning("unknown %s task state %r, treated as running", kind, value)
        return TaskState.RUNNING
    return state


@attrs.frozen(kw_only=True)
class TaskSnapshot(Generic[S]):
    """One observation of a job. ``raw`` is the family's typed status model."""

    id: str
    kind: str
    state: TaskState
    raw: S
    progress: float | None = None
    eta_seconds: float | None = None
    failure_reason: str | None = None
    needs_action: bool = False

    @property
    def _change_key(self) -> tuple[TaskState, float | None, bool]:
        return (self.state, self.progress, self.needs_action)


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often a waiting job is polled and how long ``wait`` lasts.

    The first poll comes ``initial_delay`` after submit; each next delay grows by ``multiplier``
    up to ``max_delay``, randomised by ±``jitter``. A job's own estimate of the time left
    (``estimate_wait_seconds``) is used instead when it has one, else an estimate from the rate
    its progress rises, kept within ``initial_delay`` and ``max_delay``. ``timeout`` bounds
    ``wait``.
    """

    initial_delay: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=1.5, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=15.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    timeout: float = attrs.field(default=1800.0, validator=attrs.validators.gt(0))

    def next_delay(self, previous: float | None, eta_seconds: float | None = None) -> float:
        """The wait before the next poll, given the previous wait (None before the first)."""
        if eta_seconds is not None and eta_seconds > 0:
            base = min(max(eta_seconds, self.initial_delay), self.max_delay)
        elif previous is None:
            base = self.initial_delay
        else:
            base = min(max(previous, self.initial_delay) * self.multiplier, self.max_delay)
        if self.jitter:
            base *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return base


class TaskKind(Generic[S, R]):
    """What a task family tells the machinery: how to query, read and cancel its jobs.

    Subclasses set ``name`` and implement ``fetch``, ``snapshot`` and ``result``; a family with
    a batch status query sets ``batch_size`` > 1 and implements ``fetch_many``.
    """

    name: str = ""
    batch_size: int = 1

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> S:
        raise NotImplementedError

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, S]:
        """Statuses of many jobs in one request; ids the service omits are left out."""
        raise NotImplementedError

    def snapshot(self, task_id: str, status: S) -> TaskSnapshot[S]:
        raise NotImplementedError

    def result(self, status: S) -> R:
        raise NotImplementedError

    def media_url(self, result: R) -> str | None:
        """The main file of a finished job, for ``TaskHandle.download``."""
        return None

    async def cancel(self, task_id: str) -> None:
        raise UnsupportedOperation(f"{self.name} jobs cannot be cancelled on the service")


@attrs.frozen(kw_only=True)
class TaskOutcome(Generic[R]):
    """How one job of a batch ended: ``result`` or ``error``, never both."""

    handle: TaskHandle[R]
    index: int
    result: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class TaskHandle(Generic[R]):
    """A submitted job: await it, watch it, cancel it, download it, or save ``ref`` for later."""

    __slots__ = ("_kind", "_last", "_polled_at", "_tasks", "id")

    def __init__(
        self,
        kind: TaskKind[Any, R],
        task_id: str,
        *,
        tasks: Tasks,
        snapshot: TaskSnapshot[Any] | None = None,
    ) -> None:
        self.id = task_id
        self._kind = kind
        self._tasks = tasks
        self._last: TaskSnapshot[Any] | None = None
        self._polled_at: float | None = None
        if snapshot is not None:
            self._observe(snapshot)

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
        return self._last

    def __repr__(self) -> str:
        state = self._last.state.value if self._last else "unknown"
        return f"<TaskHandle {self.kind} {self.id} {state}>"

    async def refresh(self) -> TaskSnapshot[Any]:
        """Query the job now."""
        status = await self._kind.fetch(self.id)
        return self._observe(self._kind.snapshot(self.id, status))

    async def wait(self, *, timeout: float | None = None, poll: PollPolicy | None = None) -> R:
        """The job's result once it succeeds.

        Raises ``TaskFailedError`` / ``TaskCancelledError`` when it ends otherwise, and
        ``TaskTimeoutError`` after ``timeout`` seconds (default ``poll.timeout``), leaving the
        handle usable: the job may still finish.
        """
        policy = poll or self._tasks.poll
        limit = policy.timeout if timeout is None else timeout
        snap = self._last
        if snap is None or not snap.state.terminal:
            try:
                with anyio.fail_after(limit):
                    snap = await self._tasks.scheduler.next_snapshot(
                        self, terminal_only=True, policy=policy
                    )
            except TimeoutError:
                raise TaskTimeoutError(
                    f"{self.kind} task {self.id} did not finish within {limit:g}s "
                    "(it may still finish: wait again or keep its ref)",
                    snapshot=self._last,
                ) from None
        return self._result_of(snap)

    async def watch(self, *, poll: PollPolicy | None = None) -> AsyncIterator[TaskSnapshot[Any]]:
        """Yield the current snapshot, then one on every change of state or progress.

        Ends after yielding the terminal snapshot. Bound it with ``anyio.fail_after``.
        """
        policy = poll or self._tasks.poll
        snap = self._last if self._last is not None else await self.refresh()
        yield snap
        while not snap.state.terminal:
            snap = await self._tasks.scheduler.next_snapshot(
                self, terminal_only=False, policy=policy, after=snap
            )
            yield snap

    async def cancel(self) -> None:
        """Cancel the job on the service (``UnsupportedOperation`` where the API has no way)."""
        await self._kind.cancel(self.id)

    async def download(self, dest: str | Path, *, timeout: float | None = None) -> Path:
        """Save the finished job's main media file to ``dest`` (a file, or an existing folder)."""
        snap = self._last
        if snap is None or not snap.state.terminal:
            snap = await self.refresh()
        result = self._result_of(snap)
        url = self._kind.media_url(result)
        if not url:
            raise TaskError(f"{self.kind} task {self.id} has no media to download")
        return await download(
            self._tasks.transport, url, dest, timeout=timeout, fallback_stem=self.id
        )

    # -- internals shared with the scheduler -------------------------------------------------

    def _observe(self, snap: TaskSnapshot[Any]) -> TaskSnapshot[Any]:
        hook = self._tasks.transport.hooks.on_task_update
        if hook is not None and (self._last is None or self._last._change_key != snap._change_key):
            call_hook(hook, snap)
        self._last = snap
        self._polled_at = asyncio.get_running_loop().time()
        return snap

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
        raise TaskError(f"{self.kind} task {self.id} has not finished ({snap.state.value})")


# ------------------------------------------------------------------------------------------------
# The scheduler


@attrs.define(eq=False)
class _Waiter:
    future: asyncio.Future[TaskSnapshot[Any]]
    handle: TaskHandle[Any]
    terminal_only: bool
    after: tuple[TaskState, float | None, bool] | None


@attrs.define(eq=False)
class _Entry:
    kind: TaskKind[Any, Any]
    task_id: str
    policy: PollPolicy
    waiters: list[_Waiter] = attrs.field(factory=list)
    due: float = 0.0
    delay: float | None = None
    in_flight: bool = False
    #: The last progress seen and when (loop time), to estimate the time left from its rate.
    progress_mark: tuple[float, float] | None = None

    def eta_from_progress(self, progress: float | None, now: float) -> float | None:
        """Seconds left at the rate progress rose since the last poll; None without a rise."""
        if progress is None:
            return None
        mark, self.progress_mark = self.progress_mark, (progress, now)
        if mark is None or progress <= mark[0] or now <= mark[1]:
            return None
        rate = (progress - mark[0]) / (now - mark[1])
        return (1.0 - progress) / rate


class PollScheduler:
    """Polls every waiting handle of one client from a single driver task.

    Handles of the same job share one entry; due entries of a family with a batch query are
    fetched ``batch_size`` ids per request. A transient poll error only delays the next poll;
    other errors fail that job's waiters. The driver exits as soon as nobody waits.
    """

    #: Entries due within this many seconds of each other are polled in the same tick.
    coalesce_window = 0.05
    #: Status requests in flight at once, so polling never starves the caller's own requests.
    max_in_flight = 32

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many jobs are being polled."""
        return len(self._entries)

    def next_snapshot(
        self,
        handle: TaskHandle[Any],
        *,
        terminal_only: bool,
        policy: PollPolicy,
        after: TaskSnapshot[Any] | None = None,
    ) -> asyncio.Future[TaskSnapshot[Any]]:
        """A future for the handle's next terminal (or, with ``after``, changed) snapshot."""
        if self._closed:
            raise RuntimeError("this client is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TaskSnapshot[Any]] = loop.create_future()
        key = (handle.kind, handle.id)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(handle._kind, handle.id, policy)
            last = handle._last
            if handle._polled_at is None:
                self._schedule(entry, loop.time())
            else:
                eta = last.eta_seconds if last else None
                entry.delay = policy.next_delay(None, eta)
                self._schedule(entry, max(loop.time(), handle._polled_at + entry.delay))
        else:
            entry.policy = policy
        waiter = _Waiter(future, handle, terminal_only, after._change_key if after else None)
        entry.waiters.append(waiter)
        future.add_done_callback(lambda _f: self._forget(key, waiter))
        self._ensure_driver()
        return future

    def discard(self, future: asyncio.Future[TaskSnapshot[Any]], handle: TaskHandle[Any]) -> None:
        """Stop waiting on ``future`` now (cancelling it alone takes effect a loop turn later)."""
        future.cancel()
        key = (handle.kind, handle.id)
        entry = self._entries.get(key)
        if entry is not None:
            for waiter in [w for w in entry.waiters if w.future is future]:
                self._forget(key, waiter)

    async def aclose(self) -> None:
        """Stop polling; anyone still waiting gets an error instead of hanging."""
        self._closed = True
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            await asyncio.wait(
                {driver}
            )  # returns once it has stopped; its cancellation stays there
        for entry in list(self._entries.values()):
            self._fail(entry, APIConnectionError("the client was closed while a task was waited"))
        self._entries.clear()
        self._heap.clear()

    # -- bookkeeping ----------------------------------------------------------------------------

    def _schedule(self, entry: _Entry, due: float) -> None:
        entry.due = due
        heapq.heappush(self._heap, (due, next(self._seq), entry))
        if self._wakeup is not None and self._heap[0][2] is entry:
            self._wakeup.set()

    def _forget(self, key: tuple[str, str], waiter: _Waiter) -> None:
        entry = self._entries.get(key)
        if entry is None:
            return
        if waiter in entry.waiters:
            entry.waiters.remove(waiter)
        if not entry.waiters:
            del self._entries[key]
        if not self._entries and self._driver is not None:
            # Nobody waits any more: stop at once, in-flight requests included.
            self._driver.cancel()
            self._driver = None

    def _ensure_driver(self) -> None:
        if self._driver is None or self._driver.done():
            self._wakeup = asyncio.Event()
            self._driver = asyncio.get_running_loop().create_task(
                self._drive(), name="api4gpt_async poll scheduler"
            )

    def _fail(self, entry: _Entry, error: BaseException) -> None:
        for waiter in list(entry.waiters):
            if not waiter.future.done():
                waiter.future.set_exception(error)

    # -- the driver ---------------------------------------------------------------------------

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        limiter = anyio.CapacityLimiter(self.max_in_flight)
        assert self._wakeup is not None
        wakeup = self._wakeup
        while self._entries:
            now = loop.time()
            if not self._heap or self._heap[0][0] > now:
                # Sleep until the earliest entry is due (or an earlier one is scheduled).
                wait = self._heap[0][0] - now if self._heap else None
                wakeup.clear()
                with anyio.move_on_after(wait):
                    await wakeup.wait()
                continue
            # Once one is due, those due shortly after join it: fewer, fuller ticks.
            due_entries = self._pop_due(now + self.coalesce_window)
            if not due_entries:
                continue
            async with anyio.create_task_group() as tg:
                for kind, group in _group_by_kind(due_entries):
                    if kind.batch_size > 1 and len(group) > 1:
                        for start in range(0, len(group), kind.batch_size):
                            chunk = group[start : start + kind.batch_size]
                            tg.start_soon(self._poll_batch, kind, chunk, limiter)
                    else:
                        for entry in group:
                            tg.start_soon(self._poll_one, entry, limiter)

    def _pop_due(self, horizon: float) -> list[_Entry]:
        due: list[_Entry] = []
        while self._heap and self._heap[0][0] <= horizon:
            at, _, entry = heapq.heappop(self._heap)
            live = self._entries.get((entry.kind.name, entry.task_id)) is entry
            if live and at == entry.due and not entry.in_flight:
                entry.in_flight = True
                due.append(entry)
        return due

    async def _poll_one(self, entry: _Entry, limiter: anyio.CapacityLimiter) -> None:
        try:
            async with limiter:
                status = await entry.kind.fetch(entry.task_id)
            snap = entry.kind.snapshot(entry.task_id, status)
        except Exception as error:
            self._after_error(entry, error)
        else:
            self._deliver(entry, snap)

    async def _poll_batch(
        self, kind: TaskKind[Any, Any], group: list[_Entry], limiter: anyio.CapacityLimiter
    ) -> None:
        try:
            async with limiter:
                statuses = await kind.fetch_many([e.task_id for e in group])
        except Exception as error:
            for entry in group:
                self._after_error(entry, error)
            return
        for entry in group:
            status = statuses.get(entry.task_id)
            if status is None:
                # Missing from the batch answer: ask for it alone, which gives a proper error.
                await self._poll_one(entry, limiter)
                continue
            try:
                snap = kind.snapshot(entry.task_id, status)
            except Exception as error:
                self._after_error(entry, error)
            else:
                self._deliver(entry, snap)

    def _deliver(self, entry: _Entry, snap: TaskSnapshot[Any]) -> None:
        entry.in_flight = False
        key = snap._change_key
        for waiter in list(entry.waiters):
            waiter.handle._observe(snap)
            if waiter.future.done():
                continue
            if snap.state.terminal or (not waiter.terminal_only and key != waiter.after):
                waiter.future.set_result(snap)
        if entry.waiters and not snap.state.terminal:
            now = asyncio.get_running_loop().time()
            eta = snap.eta_seconds
            if eta is None:
                eta = entry.eta_from_progress(snap.progress, now)
            entry.delay = entry.policy.next_delay(entry.delay, eta)
            self._schedule(entry, now + entry.delay)

    def _after_error(self, entry: _Entry, error: Exception) -> None:
        entry.in_flight = False
        if not is_transient(error):
            self._fail(entry, error)
            return
        entry.delay = entry.policy.next_delay(entry.delay)
        logger.warning(
            "polling %s task %s failed (%s); next try in %.1fs",
            entry.kind.name, entry.task_id, error, entry.delay,
        )  # fmt: skip
        if entry.waiters:
            self._schedule(entry, asyncio.get_running_loop().time() + entry.delay)


def _group_by_kind(entries: list[_Entry]) -> list[tuple[TaskKind[Any, Any], list[_Entry]]]:
    groups: dict[str, tuple[TaskKind[Any, Any], list[_Entry]]] = {}
    for entry in entries:
        groups.setdefault(entry.kind.name, (entry.kind, []))[1].append(entry)
    return list(groups.values())


# ------------------------------------------------------------------------------------------------
# client.tasks


class Tasks:
    """``client.tasks``: re-attach jobs by ref, and wait for many at once."""

    def __init__(self, transport: Transport, poll: PollPolicy) -> None:
        self.transport = transport
        self.poll = poll
        self.scheduler = PollScheduler()
        self._kinds: dict[str, TaskKind[Any, Any]] = {}

    def register(self, kind: TaskKind[Any, Any]) -> None:
        self._kinds[kind.name] = kind

    def handle(
        self, kind: TaskKind[Any, R], task_id: str, snapshot: TaskSnapshot[Any] | None = None
    ) -> TaskHandle[R]:
        return TaskHandle(kind, str(task_id), tasks=self, snapshot=snapshot)

    def resume(self, ref: Mapping[str, Any] | str) -> TaskHandle[Any]:
        """A handle for a job saved with ``handle.ref`` (a mapping, or its JSON text)."""
        data = json.loads(ref) if isinstance(ref, str) else ref
        try:
            kind_name, task_id = data["kind"], data["id"]
        except (KeyError, TypeError):
            raise ValueError(f"not a task ref: {ref!r}") from None
        kind = self._kinds.get(kind_name)
        if kind is None:
            known = ", ".join(sorted(self._kinds))
            raise ValueError(f"unknown task kind {kind_name!r} (known: {known})")
        return self.handle(kind, str(task_id))

    async def as_completed(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
    ) -> AsyncIterator[TaskOutcome[R]]:
        """Yield each job's ``TaskOutcome`` as it ends; a failure never hides the others.

        At most ``concurrency`` jobs are polled at once. After ``timeout`` seconds (default
        ``poll.timeout``) the jobs still running are yielded with a ``TaskTimeoutError``.
        """
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        policy = poll or self.poll
        queue = list(enumerate(handles))
        queue.reverse()
        limit = concurrency or max(1, len(queue))
        active: dict[asyncio.Future[TaskSnapshot[Any]], tuple[int, TaskHandle[R]]] = {}
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
                    future = self.scheduler.next_snapshot(handle, terminal_only=True, policy=policy)
                    active[future] = (index, handle)
                if not active:
                    continue
                with anyio.move_on_after(deadline - loop.time()):
                    await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
                done = [f for f in active if f.done()]
                if not done:  # the deadline passed
                    for future, (_, handle) in active.items():
                        self.scheduler.discard(future, handle)
                    leftovers = sorted([*active.values(), *queue])
                    active.clear()
                    queue.clear()
                    for index, handle in leftovers:
                        timed_out = TaskTimeoutError(
                            f"{handle.kind} task {handle.id} did not finish in time",
                            snapshot=handle.last,
                        )
                        yield TaskOutcome(handle=handle, index=index, error=timed_out)
                    return
                for future in done:
                    index, handle = active.pop(future)
                    if future.cancelled():
                        continue
                    error = future.exception()
                    yield _outcome(handle, index, None if error else future.result(), error)
        finally:
            for future, (_, handle) in active.items():
                self.scheduler.discard(future, handle)

    async def gather(
        self,
        handles: Iterable[TaskHandle[R]],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = False,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
    ) -> list[R | BaseException]:
        """Results in input order once every job has ended.

        With ``return_exceptions=True`` an error stands in place of its result; otherwise a
        ``TaskBatchError`` is raised that still carries every outcome, successes included.
        """
        handles = list(handles)
        outcomes: list[TaskOutcome[R] | None] = [None] * len(handles)
        async for outcome in self.as_completed(
            handles, concurrency=concurrency, timeout=timeout, poll=poll
        ):
            outcomes[outcome.index] = outcome
        done = [o for o in outcomes if o is not None]
        failed = [o for o in done if o.error is not None]
        if failed and not return_exceptions:
            raise TaskBatchError(
                f"{len(failed)} of {len(done)} tasks did not succeed (see .outcomes)",
                outcomes=done,
            )
        return [o.error if o.error is not None else o.result for o in done]  # type: ignore[misc]


def _outcome(
    handle: TaskHandle[R],
    index: int,
    snap: TaskSnapshot[Any] | None,
    error: BaseException | None,
) -> TaskOutcome[R]:
    if error is None and snap is not None:
        try:
            return TaskOutcome(handle=handle, index=index, result=handle._result_of(snap))
        except API4GPTError as exc:
            error = exc
    return TaskOutcome(handle=handle, index=index, error=error)
