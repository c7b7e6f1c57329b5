"""Edges of the transport that the family tests pass by: the Midjourney envelope's refusals
read field by field, task objects that carry a ``code`` of their own, odd characters, the
ways a 200 shows it is a web page and not the API."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import aiohttp
import anyio
import pytest
from _loopback import serve
from aiohttp import web
from aiohttp.client_reqrep import ConnectionKey

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncAPI4GPT,
    ContentPolicyError,
    Hooks,
    InsecureBaseURLWarning,
    NotFoundError,
    RateLimitError,
    RequestEvent,
    ResponseDecodeError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async._json import encode_body
from api4gpt_async._transport import FormFile, map_client_error, normalize_base_url
from api4gpt_async.cli._doctor import diagnose
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


# -- the Midjourney envelope ---------------------------------------------------------------------


async def _refusal(client: AsyncAPI4GPT, emulator: Emulator, answer: Any) -> APIError:
    emulator.fail(
        "midjourney.imagine", status=200, body=answer, headers={"X-Oneapi-Request-Id": "rid-mj"}
    )
    with pytest.raises(APIError) as info:
        await client.midjourney.imagine("fox")
    return info.value


@pytest.mark.parametrize(
    ("answer", "message", "banned_word", "prompt_en"),
    [
        (
            {"code": 24, "description": "可能包含敏感词",
             "properties": {"promptEn": "a gore scene", "bannedWord": "gore"}},
            "可能包含敏感词: gore", "gore", "a gore scene",
        ),
        ({"code": 24, "description": "Banned prompt words"}, "Banned prompt words", None, None),
        (
            {"code": 24, "description": "banned", "properties": {"bannedWord": ""}},
            "banned", None, None,
        ),
        ({"code": 24, "properties": {"bannedWord": "gore"}}, "banned prompt: gore", "gore", None),
        ({"code": 24, "description": "", "properties": "?"}, "banned prompt", None, None),
    ],
)  # fmt: skip
async def test_a_banned_prompt_reads_each_field_of_the_answer(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    answer: dict[str, Any],
    message: str,
    banned_word: str | None,
    prompt_en: str | None,
) -> None:
    error = await _refusal(client, emulator, answer)
    assert type(error) is ContentPolicyError
    assert (error.message, error.banned_word, error.prompt_en) == (message, banned_word, prompt_en)
    assert (error.code, error.request_id, error.body) == (24, "rid-mj", answer)


async def test_an_unknown_midjourney_code_keeps_the_request_id(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    error = await _refusal(client, emulator, {"code": 99, "description": "something new"})
    assert type(error) is APIError
    assert (error.message, error.code, error.request_id) == ("something new", 99, "rid-mj")


async def test_a_midjourney_failure_with_a_lone_surrogate_is_still_typed(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # JSON may escape half a UTF-16 pair; Python reads it as a lone surrogate, which no
    # UTF-8 encoder accepts. The answer must still become its error, not a UnicodeError.
    raw = b'{"code": 9, "description": "upstream \\ud83d failure"}'
    error = await _refusal(client, emulator, raw)
    assert type(error) is ServerError
    assert (error.status, error.code, error.message) == (500, 9, "upstream \ud83d failure")
    assert error.request_id == "rid-mj"


async def test_a_task_object_with_a_code_of_its_own_is_a_task(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # new-api's stored Midjourney record carries the submit's ``code`` next to the task's
    # ``id``: a task object, not a failed answer, whatever that code is.
    handle = await client.midjourney.imagine("fox")
    task = {"id": handle.id, "code": 4, "action": "IMAGINE", "status": "IN_PROGRESS",
            "progress": "10%", "description": "Submit success"}  # fmt: skip
    emulator.fail("midjourney.fetch", status=200, body=task)
    fetched = await client.midjourney.get(handle.id)
    assert (fetched.id, fetched.status, fetched.progress) == (handle.id, "IN_PROGRESS", "10%")


# -- a 2xx that is not JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("Site under maintenance", {"Content-Type": "text/html; charset=utf-8"}),
        ("\n  <!DOCTYPE html><title>Dashboard</title>", {}),
        ("\r\n<html><body>login</body></html>", {"Content-Type": "text/plain"}),
        ("<HTML><BODY>Welcome</BODY></HTML>", {"Content-Type": "application/octet-stream"}),
    ],
)
async def test_a_web_page_answering_a_submit_is_a_wrong_base_url(
    client: AsyncAPI4GPT, emulator: Emulator, body: str, headers: dict[str, str]
) -> None:
    # Told by its Content-Type or by how its text starts (any case, after any blank space): a
    # web page proves the request never reached the API, so it is no uncertain submission.
    emulator.fail("luma.generate", status=200, body=body, headers=headers)
    with pytest.raises(ResponseDecodeError) as info:
        await client.luma.generate("a fox")
    assert type(info.value) is ResponseDecodeError
    assert info.value.message.startswith("expected a JSON answer, got an HTML page (check the")


@pytest.mark.parametrize(
    "body", ["Service temporarily unavailable", "<?xml version='1.0'?><html/>", " <htm>"]
)
async def test_text_that_is_no_web_page_answering_a_submit_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator, body: str
) -> None:
    emulator.fail("luma.generate", status=200, body=body)
    with pytest.raises(SubmissionUncertainError, match="not valid JSON sent as text/plain"):
        await client.luma.generate("a fox")
    assert emulator.count("luma.generate") == 1


# -- what the network library raised, in our words -----------------------------------------------

_KEY = ConnectionKey(
    host="gw.example", port=443, is_ssl=True, ssl=True, proxy=None, proxy_auth=None,
    proxy_headers_hash=None, server_hostname=None,
)  # fmt: skip
_UNCERTAIN = "the request may have been accepted and billed, so it was not re-sent"


@pytest.mark.parametrize(
    ("exc", "billable", "kind", "sent", "message", "summary"),
    [
        (
            aiohttp.ClientConnectorError(_KEY, ConnectionRefusedError(111, "Connection refused")),
            True, APIConnectionError, False,
            "could not connect for POST /x: ClientConnectorError: Cannot connect to host "
            "gw.example:443 ssl:default [Connection refused]",
            "ClientConnectorError: Cannot connect to host gw.example:443 ssl:default "
            "[Connection refused]",
        ),
        (
            aiohttp.ConnectionTimeoutError("Connection timeout to host"),
            True, APITimeoutError, False, "timed out connecting for POST /x",
            "ConnectionTimeoutError: Connection timeout to host",
        ),
        (
            aiohttp.ServerDisconnectedError(), True, SubmissionUncertainError, True,
            "the exchange failed (ServerDisconnectedError: Server disconnected) after POST /x "
            f"was sent; {_UNCERTAIN}",
            "ServerDisconnectedError: Server disconnected",
        ),
        (
            asyncio.TimeoutError(), True, SubmissionUncertainError, True,
            f"the exchange timed out after POST /x was sent; {_UNCERTAIN}", "TimeoutError",
        ),
        (
            aiohttp.ServerTimeoutError("Timeout on reading data from socket"), True,
            SubmissionUncertainError, True,
            f"the exchange timed out after POST /x was sent; {_UNCERTAIN}",
            "ServerTimeoutError: Timeout on reading data from socket",
        ),
        (
            aiohttp.ServerTimeoutError("Timeout on reading data from socket"), False,
            APITimeoutError, None, "POST /x timed out",
            "ServerTimeoutError: Timeout on reading data from socket",
        ),
        (
            aiohttp.ClientOSError(104, "Connection reset by peer"), False, APIConnectionError,
            None, "connection failed during POST /x: ClientOSError: [Errno 104] Connection reset "
            "by peer",
            "ClientOSError: [Errno 104] Connection reset by peer",
        ),
        (
            aiohttp.ClientPayloadError("proxy said: Authorization: Bearer sk-live-0123 (sent)"),
            False, APIConnectionError, None,
            "connection failed during POST /x: ClientPayloadError: proxy said: Authorization: "
            "Bearer *** (sent)",
            "ClientPayloadError: proxy said: Authorization: Bearer *** (sent)",
        ),
    ],
)  # fmt: skip
def test_each_network_failure_reads_as_one_exact_error(
    exc: BaseException,
    billable: bool,
    kind: type[APIConnectionError],
    sent: bool | None,
    message: str,
    summary: str,
) -> None:
    error = map_client_error(exc, billable=billable, what="POST /x")
    assert type(error) is kind
    assert (error.message, error.request_sent, error.cause_summary) == (message, sent, summary)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("", "ServerDisconnectedError"),  # no text: the type alone
        ("key sk-abc123def was refused", "ServerDisconnectedError: key sk-*** was refused"),
        ("api_key=s3cret&x=1", "ServerDisconnectedError: api_key=***"),
        ("api-key: 'abc'", "ServerDisconnectedError: api-key: 'abc'"),
        ("BEARER abc, then", "ServerDisconnectedError: BEARER ***, then"),
    ],
)
def test_the_summary_masks_anything_like_a_key(text: str, masked: str) -> None:
    exc = aiohttp.ServerDisconnectedError(text)
    assert map_client_error(exc, billable=False, what="GET /x").cause_summary == masked


# -- the base URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (" https://gw.example/v1/ ", "https://gw.example"),
        ("https://gw.example//v1", "https://gw.example"),
        ("https://gw.example/APIX/", "https://gw.example/APIX"),
        ("https://gw.example/APIX/v1", "https://gw.example/APIX"),
        ("https://gw.example/relay/v1//", "https://gw.example/relay"),
        ("https://gw.example/V1", "https://gw.example/V1"),  # a path of its own, kept
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("HTTPS://gw.example/v1", "https://gw.example"),  # a scheme is case-insensitive
        ("Http://127.0.0.1:3000/APIX", "http://127.0.0.1:3000/APIX"),
        # A relay whose path holds another URL: only the first scheme is the base URL's.
        (
            "HTTP://127.0.0.1:8080/Relay/https://api4gpt.com",
            "http://127.0.0.1:8080/Relay/https://api4gpt.com",
        ),
    ],
)
def test_the_base_url_is_the_host_root(given: str, kept: str) -> None:
    assert AsyncAPI4GPT(api_key="k", base_url=given).base_url == kept
    assert normalize_base_url(given) == kept  # the doctor's check reads it the same way


@pytest.mark.parametrize("given", ["ftp://gw.example", "gw.example/v1", " wss://gw.example/ "])
async def test_a_base_url_without_its_scheme_is_refused(given: str) -> None:
    report = await diagnose(base_url=given, api_key="k")
    kept = given.strip().rstrip("/").removesuffix("/v1")
    assert [(c.name, c.verdict, c.detail) for c in report.checks] == [
        ("base URL", "fail", f"base_url must start with http:// or https://, got {kept!r}")
    ]


def test_the_plain_http_warning_says_what_travels_unencrypted() -> None:
    with pytest.warns(InsecureBaseURLWarning) as record:
        AsyncAPI4GPT(api_key="k", base_url="http://gw.example/v1")
    assert [str(w.message) for w in record] == [
        "base_url 'http://gw.example' is plain http:// to another machine: the API key and all "
        "content travel unencrypted; use https://"
    ]


# -- answers that are not the API's JSON ----------------------------------------------------------


@asynccontextmanager
async def _raw_http(answer: bytes) -> AsyncIterator[str]:
    """A loopback server that reads one request head and writes ``answer`` verbatim (so no
    header is added that the test did not write, not even a ``Content-Type``)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode(), id="utf-8"),
        pytest.param(lambda text: text.encode("utf-8-sig"), id="utf-8-with-bom"),
        pytest.param(lambda text: text.encode("utf-16"), id="utf-16"),
        pytest.param(lambda text: text.encode("utf-32-be"), id="utf-32-be"),
    ],
)
async def test_a_json_answer_reads_the_same_in_every_encoding_json_allows(
    client: AsyncAPI4GPT, emulator: Emulator, encode: Callable[[str], bytes]
) -> None:
    # UTF-8 is read directly (the fast way); the others are detected as json.loads does.
    text = '{"id": "m-ü", "object": "model", "owned_by": "我们", "created": 1}'
    emulator.fail("models.retrieve", status=200, body=encode(text),
                  headers={"Content-Type": "application/json"})  # fmt: skip
    model = await client.models.retrieve("m")
    assert (model.id, model.owned_by, model.raw) == ("m-ü", "我们", json.loads(text))


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        # Integers past 64 bits stay exact (orjson, for one, would make them floats).
        pytest.param('"created": 123456789012345678901234567890', 123456789012345678901234567890,
                     id="big-int"),
        pytest.param('"created": -9223372036854775809', -9223372036854775809, id="big-negative"),
        # What the fast reader refuses, json.loads still reads.
        pytest.param('"score": NaN', "nan", id="nan"),
        pytest.param('"score": -Infinity', "-inf", id="infinity"),
        pytest.param('"score": 1e400', "inf", id="overflowing-float"),
        pytest.param('"note": "half \\ud83d a pair"', "half \ud83d a pair", id="lone-surrogate"),
    ],
)  # fmt: skip
async def test_an_answer_reads_as_json_loads_reads_it(
    client: AsyncAPI4GPT, emulator: Emulator, member: str, expected: object
) -> None:
    text = '{"id": "m", "object": "model", "owned_by": "o", ' + member + "}"
    emulator.fail("models.retrieve", status=200, body=text.encode("utf-8", "surrogatepass"),
                  headers={"Content-Type": "application/json"})  # fmt: skip
    model = await client.models.retrieve("m")
    key = member.split('"')[1]
    value = model.raw[key]
    assert (str(value) if isinstance(value, float) else value) == expected
    assert type(value) is type(json.loads(text)[key])


async def test_json_nested_too_deeply_is_a_decode_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # Not a RecursionError out of the parser: the SDK's own error, with the body kept.
    body = b'{"id": "m", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    emulator.fail("models.retrieve", status=200, body=body,
                  headers={"Content-Type": "application/json"})  # fmt: skip
    with pytest.raises(ResponseDecodeError, match="not valid JSON") as info:
        await client.models.retrieve("m")
    assert info.value.body.startswith('{"id": "m", "deep": [[[')


async def test_a_body_that_is_not_json_is_quoted_in_short_and_kept_in_long() -> None:
    body = b"\xff" + b"x" * 2500  # not UTF-8 at its first byte, and long
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nX-Oneapi-Request-Id: rid-7\r\n"
    async with (
        _raw_http(head.encode() + b"Connection: close\r\n\r\n" + body) as url,
        AsyncAPI4GPT(api_key="k", base_url=url, max_retries=0) as client,
    ):
        with pytest.raises(ResponseDecodeError) as info:
            await client.luma.get("any")
    quoted = repr("\ufffd" + "x" * 79)  # the first 80 bytes, no Content-Type to name
    assert (
        info.value.message == f"expected a JSON answer, got a body that is not valid JSON: {quoted}"
    )
    assert (info.value.request_id, info.value.body) == ("rid-7", "\ufffd" + "x" * 1999)


@pytest.mark.parametrize(
    ("body", "headers", "what"),
    [
        (b" \r\n", {}, "an empty body"),
        ("{not json", {"Content-Type": "application/json"},
         "a body that is not valid JSON sent as application/json: '{not json'"),
    ],
)  # fmt: skip
async def test_a_decode_error_says_exactly_what_arrived(
    client: AsyncAPI4GPT, emulator: Emulator, body: Any, headers: dict[str, str], what: str
) -> None:
    emulator.fail("luma.task", status=200, body=body, headers=headers)
    with pytest.raises(ResponseDecodeError) as info:
        await client.luma.get("any")
    assert info.value.message == f"expected a JSON answer, got {what}"


@pytest.mark.parametrize("status", [500, 502])
async def test_a_proxy_page_answering_a_submit_is_uncertain_with_all_it_said(
    client: AsyncAPI4GPT, emulator: Emulator, status: int
) -> None:
    page = "<html><title>Bad gateway</title></html>"
    emulator.fail(
        "luma.generate",
        status=status,
        body=page,
        headers={"Content-Type": "text/html", "X-Oneapi-Request-Id": "rid-proxy"},
    )
    with pytest.raises(SubmissionUncertainError) as info:
        await client.luma.generate("a fox")
    assert info.value.message == (
        f"POST {emulator.base_url}/luma/v1/generations got HTTP {status} (Bad gateway) from a "
        "proxy in front of the gateway; the request may have been accepted and billed, so it "
        "was not re-sent"
    )
    assert (info.value.status, info.value.request_id, info.value.body) == (
        status, "rid-proxy", page
    )  # fmt: skip
    assert emulator.count("luma.generate") == 1


# -- a streamed answer on the wire ---------------------------------------------------------------

_CHUNK = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'  # noqa: E501
_MESSAGES = [{"role": "user", "content": "hi"}]


class _SSEServer:
    """``/v1/chat/completions`` streamed as the test asks: ``"whole"`` (one chunk and
    ``[DONE]``), ``"cut"`` (one chunk, then the connection closes), ``"pings"`` (one chunk,
    then ``: PING`` comments every 0.1 s and never an event) or ``"mute"`` (no answer)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.accepts: list[list[str]] = []
        self.traces: list[str | None] = []
        self.queries: list[dict[str, str]] = []
        self.bodies: list[Any] = []
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "busy-once" and not self.accepts:
            self.accepts.append([])
            return web.json_response({"error": {"message": "busy"}}, status=429)
        self.accepts.append(request.headers.getall("Accept", []))
        self.traces.append(request.headers.get("X-Trace"))
        self.queries.append(dict(request.query))
        self.bodies.append(await request.json())
        if self.mode == "mute":
            await asyncio.Event().wait()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_CHUNK)
        if self.mode == "cut":
            assert request.transport is not None
            request.transport.close()
        if self.mode == "no-done":  # the last chunk, then a clean end without [DONE]
            await response.write_eof(
                _CHUNK.replace(b'"finish_reason":null', b'"finish_reason":"stop"')
            )
            return response
        while self.mode == "pings":
            await asyncio.sleep(0.1)  # the server's keep-alive, not a synchronisation
            await response.write(b": PING\n\n")
        await response.write(b"data: [DONE]\n\n")
        return response


async def test_a_stream_asks_for_events_once_and_sends_the_callers_headers() -> None:
    server = _SSEServer("whole")
    async with serve(server.app) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        stream = await client.chat.completions.create(
            model="m",
            messages=_MESSAGES,
            stream=True,
            extra_headers={"X-Trace": "t-1"},
            extra_query={"trace": "q-1"},
        )
        assert [c.choices[0].delta.content async for c in stream] == ["hi"]
    assert (server.accepts, server.traces) == ([["text/event-stream"]], ["t-1"])
    assert server.queries == [{"trace": "q-1"}]
    assert [(b["model"], b["messages"], b["stream"]) for b in server.bodies] == [
        ("m", _MESSAGES, True)
    ]


async def _drain(stream: Any, into: list[tuple[str | None, str | None]]) -> None:
    async for c in stream:
        into.append((c.choices[0].delta.content, c.choices[0].finish_reason))


async def test_an_event_that_came_with_the_head_is_read_at_once() -> None:
    # Head and first event in one write, and the stream then left open: the event is
    # already here when reading starts, so it must be delivered without waiting for more.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    held = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head + _CHUNK)
        await writer.drain()
        await held.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with AsyncAPI4GPT(api_key="k", base_url=url) as client:
            stream = await client.chat.completions.create(
                model="m", messages=_MESSAGES, stream=True
            )
            with anyio.fail_after(5):
                first = await stream.__anext__()
            await stream.aclose()
        assert first.choices[0].delta.content == "hi"
    finally:
        held.set()
        server.close()
        await server.wait_closed()


async def test_a_stream_that_ends_without_done_says_so_at_its_end() -> None:
    server = _SSEServer("no-done")
    async with serve(server.app) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        stream = await client.chat.completions.create(model="m", messages=_MESSAGES, stream=True)
        chunks: list[tuple[str | None, str | None]] = []
        with anyio.fail_after(10), pytest.raises(APIConnectionError) as info:
            await _drain(stream, chunks)
    assert chunks == [("hi", None), ("hi", "stop")]
    assert type(info.value) is APIConnectionError
    assert info.value.message == "the stream ended before [DONE]: the answer may be incomplete"


async def test_a_stream_refused_with_429_before_it_began_is_retried() -> None:
    server = _SSEServer("busy-once")
    retry = RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.001)
    async with (
        serve(server.app) as url,
        AsyncAPI4GPT(api_key="k", base_url=url, retry=retry) as client,
    ):
        stream = await client.chat.completions.create(model="m", messages=_MESSAGES, stream=True)
        assert [c.choices[0].delta.content async for c in stream] == ["hi"]
    assert len(server.accepts) == 2


async def test_a_stream_cut_after_it_began_is_a_plain_connection_error() -> None:
    # The answer had begun, so the request was accepted: a cut body is no uncertain submit.
    server = _SSEServer("cut")
    async with serve(server.app) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        stream = await client.chat.completions.create(model="m", messages=_MESSAGES, stream=True)
        with pytest.raises(APIConnectionError) as info:
            async for _ in stream:
                pass
    assert type(info.value) is APIConnectionError
    assert info.value.request_sent is None
    assert info.value.message.startswith(
        "connection failed during reading POST /v1/chat/completions: ClientPayloadError"
    )


async def test_the_calls_timeout_bounds_the_wait_for_the_streams_head() -> None:
    server = _SSEServer("mute")
    async with (
        serve(server.app) as url,
        AsyncAPI4GPT(api_key="k", base_url=url, timeout=60) as client,
    ):
        with anyio.fail_after(10), pytest.raises(SubmissionUncertainError, match="timed out"):
            await client.chat.completions.create(
                model="m", messages=_MESSAGES, stream=True, timeout=0.3
            )


async def test_the_calls_timeout_bounds_the_wait_for_each_event() -> None:
    server = _SSEServer("pings")
    async with (
        serve(server.app) as url,
        AsyncAPI4GPT(api_key="k", base_url=url, timeout=60) as client,
    ):
        stream = await client.chat.completions.create(
            model="m", messages=_MESSAGES, stream=True, timeout=0.3
        )
        with anyio.fail_after(10), pytest.raises(APITimeoutError, match=r"^no event for 0.3s"):
            async for _ in stream:
                pass


# -- what each attempt and retry reports ----------------------------------------------------------


async def test_each_attempt_and_retry_is_reported_and_logged_in_full(
    make_client: Callable[..., AsyncAPI4GPT],
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    requests: list[RequestEvent] = []
    retries: list[RetryEvent] = []
    hooks = Hooks(on_request=requests.append, on_retry=retries.append)
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    async with make_client(hooks=hooks) as client:
        handle = await client.luma.generate("a fox")
        requests.clear()
        caplog.clear()
        emulator.fail("luma.task", status=503, headers={"X-Oneapi-Request-Id": "rid-503"})
        await client.luma.get(handle.id)
    first, second = requests
    (retry,) = retries
    url = retry.url
    assert url.startswith(emulator.base_url + "/luma/")
    assert isinstance(first.error, ServerError) and first.error.request_id == "rid-503"
    assert (first.method, first.url, first.attempt, first.status, first.request_id) == (
        "GET", url, 1, 503, "rid-503"
    )  # fmt: skip
    assert (second.method, second.url, second.attempt, second.status, second.error) == (
        "GET", url, 2, 200, None
    )  # fmt: skip
    assert second.request_id and second.request_id != "rid-503"
    assert all(0 <= e.elapsed < 5 for e in requests)
    assert (retry.method, retry.retry, retry.error) == ("GET", 1, first.error)
    assert 0 <= retry.delay <= 0.002

    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "api4gpt_async"]
    path = url.removeprefix(emulator.base_url)
    assert [level for level, _ in said] == ["DEBUG", "INFO", "DEBUG"]
    assert said[1][1] == (
        f"retrying GET {url} in {retry.delay:.2f}s (retry 1 of 2) after: {first.error}"
    )
    assert re.fullmatch(
        rf"GET {path} -> 503 request_id=rid-503 \d+ ms \(attempt 1\) ServerError", said[0][1]
    )
    assert re.fullmatch(
        rf"GET {path} -> 200 request_id={second.request_id} \d+ ms \(attempt 2\)", said[2][1]
    )


async def test_an_attempt_without_a_status_is_reported_and_logged_with_dashes(
    unused_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    requests: list[RequestEvent] = []
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    hooks = Hooks(on_request=requests.append)
    async with AsyncAPI4GPT(
        api_key="k", base_url=unused_port_url, hooks=hooks, max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.luma.get("gen-1")
    (event,) = requests
    assert (event.status, event.request_id, event.error) == (None, None, info.value)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"]
    assert re.fullmatch(
        r"GET /luma/\S+ -> - request_id=- \d+ ms \(attempt 1\) APIConnectionError", line
    )


async def test_the_debug_line_gives_the_attempts_time_in_milliseconds(
    make_client: Callable[..., AsyncAPI4GPT],
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    requests: list[RequestEvent] = []
    async with make_client(hooks=Hooks(on_request=requests.append)) as client:
        handle = await client.luma.generate("a fox")
        emulator.fail("luma.task", status=404, delay=1.5)  # a slow answer: 1.5 s, real time
        caplog.set_level(logging.DEBUG, logger="api4gpt_async")
        with pytest.raises(APIError):
            await client.luma.get(handle.id)
    event = requests[-1]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"]
    assert event.elapsed >= 1.5
    assert f" {event.elapsed * 1000:.0f} ms (attempt 1)" in line


async def test_an_absolute_https_url_is_asked_of_its_own_host(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    with pytest.raises(APIConnectionError) as info:
        await client.download("https://127.0.0.1:1/x.mp4", tmp_path)
    assert info.value.request_sent is False
    assert "could not connect for GET https://127.0.0.1:1/x.mp4" in info.value.message


async def test_a_300_answer_to_a_download_is_an_error(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", status=300, body="pick one", times=None)
    with pytest.raises(APIStatusError) as info:
        await client.download(emulator.file_url("a.mp4"), tmp_path)
    assert info.value.status == 300
    assert list(tmp_path.iterdir()) == []


async def test_a_calls_timeout_shorter_than_a_retry_after_ends_the_stream_at_once() -> None:
    calls = []

    async def busy(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.json_response(
            {"error": {"message": "busy"}}, status=429, headers={"Retry-After": "1"}
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", busy)
    async with (
        serve(app) as url,
        AsyncAPI4GPT(api_key="k", base_url=url, timeout=60, max_retries=2) as client,
    ):
        with pytest.raises(RateLimitError):
            await client.chat.completions.create(
                model="m", messages=_MESSAGES, stream=True, timeout=0.5
            )
    assert len(calls) == 1  # waiting 1 s would pass the call's 0.5 s deadline


async def test_the_raw_response_of_a_stream_has_its_request_id(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="m", messages=_MESSAGES, stream=True
    )
    async with raw.parse() as stream:
        assert [c async for c in stream]
    assert raw.request_id is not None
    assert raw.request_id == raw.headers["X-Oneapi-Request-Id"] == stream.request_id


async def test_an_error_answer_whose_body_is_cut_is_named_by_its_status(tmp_path: Path) -> None:
    answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\nConnection: close\r\n\r\nab"
    async with _raw_http(answer) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        with pytest.raises(APIStatusError) as info:
            await client.download(f"{url}/x.mp4", tmp_path)
    assert (info.value.status, info.value.message, info.value.body) == (404, "Not Found", None)


async def test_a_stream_is_refused_past_its_redirect_limit() -> None:
    hops: list[int] = []

    async def hop(request: web.Request) -> web.StreamResponse:
        n = int(request.query.get("n", "0"))
        hops.append(n)
        if n < 11:  # eleven redirects before the answer
            raise web.HTTPTemporaryRedirect(f"/v1/chat/completions?n={n + 1}")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_CHUNK + b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", hop)
    async with serve(app) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        with pytest.raises(APIError):
            await client.chat.completions.create(model="m", messages=_MESSAGES, stream=True)
    assert hops == list(range(11))  # ten redirects followed; the eleventh is refused


async def test_a_connect_that_never_completes_ends_at_the_calls_deadline(tmp_path: Path) -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs, so a connect
    # neither succeeds nor fails; only the call's deadline ends it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):  # fill the queue (its length is the backlog plus one)
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9", timeout=60) as client:
            with anyio.fail_after(10), pytest.raises(APITimeoutError):
                await client.download(f"http://127.0.0.1:{port}/x.mp4", tmp_path, timeout=0.5)
    finally:
        for s in (*fillers, listener):
            s.close()


async def test_a_stream_posted_as_a_form_sends_each_field_and_file() -> None:
    """``stream(form=...)`` sends a multipart body, not an empty one."""
    got: list[tuple[str | None, str | None, bytes]] = []
    types: list[str] = []

    async def upload(request: web.Request) -> web.Response:
        async for part in await request.multipart():
            assert isinstance(part, aiohttp.BodyPartReader)
            got.append((part.name, part.filename, await part.read()))
            types.append(part.headers.get("Content-Type", ""))
        return web.Response(body=b"audio")

    app = web.Application()
    app.router.add_post("/v1/up", upload)
    wav = FormFile(filename="a.wav", content=b"RIFF", content_type="audio/wav")
    async with (
        serve(app) as url,
        AsyncAPI4GPT(api_key="k", base_url=url) as client,
        client._transport.stream("POST", "/v1/up", form=[("model", "m"), ("file", wav)]) as resp,
    ):
        assert await resp.read() == b"audio"
    assert got == [("model", None, b"m"), ("file", "a.wav", b"RIFF")]
    assert types[1] == "audio/wav"


async def test_a_text_answer_that_is_not_utf8_is_read_with_replacement_characters(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail(
        "audio.transcriptions",
        status=200,
        body=b"caf\xe9 \xff\xfeok\n",
        headers={"Content-Type": "text/plain"},
    )
    text = await client.audio.transcriptions.create(
        b"RIFF", model="whisper-1", response_format="text"
    )
    assert text == "caf\ufffd \ufffd\ufffdok\n"


async def test_a_chat_answer_with_choices_is_a_result_even_beside_an_error_object(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    """Only an error object *instead of* the choices is a failure in a 200."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi"},
                "finish_reason": "stop",
            }
        ],
        "error": {"message": "one upstream of two failed", "type": "upstream_error"},
    }
    emulator.fail("chat.completions", status=200, body=body)
    completion = await client.chat.completions.create(model="m", messages=_MESSAGES)
    assert completion.choices[0].message.content == "hi"


async def test_the_clients_timeout_covers_a_slow_error_and_the_retry_after_it(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    """As with a call's ``timeout`` (tests/test_transport_retry.py), but from the client's."""
    async with make_client(timeout=1.2) as client:
        emulator.fail("lumvip.task", status=503, delay=0.8)
        emulator.delay("lumvip.task", 30)  # the retry hangs
        loop = asyncio.get_running_loop()
        started = loop.time()
        with anyio.fail_after(10), pytest.raises(APITimeoutError):
            await client.lumvip.get("any")
        elapsed = loop.time() - started
    # The retry had only the 0.4 s left, not a fresh 1.2 s (which would end at 2 s).
    assert 1.1 <= elapsed < 1.65, elapsed


async def test_an_openai_answer_with_a_code_is_never_read_as_a_task_envelope(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    """Only the task families unwrap ``{"code", "data"}``: a model list that also carries a
    ``code`` keeps its shape."""
    model = {"id": "m-1", "object": "model", "created": 1, "owned_by": "openai"}
    emulator.fail("models", status=200, body={"object": "list", "data": [model], "code": 0})
    listing = await client.models.list()
    assert [m.id for m in listing.data] == ["m-1"]


async def test_when_no_candidate_path_is_served_the_error_keeps_the_last_answer(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    page = b"<!doctype html><title>caf\xe9</title>" + b"x" * 600
    for route in ("suno.v3_5.generate", "suno.v3_5.generate.alt1"):
        emulator.fail(
            route,
            status=200,
            body=page,
            headers={"Content-Type": "text/html", "X-Oneapi-Request-Id": f"rid-{route}"},
            times=None,
        )
    with pytest.raises(NotFoundError) as caught:
        await client.suno.v3_5.generate(gpt_description_prompt="x")
    assert caught.value.request_id == "rid-suno.v3_5.generate.alt1"
    assert caught.value.body == "<!doctype html><title>caf\ufffd</title>" + "x" * 466


async def test_a_300_answer_to_a_request_is_an_error_even_with_a_readable_body(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("models", status=300, body={"object": "list", "data": []}, times=None)
    with pytest.raises(APIStatusError) as info:
        await client.models.list()
    assert info.value.status == 300


async def test_the_raw_response_of_a_request_has_its_own_2xx_status(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("models", status=203, body={"object": "list", "data": []})
    raw = await client.models.with_raw_response.list()
    assert raw.status_code == 203


async def test_an_unreadable_answer_to_a_submit_is_uncertain_and_keeps_what_came(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("luma.generate", status=200, body="queued, probably")
    with pytest.raises(SubmissionUncertainError) as caught:
        await client.luma.generate("a fox")
    assert caught.value.body == "queued, probably"
    url = emulator.base_url + "/luma/v1/generations"
    assert caught.value.message == (
        f"POST {url} was answered 200 but the answer could not be read (expected a JSON "
        "answer, got a body that is not valid JSON sent as text/plain; charset=utf-8: "
        "'queued, probably'); the request was probably accepted and billed, so it was not "
        "re-sent"
    )


# -- what a JSON body may hold -------------------------------------------------------------------

EXTRA = MappingProxyType({"options": MappingProxyType({"seed": 7}), "sizes": (1, 2)})
EXTRA_SENT = {"options": {"seed": 7}, "sizes": [1, 2]}
HI = {"role": "user", "content": "Hello"}

#: One billable call per kind of body builder, with ``extra`` as its ``extra_body``.
SENDERS: dict[str, Callable[[AsyncAPI4GPT, Any], Any]] = {
    "chat": lambda c, extra: c.chat.completions.create(model="m", messages=[HI], extra_body=extra),
    "embeddings": lambda c, extra: c.embeddings.create(
        model="m", input=("a", "b"), extra_body=extra
    ),
    "images": lambda c, extra: c.images.generate("a fox", model="m", extra_body=extra),
    "lumvip": lambda c, extra: c.lumvip.generate("a fox", extra_body=extra),
    "midjourney": lambda c, extra: c.midjourney.imagine("a fox", extra_body=extra),
}


@pytest.mark.parametrize("family", SENDERS)
async def test_any_mapping_or_sequence_in_a_body_is_sent_as_json(
    client: AsyncAPI4GPT, emulator: Emulator, family: str
) -> None:
    await SENDERS[family](client, EXTRA)
    sent = emulator.requests[-1].json
    assert {key: sent[key] for key in EXTRA_SENT} == EXTRA_SENT


async def test_a_message_the_sdk_returned_is_sent_back_in_its_request_form(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    answer = await client.chat.completions.create(model="m", messages=[HI])
    said = answer.choices[0].message
    await client.chat.completions.create(model="m", messages=(HI, said, HI))
    assert emulator.requests[-1].json["messages"] == [HI, said.to_param(), HI]


@pytest.mark.parametrize("family", SENDERS)
@pytest.mark.parametrize(
    "value", [{"a", "b"}, b"ab", bytearray(b"ab")], ids=["set", "bytes", "bytearray"]
)
async def test_a_value_json_cannot_hold_is_a_type_error_and_nothing_is_sent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, value: Any
) -> None:
    # A set has no order; bytes have no text (a sequence, yet never a list of numbers).
    bad = {**EXTRA, "options": {"tags": value}}
    with pytest.raises(TypeError, match=f"cannot hold {type(value).__name__}") as caught:
        await SENDERS[family](client, bad)
    assert str(caught.value).endswith("(not JSON) (at options.tags)")  # where it is, said
    assert emulator.requests == []


@pytest.mark.parametrize("family", SENDERS)
@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
async def test_a_number_json_cannot_spell_is_a_value_error_and_nothing_is_sent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, number: float
) -> None:
    # json.dumps would write a bare NaN / Infinity: not JSON, and read differently by each server.
    with pytest.raises(
        ValueError, match=r"^a request body cannot hold NaN or an infinity"
    ) as caught:
        await SENDERS[family](client, {"temperature": number})
    assert str(caught.value).endswith(" (at temperature)")
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("body", "error", "where"),
    [
        ({"messages": [{"role": "user", "content": "a"}, {"content": {1, 2}}]}, TypeError,
         "messages[1].content"),
        ({"input": ("a", b"b")}, TypeError, "input[1]"),
        ({"options": {(1, 2): "tuple key"}}, TypeError, "options.(1, 2)"),
        ({"a": [[0.5, math.nan]]}, ValueError, "a[0][1]"),
        ({1: {"deep": [{"x": frozenset()}]}}, TypeError, "1.deep[0].x"),
        ({"a", "b"}, TypeError, "the top level"),
    ],
)  # fmt: skip
def test_a_body_json_cannot_hold_is_refused_saying_where(
    body: Any, error: type[Exception], where: str
) -> None:
    with pytest.raises(error) as caught:
        encode_body(body)
    assert type(caught.value) is error
    assert str(caught.value).endswith(f" (at {where})")


@pytest.mark.parametrize(("length", "shown"), [(200, "k" * 200), (201, "k" * 200 + "…")])
def test_a_place_is_shown_in_200_characters_at_most(length: int, shown: str) -> None:
    body: dict[str, Any] = {}
    body["k" * length] = body  # a body that holds itself, at a key of ``length`` characters
    with pytest.raises(ValueError, match="Circular reference") as caught:
        encode_body(body)
    assert str(caught.value) == f"Circular reference detected (at {shown})"


async def test_the_place_is_found_past_a_model_sent_back(client: AsyncAPI4GPT) -> None:
    # A returned message is walked as what is sent for it (``to_param()``), not refused itself.
    said = (await client.chat.completions.create(model="m", messages=[HI])).choices[0].message
    body = {"messages": [said, {"role": "user", "content": {"a set"}}]}
    with pytest.raises(TypeError) as caught:
        encode_body(body)
    assert str(caught.value).endswith("cannot hold set (not JSON) (at messages[1].content)")


def test_a_body_that_holds_itself_is_refused_saying_where() -> None:
    body: dict[str, Any] = {"a": 1, "list": [0]}
    body["list"].append(body)
    with pytest.raises(ValueError, match=r"^Circular reference detected \(at list\[1\]\)$"):
        encode_body(body)


def test_text_utf_8_cannot_hold_is_refused_saying_where() -> None:
    # A lone surrogate is refused only once the JSON is written: found, and said, all the same.
    body = {"set": "fine", "messages": [{"content": "ok"}, {"content": "half \ud800 a pair"}]}
    with pytest.raises(ValueError, match="lone surrogate") as caught:
        encode_body(body)
    assert type(caught.value) is ValueError  # not a UnicodeEncodeError about byte positions
    assert str(caught.value) == (
        "a request body cannot hold a lone surrogate (not UTF-8) (at messages[1].content)"
    )


def test_a_body_nested_too_deeply_is_refused_even_from_a_deep_stack() -> None:
    # Called with little stack left, the walk that names the place cannot run: still the same
    # ValueError, without the place (never a RecursionError).
    deep: list[Any] = []
    for _ in range(100_000):  # too deep for json on every Python (3.12+ has its own C limit)
        deep = [deep]
    caught: list[BaseException] = []

    def at_depth(levels: int) -> None:
        if levels:
            at_depth(levels - 1)
            return
        try:
            encode_body({"deep": deep})
        except BaseException as exc:  # the test looks at what it is
            caught.append(exc)

    at_depth(sys.getrecursionlimit() - 120)
    assert [type(exc) for exc in caught] == [ValueError]
    assert str(caught[0]) == "a request body nested too deeply to send"


@pytest.mark.parametrize("family", SENDERS)
async def test_a_body_nested_too_deeply_is_a_value_error_and_nothing_is_sent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str
) -> None:
    deep: list[Any] = []
    for _ in range(100_000):  # too deep for json on every Python (3.12+ has its own C limit)
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply") as caught:
        await SENDERS[family](client, {"deep": deep})
    # The walk names the place 200 levels down, the path cut at 200 characters.
    place = ("deep" + "[0]" * 199)[:200] + "…"
    assert str(caught.value) == f"a request body nested too deeply to send (at {place})"
    assert emulator.requests == []


def test_a_body_json_can_hold_is_encoded_as_json_dumps_would() -> None:
    body = {"messages": ({"role": "user", "content": "ü"},), "n": 1.5, "k": {1: True}}
    assert json.loads(encode_body(body)) == {
        "messages": [{"role": "user", "content": "ü"}],
        "n": 1.5,
        "k": {"1": True},
    }
