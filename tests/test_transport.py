"""The transport's promises: what is retried, what never is, deadlines, and typed errors.

Every "sent once" claim is checked on the emulator's request log, not inferred.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import aiohttp
import anyio
import pytest
from _until import until

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncAPI4GPT,
    AuthenticationError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

HI = [{"role": "user", "content": "hi"}]


async def _finished_id(client: AsyncAPI4GPT, emulator: Emulator) -> str:
    handle = await client.lumvip.generate("a calm sea")
    emulator.advance(60)
    return handle.id


# -- status queries (safe to repeat) --------------------------------------------------------------


async def test_query_retries_5xx_then_succeeds(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_id(client, emulator)
    emulator.fail("lumvip.task", status=503, times=2)
    generation = await client.lumvip.get(task_id)
    assert generation.state == "completed"
    assert emulator.count("lumvip.task") == 3


async def test_query_gives_up_after_max_retries(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_id(client, emulator)
    emulator.fail("lumvip.task", status=502, times=5)
    with pytest.raises(ServerError) as info:
        await client.lumvip.get(task_id)
    assert info.value.status == 502
    assert emulator.count("lumvip.task") == 3  # one attempt + max_retries (2)


async def test_query_retries_a_dropped_connection(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_id(client, emulator)
    emulator.fail("lumvip.task", drop=True)
    assert (await client.lumvip.get(task_id)).id == task_id
    assert emulator.count("lumvip.task") == 2


async def test_html_error_page_becomes_server_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    task_id = await _finished_id(client, emulator)
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    emulator.fail(
        "lumvip.task", status=502, body=page, headers={"Content-Type": "text/html"}, times=3
    )
    with pytest.raises(ServerError, match="502 Bad Gateway"):
        await client.lumvip.get(task_id)


async def test_non_json_success_is_a_decode_error(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("lumvip.task", status=200, body="<html>app shell</html>",
                  headers={"Content-Type": "text/html"})  # fmt: skip
    with pytest.raises(ResponseDecodeError, match="HTML"):
        await client.lumvip.get("any")
    assert emulator.count("lumvip.task") == 1  # a malformed answer is not retried


async def test_envelope_failure_at_200_is_an_api_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = {"code": "quota_not_enough", "message": "余额不足", "data": None}
    emulator.fail("lumvip.task", status=200, body=body)
    with pytest.raises(APIError) as info:
        await client.lumvip.get("any")
    assert info.value.code == "quota_not_enough"
    assert info.value.request_id  # from the X-Oneapi-Request-Id header


# -- billable submits (never sent twice) -------------------------------------------------------


async def test_submit_is_not_retried_on_5xx(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("luma.generate", status=500)
    with pytest.raises(ServerError):
        await client.luma.generate("a fox")
    assert emulator.count("luma.generate") == 1


async def test_submit_with_dropped_connection_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("luma.generate", drop=True)
    with pytest.raises(SubmissionUncertainError) as info:
        await client.luma.generate("a fox")
    assert info.value.request_sent is True
    assert emulator.count("luma.generate") == 1


async def test_submit_is_retried_when_rate_limited(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.rate_limit("luma.generate", retry_after=0.01)
    handle = await client.luma.generate("a fox")
    assert handle.id
    assert emulator.count("luma.generate") == 2
    assert [r.status for r in emulator.requests if r.route == "luma.generate"] == [429, 200]


async def test_submit_is_retried_when_it_never_left(unused_port_url: str) -> None:
    retry = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.001)
    async with AsyncAPI4GPT(api_key="k", base_url=unused_port_url, retry=retry) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.luma.generate("a fox")
    assert not isinstance(info.value, SubmissionUncertainError)
    assert info.value.request_sent is False


# -- Retry-After and deadlines --------------------------------------------------------------------


async def test_retry_after_is_honoured(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    task_id = await _finished_id(client, emulator)
    emulator.rate_limit("lumvip.task", retry_after=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.lumvip.get(task_id)
    assert loop.time() - started >= 0.2


async def test_retry_after_beyond_the_deadline_raises_at_once(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.rate_limit("lumvip.task", retry_after=30)
    with anyio.fail_after(5):  # would hang for 30 s if the wait were taken
        with pytest.raises(RateLimitError) as info:
            await client.lumvip.get("any", timeout=2)
    assert info.value.retry_after == 30
    assert emulator.count("lumvip.task") == 1


async def test_retry_after_beyond_max_retry_after_raises(emulator: Emulator) -> None:
    retry = RetryPolicy(max_retry_after=1.0)
    async with AsyncAPI4GPT(
        api_key=emulator.api_key, base_url=emulator.base_url, retry=retry
    ) as client:
        emulator.rate_limit("lumvip.task", retry_after=5)
        with pytest.raises(RateLimitError):
            await client.lumvip.get("any")
    assert emulator.count("lumvip.task") == 1


async def test_retry_after_equal_to_max_retry_after_is_waited(emulator: Emulator) -> None:
    retry = RetryPolicy(max_retry_after=0.0)  # the bound is inclusive: a wait of 0 s is taken
    async with AsyncAPI4GPT(
        api_key=emulator.api_key, base_url=emulator.base_url, retry=retry
    ) as client:
        handle = await client.lumvip.generate("a fox")
        emulator.fail("lumvip.task", status=429, headers={"Retry-After": "0"}, times=1)
        status = await client.lumvip.get(handle.id)
    assert status.id == handle.id
    assert emulator.count("lumvip.task") == 2


async def test_call_timeout_is_a_total_deadline(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("lumvip.task", delay=5, times=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(APITimeoutError):
        await client.lumvip.get("any", timeout=0.3)
    assert loop.time() - started < 2


async def test_deadline_covers_backoff_sleeps(emulator: Emulator) -> None:
    retry = RetryPolicy(max_retries=5, initial_delay=10, max_delay=10)
    async with AsyncAPI4GPT(
        api_key=emulator.api_key, base_url=emulator.base_url, retry=retry
    ) as client:
        emulator.fail("lumvip.task", status=503, times=10)
        with anyio.fail_after(5):
            with pytest.raises(ServerError):
                # a 10 s back-off cannot fit in a 0.5 s call, so the error is raised instead
                await client.lumvip.get("any", timeout=0.5)


async def test_enclosing_cancel_scope_is_honoured(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("lumvip.task", delay=5)
    with pytest.raises(TimeoutError), anyio.fail_after(0.2):
        await client.lumvip.get("any")


# -- auth, secrets, configuration ----------------------------------------------------------------


async def test_wrong_key_is_an_authentication_error(emulator: Emulator) -> None:
    async with AsyncAPI4GPT(api_key="sk-wrong-secret", base_url=emulator.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.luma.generate("x")
    err = info.value
    assert err.status == 401
    assert err.request_id
    assert "sk-wrong-secret" not in f"{err!s} {err!r} {err.body!r}"


def test_key_never_in_repr() -> None:
    client = AsyncAPI4GPT(api_key="sk-very-secret", base_url="https://example.invalid/v1/")
    assert "sk-very-secret" not in repr(client)
    assert client.base_url == "https://example.invalid"


def test_env_vars_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API4GPT_API_KEY", "sk-env")
    monkeypatch.setenv("API4GPT_BASE_URL", "http://127.0.0.1:1/v1")
    client = AsyncAPI4GPT()
    assert client.base_url == "http://127.0.0.1:1"


def test_missing_key_is_reported_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API4GPT_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="API4GPT_API_KEY"):
        AsyncAPI4GPT()


def test_unknown_path_override_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"luma\.generat"):
        AsyncAPI4GPT(api_key="k", paths={"luma.generat": "/x"})


async def test_path_override_is_used(emulator: Emulator) -> None:
    async with AsyncAPI4GPT(
        api_key=emulator.api_key,
        base_url=emulator.base_url,
        paths={"luma.generate": "/luma/generations"},  # send luma jobs to the lumvip route
    ) as client:
        await client.luma.generate("x")
    assert emulator.count("lumvip.generate") == 1
    assert emulator.count("luma.generate") == 0


async def test_injected_session_is_used_and_left_open(emulator: Emulator) -> None:
    sent: list[str] = []

    async def on_request_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append(params.url.path)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        async with AsyncAPI4GPT(
            api_key=emulator.api_key, base_url=emulator.base_url, session=session
        ) as client:
            await client.luma.generate("x")
        assert not session.closed
    assert emulator.count("luma.generate") == 1
    assert sent == [emulator.requests[-1].path]  # through the caller's session


async def test_a_closed_client_says_so(emulator: Emulator) -> None:
    client = AsyncAPI4GPT(api_key=emulator.api_key, base_url=emulator.base_url)
    await client.models.list()
    await client.aclose()
    with pytest.raises(RuntimeError, match=r"^this client is closed$"):
        await client.models.list()


async def test_requests_beyond_max_connections_wait_for_a_free_one(emulator: Emulator) -> None:
    """Two connections: two requests reach the server, a third waits (here past its
    timeout, so it never reaches the server at all)."""
    held = emulator.delay("chat.completions", 30, times=2)
    async with (
        AsyncAPI4GPT(
            api_key=emulator.api_key, base_url=emulator.base_url, max_connections=2, timeout=30
        ) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(2):
            tg.start_soon(functools.partial(client.chat.completions.create, model="m", messages=HI))
        await until(lambda: held.hits == 2)
        with pytest.raises(APITimeoutError):
            await client.models.list(timeout=0.3)
        assert emulator.count("models") == 0
        tg.cancel_scope.cancel()


async def test_request_body_is_exact(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    await client.luma.generate("a fox", aspect_ratio="9:16", extra_body={"loop": True})
    (request,) = [r for r in emulator.requests if r.route == "luma.generate"]
    assert request.json == {"user_prompt": "a fox", "aspect_ratio": "9:16", "loop": True}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("api4gpt-async/")
    assert request.headers["Authorization"].startswith("Bearer ")
    assert emulator.api_key not in request.headers["Authorization"]  # the log masks it


async def test_key_never_in_logs(
    client: AsyncAPI4GPT, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="api4gpt_async")
    task_id = await _finished_id(client, emulator)
    emulator.fail("lumvip.task", status=503)
    await client.lumvip.get(task_id)  # a debug line per request, an info line for the retry
    async with AsyncAPI4GPT(api_key="sk-log-secret", base_url=emulator.base_url) as other:
        with pytest.raises(AuthenticationError):
            await other.lumvip.get(task_id)
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert any(r.levelname == "DEBUG" for r in caplog.records)
    assert emulator.api_key not in caplog.text
    assert "sk-log-secret" not in caplog.text


async def test_openai_error_object_at_200_raises_for_every_family(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = {"error": {"message": "upstream refused", "type": "upstream_error", "code": "nope"}}
    emulator.fail("images.generate", status=200, body=body)
    with pytest.raises(APIError) as info:
        await client.images.generate("a fox")
    assert info.value.code == "nope"
    assert info.value.request_id  # from the header
