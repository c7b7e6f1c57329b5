"""What the transport retries, counted attempt by attempt, and the deadline across retries.

Attempts are counted on the emulator's request log or with the ``on_request`` / ``on_retry``
hooks, never inferred from the final error alone.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from api4gpt_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncAPI4GPT,
    Hooks,
    RequestEvent,
    RetryEvent,
    RetryPolicy,
    SubmissionUncertainError,
    errors,
)
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., AsyncAPI4GPT]


class Seen:
    """Every attempt and every retry one client reports."""

    def __init__(self) -> None:
        self.requests: list[RequestEvent] = []
        self.retries: list[RetryEvent] = []

    def hooks(self) -> Hooks:
        return Hooks(on_request=self.requests.append, on_retry=self.retries.append)


async def _finished_lumvip(client: AsyncAPI4GPT, emulator: Emulator) -> str:
    handle = await client.lumvip.generate("a calm sea")
    emulator.advance(60)
    return handle.id


# -- item 7: every status row, retried or not -------------------------------------------------

#: Statuses a request that is safe to repeat (a status query, a GET) retries, like
#: openai-python: 408, 409, 425, 429 and the gateway/CDN 5xx family.
RETRIED = [408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524]
#: Statuses that are the caller's to fix: raised at once, even for a status query.
NOT_RETRIED = [
    (400, errors.BadRequestError),
    (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError),
    (413, errors.BadRequestError),
    (415, errors.BadRequestError),
    (418, errors.APIStatusError),
    (422, errors.BadRequestError),
    (501, errors.ServerError),
]


@pytest.mark.parametrize("status", RETRIED)
async def test_a_status_query_retries(
    status: int, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    task_id = await _finished_lumvip(client, emulator)
    emulator.fail("lumvip.task", status=status, headers={"Retry-After": "0"})
    generation = await client.lumvip.get(task_id)
    assert generation.id == task_id
    assert [r.status for r in emulator.requests if r.route == "lumvip.task"] == [status, 200]


@pytest.mark.parametrize(("status", "cls"), NOT_RETRIED)
async def test_a_status_query_raises_at_once(
    status: int, cls: type[errors.APIStatusError], client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    task_id = await _finished_lumvip(client, emulator)
    emulator.fail("lumvip.task", status=status)
    with pytest.raises(cls) as info:
        await client.lumvip.get(task_id)
    assert type(info.value) is cls
    assert info.value.status == status
    assert emulator.count("lumvip.task") == 1


@pytest.mark.parametrize("status", [s for s in RETRIED if s != 429] + [s for s, _ in NOT_RETRIED])
async def test_a_billable_submit_is_never_retried_on_a_status(
    status: int, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("luma.generate", status=status, headers={"Retry-After": "0"})
    with pytest.raises(APIStatusError) as info:
        await client.luma.generate("a fox")
    assert info.value.status == status
    assert emulator.count("luma.generate") == 1


@pytest.mark.parametrize("route", ["luma.generate", "images.generate", "chat.completions"])
async def test_a_billable_submit_is_retried_on_429(
    route: str, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.rate_limit(route, retry_after=0, times=2)
    await _submit(client, route)
    assert [r.status for r in emulator.requests if r.route == route] == [429, 429, 200]


async def _submit(client: AsyncAPI4GPT, route: str) -> Any:
    if route == "luma.generate":
        return await client.luma.generate("a fox")
    if route == "images.generate":
        return await client.images.generate("a fox")
    if route == "chat.stream":
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        return [chunk async for chunk in stream]
    return await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )


# -- item 4: a billable submit refused at connect is retried ------------------------------------


@pytest.mark.parametrize(
    "route", ["luma.generate", "images.generate", "chat.completions", "chat.stream"]
)
async def test_a_billable_submit_refused_at_connect_is_retried(
    route: str, unused_port_url: str
) -> None:
    seen = Seen()
    retry = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.001)
    async with AsyncAPI4GPT(
        api_key="k", base_url=unused_port_url, retry=retry, hooks=seen.hooks()
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await _submit(client, route)
    assert not isinstance(info.value, SubmissionUncertainError)
    assert info.value.request_sent is False
    assert [e.retry for e in seen.retries] == [1, 2]  # both retries were taken
    assert [e.attempt for e in seen.requests] == [1, 2, 3]
    assert all(isinstance(e.error, APIConnectionError) for e in seen.requests)


# -- the wait before each retry -------------------------------------------------------------


async def _refused(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    await client.models.list()  # the base URL is a port nobody listens on


async def _rate_limited(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_lumvip(client, emulator)
    emulator.fail("lumvip.task", status=429, times=None)  # no Retry-After: backoff
    await client.lumvip.get(task_id)


async def _unavailable(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_lumvip(client, emulator)
    emulator.fail("lumvip.task", status=503, times=None)
    await client.lumvip.get(task_id)


@pytest.mark.parametrize("fail", [_refused, _rate_limited, _unavailable])
async def test_each_retry_waits_up_to_its_own_doubling_ceiling(
    fail: Callable[[AsyncAPI4GPT, Emulator], Awaitable[None]],
    emulator: Emulator,
    unused_port_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Retry n waits at most ``initial_delay * 2**(n-1)``: the first retry's ceiling is
    ``initial_delay`` itself (the full-jitter draw is pinned to its ceiling here)."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    seen = Seen()
    retry = RetryPolicy(max_retries=3, initial_delay=0.004, max_delay=1.0)
    base_url = unused_port_url if fail is _refused else emulator.base_url
    async with emulator.client(base_url=base_url, retry=retry, hooks=seen.hooks()) as client:
        with pytest.raises(errors.APIError):
            await fail(client, emulator)
    assert [e.delay for e in seen.retries] == [0.004, 0.008, 0.016]


# -- item 5: a GET whose connection drops twice (aiohttp re-sends a GET once by itself) ---------


@pytest.mark.parametrize(("drops", "sdk_retries"), [(2, 1), (4, 2)])
async def test_a_status_query_dropped_twice_is_retried_by_the_sdk(
    drops: int, sdk_retries: int, make_client: MakeClient, emulator: Emulator
) -> None:
    seen = Seen()
    async with make_client(hooks=seen.hooks()) as client:
        task_id = await _finished_lumvip(client, emulator)
        emulator.fail("lumvip.task", drop=True, times=drops)
        assert (await client.lumvip.get(task_id)).id == task_id
    assert emulator.count("lumvip.task") == drops + 1
    assert len(seen.retries) == sdk_retries
    assert all(isinstance(e.error, APIConnectionError) for e in seen.retries)


async def test_a_download_dropped_twice_is_retried_by_the_sdk(
    make_client: MakeClient, emulator: Emulator, tmp_path: Any
) -> None:
    seen = Seen()
    async with make_client(hooks=seen.hooks()) as client:
        emulator.fail("files", drop=True, times=2)
        path = await client.download(emulator.file_url("clip.mp4"), tmp_path / "clip.mp4")
    assert path.read_bytes()[4:8] == b"ftyp"
    assert emulator.count("files") == 3
    assert len(seen.retries) == 1


async def test_a_status_query_dropped_more_than_the_retries_raises(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("lumvip.task", drop=True, times=None)
    with pytest.raises(APIConnectionError) as info:
        await client.lumvip.get("any")
    assert type(info.value) is APIConnectionError  # a GET is never "uncertain"
    assert "ServerDisconnectedError" in (info.value.cause_summary or "")  # summarised, unchained
    assert emulator.count("lumvip.task") == 6  # 3 SDK attempts, each re-sent once by aiohttp


# -- item 1: the call's timeout covers a slow error answer and the retry after it ---------------


@pytest.mark.parametrize(
    ("route", "arm", "call"),
    [
        (
            "lumvip.task",
            lambda emu: emu.fail("lumvip.task", status=503, delay=0.8),
            lambda client: client.lumvip.get("any", timeout=1.2),
        ),
        (
            "lumvip.task",
            lambda emu: emu.fail("lumvip.task", status=429, delay=0.8,
                                 headers={"Retry-After": "0"}),
            lambda client: client.lumvip.get("any", timeout=1.2),
        ),
        (
            "luma.generate",  # billable, but a 429 is a refusal: retried, within the deadline
            lambda emu: emu.fail("luma.generate", status=429, delay=0.8,
                                 headers={"Retry-After": "0"}),
            lambda client: client.luma.generate("a fox", timeout=1.2),
        ),
    ],
)  # fmt: skip
async def test_call_timeout_covers_a_slow_error_and_the_retry_after_it(
    route: str,
    arm: Callable[[Emulator], object],
    call: Callable[[AsyncAPI4GPT], Awaitable[object]],
    make_client: MakeClient,
    emulator: Emulator,
) -> None:
    seen = Seen()
    async with make_client(hooks=seen.hooks()) as client:
        arm(emulator)
        emulator.delay(route, 30)  # the retry hangs
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Once sent, a billable submit that times out is uncertain, not a plain timeout.
        expected = SubmissionUncertainError if route == "luma.generate" else APITimeoutError
        with anyio.fail_after(10), pytest.raises(expected):
            await call(client)
        elapsed = loop.time() - started
    # 0.8 s went to the slow answer; the retry had only the 0.4 s left, not a fresh 1.2 s
    # (which would end at 2 s).
    assert 1.1 <= elapsed < 1.65, elapsed
    assert [e.attempt for e in seen.requests] == [1, 2]
    assert isinstance(seen.requests[1].error, expected)
