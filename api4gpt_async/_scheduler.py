"""The client's poller: every waiting handle polled from one driver task.

Handles hand the scheduler a :class:`JobRecord` (their kind, id and latest observation), never
themselves: the scheduler reads and updates only that record. Entries of one job are shared;
due entries of a family with a batch query are folded into ``fetch_many`` requests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from ._hooks import call_hook
from ._retry import is_transient
from ._task_kind import PollPolicy, TaskKind, TaskSnapshot, TaskState
from .errors import APIConnectionError, ResponseDecodeError

if TYPE_CHECKING:
    from ._hooks import Hooks

__all__ = ["JobRecord", "PollScheduler"]

logger = logging.getLogger("api4gpt_async")


@attrs.define(eq=False)
class JobRecord:
    """What a handle shares with the scheduler: which job, and what was last seen of it.

    ``observe`` records a snapshot (and calls ``Hooks.on_task_update`` when state, progress or
    ``needs_action`` changed); ``polled_at`` is the loop time of the last observation.
    """

    kind: TaskKind[Any, Any]
    task_id: str
    hooks: Hooks
    last: TaskSnapshot[Any] | None = None
    polled_at: float | None = None

    def observe(self, snap: TaskSnapshot[Any]) -> TaskSnapshot[Any]:
        hook = self.hooks.on_task_update
        if hook is not None and (self.last is None or self.last._change_key != snap._change_key):
            call_hook(hook, snap)
        self.last = snap
        self.polled_at = asyncio.get_running_loop().time()
        return snap


@attrs.define(eq=False)
class _Waiter:
    """One ``next_snapshot`` call; also its future's done-callback (no closure per wait)."""

    future: asyncio.Future[TaskSnapshot[Any]]
    record: JobRecord
    terminal_only: bool
    after: tuple[TaskState, float | None, bool] | None
    scheduler: PollScheduler

    def __call__(self, _future: asyncio.Future[TaskSnapshot[Any]]) -> None:
        self.scheduler._forget((self.record.kind.name, self.record.task_id), self)


@attrs.define(eq=False)
class _Entry:
    kind: TaskKind[Any, Any]
    task_id: str
    policy: PollPolicy
    waiters: list[_Waiter] = attrs.field(factory=list)
    due: float = 0.0
    delay: float | None = None
    in_flight: bool = False
    #: Loop time the last status request was sent: the next poll is counted from it.
    sent: float = 0.0
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


#: One status request to send: a kind, its jobs, and whether they go in one batch query.
_Poll = tuple[TaskKind[Any, Any], list["_Entry"], bool]


class PollScheduler:
    """Polls every waiting handle of one client from a single driver task.

    Handles of the same job share one entry; due entries of a family with a batch query are
    fetched ``batch_size`` ids per request. A transient poll error only delays the next poll;
    other errors fail that job's waiters. The driver exits as soon as nobody waits.
    """

    #: Entries due within this many seconds of each other are polled in the same tick.
    coalesce_window: float = 0.05
    #: Status requests in flight at once, so polling never starves the caller's own requests.
    max_in_flight = 32
    #: A batch request with room left takes jobs of its family due within this fraction of
    #: their current delay: polled a little early, for free, instead of in a request of their
    #: own later (jitter spreads jobs apart; this gathers them again).
    batch_fill: float = 0.5

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        #: The driver, and the event that wakes it early (each driver has its own).
        self._driver: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        #: Every driver not finished yet: the current one and any stopped one still ending.
        self._drivers: set[asyncio.Task[None]] = set()
        self._closed = False
        #: Kinds whose batch query failed for good (e.g. not served): polled one by one.
        self._no_batch: set[str] = set()

    @property
    def waiting(self) -> int:
        """How many jobs are being polled."""
        return len(self._entries)

    def next_snapshot(
        self,
        record: JobRecord,
        *,
        terminal_only: bool,
        policy: PollPolicy,
        after: TaskSnapshot[Any] | None = None,
    ) -> asyncio.Future[TaskSnapshot[Any]]:
        """A future for the job's next terminal (or, with ``after``, changed) snapshot."""
        if self._closed:
            raise RuntimeError("this client is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TaskSnapshot[Any]] = loop.create_future()
        key = (record.kind.name, record.task_id)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(record.kind, record.task_id, policy)
            last = record.last
            if record.polled_at is None:
                self._schedule(entry, loop.time())
            else:
                eta = last.eta_seconds if last else None
                entry.delay = policy.next_delay(None, eta)
                self._schedule(entry, max(loop.time(), record.polled_at + entry.delay))
        else:
            entry.policy = policy
        waiter = _Waiter(future, record, terminal_only, after._change_key if after else None, self)
        entry.waiters.append(waiter)
        future.add_done_callback(waiter)
        self._ensure_driver()
        return future

    def deliver(self, kind: str, task_id: str, snap: TaskSnapshot[Any]) -> int:
        """Take ``snap``, seen out of band (a callback), as the answer of a poll of that job.

        Its waiters get it at once and the next poll moves back as after any answer, so
        polling stays the fallback. Returns how many handles were waiting on the job (0:
        nobody here waits for it, and nothing changes).
        """
        entry = self._entries.get((kind, task_id))
        if entry is None:
            return 0
        waiting = len(entry.waiters)
        self._deliver(entry, snap, polled=False)
        return waiting

    def discard(self, future: asyncio.Future[TaskSnapshot[Any]], record: JobRecord) -> None:
        """Stop waiting on ``future`` now (cancelling it alone takes effect a loop turn later)."""
        future.cancel()
        key = (record.kind.name, record.task_id)
        entry = self._entries.get(key)
        if entry is not None:
            for waiter in [w for w in entry.waiters if w.future is future]:
                self._forget(key, waiter)

    async def aclose(self) -> None:
        """Stop polling; anyone still waiting gets an error instead of hanging."""
        self._closed = True
        self._stop_driver()
        while self._drivers:  # each stopped, so each ends at once; their cancellation stays there
            await asyncio.wait(set(self._drivers))
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
        if not self._entries:
            # Nobody waits any more: stop at once, in-flight requests included.
            self._stop_driver()

    def _ensure_driver(self) -> None:
        if self._driver is None or self._driver.done():
            self._wakeup = wakeup = asyncio.Event()
            self._driver = driver = asyncio.get_running_loop().create_task(
                self._drive(wakeup), name="api4gpt_async poll scheduler"
            )
            self._drivers.add(driver)
            driver.add_done_callback(self._drivers.discard)

    def _stop_driver(self) -> None:
        """Make the driver a stopped one: no longer current, woken, and cancelled.

        Cancelling alone is not enough on Python 3.10: an anyio cancel scope whose deadline
        passed in the same loop turn takes a ``Task.cancel()`` for its own and swallows it
        (3.11 counts cancellations). The driver then ends at its next check (see ``_drive``),
        which its own event, set here, makes immediate.
        """
        driver, wakeup = self._driver, self._wakeup
        self._driver = self._wakeup = None
        if driver is not None:
            driver.cancel()
        if wakeup is not None:
            wakeup.set()

    def _fail(self, entry: _Entry, error: BaseException) -> None:
        for waiter in list(entry.waiters):
            if not waiter.future.done():
                waiter.future.set_exception(error)

    # -- the driver ---------------------------------------------------------------------------

    async def _drive(self, wakeup: asyncio.Event) -> None:
        """Move due jobs to a queue of polls that at most ``max_in_flight`` workers send.

        The driver never waits for a poll's answer, so a slow answer (or a long batch of polls)
        delays no other job's poll: each is sent when due while a worker is free. It sleeps on
        ``wakeup``, its own event, and goes on only while it is the scheduler's driver: a
        stopped one (nobody waits, a new driver started, the client closed) ends when it
        wakes, its polls in flight cancelled, even where its cancellation was lost.
        """
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        queue: deque[_Poll] = deque()
        workers = 0

        async def work() -> None:
            # Workers exist only while polls are queued: a tick costs a few tasks, not one per
            # job. Jobs a batch answer leaves out are queued again, to be asked for alone.
            nonlocal workers
            try:
                while queue:
                    kind, group, batched = queue.popleft()
                    if batched:
                        missing = await self._poll_batch(kind, group)
                        queue.extend((kind, [entry], False) for entry in missing)
                    else:
                        await self._poll_one(group[0])
            finally:
                workers -= 1

        async with anyio.create_task_group() as tg:
            while self._driver is me:  # stopped when nobody waits (`_forget`) or on close
                now = loop.time()
                if not self._heap or self._heap[0][0] > now:
                    # Sleep until the earliest entry is due (or an earlier one is scheduled).
                    wait = self._heap[0][0] - now if self._heap else None
                    wakeup.clear()
                    with anyio.move_on_after(wait):
                        await wakeup.wait()
                    continue
                # Once one is due, those due shortly after join it: fewer, fuller requests.
                for kind, group in _group_by_kind(self._pop_due(now + self.coalesce_window)):
                    batched = kind.batch_size > 1 and kind.name not in self._no_batch
                    if batched:
                        group.extend(self._fill(kind, -len(group) % kind.batch_size, now))
                    if batched and len(group) > 1:
                        for start in range(0, len(group), kind.batch_size):
                            queue.append((kind, group[start : start + kind.batch_size], True))
                    else:
                        queue.extend((kind, [entry], False) for entry in group)
                for _ in range(min(self.max_in_flight - workers, len(queue))):
                    workers += 1
                    tg.start_soon(work)
            tg.cancel_scope.cancel()  # nobody waits: polls still in flight are moot

    def _fill(self, kind: TaskKind[Any, Any], room: int, now: float) -> list[_Entry]:
        """Up to ``room`` more jobs of ``kind`` due soon (see ``batch_fill``), soonest first.

        Their heap records go stale (a poll reschedules them), as for any polled entry.
        """
        if room == 0:
            return []
        soon = [
            entry
            for entry in self._entries.values()
            if entry.kind is kind
            and not entry.in_flight
            and entry.due - now <= (entry.delay or 0.0) * self.batch_fill
        ]
        taken = heapq.nsmallest(room, soon, key=lambda entry: entry.due)
        for entry in taken:
            entry.in_flight = True
        return taken

    def _pop_due(self, horizon: float) -> list[_Entry]:
        due: list[_Entry] = []
        while self._heap and self._heap[0][0] <= horizon:
            at, _, entry = heapq.heappop(self._heap)
            live = self._entries.get((entry.kind.name, entry.task_id)) is entry
            if live and at == entry.due and not entry.in_flight:
                entry.in_flight = True
                due.append(entry)
        return due

    async def _poll_one(self, entry: _Entry) -> None:
        entry.sent = asyncio.get_running_loop().time()
        try:
            status = await entry.kind.fetch(entry.task_id)
            snap = entry.kind.snapshot(entry.task_id, status)
        except Exception as error:
            self._after_error(entry, error)
        else:
            self._deliver(entry, snap)

    async def _poll_batch(self, kind: TaskKind[Any, Any], group: list[_Entry]) -> list[_Entry]:
        """Poll ``group`` in one batch query; returns the jobs its answer left out."""
        sent = asyncio.get_running_loop().time()
        for entry in group:
            entry.sent = sent
        try:
            statuses = await kind.fetch_many([e.task_id for e in group])
        except Exception as error:
            if isinstance(error, ResponseDecodeError):
                # An unreadable batch answer: ask each job alone this time (a single status
                # answer is what tells a blip from an endpoint that is not served).
                statuses = {}
            elif is_transient(error):
                for entry in group:
                    self._after_error(entry, error)  # a blip: the batch again next tick
                return []
            else:
                # The batch query itself is refused (not served, not understood): from now
                # on this kind is polled one job at a time, starting with this group.
                if kind.name not in self._no_batch:
                    self._no_batch.add(kind.name)
                    logger.warning("%s batch status query failed (%s); polling one by one",
                                   kind.name, error)  # fmt: skip
                statuses = {}
        missing = []
        for entry in group:
            status = statuses.get(entry.task_id)
            if status is None:
                # Missing from the batch answer: ask for it alone, which gives a proper error.
                missing.append(entry)
                continue
            try:
                snap = kind.snapshot(entry.task_id, status)
            except Exception as error:
                self._after_error(entry, error)
            else:
                self._deliver(entry, snap)
        return missing

    def _deliver(self, entry: _Entry, snap: TaskSnapshot[Any], *, polled: bool = True) -> None:
        if polled:
            entry.in_flight = False
        key = snap._change_key
        # A job waiting for input (needs_action) will not move on alone: stop polling it too.
        stop = snap.state.terminal or snap.needs_action
        for waiter in list(entry.waiters):
            waiter.record.observe(snap)
            if waiter.future.done():
                continue
            if stop or (not waiter.terminal_only and key != waiter.after):
                waiter.future.set_result(snap)
        # A poll in flight reschedules the job when it answers.
        if entry.waiters and not stop and not entry.in_flight:
            now = asyncio.get_running_loop().time()
            eta = snap.eta_seconds
            if eta is None:
                eta = entry.eta_from_progress(snap.progress, now)
            entry.delay = entry.policy.next_delay(entry.delay, eta)
            # Every ``delay`` from the last request, not from its answer: a slow answer (or a
            # long tick) must not stretch the time a finished job goes unnoticed; but never
            # sooner than half a delay after the answer, so an overloaded server gets air.
            self._schedule(entry, max(now + entry.delay / 2, entry.sent + entry.delay))

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
