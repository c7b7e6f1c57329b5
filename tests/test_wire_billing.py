"""The billing rule, complete (issue 10 defects 2–4), and the key never inside an error
(defect 5).

Once a billable request may have reached the server, any failure to read a proper answer
raises ``SubmissionUncertainError``; a 5xx carrying the gateway's own JSON error is a refusal.
Every "sent once" claim is checked on the emulator's request log.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from api4gpt_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncAPI4GPT,
    NotFoundError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

HI = [{"role": "user", "content": "Hello"}]

Call = Callable[[AsyncAPI4GPT], Awaitable[Any]]


async def _chat_stream(client: AsyncAPI4GPT) -> Any:
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)
    async with stream:
        return [chunk async for chunk in stream]


#: One billable submit of each family: (route, call).
SUBMITS: list[tuple[str, Call]] = [
    ("luma.generate", lambda c: c.luma.generate("a fox")),
    ("lumvip.generate", lambda c: c.lumvip.generate("a fox")),
    ("images.generate", lambda c: c.images.generate("a cat")),
    ("chat.completions", lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=HI)),
    ("embeddings", lambda c: c.embeddings.create(model="text-embedding-3-small", input="hi")),
]
STREAMED: list[tuple[str, Call]] = [("chat.completions", _chat_stream)]
IDS = [route for route, _ in SUBMITS]


@pytest.mark.parametrize(("route", "call"), SUBMITS, ids=IDS)
async def test_a_timeout_after_sending_is_uncertain(
    make_client: Any, emulator: Emulator, route: str, call: Call
) -> None:
    emulator.delay(route, 3)
    async with make_client(timeout=0.3) as client:
        with pytest.raises(SubmissionUncertainError) as info:
            await call(client)
    assert not isinstance(info.value, APITimeoutError)  # "retry on timeout" must not pay twice
    assert info.value.request_sent is True
    await emulator.stop()  # the delayed handler ends and is logged
    assert emulator.count(route) == 1


@pytest.mark.parametrize(("route", "call"), SUBMITS + STREAMED, ids=[*IDS, "chat-stream"])
async def test_a_drop_after_sending_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator, route: str, call: Call
) -> None:
    emulator.fail(route, drop=True, times=3)
    with pytest.raises(SubmissionUncertainError):
        await call(client)
    assert emulator.count(route) == 1


UNREADABLE_200 = [
    {"body": "{not json", "headers": {"Content-Type": "application/json"}},
    {"body": b"", "headers": {"Content-Type": "application/json"}},
    {"body": "OK"},
    {"body": b"\x00\xff garbage"},
]


@pytest.mark.parametrize("fault", UNREADABLE_200)
@pytest.mark.parametrize(("route", "call"), SUBMITS, ids=IDS)
async def test_an_unreadable_200_to_a_submit_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator, route: str, call: Call, fault: dict[str, Any]
) -> None:
    emulator.fail(route, status=200, times=3, **fault)
    with pytest.raises(SubmissionUncertainError) as info:
        await call(client)
    assert info.value.status == 200
    assert isinstance(info.value.__cause__, ResponseDecodeError)  # what could not be read
    assert info.value.request_id  # from the answer's header
    assert emulator.count(route) == 1


PROXY_PAGES = [
    {"status": 502, "body": "<html><title>502 Bad Gateway</title></html>",
     "headers": {"Content-Type": "text/html"}},
    {"status": 504, "body": b""},
    {"status": 503, "body": "upstream connect error"},
    {"status": 524, "body": "<!DOCTYPE html><html>A timeout occurred</html>",
     "headers": {"Content-Type": "text/html"}},
]  # fmt: skip


@pytest.mark.parametrize("fault", PROXY_PAGES)
@pytest.mark.parametrize(("route", "call"), SUBMITS + STREAMED, ids=[*IDS, "chat-stream"])
async def test_a_5xx_page_from_a_proxy_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator, route: str, call: Call, fault: dict[str, Any]
) -> None:
    emulator.fail(route, times=3, **fault)
    with pytest.raises(SubmissionUncertainError) as info:
        await call(client)
    assert info.value.status == fault["status"]
    assert emulator.count(route) == 1


GATEWAY_REFUSALS = [
    (500, None, ServerError),  # the gateway's default JSON error body
    (502, {"error": {"message": "bad_response", "type": "new_api_error", "code": 502}},
     ServerError),
    (503, {"error": {"message": "m", "type": "new_api_error", "code": "model_not_found"}},
     NotFoundError),
    (500, {"code": "fail_to_fetch_task", "message": "x", "data": None}, ServerError),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "cls"), GATEWAY_REFUSALS)
@pytest.mark.parametrize(("route", "call"), SUBMITS + STREAMED, ids=[*IDS, "chat-stream"])
async def test_a_5xx_with_the_gateways_json_is_a_refusal(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    route: str,
    call: Call,
    status: int,
    body: Any,
    cls: type[Exception],
) -> None:
    emulator.fail(route, status=status, body=body, times=3)
    with pytest.raises(cls) as info:
        await call(client)
    assert not isinstance(info.value, SubmissionUncertainError)
    assert emulator.count(route) == 1


async def test_an_html_200_is_a_wrong_base_url_not_a_billed_job(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    page = "<!doctype html><html><title>My dashboard</title></html>"
    emulator.fail("luma.generate", status=200, body=page, headers={"Content-Type": "text/html"})
    with pytest.raises(ResponseDecodeError, match="check the base URL"):
        await client.luma.generate("a fox")


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ("{not json", {"Content-Type": "application/json"}, "not valid JSON sent as application"),
        (b"", {}, "an empty body"),
        ("<html></html>", {"Content-Type": "text/html"}, "HTML page (check the base URL"),
    ],
)
async def test_a_decode_error_says_what_arrived(
    client: AsyncAPI4GPT, emulator: Emulator, body: Any, headers: dict[str, str], expected: str
) -> None:
    emulator.fail("luma.task", status=200, body=body, headers=headers)
    with pytest.raises(ResponseDecodeError) as info:
        await client.luma.get("any")
    assert expected in str(info.value)
    assert "got application/json" not in str(info.value)


# -- the key never inside an error -------------------------------------------------------------

SECRET = "sk-TOPSECRET-0123456789abcdef"


@pytest.fixture
async def invalid_http_url() -> AsyncIterator[str]:
    """A raw server whose every answer is not valid HTTP (``HTTP/1.1 2OO OK``)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def _everything_said_by(error: BaseException) -> str:
    """Every text an error exposes: its chain, reprs, args, attributes and traceback."""
    parts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        parts += [repr(exc), str(exc), repr(exc.args), repr(vars(exc))]
        parts += [repr(getattr(exc, name, None)) for name in ("request_info", "headers")]
        todo += [exc.__cause__, exc.__context__]
    parts += traceback.format_exception(error)
    return "\n".join(parts)


FAILING_CALLS: list[tuple[str, Call]] = [
    ("get", lambda c: c.luma.get("abc")),
    ("submit", lambda c: c.luma.generate("a fox")),
    ("chat", lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=HI)),
    ("stream", _chat_stream),
]


@pytest.mark.parametrize(("name", "call"), FAILING_CALLS, ids=[n for n, _ in FAILING_CALLS])
async def test_an_invalid_http_answer_never_shows_the_key(
    invalid_http_url: str, caplog: pytest.LogCaptureFixture, name: str, call: Call
) -> None:
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    retry = RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.001)
    async with AsyncAPI4GPT(api_key=SECRET, base_url=invalid_http_url, retry=retry) as client:
        with pytest.raises(APIConnectionError) as info:
            await call(client)
    assert info.value.cause_summary  # what the library said is kept, safely
    said = _everything_said_by(info.value)
    assert "2OO" in said or "status" in said.lower()
    assert SECRET not in said and SECRET.removeprefix("sk-") not in said
    assert SECRET.removeprefix("sk-") not in caplog.text


@pytest.mark.parametrize(
    "fault",
    [{"drop": True, "times": 10}, {"delay": 3, "status": 200, "times": 1}],
    ids=["drop", "timeout"],
)
@pytest.mark.parametrize(("name", "call"), FAILING_CALLS, ids=[n for n, _ in FAILING_CALLS])
async def test_other_failures_never_show_the_key(
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
    name: str,
    call: Call,
    fault: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    route = {"get": "luma.task", "submit": "luma.generate"}.get(name, "chat.completions")
    if "delay" in fault:
        emulator.delay(route, fault["delay"])
    else:
        emulator.fail(route, **fault)
    retry = RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.001)
    async with emulator.client(retry=retry, timeout=0.3) as client:
        with pytest.raises(APIConnectionError) as info:
            await call(client)
    said = _everything_said_by(info.value)
    bare = emulator.api_key.removeprefix("sk-")
    assert bare not in said
    assert bare not in caplog.text


async def test_connection_refused_never_shows_the_key(unused_port_url: str) -> None:
    retry = RetryPolicy(max_retries=0)
    async with AsyncAPI4GPT(api_key=SECRET, base_url=unused_port_url, retry=retry) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.luma.generate("a fox")
    assert info.value.request_sent is False
    assert SECRET.removeprefix("sk-") not in _everything_said_by(info.value)


# -- plain http:// to another machine warns ------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://one.api4gpt.com", "http://10.0.0.7:3000/v1", "http://[2001:db8::1]:80"]
)
def test_plain_http_to_another_machine_warns_once_per_client(url: str) -> None:
    from api4gpt_async import InsecureBaseURLWarning

    with pytest.warns(InsecureBaseURLWarning, match="unencrypted") as record:
        AsyncAPI4GPT(api_key=SECRET, base_url=url)
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the caller's line
    assert SECRET not in str(record[0].message)


@pytest.mark.parametrize(
    "url",
    [
        "https://one.api4gpt.com",
        "http://127.0.0.1:3000",
        "http://127.8.9.10",
        "http://localhost:8080/v1",
        "http://[::1]:3000",
        "http://api.localhost",
    ],
)
def test_https_and_loopback_do_not_warn(url: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AsyncAPI4GPT(api_key=SECRET, base_url=url)
