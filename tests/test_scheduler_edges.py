"""The PollScheduler at its edges: a refused batch query, a status delivered out of band while
a poll of the same job is on the wire, and the back-off after a transient poll error."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import re
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
import attrs
import pytest
from _kinds import DoneOrRunning
from _until import until

from api4gpt_async import (
    APIConnectionError,
    AsyncAPI4GPT,
    PollPolicy,
    RetryPolicy,
    TaskState,
    TaskTimeoutError,
)
from api4gpt_async.tasks import TaskHandle, TaskKind, TaskSnapshot
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


async def test_a_refused_batch_query_is_not_asked_again_and_warned_once(
    client: AsyncAPI4GPT, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Over HTTP: Midjourney's list-by-condition answers 404; its jobs are then polled one by
    one, round after round, without asking the batch query again; one warning says why."""
    emulator.fail("midjourney.list_by_condition", status=404, body="404 page not found", times=None)
    handles = [await client.midjourney.imagine(f"fox {i}") for i in range(3)]
    emulator.clear_requests()
    with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.tasks.gather, handles)
            # The clock is frozen: the jobs stay running, so polling goes round after round.
            await until(lambda: emulator.count("midjourney.fetch") >= 4 * len(handles))
            assert emulator.count("midjourney.list_by_condition") == 1
            emulator.advance(60)
    assert emulator.count("midjourney.list_by_condition") == 1
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "api4gpt_async" and "batch status query" in r.getMessage()
    ]
    assert len(warnings) == 1
    # The kind and the error itself, not placeholders.
    assert re.fullmatch(
        r"midjourney batch status query failed \(HTTP 404: 404 page not found "
        r"\(request_id=\w+\)\); polling one by one",
        warnings[0],
    )


@attrs.define
class HeldKind(DoneOrRunning):
    """A job whose first status query waits for ``release``; notes when each query starts."""

    transport: Any = None
    name: str = "held"
    starts: list[float] = attrs.Factory(list)
    asked: asyncio.Event = attrs.Factory(asyncio.Event)
    release: asyncio.Event = attrs.Factory(asyncio.Event)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.starts.append(asyncio.get_running_loop().time())
        self.asked.set()
        if len(self.starts) == 1:
            await self.release.wait()
        return "running"


async def test_a_status_delivered_during_a_poll_does_not_count_as_another_poll(
    client: AsyncAPI4GPT,
) -> None:
    """The back-off grows once per status request: a callback's status arriving while a poll
    is on the wire hands its news to the waiters but does not push the next poll back."""
    kind = HeldKind()
    client.tasks.register(kind)
    handle = client.tasks.resume("held:job")
    # 0.05 s after the first answer; 2 s if the delivery counted as an answer too.
    policy = PollPolicy(initial_delay=0.05, multiplier=40, max_delay=100, jitter=0, timeout=30)
    waiter = asyncio.ensure_future(handle.wait(poll=policy))
    await kind.asked.wait()
    running = TaskSnapshot(id="job", kind="held", state=TaskState.RUNNING, raw="running")
    assert client.tasks.deliver("held", running) is running
    assert handle.last is running
    kind.release.set()
    await until(lambda: len(kind.starts) >= 2)
    assert kind.starts[1] - kind.starts[0] < 1.0
    done = TaskSnapshot(id="job", kind="held", state=TaskState.SUCCEEDED, raw="done")
    client.tasks.deliver("held", done)
    assert await waiter == "done"


async def test_a_transient_poll_error_backs_off_and_says_when_it_tries_again(
    make_client: Callable[..., AsyncAPI4GPT],
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Over HTTP, without the transport's own retries: a 503 to a poll is logged with the job
    and the error, and the next poll waits the policy's next delay, counted from then."""
    # The job's estimate (12 s) makes the first wait max_delay; after the error the delay
    # grows from there (capped: 0.3 s again), it does not start over at initial_delay.
    policy = PollPolicy(initial_delay=0.05, multiplier=4, max_delay=0.3, jitter=0, timeout=30)
    async with make_client(retry=RetryPolicy(max_retries=0)) as client:
        handle = await client.luma.generate("a fox")
        emulator.clear_requests()
        emulator.fail("luma.task", status=503, times=1)
        loop = asyncio.get_running_loop()
        seen: list[float] = []  # when the first and second poll were seen arriving
        with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
            async with anyio.create_task_group() as tg:
                tg.start_soon(partial(handle.wait, poll=policy))
                for polls in (1, 2):
                    await until(lambda: emulator.count("luma.task") >= polls)  # noqa: B023
                    seen.append(loop.time())
                emulator.advance(60)
    assert seen[1] - seen[0] >= 0.2  # not 0.05 s (initial_delay), not at once
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("polling")]
    assert len(warnings) == 1
    assert re.fullmatch(
        rf"polling luma task {handle.id} failed \(HTTP 503: .+\); next try in 0\.3s", warnings[0]
    )


def test_two_observations_at_one_instant_give_no_rate() -> None:
    """A coarse clock (Windows: 15.6 ms) can stamp two observations alike: no rate, no
    ZeroDivisionError."""
    from api4gpt_async._scheduler import _Entry

    entry = _Entry(kind=None, task_id="x", policy=PollPolicy())  # type: ignore[arg-type]
    assert entry.eta_from_progress(0.2, now=100.0) is None
    assert entry.eta_from_progress(0.4, now=100.0) is None
    assert entry.eta_from_progress(0.6, now=110.0) == pytest.approx(20.0)  # 2 %/s, 40 % left


async def test_the_poller_is_one_task_with_a_name(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handles = [await client.luma.generate(f"job {i}") for i in range(3)]
    waiter = asyncio.ensure_future(client.tasks.gather(handles))
    await until(lambda: emulator.count("luma.task") >= 3)
    names = [task.get_name() for task in asyncio.all_tasks()]
    assert names.count("api4gpt_async poll scheduler") == 1
    emulator.advance(60)
    assert len(await waiter) == 3


async def test_a_closed_client_says_so_to_waiters(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    client = make_client()
    handle = await client.luma.generate("never ends")  # the clock is frozen
    waiter = asyncio.ensure_future(handle.wait())
    await until(lambda: client.tasks.scheduler.waiting == 1)
    await client.aclose()
    with pytest.raises(APIConnectionError) as info:
        await waiter
    assert str(info.value) == "the client was closed while a task was waited"
    slow = PollPolicy(initial_delay=10, max_delay=10, jitter=0, timeout=30)
    with anyio.fail_after(3), pytest.raises(RuntimeError, match=r"^this client is closed$"):
        await handle.wait(poll=slow)  # and a new wait is refused at once, not at its first poll


async def test_two_statuses_delivered_in_a_burst_reach_every_waiter(client: AsyncAPI4GPT) -> None:
    """A watcher served by the first callback does not stop the second from reaching a
    waiter of the same job (polling has stopped by then: the job has ended)."""
    kind = HeldKind()
    client.tasks.register(kind)
    handle = client.tasks.resume("held:job")
    policy = PollPolicy(initial_delay=10, max_delay=10, jitter=0, timeout=30)
    seen: list[TaskState] = []

    async def watch() -> None:
        async for snap in handle.watch(poll=policy):
            seen.append(snap.state)
            if len(seen) == 2:
                break

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        await kind.asked.wait()  # watch() asked for the first snapshot; that poll is held
        kind.release.set()
        await until(lambda: len(seen) == 1)
        waiter = asyncio.ensure_future(handle.wait(poll=policy))
        await asyncio.sleep(0)  # one loop turn: wait() registers before its first await
        assert not waiter.done()
        half = TaskSnapshot(id="job", kind="held", state=TaskState.RUNNING, raw="r", progress=0.5)
        done = TaskSnapshot(id="job", kind="held", state=TaskState.SUCCEEDED, raw="done")
        client.tasks.deliver("held", half)  # the watcher's news
        client.tasks.deliver("held", done)  # at once after: the waiter's
        with anyio.fail_after(3):
            assert await waiter == "done"
    assert seen == [TaskState.RUNNING, TaskState.RUNNING]


@attrs.define
class EtaKind(TaskKind[str, str]):
    """A job that runs on, saying each time it has 0.2 s left; notes when each query starts."""

    transport: Any = None
    name: str = "eta"
    starts: list[float] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.starts.append(asyncio.get_running_loop().time())
        return "running"

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        return TaskSnapshot(
            id=task_id, kind=self.name, state=TaskState.RUNNING, raw=status, eta_seconds=0.2
        )

    def result(self, status: str) -> str:
        return status


async def test_the_job_s_own_estimate_paces_every_poll(client: AsyncAPI4GPT) -> None:
    """Each answer's estimate sets the next wait (not only the first): without it the
    policy's own 1 ms, 3 ms, 9 ms... would apply."""
    kind = EtaKind()
    client.tasks.register(kind)
    handle = client.tasks.resume("eta:job")
    policy = PollPolicy(initial_delay=0.001, multiplier=3, max_delay=10, jitter=0, timeout=30)
    with pytest.raises(TaskTimeoutError):
        await handle.wait(timeout=0.7, poll=policy)
    gaps = [b - a for a, b in itertools.pairwise(kind.starts)]
    assert len(gaps) >= 1
    assert min(gaps) >= 0.15


@attrs.define
class SlowFirstAnswerKind(DoneOrRunning):
    """The first status answer takes ``latency`` seconds; the second says done."""

    transport: Any = None
    name: str = "slow-first"
    latency: float = 0.6
    starts: list[float] = attrs.Factory(list)
    answered: list[float] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        loop = asyncio.get_running_loop()
        self.starts.append(loop.time())
        if len(self.starts) > 1:
            return "done"
        await anyio.sleep(self.latency)  # the server's own time to answer
        self.answered.append(loop.time())
        return "running"


async def test_after_a_slow_answer_the_next_poll_waits_half_a_delay(client: AsyncAPI4GPT) -> None:
    """Polls are a delay apart from request to request, but never sooner than half a delay
    after the answer: an answer that took the whole 0.6 s delay is followed by 0.3 s of air
    (0.2 s with a third of the delay, 0 s counted from the request alone)."""
    kind = SlowFirstAnswerKind()
    client.tasks.register(kind)
    handle = client.tasks.resume("slow-first:job")
    policy = PollPolicy(initial_delay=0.6, multiplier=1.0, max_delay=0.6, jitter=0, timeout=30)
    assert await handle.wait(poll=policy) == "done"
    assert len(kind.starts) == 2
    assert kind.starts[1] - kind.answered[0] >= 0.3


class CoarseClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock ticks every quarter second (Windows' monotonic clock ticks
    every 15.6 ms): readings within one tick are equal, so a due time can fall exactly on
    the end of the scheduler's coalesce window."""

    def time(self) -> float:
        return math.floor(super().time() * 4) / 4


@attrs.define
class StampedKind(DoneOrRunning):
    """Notes each status query (job, loop time); ``soon`` runs until its second poll."""

    transport: Any = None
    name: str = "stamped"
    log: list[tuple[str, float]] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.log.append((task_id, asyncio.get_running_loop().time()))
        return "running" if [t for t, _ in self.log] == ["soon"] else "done"


def test_a_job_due_at_the_end_of_the_coalesce_window_joins_the_tick() -> None:
    """Entries due within ``coalesce_window`` (0.05 s) of the tick are polled in it, the end
    included: a job polled 0.05 s (its delay) before is asked along with a job due now, not
    in a tick of its own one window later."""
    kind = StampedKind()

    async def scenario() -> None:
        async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
            client.tasks.register(kind)
            soon = client.tasks.resume("stamped:soon")
            await soon.refresh()  # polled now: due again one delay (0.05 s) from now
            now = client.tasks.resume("stamped:now")  # never polled: due now
            policy = PollPolicy(
                initial_delay=client.tasks.scheduler.coalesce_window,
                multiplier=1.0, max_delay=1.0, jitter=0, timeout=30,
            )  # fmt: skip
            assert await client.tasks.gather([now, soon], poll=policy) == ["done", "done"]

    loop = CoarseClockLoop()
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert sorted(t for t, _ in kind.log[1:]) == ["now", "soon"]
    assert kind.log[1][1] == kind.log[2][1]  # one tick


@attrs.define
class FlagKind(TaskKind[str, str]):
    """Jobs run until their id is in ``finished``; each status query is noted, with an
    estimate ``eta`` (seconds) in every answer."""

    transport: Any = None
    name: str = "flag"
    finished: set[str] = attrs.Factory(set)
    eta: float | None = None
    log: list[tuple[str, float]] = attrs.Factory(list)

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.log.append((task_id, asyncio.get_running_loop().time()))
        return "done" if task_id in self.finished else "running"

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        state = TaskState.SUCCEEDED if status == "done" else TaskState.RUNNING
        return TaskSnapshot(
            id=task_id, kind=self.name, state=state, raw=status, eta_seconds=self.eta
        )

    def result(self, status: str) -> str:
        return status


async def test_a_status_delivered_between_polls_leaves_polling_on(client: AsyncAPI4GPT) -> None:
    """A callback's status moves the next poll back (0.3 s → 0.6 s from the request): the
    driver, woken for the poll that moved, finds nothing due and sleeps on; it does not stop
    while a job is waited."""
    kind = FlagKind()
    client.tasks.register(kind)
    handle = client.tasks.resume("flag:job")
    policy = PollPolicy(initial_delay=0.3, multiplier=2, max_delay=10, jitter=0, timeout=30)
    waiter = asyncio.ensure_future(handle.wait(poll=policy))
    await until(lambda: handle.last is not None)  # the first poll has answered
    running = TaskSnapshot(id="job", kind="flag", state=TaskState.RUNNING, raw="running")
    assert client.tasks.deliver("flag", running) is running
    kind.finished.add("job")
    with anyio.fail_after(3):
        assert await waiter == "done"
    assert len(kind.log) == 2


async def test_a_job_due_before_the_sleeping_driver_wakes_it(client: AsyncAPI4GPT) -> None:
    """The driver sleeps until the earliest poll (10 s away); a job waited meanwhile, due at
    once, wakes it: polled now, not in 10 s."""
    kind = FlagKind(finished={"quick"})
    client.tasks.register(kind)
    slow = client.tasks.resume("flag:slow")
    await slow.refresh()  # polled now: next due 10 s from now
    policy = PollPolicy(initial_delay=10, multiplier=1, max_delay=10, jitter=0, timeout=60)
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(slow.wait, poll=policy))
        await until(lambda: client.tasks.scheduler.waiting == 1)
        quick = client.tasks.resume("flag:quick")
        with anyio.fail_after(3):
            assert await quick.wait(poll=policy) == "done"
        tg.cancel_scope.cancel()


async def test_a_refreshed_job_s_estimate_sets_its_first_wait(client: AsyncAPI4GPT) -> None:
    """A handle refreshed before waiting: the answer's estimate (0.1 s) is the first wait, as
    an estimate, not as a previous wait the multiplier (50) would stretch to 5 s."""
    kind = FlagKind(eta=0.1)
    client.tasks.register(kind)
    handle = client.tasks.resume("flag:job")
    await handle.refresh()
    kind.finished.add("job")
    policy = PollPolicy(initial_delay=0.01, multiplier=50, max_delay=10, jitter=0, timeout=30)
    with anyio.fail_after(2.5):
        assert await handle.wait(poll=policy) == "done"
    assert kind.log[1][1] - kind.log[0][1] >= 0.1


class FrozenClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock stands still (every reading equal; no timer comes due):
    counts how often it is read."""

    reads = 0

    def time(self) -> float:
        self.reads += 1
        return 1000.0


def _run(loop: asyncio.AbstractEventLoop, scenario: Callable[[], Any]) -> None:
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_a_job_due_at_this_very_reading_of_the_clock_is_polled() -> None:
    """Due now means due: on a clock that has not ticked since the job was scheduled (a
    coarse one, or here a frozen one), the job is polled at once, not after another tick."""
    kind = FlagKind(finished={"job"})

    async def scenario() -> None:
        async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
            client.tasks.register(kind)
            waiter = asyncio.ensure_future(client.tasks.resume("flag:job").wait())
            for _ in range(200):  # loop turns, no clock needed
                if waiter.done():
                    break
                await asyncio.sleep(0)
            assert waiter.done() and waiter.result() == "done"

    _run(FrozenClockLoop(), scenario)


def test_the_driver_sleeps_until_the_next_poll() -> None:
    """Waiting for a poll 10 s away, the driver sleeps: the clock is not read at each loop
    turn by a driver spinning through zero-length waits."""
    kind = FlagKind()
    loop = FrozenClockLoop()

    async def scenario() -> None:
        async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
            client.tasks.register(kind)
            handle = client.tasks.resume("flag:job")
            await handle.refresh()
            policy = PollPolicy(initial_delay=10, multiplier=1, max_delay=10, jitter=0)
            waiter = asyncio.ensure_future(handle.wait(poll=policy))
            for _ in range(20):
                await asyncio.sleep(0)
            before = loop.reads
            for _ in range(200):
                await asyncio.sleep(0)
            # One read per loop turn for the timers (the wait's timeout, the driver's sleep);
            # a driver spinning through zero-length waits reads it twice more per turn.
            assert loop.reads - before <= 300
            waiter.cancel()

    _run(loop, scenario)


class ManualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when the test moves it (``now``): timers due by
    then all run in the same loop turn, in the order of their due times."""

    now = 1000.0

    def time(self) -> float:
        return self.now


def _scheduler_tasks() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name() == "api4gpt_async poll scheduler"
    ]


async def _give_up_waiting(how: str, client: AsyncAPI4GPT, handle: TaskHandle[str]) -> None:
    """Wait for ``handle`` and give up after 1 s, in one of the ways a caller can."""
    policy = PollPolicy(initial_delay=2, multiplier=1, max_delay=2, jitter=0)
    if how == "wait":
        with pytest.raises(TaskTimeoutError):
            await handle.wait(timeout=1, poll=policy)
    elif how == "gather":
        [outcome] = await client.tasks.gather(
            [handle], timeout=1, poll=policy, return_exceptions=True
        )
        assert isinstance(outcome, TaskTimeoutError)
    else:
        await handle.refresh()  # what watch() does first: the same single poll
        with anyio.move_on_after(1):
            async for _ in handle.watch(poll=policy):
                pass


@pytest.mark.parametrize("how", ["wait", "gather", "watch"])
def test_a_wait_given_up_as_the_driver_wakes_then_waited_again_leaves_one_driver(
    how: str,
) -> None:
    """A wait is given up (at 1001) in the loop turn the sleeping driver's own wake-up (1002)
    comes due, and the job is waited again at once: the driver nobody needed any more is
    stopped for good (on Python 3.10 the deadline that fired swallows its cancellation), a
    single driver polls the job, and once the client is closed no poller is left."""
    kind = FlagKind()
    loop = ManualClockLoop()
    outcome: list[BaseException] = []

    async def turns(condition: Callable[[], bool]) -> None:
        for _ in range(200):  # loop turns, no clock needed
            if condition():
                break
            await asyncio.sleep(0)
        assert condition()
        for _ in range(20):  # and the driver back to its sleep
            await asyncio.sleep(0)

    async def scenario() -> None:
        async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
            client.tasks.register(kind)
            handle: TaskHandle[str] = client.tasks.resume("flag:job")

            async def give_up_then_wait_again() -> None:
                await _give_up_waiting(how, client, handle)
                policy = PollPolicy(initial_delay=2, multiplier=1, max_delay=2, jitter=0)
                try:
                    await handle.wait(poll=policy)
                except APIConnectionError as error:
                    outcome.append(error)

            waiter = asyncio.ensure_future(give_up_then_wait_again())
            await turns(lambda: len(kind.log) == 1)  # polled at 1000, the driver asleep
            loop.now += 5  # past the give-up (1001), then the driver's wake-up (1002)
            await turns(lambda: len(kind.log) == 2)  # waited again: polled at 1005
            assert client.tasks.scheduler.waiting == 1
            assert len(_scheduler_tasks()) == 1
        await waiter
        assert not _scheduler_tasks()

    _run(loop, scenario)
    assert kind.log == [("job", 1000.0), ("job", 1005.0)]
    assert [str(error) for error in outcome] == ["the client was closed while a task was waited"]


async def test_jobs_of_a_kind_without_a_batch_query_are_polled_one_by_one(
    client: AsyncAPI4GPT, caplog: pytest.LogCaptureFixture
) -> None:
    """Two jobs due in one tick, of a kind with ``batch_size`` 1: two status queries, no
    attempt at a batch query it does not have (nor a warning that it failed)."""
    kind = FlagKind(finished={"a", "b"})
    client.tasks.register(kind)
    handles = [client.tasks.resume(f"flag:{i}") for i in "ab"]
    with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
        assert await client.tasks.gather(handles) == ["done", "done"]
    assert sorted(t for t, _ in kind.log) == ["a", "b"]
    assert [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"] == []


async def test_jobs_of_a_family_without_a_batch_query_are_polled_one_by_one(
    client: AsyncAPI4GPT, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Luma has no batch status query: its kind's ``batch_size`` is 1, and two jobs due in one
    tick are two status queries, with no batch query tried (nor a warning that it failed)."""
    handles = [await client.luma.generate(f"fox {i}") for i in range(2)]
    assert client.luma._kind.batch_size == 1
    with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.tasks.gather, handles)
            await until(lambda: emulator.count("luma.task") >= 2)
            emulator.advance(60)
    assert [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"] == []
