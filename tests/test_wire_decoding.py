"""What real gateways send, read right (issue 7 items 1, 3 and 4).

Numbers where ints are declared may be floats or numeric strings; streams end honestly
(timeouts between events, errors after ``[DONE]``, HTML and JSON bodies in a 200, cut answers
detectable); reasoning and tool calls accumulate right.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest
from aiohttp import web

from api4gpt_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncAPI4GPT,
    NotFoundError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from api4gpt_async._convert import structure
from api4gpt_async.models.chat import (
    ChatCompletion,
    ChatCompletionAccumulator,
    ChatCompletionChunk,
    CompletionUsage,
)
from api4gpt_async.models.completions import Completion
from api4gpt_async.models.embeddings import CreateEmbeddingResponse
from api4gpt_async.models.images import ImagesResponse
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.models.model_list import ModelInfo
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

HI = [{"role": "user", "content": "Hello"}]
CREATED = 1744857525.254391

# -- item 1: numbers where ints are declared ---------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "data", "read"),
    [
        (ChatCompletion, {"created": CREATED}, lambda m: m.created),
        (ChatCompletion, {"created": "1744857525"}, lambda m: m.created),
        (ChatCompletionChunk, {"created": " 1744857525.9 "}, lambda m: m.created),
        (Completion, {"created": CREATED}, lambda m: m.created),
        (ModelInfo, {"id": "m", "created": CREATED}, lambda m: m.created),
        (CompletionUsage, {"prompt_tokens": "1744857525"}, lambda m: m.prompt_tokens),
        (CompletionUsage, {"total_tokens": 1744857525.0}, lambda m: m.total_tokens),
        (
            CompletionUsage,
            {"completion_tokens_details": {"reasoning_tokens": "1744857525.5"}},
            lambda m: m.completion_tokens_details.reasoning_tokens,
        ),
        (
            CreateEmbeddingResponse,
            {"data": [{"index": "1744857525", "embedding": [0.5]}], "usage": {}},
            lambda m: m.data[0].index,
        ),
        (
            ImagesResponse,  # a datetime there: read from a numeric string too
            {"created": "1744857525.0", "data": []},
            lambda m: int(m.created.timestamp()),
        ),
        (
            ImagesResponse,
            {"data": [], "usage": {"total_tokens": "1744857525"}},
            lambda m: m.usage.total_tokens,
        ),
        (
            LumaGeneration,
            {"id": "g", "state": "completed", "video": {"url": "u", "width": 1744857525.2}},
            lambda m: m.video.width,
        ),
    ],
)
def test_ints_are_read_from_floats_and_numeric_strings(
    cls: type[Any], data: dict[str, Any], read: Callable[[Any], Any]
) -> None:
    model = structure(data, cls)
    value = read(model)
    assert value == 1744857525 and type(value) is int
    assert model.raw == data  # the exact value stays readable


@pytest.mark.parametrize(
    "bad", [{"n": 1}, [1], "twelve", True, "1e400", float("nan"), float("inf"), "0x10"]
)
def test_truly_unreadable_numbers_are_still_decode_errors(bad: Any) -> None:
    with pytest.raises(ResponseDecodeError):
        structure({"prompt_tokens": bad}, CompletionUsage)


AT = dt.datetime(2024, 7, 5, 14, 28, 26, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("2024-07-05T14:28:26Z", AT),
        ("2024-07-05T14:28:26.000000Z", AT),
        ("2024-07-05T14:28:26.5Z", AT.replace(microsecond=500_000)),
        # Go's RFC 3339 with nanoseconds (new-api is Go): cut to microseconds, on every Python.
        ("2024-07-05T14:28:26.123456789Z", AT.replace(microsecond=123_456)),
        ("2024-07-05T22:28:26.12+08:00", AT.replace(microsecond=120_000)),
        ("2024-07-05t14:28:26z", AT),
        (" 2024-07-05T14:28:26Z ", AT),
        ("2024-07-05 14:28:26", AT),  # no offset: UTC
        ("2024-07-05T22:28:26+08:00", AT),
        (1720189706, AT),
        (1720189706.5, AT.replace(microsecond=500_000)),
        (1720189706000, AT),  # milliseconds
        ("1720189706", AT),
        ("20240705", dt.datetime(1970, 8, 23, 6, 25, 5, tzinfo=dt.timezone.utc)),  # seconds
    ],
)
def test_timestamps_in_every_spelling_read_as_the_same_aware_instant(
    sent: Any, read: dt.datetime
) -> None:
    created = structure({"created": sent, "data": []}, ImagesResponse).created
    assert created == read and created.tzinfo is not None  # the same instant, never naive


@pytest.mark.parametrize("bad", ["2024-13-05T14:28:26Z", "2024-07-05T25:00Z", "yesterday", [1]])
def test_an_unreadable_timestamp_is_a_decode_error(bad: Any) -> None:
    with pytest.raises(ResponseDecodeError):
        structure({"created": bad, "data": []}, ImagesResponse)


def _answer(**changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0.0,
                "message": {"role": "assistant", "content": "hi"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": "9", "completion_tokens": 1.0, "total_tokens": "10"},
    }
    answer.update(changes)
    return answer


async def test_a_paid_chat_answer_with_float_metadata_is_read(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", status=200, body=_answer())
    reply = await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert reply.created == 1744857525
    assert reply.raw["created"] == CREATED
    assert reply.usage is not None and (reply.usage.prompt_tokens, reply.usage.total_tokens) == (
        9,
        10,
    )
    assert reply.choices[0].message.content == "hi"


# -- a raw server for streams ---------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[AsyncAPI4GPT]]]:
    """``await serve(handler)`` answers every chat request with ``handler``; gives a client."""
    runners: list[web.AppRunner] = []
    clients: list[AsyncAPI4GPT] = []

    async def serve(handler: Handler) -> AsyncAPI4GPT:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        client = AsyncAPI4GPT(
            api_key="sk-raw",
            base_url=f"http://127.0.0.1:{port}",
            timeout=0.5,
            retry=RetryPolicy.disabled(),
        )
        clients.append(client)
        return client

    yield serve
    for client in clients:
        await client.aclose()
    for runner in runners:
        await runner.cleanup()


def _chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> bytes:
    if content is not None:
        delta["content"] = content
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    body = {"id": "c1", "object": "chat.completion.chunk", "created": CREATED, "choices": [choice]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _sse(*parts: bytes, content_type: str = "text/event-stream") -> Handler:
    """A handler that answers 200 with ``parts`` written one by one."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        for part in parts:
            await response.write(part)
        await response.write_eof()
        return response

    return handler


async def _read(client: AsyncAPI4GPT) -> tuple[list[ChatCompletionChunk], Any]:
    stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
    return chunks, stream


async def test_a_streamed_answer_with_float_metadata_is_read(raw_server: Any) -> None:
    usage = {"prompt_tokens": "3", "completion_tokens": 2.0, "total_tokens": "5"}
    last = {"id": "c1", "created": CREATED, "choices": [], "usage": usage}
    client = await raw_server(
        _sse(
            _chunk("a", role="assistant"),
            _chunk("b", finish="stop"),
            b"data: " + json.dumps(last).encode() + b"\n\n",
            b"data: [DONE]\n\n",
        )
    )
    chunks, _ = await _read(client)
    assert [c.created for c in chunks] == [1744857525] * 3
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 5


# -- item 3: streams end honestly ---------------------------------------------------------------


def _stalled(*, ping_every: float, events: int = 1) -> Handler:
    """Sends ``events`` chunks, then only ``: PING`` comments until the client goes away."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(events):
            await response.write(_chunk("x"))
        while True:
            await asyncio.sleep(ping_every)
            await response.write(b": PING\n\n")

    return handler


@pytest.mark.parametrize("ping_every", [0.05, 0.2])
async def test_timeout_bounds_time_between_events_not_comments(
    raw_server: Any, ping_every: float
) -> None:
    client = await raw_server(_stalled(ping_every=ping_every))
    started = anyio.current_time()
    with anyio.fail_after(5):  # before: kept alive for as long as the server pinged
        with pytest.raises(APITimeoutError, match="no event"):
            await _read(client)
    assert anyio.current_time() - started < 2


async def test_steady_events_keep_a_long_stream_alive(raw_server: Any) -> None:
    async def slow_but_steady(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(6):  # 6 × 0.1 s: longer than the 0.5 s timeout, never 0.5 s idle
            await asyncio.sleep(0.1)
            await response.write(_chunk("x"))
        await response.write(_chunk(finish="stop") + b"data: [DONE]\n\n")
        return response

    client = await raw_server(slow_but_steady)
    chunks, stream = await _read(client)
    assert len(chunks) == 7 and stream.finish_reason == "stop"


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        (b'data: {"error": {"message": "upstream cut", "code": 502}}\n\n', ServerError),
        (b'event: error\ndata: {"message": "cut", "code": "504"}\n\n', ServerError),
        (b'data: {"error": {"message": "gone", "code": "model_not_found"}}\n\n', NotFoundError),
        (b'data: {"error": {"message": "odd"}}\n\n', Exception),
    ],
)
async def test_an_error_after_done_in_the_same_read_raises(
    raw_server: Any, error: bytes, cls: type[Exception]
) -> None:
    client = await raw_server(_sse(_chunk("partial") + b"data: [DONE]\n\n" + error))
    with pytest.raises(cls) as info:
        await _read(client)
    assert "cut" in str(info.value) or "gone" in str(info.value) or "odd" in str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><title>Welcome</title></html>", "text/html; charset=utf-8"),
        (b"<html><body>dashboard</body></html>", "text/event-stream"),
        (b"<html><body>no type</body></html>", "application/octet-stream"),
    ],
)
async def test_an_html_page_in_a_200_stream_says_check_the_base_url(
    raw_server: Any, body: bytes, content_type: str
) -> None:
    client = await raw_server(_sse(body, content_type=content_type))
    with pytest.raises(ResponseDecodeError, match="check the base URL"):
        await _read(client)


@pytest.mark.parametrize(
    ("body", "content_type", "cls"),
    [
        (b'{"error": {"message": "busy", "code": 503}}', "text/event-stream", ServerError),
        (b'{"error": {"message": "x", "code": "model_not_found"}}', "text/plain", NotFoundError),
        (b'{"code": 500, "message": "fail", "data": null}', "text/event-stream", ServerError),
        (b'{"error": {"message": "busy", "code": "502"}}', "application/json", ServerError),
    ],
)
async def test_a_json_error_object_in_a_200_stream_raises_typed(
    raw_server: Any, body: bytes, content_type: str, cls: type[Exception]
) -> None:
    client = await raw_server(_sse(body, content_type=content_type))
    with pytest.raises(cls):
        await _read(client)


async def test_a_cut_stream_still_says_so(raw_server: Any) -> None:
    client = await raw_server(_sse(_chunk("partial")))
    with pytest.raises(APIConnectionError, match="before \\[DONE\\]"):
        await _read(client)


async def test_a_possibly_cut_answer_is_detectable(raw_server: Any) -> None:
    client = await raw_server(_sse(_chunk("a"), _chunk("b"), b"data: [DONE]\n\n"))
    chunks, stream = await _read(client)  # gateways that never send finish_reason still work
    assert len(chunks) == 2
    assert stream.finish_reason is None and stream.truncated


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls"])
async def test_a_finished_answer_is_not_truncated(raw_server: Any, reason: str) -> None:
    client = await raw_server(_sse(_chunk("a"), _chunk(finish=reason), b"data: [DONE]\n\n"))
    _, stream = await _read(client)
    assert stream.finish_reason == reason and not stream.truncated


# -- item 4: reasoning and tool calls accumulate right -------------------------------------


def _accumulate(*deltas: dict[str, Any]) -> ChatCompletion:
    acc = ChatCompletionAccumulator()
    for delta in deltas:
        chunk = {"id": "c", "choices": [{"index": 0, "delta": delta}]}
        acc.add(structure(chunk, ChatCompletionChunk))
    return acc.result()


def test_reasoning_in_both_spellings_is_counted_once() -> None:
    reply = _accumulate(
        {"reasoning_content": "Let me ", "reasoning": "Let me "},
        {"reasoning_content": "think.", "reasoning": "think."},
        {"reasoning": " More."},  # one spelling alone still counts
        {"content": "42"},
    )
    assert reply.choices[0].message.reasoning_content == "Let me think. More."


async def test_streamed_reasoning_in_both_spellings_is_counted_once(raw_server: Any) -> None:
    client = await raw_server(
        _sse(
            _chunk(reasoning_content="Hm", reasoning="Hm"),
            _chunk("ok", finish="stop"),
            b"data: [DONE]\n\n",
        )
    )
    stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
    from api4gpt_async.models.chat import accumulate_chat

    reply = await accumulate_chat(stream)
    assert reply.choices[0].message.reasoning_content == "Hm"


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": "42", "reasoning": "because"},
        {"role": "assistant", "content": "42", "reasoning": "because", "reasoning_content": ""},
        {"role": "assistant", "content": "42", "reasoning_content": "because"},
    ],
)
async def test_a_plain_answer_reads_reasoning_as_the_stream_does(
    client: AsyncAPI4GPT, emulator: Emulator, message: dict[str, Any]
) -> None:
    body = _answer(choices=[{"index": 0, "message": message, "finish_reason": "stop"}])
    emulator.fail("chat.completions", status=200, body=body)
    reply = await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert reply.choices[0].message.reasoning_content == "because"
    assert reply.choices[0].message.raw == message
    streamed = _accumulate({"reasoning": "because"})
    assert streamed.choices[0].message.reasoning_content == "because"


def _call(index: int | None, id: str | None = None, name: str | None = None, args: str = "") -> Any:
    call: dict[str, Any] = {"function": {"arguments": args}}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"], call["type"] = id, "function"
        call["function"]["name"] = name
    return {"tool_calls": [call]}


@pytest.mark.parametrize("index", [0, None], ids=["reused-index", "no-index"])
def test_a_new_id_on_an_index_in_use_starts_a_new_call(index: int | None) -> None:
    reply = _accumulate(
        _call(index, "call_a", "weather", '{"city": '),
        _call(index, args='"Paris"}'),
        _call(index, "call_b", "time", '{"tz": '),
        _call(index, args='"CET"}'),
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, c.function.parse_arguments()) for c in calls] == [
        ("call_a", "weather", {"city": "Paris"}),
        ("call_b", "time", {"tz": "CET"}),
    ]


def test_interleaved_indexes_still_join_by_index() -> None:
    reply = _accumulate(
        _call(0, "call_a", "f", '{"a": '),
        _call(1, "call_b", "g", '{"b": '),
        _call(0, args="1}"),
        _call(1, "call_b", args="2}"),  # the same id again is the same call
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.parse_arguments()) for c in calls] == [
        ("call_a", {"a": 1}),
        ("call_b", {"b": 2}),
    ]
