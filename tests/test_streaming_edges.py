"""``Stream`` at its edges, fed a scripted body: how it ends, what raises (and with which
words), what it remembers about ``finish_reason``, and that it always lets the body go."""

from __future__ import annotations

import json
import math
from typing import Any

import anyio
import pytest

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ResponseDecodeError,
    Stream,
)

pytestmark = pytest.mark.anyio


#: A part of a ``ScriptedBody`` that has not arrived when it is read (as ``ByteStream.read``
#: does, it is waited for only until the read's deadline).
LATE = b"<late>"


class ScriptedBody:
    """What ``Stream`` reads: ``headers``, ``request_id``, ``timeout``, ``read``, ``aclose``."""

    def __init__(
        self,
        *parts: bytes,
        content_type: str | None = "text/event-stream",
        timeout: float = 30.0,
        stall: bool = False,
    ) -> None:
        self.parts = list(parts)
        self.headers = {} if content_type is None else {"Content-Type": content_type}
        self.request_id: str | None = "req-7"
        self.timeout = timeout
        self.stall = stall
        self.closed = 0
        self.reads = 0

    async def read(self, deadline: float | None = None) -> bytes | None:
        assert not self.closed, "read after aclose"
        self.reads += 1
        if self.parts and self.parts[0] is LATE:  # not arrived yet: only a live deadline waits
            if deadline is not None and deadline <= anyio.current_time():
                return None
            self.parts.pop(0)
        if self.parts:
            return self.parts.pop(0)
        if self.stall:
            with anyio.CancelScope(deadline=math.inf if deadline is None else deadline):
                await anyio.Event().wait()
            return None
        return b""

    async def aclose(self) -> None:
        self.closed += 1


def event(payload: Any, name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"{head}data: {data}\n\n".encode()


def chunk(text: str = "hi", finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"delta": {"content": text}, "finish_reason": finish}]}


def open_stream(body: ScriptedBody) -> Stream[Any]:
    return Stream(body, lambda payload: payload)  # type: ignore[arg-type]


async def read_all(stream: Stream[Any]) -> list[Any]:
    return [item async for item in stream]


async def test_done_after_a_finish_reason() -> None:
    body = ScriptedBody(event(chunk("a")), event(chunk("b", "length")) + event("[DONE]"))
    stream = open_stream(body)
    assert stream.request_id == "req-7"
    assert not stream.truncated and stream.finish_reason is None
    items = await read_all(stream)
    assert [i["choices"][0]["delta"]["content"] for i in items] == ["a", "b"]
    assert stream.finish_reason == "length" and not stream.truncated
    assert body.closed == 1


async def test_done_without_a_finish_reason_is_truncated() -> None:
    stream = open_stream(ScriptedBody(event(chunk("a")), event("[DONE]")))
    assert len(await read_all(stream)) == 1
    assert stream.truncated and stream.finish_reason is None


@pytest.mark.parametrize(
    "payload",
    [
        {"choices": {"finish_reason": "stop"}},  # choices not a list
        {"choices": ["stop"]},  # a choice not an object
        {"choices": [{"finish_reason": ""}]},  # empty
        {"choices": [{"finish_reason": None}]},
        ["stop"],  # not an object
    ],
)
async def test_odd_chunks_give_no_finish_reason(payload: Any) -> None:
    stream = open_stream(ScriptedBody(event(payload), event("[DONE]")))
    assert await read_all(stream) == [payload]
    assert stream.finish_reason is None and stream.truncated


async def test_the_last_finish_reason_wins() -> None:
    two = {"choices": [{"finish_reason": "stop"}, {"finish_reason": 7}]}
    stream = open_stream(ScriptedBody(event(two), event("[DONE]")))
    await read_all(stream)
    assert stream.finish_reason == "7"


async def test_an_end_without_done_is_a_connection_error() -> None:
    body = ScriptedBody(event(chunk("a")))
    with pytest.raises(APIConnectionError, match=r"^the stream ended before \[DONE\]") as info:
        await read_all(open_stream(body))
    assert type(info.value) is APIConnectionError and info.value.request_id == "req-7"
    assert body.closed == 1


async def test_an_empty_body_is_a_connection_error() -> None:
    with pytest.raises(APIConnectionError, match="ended before"):
        await read_all(open_stream(ScriptedBody()))


@pytest.mark.parametrize(
    "tail",
    [
        event({"error": {"message": "cut upstream", "code": "cut"}}),
        event({"message": "cut upstream", "code": "cut"}, name="error"),
    ],
)
async def test_an_error_after_done_in_the_same_read_raises(tail: bytes) -> None:
    body = ScriptedBody(event(chunk("a")) + event("[DONE]") + tail)
    with pytest.raises(APIError, match="cut upstream") as info:
        await read_all(open_stream(body))
    assert info.value.request_id == "req-7"


@pytest.mark.parametrize(
    "tail", [event("not json at all"), event({"error": None}), event({"ok": 1}, name="other")]
)
async def test_harmless_events_after_done_are_ignored(tail: bytes) -> None:
    stream = open_stream(ScriptedBody(event(chunk("a", "stop")) + event("[DONE]") + tail))
    assert len(await read_all(stream)) == 1
    assert stream.finish_reason == "stop"


async def test_an_error_event_raises_its_error() -> None:
    body = ScriptedBody(
        event(chunk("a")), event({"message": "quota gone", "code": "quota"}, name="error")
    )
    stream = open_stream(body)
    with pytest.raises(APIError, match="quota gone") as info:
        await read_all(stream)
    assert info.value.code == "quota" and body.closed == 1


async def test_an_error_object_in_data_raises() -> None:
    body = ScriptedBody(event({"error": {"message": "bad model", "code": "model_x"}}))
    with pytest.raises(APIError, match="bad model"):
        await read_all(open_stream(body))


async def test_a_null_error_field_is_an_ordinary_chunk() -> None:
    payload = {"error": None, "choices": []}
    stream = open_stream(ScriptedBody(event(payload), event("[DONE]")))
    assert await read_all(stream) == [payload]


async def test_a_non_json_event_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError, match=r"^a stream event is not JSON: 'nope'") as info:
        await read_all(open_stream(ScriptedBody(event("nope"))))
    assert info.value.body == "nope" and info.value.request_id == "req-7"


async def test_an_event_nested_too_deeply_is_a_decode_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ResponseDecodeError, match=r"^a stream event is not JSON: '\[\[\["):
        await read_all(open_stream(ScriptedBody(event(deep))))


async def test_events_read_as_json_loads_reads_them() -> None:
    # Big integers exact, NaN read (the fast reader refuses it; json.loads decides).
    chunks = ['{"n": 123456789012345678901234567890}', '{"n": NaN}', '{"n": 1.5}']
    got = await read_all(open_stream(ScriptedBody(*map(event, chunks), event("[DONE]"))))
    assert got[0] == {"n": 123456789012345678901234567890} and got[2] == {"n": 1.5}
    assert math.isnan(got[1]["n"])


async def test_json_content_type_with_an_error_raises_it() -> None:
    body = ScriptedBody(
        b'{"error": {"message": "no stre',
        b'aming here", "code": "c1"}}',
        content_type="application/json; charset=utf-8",
    )
    with pytest.raises(APIError, match="no streaming here") as info:
        await read_all(open_stream(body))
    assert info.value.code == "c1" and body.closed == 1
    assert info.value.request_id == "req-7"


async def test_a_json_body_that_is_not_json_is_a_decode_error_with_the_request_id() -> None:
    body = ScriptedBody(b"{half", content_type="application/json")
    with pytest.raises(ResponseDecodeError, match="not JSON") as info:
        await read_all(open_stream(body))
    assert info.value.request_id == "req-7"


async def test_json_content_type_without_an_error_is_a_decode_error() -> None:
    body = ScriptedBody(b'{"id": "x", "error": null}', content_type="application/json")
    with pytest.raises(ResponseDecodeError, match=r"^expected an event stream but the") as info:
        await read_all(open_stream(body))
    assert info.value.body == {"id": "x", "error": None}
    assert info.value.message == (
        "expected an event stream but the answer is a single JSON object "
        "(does this model support stream=True?)"
    )
    assert info.value.request_id == "req-7"


async def test_html_content_type_is_refused_unread() -> None:
    body = ScriptedBody(b"<html>", content_type="text/html")
    with pytest.raises(ResponseDecodeError, match=r"^expected an event stream, got an HTML page"):
        await read_all(open_stream(body))
    assert body.closed == 1


@pytest.mark.parametrize(
    "page", [b"<!DOCTYPE html><html>", b"  <HTML><body>oops", b"\n<!doctype HTML>"]
)
async def test_an_html_body_without_events_is_named(page: bytes) -> None:
    body = ScriptedBody(page[:5], page[5:], content_type="text/event-stream")
    with pytest.raises(ResponseDecodeError, match="got an HTML page: check the base URL") as info:
        await read_all(open_stream(body))
    assert info.value.request_id == "req-7"
    assert info.value.message == (
        "expected an event stream, got an HTML page: check the base URL (it should be the "
        "API's, not a website's or a proxy's)"
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"error": {"message": "boom", "code": "e1"}}', "e1"),
        (b'{"code": 500, "message": "boom"}', 500),
        (b'{"code": 0, "message": "boom"}', 0),
    ],
)
async def test_a_json_error_body_without_events_raises_it(raw: bytes, code: object) -> None:
    with pytest.raises(APIError, match="boom") as info:
        await read_all(open_stream(ScriptedBody(raw[:4], raw[4:], content_type="")))
    assert info.value.code == code and info.value.request_id == "req-7"


@pytest.mark.parametrize("raw", [b'{"message": "boom"}', b'{"error": ""}', b"[1, 2]", b"plain"])
async def test_other_bodies_without_events_are_decode_errors(raw: bytes) -> None:
    with pytest.raises(ResponseDecodeError, match=r"^expected an event stream, got ") as info:
        await read_all(open_stream(ScriptedBody(raw, content_type="")))
    assert not isinstance(info.value, APIStatusError)
    assert info.value.body == raw.decode() and repr(raw.decode()) in str(info.value)
    assert info.value.request_id == "req-7"


async def test_undecodable_bytes_without_events_are_replaced() -> None:
    with pytest.raises(ResponseDecodeError) as info:
        await read_all(open_stream(ScriptedBody(b"\xc3\xffoops", content_type="")))
    assert info.value.body == "\ufffd\ufffdoops"


async def test_only_the_start_of_a_long_body_is_kept() -> None:
    raw = b"x" * 3000
    with pytest.raises(ResponseDecodeError) as info:
        await read_all(open_stream(ScriptedBody(raw, raw, raw, content_type="")))
    assert info.value.body == "x" * 4096
    assert info.value.message == f"expected an event stream, got {'x' * 200!r}"


async def test_a_stall_without_events_times_out() -> None:
    body = ScriptedBody(event(chunk("a")), b": PING\n\n", timeout=0.05, stall=True)
    stream = open_stream(body)
    with pytest.raises(APITimeoutError, match=r"^no event for 0.05s on the stream") as info:
        await read_all(stream)
    assert info.value.request_id == "req-7"
    assert body.closed == 1


async def test_aclose_releases_an_unread_and_a_half_read_stream() -> None:
    unread = ScriptedBody(event(chunk("a")), event("[DONE]"))
    async with open_stream(unread):
        pass
    assert unread.closed == 1 and unread.reads == 0

    half = ScriptedBody(event(chunk("a")), event(chunk("b")), event("[DONE]"))
    stream = open_stream(half)
    assert (await stream.__anext__())["choices"][0]["delta"]["content"] == "a"
    await stream.aclose()
    await stream.aclose()
    assert half.reads == 1 and half.closed >= 2
    assert aiter(stream) is aiter(stream)


async def test_an_html_content_type_is_refused_even_with_events_in_it() -> None:
    body = ScriptedBody(event(chunk("a")), event("[DONE]"), content_type="text/html")
    with pytest.raises(ResponseDecodeError, match="HTML page"):
        await read_all(open_stream(body))


async def test_an_error_after_unreadable_events_after_done_still_raises() -> None:
    tail = event("not json") + event({"error": {"message": "cut late", "code": "cut"}})
    with pytest.raises(APIError, match="cut late"):
        await read_all(open_stream(ScriptedBody(event(chunk("a")) + event("[DONE]") + tail)))


async def test_undecodable_bytes_in_a_json_error_answer_are_replaced() -> None:
    raw = b'{"error": {"message": "bad \xff byte", "code": "c2"}}'
    with pytest.raises(APIError, match="bad \ufffd byte"):
        await read_all(open_stream(ScriptedBody(raw, content_type="application/json")))


async def test_a_long_non_json_event_is_quoted_to_200_characters() -> None:
    data = "y" * 300
    with pytest.raises(ResponseDecodeError) as info:
        await read_all(open_stream(ScriptedBody(event(data))))
    assert info.value.message == f"a stream event is not JSON: {'y' * 200!r}"
    assert info.value.body == data


async def test_an_error_among_several_events_after_done_raises() -> None:
    error = event({"error": {"message": "cut between", "code": "cut"}})
    body = ScriptedBody(event("[DONE]") + error + event({"ok": 1}))
    with pytest.raises(APIError, match="cut between"):
        await read_all(open_stream(body))


async def test_a_comment_before_events_then_no_done_is_a_cut_answer() -> None:
    body = ScriptedBody(b": PING\n\n", event(chunk("a")))
    with pytest.raises(APIConnectionError, match="ended before"):
        await read_all(open_stream(body))


async def test_refusals_carry_the_request_id_and_the_whole_reason() -> None:
    body = ScriptedBody(b"<html>", content_type="text/html")
    with pytest.raises(ResponseDecodeError) as info:
        await read_all(open_stream(body))
    assert info.value.request_id == "req-7"
    stalled = ScriptedBody(timeout=0.05, stall=True)
    with pytest.raises(APITimeoutError) as timeout:
        await read_all(open_stream(stalled))
    assert timeout.value.message == (
        "no event for 0.05s on the stream (keep-alive comments do not count): the upstream stalled"
    )


async def test_a_stream_without_a_content_type_is_read_as_events() -> None:
    body = ScriptedBody(event({"n": 1}) + b"data: [DONE]\n\n", content_type=None)
    assert await read_all(open_stream(body)) == [{"n": 1}]


async def test_the_first_event_may_take_up_to_the_timeout() -> None:
    body = ScriptedBody(LATE, event({"n": 1}) + b"data: [DONE]\n\n", timeout=30.0)
    assert await read_all(open_stream(body)) == [{"n": 1}]


async def test_each_event_gives_the_next_one_the_whole_timeout() -> None:
    body = ScriptedBody(event({"n": 1}), LATE, event({"n": 2}) + b"data: [DONE]\n\n")
    assert await read_all(open_stream(body)) == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    "error_event",
    [event({"error": {"message": "upstream failed"}}), event({"message": "x"}, name="error")],
)
async def test_an_error_event_carries_the_stream_s_request_id(error_event: bytes) -> None:
    with pytest.raises(APIError) as info:
        await read_all(open_stream(ScriptedBody(event(chunk()), error_event)))
    assert info.value.request_id == "req-7"
