"""Hooks see every attempt, every retry and every task update, and can never break a call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from api4gpt_async import (
    AsyncAPI4GPT,
    Hooks,
    RequestEvent,
    RetryEvent,
    ServerError,
    TaskSnapshot,
    TaskState,
)
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.requests: list[RequestEvent] = []
        self.retries: list[RetryEvent] = []
        self.updates: list[TaskSnapshot[Any]] = []

    def hooks(self) -> Hooks:
        return Hooks(
            on_request=self.requests.append,
            on_retry=self.retries.append,
            on_task_update=self.updates.append,
        )


@pytest.fixture
async def recorded(
    make_client: Callable[..., AsyncAPI4GPT],
) -> AsyncIterator[tuple[AsyncAPI4GPT, Recorder]]:
    recorder = Recorder()
    async with make_client(hooks=recorder.hooks()) as client:
        yield client, recorder


async def test_every_attempt_and_retry_is_reported(
    recorded: tuple[AsyncAPI4GPT, Recorder], emulator: Emulator
) -> None:
    client, recorder = recorded
    handle = await client.lumvip.generate("x")
    emulator.fail("lumvip.task", status=503)
    await client.lumvip.get(handle.id)
    assert [(e.method, e.status, e.attempt) for e in recorder.requests] == [
        ("POST", 200, 1),
        ("GET", 503, 1),
        ("GET", 200, 2),
    ]
    assert isinstance(recorder.requests[1].error, ServerError)
    assert all(e.request_id for e in recorder.requests)
    assert all(e.elapsed >= 0 for e in recorder.requests)
    (retry,) = recorder.retries
    assert (retry.method, retry.retry) == ("GET", 1)
    assert retry.url.endswith("/luma/task")
    assert isinstance(retry.error, ServerError)


async def test_task_updates_are_reported_on_change_only(
    recorded: tuple[AsyncAPI4GPT, Recorder], emulator: Emulator
) -> None:
    client, recorder = recorded
    handle = await client.luma.generate("x")
    await handle.refresh()  # still pending: no change, no update
    emulator.advance(5)
    await handle.refresh()
    emulator.advance(60)
    await handle.wait()
    assert [s.state for s in recorder.updates] == [
        TaskState.PENDING,
        TaskState.RUNNING,
        TaskState.SUCCEEDED,
    ]


async def test_a_failing_hook_never_breaks_the_call(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("observer bug")

    hooks = Hooks(on_request=broken, on_task_update=broken)
    async with AsyncAPI4GPT(
        api_key=emulator.api_key, base_url=emulator.base_url, hooks=hooks
    ) as client:
        handle = await client.luma.generate("x")
    assert handle.id
    assert "observer bug" in caplog.text


async def test_streams_report_their_attempt(
    recorded: tuple[AsyncAPI4GPT, Recorder], emulator: Emulator
) -> None:
    client, recorder = recorded
    emulator.rate_limit("chat.completions", retry_after=0.01)
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        assert [chunk async for chunk in stream]
    assert [(e.status, e.attempt) for e in recorder.requests] == [(429, 1), (200, 2)]
    assert [r.delay for r in recorder.retries] == [0.01]
