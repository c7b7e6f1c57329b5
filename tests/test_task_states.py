"""Task states and waiting: every state word, polls that keep being refused, batches, watch.

The emulator's clock stands still unless a test moves it, so "nothing changed" and "polling
stopped" are shown by counting requests while other work goes on, never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from _until import until

from api4gpt_async import (
    AsyncAPI4GPT,
    TaskCancelledError,
    TaskFailedError,
    TaskHandle,
    TaskSnapshot,
    TaskState,
    TaskTimeoutError,
)
from api4gpt_async.tasks import state_from_text
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

#: Every word the families use, each with its state (spelled as the services send them).
STATE_WORDS = {
    TaskState.PENDING: [
        "pending", "queued", "submitted", "not_start", "NOT_START", "not_started", "not started",
        "waiting", "created", "Queued",
    ],
    TaskState.RUNNING: [
        "processing", "dreaming", "in_progress", "IN_PROGRESS", "in-progress", "running",
        "streaming", "generating", "started",
    ],
    TaskState.SUCCEEDED: [
        "completed", "complete", "success", "SUCCESS", "succeeded", "succeed", "done", "finished",
    ],
    TaskState.FAILED: ["failed", "failure", "FAILURE", "fail", "error", "errored", " Error "],
    TaskState.CANCELLED: ["cancelled", "canceled", "cancel", "CANCELED"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("word", "state"), [(w, s) for s, words in STATE_WORDS.items() for w in words]
)
def test_every_state_word(word: str, state: TaskState, caplog: pytest.LogCaptureFixture) -> None:
    assert state_from_text(word, kind="words") is state
    assert not caplog.records  # a known word is never reported as unknown


def test_terminal_states() -> None:
    assert {s for s in TaskState if s.terminal} == {
        TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED,
    }  # fmt: skip


def _generation(gen_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"code": "success", "message": "", "data": {"id": gen_id, "state": state, **extra}}


@pytest.mark.parametrize("word", STATE_WORDS[TaskState.FAILED])
async def test_a_job_reported_failed_by_any_word_fails_the_wait(
    word: str, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = client.lumvip.task("gen-x")
    emulator.fail(
        "lumvip.task", status=200, times=None,
        body=_generation("gen-x", word, failure_reason="upstream said no"),
    )  # fmt: skip
    with anyio.fail_after(3), pytest.raises(TaskFailedError) as info:
        await handle.wait()
    assert info.value.reason == "upstream said no"
    assert emulator.count("lumvip.task") == 1  # a terminal answer ends polling at once


@pytest.mark.parametrize("word", STATE_WORDS[TaskState.CANCELLED])
async def test_a_job_reported_cancelled_by_any_word_ends_the_wait(
    word: str, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = client.lumvip.task("gen-x")
    emulator.fail("lumvip.task", status=200, times=None, body=_generation("gen-x", word))
    with anyio.fail_after(3), pytest.raises(TaskCancelledError) as info:
        await handle.wait()
    assert info.value.snapshot is not None
    assert info.value.snapshot.state is TaskState.CANCELLED


# -- item 9: a poll refused more often than one call retries -----------------------------------


@pytest.mark.parametrize("refusals", [3, 7])
async def test_rate_limited_polls_never_fail_the_wait(
    refusals: int, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    emulator.rate_limit("luma.task", retry_after=0, times=refusals)  # one call tries 3 times
    with anyio.fail_after(5):
        assert (await handle.wait()).state == "completed"
    statuses = [r.status for r in emulator.requests if r.route == "luma.task"]
    assert statuses == [429] * refusals + [200]


# -- item 10: as_completed's deadline, gather's order, watch's changes --------------------------


async def test_as_completed_timeout_is_a_hard_limit(
    make_client: Callable[..., AsyncAPI4GPT],
) -> None:
    async with make_client() as client:
        handles = [await client.luma.generate(f"slow {i}") for i in range(3)]
        loop = asyncio.get_running_loop()
        started = loop.time()
        with anyio.fail_after(3):  # the client's own poll timeout (5 s) must not be what ends it
            outcomes = [o async for o in client.tasks.as_completed(handles, timeout=0.1)]
        assert loop.time() - started < 2.0
    assert sorted(o.index for o in outcomes) == [0, 1, 2]
    assert all(isinstance(o.error, TaskTimeoutError) for o in outcomes)


async def test_as_completed_timeout_covers_the_queued_jobs(client: AsyncAPI4GPT) -> None:
    handles = [await client.luma.generate(f"slow {i}") for i in range(4)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    with anyio.fail_after(3):
        outcomes = [o async for o in client.tasks.as_completed(handles, concurrency=1, timeout=0.1)]
    assert loop.time() - started < 2.0
    assert [o.index for o in outcomes] == [0, 1, 2, 3]  # the unstarted ones too, in order
    assert all(isinstance(o.error, TaskTimeoutError) for o in outcomes)
    assert client.tasks.scheduler.waiting == 0


async def test_gather_timeout_is_a_hard_limit(client: AsyncAPI4GPT) -> None:
    handles = [await client.luma.generate(f"slow {i}") for i in range(2)]
    with anyio.fail_after(3):
        results = await client.tasks.gather(handles, timeout=0.1, return_exceptions=True)
    assert all(isinstance(r, TaskTimeoutError) for r in results)


def _finished(handle: TaskHandle[Any]) -> bool:
    return handle.last is not None and handle.last.state.terminal


async def test_gather_keeps_input_order_when_jobs_finish_in_reverse(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # Jobs take 12 s of emulator time; each is submitted 5 s after the one before.
    first = await client.luma.generate("first")
    emulator.advance(5)
    second = await client.luma.generate("second [fail]")
    emulator.advance(5)
    third = await client.luma.generate("third")
    order = [third, second, first]  # the input: the reverse of the order they finish in
    results: list[Any] = []
    async with anyio.create_task_group() as tg:

        async def gather() -> None:
            results.extend(await client.tasks.gather(order, return_exceptions=True))

        tg.start_soon(gather)
        emulator.advance(2)  # t=12: the first finishes
        await until(lambda: _finished(first))
        assert not _finished(second)
        emulator.advance(5)  # t=17: the second fails
        await until(lambda: _finished(second))
        assert not _finished(third)
        emulator.advance(5)  # t=22: the third finishes
    assert [getattr(r, "id", None) for r in results] == [third.id, None, first.id]
    assert isinstance(results[1], TaskFailedError)


async def test_watch_yields_only_changes(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.luma.generate("a fox")
    seen: list[TaskSnapshot[Any]] = []
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            async for snap in handle.watch():
                seen.append(snap)

        tg.start_soon(watch)
        # The clock stands still: however often it is polled, the job has not changed.
        await until(lambda: emulator.count("luma.task") >= 5)
        assert [s.state for s in seen] == [TaskState.PENDING]
        emulator.advance(5)  # t=5: running
        await until(lambda: len(seen) == 2)
        polls = emulator.count("luma.task")
        await until(lambda: emulator.count("luma.task") >= polls + 5)
        assert [s.state for s in seen] == [TaskState.PENDING, TaskState.RUNNING]
        emulator.advance(60)
    assert [s.state for s in seen] == [TaskState.PENDING, TaskState.RUNNING, TaskState.SUCCEEDED]
