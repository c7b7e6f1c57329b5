"""The PollScheduler folds waiting jobs of a batch-capable family into few requests.

No family of the first release has a batch query yet (Midjourney and Suno will), so a small
in-memory family stands in for one: the contract is the TaskKind, not the HTTP details.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import attrs
import pytest
from _kinds import DoneOrRunning
from _until import until

from api4gpt_async import APIConnectionError, AsyncAPI4GPT, PollPolicy, TaskState, TaskTimeoutError
from api4gpt_async.tasks import TaskKind, TaskSnapshot

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial_delay=0.001, multiplier=1.0, max_delay=0.002, jitter=0, timeout=5)


@attrs.define
class FakeBatchKind(DoneOrRunning):
    """Jobs finish after ``polls_to_finish`` status queries; every query is recorded."""

    transport: Any = None
    name: str = "fake"
    batch_size: int = 10
    polls_to_finish: int = 3
    batches: list[list[str]] = attrs.Factory(list)
    singles: list[str] = attrs.Factory(list)
    seen: dict[str, int] = attrs.Factory(dict)
    omit: set[str] = attrs.Factory(set)
    fail_batches: int = 0

    def _status(self, task_id: str) -> str:
        self.seen[task_id] = self.seen.get(task_id, 0) + 1
        return "done" if self.seen[task_id] >= self.polls_to_finish else "running"

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.singles.append(task_id)
        return self._status(task_id)

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        self.batches.append(list(task_ids))
        if self.fail_batches:
            self.fail_batches -= 1
            raise APIConnectionError("emulated network blip")
        return {i: self._status(i) for i in task_ids if i not in self.omit}


@pytest.fixture
async def fake() -> Any:
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9", poll=FAST) as client:
        kind = FakeBatchKind()
        client.tasks.register(kind)
        yield client, kind


async def test_many_jobs_cost_a_few_requests_per_tick(fake: Any) -> None:
    client, kind = fake
    handles = [client.tasks.resume({"kind": "fake", "id": f"job-{i}"}) for i in range(95)]
    results = await client.tasks.gather(handles)
    assert results == ["done"] * 95
    assert kind.singles == []  # everything went through the batch query
    assert all(len(batch) <= 10 for batch in kind.batches)
    # three ticks (polls_to_finish) of ten requests each, not 285 single requests
    assert len(kind.batches) == 30
    assert sorted(kind.seen.values()) == [3] * 95


async def test_an_id_missing_from_the_batch_is_asked_for_alone(fake: Any) -> None:
    client, kind = fake
    kind.omit = {"job-1"}
    results = await client.tasks.gather(
        [client.tasks.resume({"kind": "fake", "id": f"job-{i}"}) for i in range(3)]
    )
    assert results == ["done"] * 3
    assert set(kind.singles) == {"job-1"}


async def test_a_failed_batch_is_retried_on_the_next_tick(fake: Any) -> None:
    client, kind = fake
    kind.fail_batches = 2
    results = await client.tasks.gather(
        [client.tasks.resume({"kind": "fake", "id": f"job-{i}"}) for i in range(4)]
    )
    assert results == ["done"] * 4
    assert len(kind.batches) == 2 + 3  # two failed ticks, then three that count


async def test_rising_progress_stretches_the_wait(fake: Any) -> None:
    """A job 10 % done per second is polled about every 0.2 s (the cap), not every 1 ms."""
    client, _ = fake
    started = asyncio.get_running_loop().time()

    class TenSecondJob(FakeBatchKind):
        def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
            progress = min(1.0, (asyncio.get_running_loop().time() - started) / 10)
            return TaskSnapshot(
                id=task_id, kind=self.name, state=TaskState.RUNNING, raw=status, progress=progress
            )

    job = TenSecondJob(name="ten-seconds", polls_to_finish=10**6)
    client.tasks.register(job)
    handle = client.tasks.resume({"kind": "ten-seconds", "id": "p"})
    policy = PollPolicy(initial_delay=0.001, multiplier=1.0, max_delay=0.2, jitter=0, timeout=5)
    with pytest.raises(TaskTimeoutError):
        await handle.wait(timeout=0.5, poll=policy)
    # Two polls to see the rate, then the estimate (~9 s) capped at 0.2 s between polls.
    # Without the estimate, 1 ms polling would have made hundreds of requests.
    assert job.seen["p"] <= 6


async def test_jobs_are_never_polled_before_they_are_due(fake: Any) -> None:
    """A 10 ms policy polls about thirty times in 0.3 s, even though it is shorter than the
    scheduler's coalescing window (a job due soon joins a tick, it does not start one)."""
    client, kind = fake
    kind.polls_to_finish = 10**6
    handle = client.tasks.resume({"kind": "fake", "id": "steady"})
    policy = PollPolicy(initial_delay=0.01, multiplier=1.0, max_delay=0.01, jitter=0, timeout=5)
    with pytest.raises(TaskTimeoutError):
        await handle.wait(timeout=0.3, poll=policy)
    # Polling early made it thousands. (A loaded machine may poll less often, never more.)
    assert 1 <= kind.seen.get("steady", 0) <= 35


@attrs.define
class OrderedKind(FakeBatchKind):
    """Also records every status request in order: ("one", id) or ("many", ids)."""

    name: str = "ordered"
    log: list[tuple[str, Any]] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.log.append(("one", task_id))
        return await super().fetch(task_id, timeout=timeout)

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        self.log.append(("many", sorted(task_ids)))
        return await super().fetch_many(task_ids)


@pytest.mark.parametrize(
    ("batch_fill", "second_request"),
    [(1.0, ("many", ["early", "late"])), (0.0, ("one", "early"))],
)
async def test_a_batch_takes_jobs_due_soon(
    fake: Any, batch_fill: float, second_request: Any
) -> None:
    """Jitter spreads jobs apart; a batch request with room takes those due soon, for free."""
    client, _ = fake
    kind = OrderedKind()
    client.tasks.register(kind)
    client.tasks.scheduler.batch_fill = batch_fill
    late = client.tasks.resume({"kind": "ordered", "id": "late"})
    await late.refresh()  # polled just now: next due a whole delay later
    early = client.tasks.resume({"kind": "ordered", "id": "early"})  # never polled: due now
    policy = PollPolicy(initial_delay=0.3, multiplier=1.0, max_delay=0.3, jitter=0, timeout=5)
    await client.tasks.gather([early, late], poll=policy)
    # Filling, the early job's first poll takes the late one along; else it goes alone.
    assert kind.log[:2] == [("one", "late"), second_request]


@attrs.define
class OneByOneKind(DoneOrRunning):
    """A family without a batch query."""

    transport: Any = None
    batch_size: int = 1

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        raise AssertionError("no batch query")


@attrs.define
class GatedKind(OneByOneKind):
    """One-by-one jobs whose status queries wait for ``gate``; counts them in flight."""

    name: str = "gated"
    gate: asyncio.Event = attrs.Factory(asyncio.Event)
    full: asyncio.Event = attrs.Factory(asyncio.Event)  # set at ``full_at`` queries in flight
    full_at: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    most_tasks: int = 0

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.most_tasks = max(self.most_tasks, len(asyncio.all_tasks()))
        if self.in_flight == self.full_at:
            self.full.set()
        await self.gate.wait()
        self.in_flight -= 1
        return "done"


async def test_a_tick_of_many_single_polls_runs_a_few_tasks_not_one_per_job() -> None:
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9", poll=FAST) as client:
        limit = client.tasks.scheduler.max_in_flight
        kind = GatedKind(full_at=limit)
        client.tasks.register(kind)
        handles = [client.tasks.resume({"kind": "gated", "id": f"job-{i}"}) for i in range(300)]
        waiter = asyncio.ensure_future(client.tasks.gather(handles))
        await kind.full.wait()
        kind.gate.set()
        assert await waiter == ["done"] * 300
    assert kind.most_in_flight == limit
    # The workers, the driver, this test and the gather: not a task per due job.
    assert kind.most_tasks <= limit + 5


@attrs.define
class SlowKind(TaskKind[str, str]):
    """A job that never ends, answered after ``latency`` seconds; notes when each poll starts."""

    transport: Any = None
    name: str = "slow"
    batch_size: int = 1
    latency: float = 0.0
    starts: list[float] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.starts.append(asyncio.get_running_loop().time())
        await asyncio.sleep(self.latency)  # the server's answer time, not a synchronisation
        return "running"

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        raise AssertionError("no batch query")

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        return TaskSnapshot(id=task_id, kind=self.name, state=TaskState.RUNNING, raw=status)

    def result(self, status: str) -> str:
        return status


async def test_polls_are_a_delay_apart_from_request_to_request(fake: Any) -> None:
    """A slow answer does not stretch the poll interval (nor the time a job goes unnoticed)."""
    client, _ = fake
    kind = SlowKind(latency=0.12)
    client.tasks.register(kind)
    handle = client.tasks.resume({"kind": "slow", "id": "job"})
    policy = PollPolicy(initial_delay=0.3, multiplier=1.0, max_delay=0.3, jitter=0, timeout=5)
    with pytest.raises(TaskTimeoutError):
        await handle.wait(timeout=1.6, poll=policy)
    gaps = sorted(b - a for a, b in itertools.pairwise(kind.starts))
    assert len(gaps) >= 3
    # From request to request: 0.3 s; counted from the answers it would be 0.42 s.
    assert gaps[len(gaps) // 2] < 0.37


@attrs.define
class RoundsKind(OneByOneKind):
    """Jobs that end after two status queries, each held until the test releases its round;
    notes how many queries were in flight when each one started."""

    name: str = "rounds"
    gate: asyncio.Event = attrs.Factory(asyncio.Event)
    in_flight: int = 0
    in_flight_at_start: list[int] = attrs.Factory(list)
    seen: dict[str, int] = attrs.Factory(dict)
    answered: int = 0

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.in_flight += 1
        self.in_flight_at_start.append(self.in_flight)
        gate = self.gate
        try:
            await gate.wait()
        finally:
            self.in_flight -= 1
        self.seen[task_id] = self.seen.get(task_id, 0) + 1
        self.answered += 1
        return "done" if self.seen[task_id] >= 2 else "running"

    def release(self) -> None:
        self.gate.set()
        self.gate = asyncio.Event()

    def holds(self, *, answered: int, in_flight: int) -> bool:
        return self.answered == answered and self.in_flight == in_flight


async def _loop_turns(n: int = 20) -> None:
    """Let the driver take what became due: loop turns only, no clock involved."""
    for _ in range(n):
        await asyncio.sleep(0)


async def test_max_in_flight_holds_across_ticks_and_after_workers_leave() -> None:
    """Never more than ``max_in_flight`` status queries at once, also when jobs fall due while
    workers are busy; and the full ``max_in_flight`` again once the workers have gone."""
    policy = PollPolicy(initial_delay=0.05, multiplier=1.0, max_delay=0.05, jitter=0, timeout=10)
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9", poll=policy) as client:
        client.tasks.scheduler.max_in_flight = 2
        kind = RoundsKind()
        client.tasks.register(kind)
        first = [client.tasks.resume({"kind": "rounds", "id": f"a{i}"}) for i in range(4)]
        late = [client.tasks.resume({"kind": "rounds", "id": f"b{i}"}) for i in range(2)]
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.tasks.gather, first)
            for round_number in range(6):  # 12 queries (6 jobs x 2), two at a time
                await until(functools.partial(kind.holds, answered=2 * round_number, in_flight=2))
                if round_number < len(late):
                    # A job falls due while both workers are busy: it waits for a slot.
                    tg.start_soon(late[round_number].wait)
                    await _loop_turns()
                kind.release()
        assert kind.seen == {h.id: 2 for h in first + late}
    assert max(kind.in_flight_at_start) == 2


@attrs.define
class HangingKind(SlowKind):
    """A job whose status answer does not come until ``release`` is set."""

    name: str = "hanging"
    release: asyncio.Event = attrs.Factory(asyncio.Event)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.starts.append(asyncio.get_running_loop().time())
        await self.release.wait()
        return "running"


async def test_a_poll_whose_answer_hangs_holds_up_no_other_job(fake: Any) -> None:
    """Each poll is sent when it is due: an answer that does not come delays no other job,
    not even one polled in the same instant (a slow batch answer used to hold up them all)."""
    client, kind = fake
    hanging = HangingKind()
    client.tasks.register(hanging)
    stuck = client.tasks.resume({"kind": "hanging", "id": "stuck"})
    job = client.tasks.resume({"kind": "fake", "id": "job"})  # both due now: one tick
    async with anyio.create_task_group() as tg:
        tg.start_soon(stuck.wait)
        assert await job.wait(timeout=2) == "done"
        assert kind.seen["job"] == kind.polls_to_finish
        assert len(hanging.starts) == 1  # still waiting for its first answer
        tg.cancel_scope.cancel()


async def test_a_batch_answer_that_hangs_holds_up_no_other_job(fake: Any) -> None:
    """The same for a batch query: two jobs asked for in one request that does not answer."""
    client, kind = fake
    held = HeldBatchKind()
    client.tasks.register(held)
    stuck = [client.tasks.resume({"kind": "held-batch", "id": f"stuck-{i}"}) for i in range(2)]
    job = client.tasks.resume({"kind": "fake", "id": "job"})  # all due now: one tick
    async with anyio.create_task_group() as tg:
        for handle in stuck:
            tg.start_soon(handle.wait)
        assert await job.wait(timeout=2) == "done"
        assert kind.seen["job"] == kind.polls_to_finish
        assert held.held.is_set() and held.log == [("many", ["stuck-0", "stuck-1"])]
        tg.cancel_scope.cancel()


async def test_a_batch_with_room_for_one_more_takes_it_along(fake: Any) -> None:
    """Room for exactly one job (batch_size 2, one due) is room all the same."""
    client, _ = fake
    kind = OrderedKind(name="pairs", batch_size=2)
    client.tasks.register(kind)
    client.tasks.scheduler.batch_fill = 1.0
    late = client.tasks.resume({"kind": "pairs", "id": "late"})
    await late.refresh()  # polled just now: next due a whole delay later
    early = client.tasks.resume({"kind": "pairs", "id": "early"})  # never polled: due now
    policy = PollPolicy(initial_delay=0.3, multiplier=1.0, max_delay=0.3, jitter=0, timeout=5)
    await client.tasks.gather([early, late], poll=policy)
    assert kind.log[:2] == [("one", "late"), ("many", ["early", "late"])]


@attrs.define
class HeldBatchKind(OrderedKind):
    """Jobs that run until told otherwise; the first batch query waits for ``release``."""

    name: str = "held-batch"
    polls_to_finish: int = 10**6
    held: asyncio.Event = attrs.Factory(asyncio.Event)
    release: asyncio.Event = attrs.Factory(asyncio.Event)

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        statuses = await super().fetch_many(task_ids)
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        return statuses


async def test_a_status_delivered_for_a_job_taken_along_does_not_push_its_poll_back(
    fake: Any,
) -> None:
    """A job taken along in a batch is in flight like the others: a callback's status for it
    meanwhile does not count as one more answer (which would grow its delay twice)."""
    client, _ = fake
    kind = HeldBatchKind()
    client.tasks.register(kind)
    scheduler = client.tasks.scheduler
    scheduler.batch_fill = 1.0
    one, two = (client.tasks.resume({"kind": "held-batch", "id": i}) for i in ("l1", "l2"))
    await one.refresh()
    await two.refresh()  # both polled just now: next due a whole delay later
    early = client.tasks.resume({"kind": "held-batch", "id": "early"})  # due now
    policy = PollPolicy(initial_delay=0.3, multiplier=2, max_delay=10, jitter=0, timeout=30)
    waiter = asyncio.ensure_future(client.tasks.gather([early, one, two], poll=policy))
    await kind.held.wait()
    assert kind.log[2] == ("many", ["early", "l1", "l2"])  # l1 and l2 taken along
    running = TaskSnapshot(id="l1", kind="held-batch", state=TaskState.RUNNING, raw="running")
    client.tasks.deliver("held-batch", running)
    scheduler.batch_fill = 0.0  # from now on a job is polled when it is due, not before
    kind.release.set()
    # Both had the same delay and were sent together: they are due together again (0.6 s).
    with anyio.fail_after(5):
        while not any(_names("l2", entry) for entry in kind.log[3:]):
            await asyncio.sleep(0.005)
    assert next(e for e in kind.log[3:] if _names("l2", e)) == ("many", ["l1", "l2"])
    for task_id in ("early", "l1", "l2"):
        done = TaskSnapshot(id=task_id, kind="held-batch", state=TaskState.SUCCEEDED, raw="done")
        client.tasks.deliver("held-batch", done)
    assert await waiter == ["done"] * 3


def _names(task_id: str, entry: tuple[str, Any]) -> bool:
    return task_id in (entry[1] if entry[0] == "many" else [entry[1]])
