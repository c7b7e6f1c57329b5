"""TaskHandle, the PollScheduler and client.tasks: waiting, watching, batches, cleanup."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import anyio
import pytest
from _until import until

from api4gpt_async import (
    API4GPTError,
    AsyncAPI4GPT,
    NotFoundError,
    PollPolicy,
    TaskBatchError,
    TaskFailedError,
    TaskState,
    TaskTimeoutError,
    UnsupportedOperation,
)
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.tasks import state_from_text
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


async def test_wait_returns_the_typed_result(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.luma.generate("a cat surfing")
    assert handle.last is not None and handle.last.state is TaskState.PENDING
    emulator.advance(60)
    video = await handle.wait()
    assert isinstance(video, LumaGeneration)
    assert video.state == "completed"
    assert video.video_url is not None and video.video_url.endswith(".mp4")
    assert handle.last is not None and handle.last.state is TaskState.SUCCEEDED


async def test_wait_follows_the_clock(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.lumvip.generate("a cat surfing")
    async with anyio.create_task_group() as tg:
        result: list[LumaGeneration] = []

        async def waiter() -> None:
            result.append(await handle.wait())

        tg.start_soon(waiter)
        await until(lambda: emulator.count("lumvip.task") >= 3)  # it polls, the job is not done
        assert not result
        emulator.advance(60)
    assert result[0].id == handle.id


async def test_watch_yields_each_change_then_ends(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.luma.generate("a cat surfing")
    states = []
    async for snap in handle.watch():
        states.append(snap.state)
        emulator.advance(7)  # t=7: dreaming, t=14: completed (jobs take 12 s)
    assert states == [TaskState.PENDING, TaskState.RUNNING, TaskState.SUCCEEDED]


async def test_wait_timeout_leaves_the_handle_usable(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.luma.generate("a slow one")
    with pytest.raises(TaskTimeoutError) as info:
        await handle.wait(timeout=0.05)
    assert info.value.snapshot is not None
    assert not info.value.snapshot.state.terminal
    assert client.tasks.scheduler.waiting == 0  # nothing left polling
    emulator.advance(60)
    assert (await handle.wait()).state == "completed"


async def test_failed_job_raises_with_reason(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.luma.generate("please [fail]")
    emulator.advance(60)
    with pytest.raises(TaskFailedError) as info:
        await handle.wait()
    assert info.value.reason is not None and "emulated failure" in info.value.reason
    assert info.value.snapshot.state is TaskState.FAILED


async def test_transient_poll_errors_never_fail_the_wait(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    emulator.fail("luma.task", status=503, times=7)  # more than one call's retries
    emulator.fail("luma.task", drop=True, times=1)
    assert (await handle.wait()).state == "completed"
    assert emulator.count("luma.task") == 9


async def test_a_permanent_poll_error_fails_the_wait(client: AsyncAPI4GPT) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.luma.task("no-such-id").wait()
    assert info.value.code == "task_not_exist"


async def test_cancelling_a_waiter_stops_polling_at_once(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.luma.generate("never finishes")
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(handle.wait)
            await until(lambda: _polls_of(emulator, handle.id) >= 2)
            scope.cancel()
    scheduler = client.tasks.scheduler
    assert scheduler.waiting == 0
    assert scheduler._driver is None  # cancelled at once
    # Its teardown (the in-flight poll workers) ends within a few loop turns, with no time passing.
    for _ in range(100):
        if not [t for t in asyncio.all_tasks() if t.get_name().startswith("api4gpt_async")]:
            break
        await asyncio.sleep(0)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("api4gpt_async")]
    session = client._transport._session
    assert session is not None
    assert not session.connector._acquired  # type: ignore[union-attr]  # no connection held
    # Another job is polled meanwhile: its polls are the clock. (A request already on the wire
    # may still arrive; after that, silence, while polling every few ms would send many more.)
    other = await client.luma.generate("another")
    async with anyio.create_task_group() as tg:
        tg.start_soon(other.wait)
        await until(lambda: _polls_of(emulator, other.id) >= 2)
        polls = _polls_of(emulator, handle.id)
        await until(lambda: _polls_of(emulator, other.id) >= 8)
        assert _polls_of(emulator, handle.id) == polls
        emulator.advance(60)


def _polls_of(emulator: Emulator, task_id: str) -> int:
    return sum(1 for r in emulator.requests if r.route == "luma.task" and r.query["id"] == task_id)


async def test_closing_the_client_fails_waiters_instead_of_hanging(emulator: Emulator) -> None:
    client = AsyncAPI4GPT(
        api_key=emulator.api_key, base_url=emulator.base_url, poll=PollPolicy(initial_delay=0.001)
    )
    handle = await client.luma.generate("x")
    async with anyio.create_task_group() as tg:
        errors: list[BaseException] = []

        async def waiter() -> None:
            with pytest.raises(API4GPTError) as info:  # anything else fails the test
                await handle.wait()
            errors.append(info.value)

        tg.start_soon(waiter)
        await until(lambda: client.tasks.scheduler.waiting == 1)
        with anyio.fail_after(5):  # a waiter left hanging fails here, not after 30 minutes
            await client.aclose()
            await until(lambda: bool(errors))
    assert errors and "closed" in str(errors[0])


async def test_resume_from_ref_in_a_new_client(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.lumvip.generate("a cat surfing")
    saved = json.dumps(handle.ref)
    emulator.advance(60)
    async with AsyncAPI4GPT(api_key=emulator.api_key, base_url=emulator.base_url) as other:
        again = other.tasks.resume(saved)
        assert (again.kind, again.id) == ("lumvip", handle.id)
        assert (await again.wait()).id == handle.id
        same = other.lumvip.task(handle.id)
        assert (await same.refresh()).state is TaskState.SUCCEEDED


def test_resume_rejects_unknown_kinds() -> None:
    client = AsyncAPI4GPT(api_key="k")
    with pytest.raises(ValueError, match="unknown task kind"):
        client.tasks.resume({"kind": "nope", "id": "1"})
    with pytest.raises(ValueError, match="not a task ref"):
        client.tasks.resume({"id": "1"})


@pytest.mark.parametrize(
    "printed",
    [
        "{'kind': 'luma', 'id': 'abc'}",  # print(handle.ref)
        '{"kind": "luma", "id": "abc"}',  # json.dumps(handle.ref)
        "luma:abc",
    ],
)
def test_resume_reads_every_printed_form_of_a_ref(printed: str) -> None:
    client = AsyncAPI4GPT(api_key="k")
    handle = client.tasks.resume(printed)
    assert (handle.kind, handle.id) == ("luma", "abc")


@pytest.mark.parametrize("garbage", ["{'kind': 'luma'", "{not json", "{'kind': __import__('os')}"])
def test_resume_refuses_what_is_no_ref(garbage: str) -> None:
    client = AsyncAPI4GPT(api_key="k")
    with pytest.raises(ValueError, match="not a task ref"):
        client.tasks.resume(garbage)


async def test_luma_has_no_remote_cancel(client: AsyncAPI4GPT) -> None:
    handle = await client.luma.generate("x")
    with pytest.raises(UnsupportedOperation):
        await handle.cancel()


async def test_as_completed_keeps_every_outcome(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handles = [await client.luma.generate(p) for p in ("one", "two [fail]", "three")]
    emulator.advance(60)
    outcomes = [o async for o in client.tasks.as_completed(handles, concurrency=2)]
    assert sorted(o.index for o in outcomes) == [0, 1, 2]
    by_index = {o.index: o for o in outcomes}
    assert by_index[0].ok and by_index[2].ok
    assert isinstance(by_index[1].error, TaskFailedError)
    assert by_index[0].result is not None and by_index[0].result.id == handles[0].id


async def test_as_completed_respects_concurrency(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handles = [await client.luma.generate(f"job {i}") for i in range(4)]
    emulator.advance(60)
    seen = []
    async for _ in client.tasks.as_completed(handles, concurrency=1):
        seen.append(client.tasks.scheduler.waiting)
    assert max(seen) <= 1


async def test_as_completed_times_out_the_rest_without_losing_them(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    done = await client.luma.generate("done")
    emulator.advance(60)
    await done.refresh()  # known to be finished: no poll has to beat the short deadline
    slow = await client.luma.generate("slow")  # submitted after the clock moved: still pending
    outcomes = [o async for o in client.tasks.as_completed([done, slow], timeout=0.1)]
    assert [o.ok for o in sorted(outcomes, key=lambda o: o.index)] == [True, False]
    assert isinstance(outcomes[-1].error, TaskTimeoutError)
    assert client.tasks.scheduler.waiting == 0


async def test_gather_orders_results_and_reports_failures(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handles = [await client.lumvip.generate(p) for p in ("a", "b [fail]", "c")]
    emulator.advance(60)
    results = await client.tasks.gather(handles, return_exceptions=True)
    assert [getattr(r, "id", None) for r in results] == [handles[0].id, None, handles[2].id]
    assert isinstance(results[1], TaskFailedError)
    with pytest.raises(TaskBatchError) as info:
        await client.tasks.gather(handles)
    assert [o.ok for o in info.value.outcomes] == [True, False, True]
    assert len(info.value.errors) == 1


async def test_many_handles_share_batched_ticks(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handles = [await client.luma.generate(f"job {i}") for i in range(50)]
    emulator.advance(60)
    results = await client.tasks.gather(handles, concurrency=20)
    assert len(results) == 50
    assert emulator.count("luma.task") == 50  # one query per job: none repeated, none lost


async def test_duplicate_handles_of_one_job_share_polls(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.luma.generate("x")
    twins = [client.luma.task(handle.id) for _ in range(5)]
    emulator.advance(60)
    await client.tasks.gather(twins)
    assert emulator.count("luma.task") == 1


# -- policy and state arithmetic ------------------------------------------------------------------


def test_poll_policy_defaults_and_growth() -> None:
    policy = PollPolicy()
    assert (policy.initial_delay, policy.multiplier, policy.max_delay) == (2.0, 1.5, 15.0)
    assert (policy.jitter, policy.timeout) == (0.2, 1800.0)
    exact = PollPolicy(jitter=0)
    delays = [exact.next_delay(None)]
    for _ in range(8):
        delays.append(exact.next_delay(delays[-1]))
    assert delays[:4] == [2.0, 3.0, 4.5, 6.75]
    assert delays[-1] == 15.0


def test_poll_policy_honours_estimates_within_bounds() -> None:
    exact = PollPolicy(jitter=0)
    assert exact.next_delay(3.0, eta_seconds=9) == 9
    assert exact.next_delay(3.0, eta_seconds=600) == 15.0
    assert exact.next_delay(3.0, eta_seconds=0.1) == 2.0


def test_poll_policy_jitter_stays_within_twenty_percent() -> None:
    policy = PollPolicy()
    samples = [policy.next_delay(None) for _ in range(500)]
    assert min(samples) >= 1.6 and max(samples) <= 2.4
    assert max(samples) - min(samples) > 0.4


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("queued", TaskState.PENDING),
        ("NOT_START", TaskState.PENDING),
        ("submitted", TaskState.PENDING),
        ("dreaming", TaskState.RUNNING),
        ("IN_PROGRESS", TaskState.RUNNING),
        ("streaming", TaskState.RUNNING),
        ("completed", TaskState.SUCCEEDED),
        ("SUCCESS", TaskState.SUCCEEDED),
        ("FAILURE", TaskState.FAILED),
        ("canceled", TaskState.CANCELLED),
    ],
)
def test_state_words(word: str, state: TaskState) -> None:
    assert state_from_text(word, kind="test") is state


def test_unknown_state_is_running_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    # A kind named afresh: "once" is for the life of the process, which may have run this.
    kind = f"test-unknown-{uuid.uuid4().hex[:8]}"
    assert state_from_text("teleporting", kind=kind) is TaskState.RUNNING
    assert state_from_text("teleporting", kind=kind) is TaskState.RUNNING
    assert [r.getMessage() for r in caplog.records].count(
        f"unknown {kind} task state 'teleporting', treated as running"
    ) == 1


async def test_as_completed_rejects_a_concurrency_below_one(client: AsyncAPI4GPT) -> None:
    handle = client.luma.task("x")
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        async for _ in client.tasks.as_completed([handle], concurrency=0):
            pass


async def test_gather_of_nothing_is_empty(client: AsyncAPI4GPT) -> None:
    assert await client.tasks.gather([]) == []


def test_time_left_is_estimated_from_the_rate_of_progress() -> None:
    from api4gpt_async._scheduler import _Entry

    entry = _Entry(kind=None, task_id="x", policy=PollPolicy())  # type: ignore[arg-type]
    assert entry.eta_from_progress(0.2, now=100.0) is None  # one point: no rate yet
    assert entry.eta_from_progress(0.4, now=110.0) == pytest.approx(30.0)  # 2 %/s, 60 % left
    assert entry.eta_from_progress(0.4, now=120.0) is None  # no rise: no estimate
    assert entry.eta_from_progress(None, now=130.0) is None


@pytest.mark.anyio
async def test_download_and_download_all_wait_for_a_running_job(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    """Copied from the README: submit, then save at once; the save waits for the job."""
    job = await client.luma.generate("a fox")
    assert job.last is not None and not job.last.state.terminal
    waiter = asyncio.ensure_future(job.download_all(tmp_path / "all"))
    saved = asyncio.ensure_future(job.download(tmp_path / "one/"))
    while emulator.count("luma.task") < 2:  # both are polling the job, neither saved yet
        await asyncio.sleep(0.001)
    assert not waiter.done() and not saved.done()
    emulator.advance(60)
    paths = await waiter
    assert paths[0].name == f"{job.id}-video.mp4"
    assert (await saved).read_bytes() == paths[0].read_bytes()
