from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable

import pytest

from api4gpt_async._sse import ServerSentEvent, SSEDecoder, iter_sse


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def decode(chunks: Iterable[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def ev(
    data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-abc",
        "object": "chat.completion.chunk",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


OPENAI_CHUNKS = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Héllo"}),
    _chunk({"content": " wörld 🌍"}),
    _chunk({}, "stop"),
]

OPENAI_STREAM = (
    b": PING\n\n"
    + b"".join(
        b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n: PING\n\n"
        for c in OPENAI_CHUNKS
    )
    + b"data: [DONE]\n\n"
)

# Everything at once: BOM, every line ending, comments, fields, multibyte text.
MIXED_STREAM = (
    "\ufeff: hello\r\n"
    "retry: 1500\r"
    "event: delta\n"
    "id: 7\r\n"
    "data: zwölf 🐍\r"
    "data\n"
    "\r\n"
    ": PING\r"
    "\r"
    'data: {"a": 1}\n'
    "\n"
    "data: last\r\n"
    "\r\n"
).encode()

MIXED_EVENTS = [
    ev("zwölf 🐍\n", event="delta", id="7", retry=1500),
    ev('{"a": 1}', id="7"),
    ev("last", id="7"),
]


def test_openai_chat_stream_with_pings_and_done() -> None:
    events = decode([OPENAI_STREAM])

    assert [e.data for e in events[:-1]] == [
        json.dumps(c, ensure_ascii=False) for c in OPENAI_CHUNKS
    ]
    assert [e.json() for e in events[:-1]] == OPENAI_CHUNKS
    assert events[-1] == ev("[DONE]")
    assert all(e.event is None and e.id is None and e.retry is None for e in events)
    text = "".join(e.json()["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == "Héllo wörld 🌍"


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_line_endings(eol: bytes) -> None:
    stream = eol.join([b"event: a", b"data: 1", b"data: 2", b"", b": c", b"data: 3", b"", b""])

    assert decode([stream]) == [ev("1\n2", event="a"), ev("3")]


def test_mixed_stream_in_one_chunk() -> None:
    assert decode([MIXED_STREAM]) == MIXED_EVENTS


@pytest.mark.parametrize("stream", [OPENAI_STREAM, MIXED_STREAM], ids=["openai", "mixed"])
def test_every_two_chunk_split_gives_same_events(stream: bytes) -> None:
    expected = decode([stream])
    assert len(expected) >= 3

    for i in range(len(stream) + 1):
        assert decode([stream[:i], stream[i:]]) == expected, f"split at {i}"


@pytest.mark.parametrize("stream", [OPENAI_STREAM, MIXED_STREAM], ids=["openai", "mixed"])
def test_one_byte_at_a_time_gives_same_events(stream: bytes) -> None:
    expected = decode([stream])

    assert decode(stream[i : i + 1] for i in range(len(stream))) == expected


def test_events_are_returned_by_the_chunk_that_completes_them() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b") == [ev("a")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\n") == [ev("b")]


@pytest.mark.parametrize("char", ["é", "€", "🌍"])
def test_multibyte_character_split_across_chunks(char: str) -> None:
    raw = f"data: a{char}b\n\n".encode()
    start = raw.index(char.encode())

    for cut in range(start + 1, start + len(char.encode())):
        decoder = SSEDecoder()
        assert decoder.feed(raw[:cut]) == []
        assert decoder.feed(raw[cut:]) == [ev(f"a{char}b")]


def test_four_megabyte_data_line_in_16k_chunks() -> None:
    payload = bytes(range(65, 91)) * (4 * 1024 * 1024 // 26 + 1)
    stream = b"event: image\ndata: " + payload + b"\n\ndata: after\n\n"
    size = 16 * 1024

    events = decode(stream[i : i + size] for i in range(0, len(stream), size))

    assert len(events) == 2
    assert events[0].event == "image"
    assert len(events[0].data) == len(payload) > 4 * 1024 * 1024
    assert events[0].data == payload.decode()
    assert events[1] == ev("after")


def test_multiline_data_is_joined_with_newlines() -> None:
    stream = b"data: first\ndata:second\ndata:\ndata:  indented\n\n"

    assert decode([stream]) == [ev("first\nsecond\n\n indented")]


def test_event_id_and_retry_fields() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(
        b"event: update\nid: 1\nretry: 3000\ndata: x\n\n"
        b"data: y\n\n"  # id carries over; event type and retry do not
        b"id: bad\0id\nretry: 12s\nretry: -1\nretry: \xc2\xb2\ndata: z\n\n"
        b"id\ndata: w\n\n"  # a bare "id" resets the last event ID to ""
    )

    assert events == [
        ev("x", event="update", id="1", retry=3000),
        ev("y", id="1"),
        ev("z", id="1"),
        ev("w", id=""),
    ]
    assert decoder.last_event_id == ""
    assert decoder.retry == 3000


def test_retry_and_id_in_a_block_without_data_update_the_decoder_only() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"retry: 250\nid: 9\nevent: ignored\n\n") == []
    assert (decoder.retry, decoder.last_event_id) == (250, "9")
    assert decoder.feed(b"data: x\n\n") == [ev("x", id="9")]


def test_field_without_colon() -> None:
    stream = b"data\ndata\n\nevent\ndata: x\n\ndata\n\n"

    assert decode([stream]) == [ev("\n"), ev("x"), ev("")]


def test_comments_unknown_fields_and_dataless_blocks_are_not_dispatched() -> None:
    stream = b": PING\n\n:\n\nfoo: bar\n\nevent: lonely\n\nDATA: upper\n\ndata: kept\n\n"

    assert decode([stream]) == [ev("kept")]


def test_bom_is_stripped_once_at_stream_start_only() -> None:
    bom = "\ufeff".encode()

    assert decode([bom[:1], bom[1:] + b"data: a\n\n"]) == [ev("a")]
    # A second BOM is part of the field name, which is then unknown.
    assert decode([bom + bom + b"data: a\n\ndata: b\n\n"]) == [ev("b")]
    assert decode([b"data: a\n\n" + bom + b"data: b\n\n"]) == [ev("a")]
    assert decode([b"data: a\n\n", bom + b"data: b\n\n"]) == [ev("a")]


@pytest.mark.parametrize(
    "tail",
    [b"data: pending\n", b"data: pending", b"data: pending\r", b"data: pending\r\n"],
)
def test_incomplete_trailing_event_is_discarded_by_flush(tail: bytes) -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"data: done\n\n" + tail) == [ev("done")]
    assert decoder.flush() == []
    # The decoder starts afresh: nothing of the pending event leaks into the next one.
    assert decoder.feed(b"data: next\n\n") == [ev("next")]


def test_cr_and_lf_split_across_chunks_are_one_line_ending() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r") == [ev("a\nb")]
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: c\n\n") == [ev("c")]


def test_cr_then_cr_across_chunks_is_two_line_endings() -> None:
    decoder = SSEDecoder()

    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\r") == [ev("a")]


def test_json_method() -> None:
    assert ev('{"x": [1, 2]}').json() == {"x": [1, 2]}
    with pytest.raises(json.JSONDecodeError):
        ev("[DONE]").json()


@pytest.mark.anyio
async def test_iter_sse() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(OPENAI_STREAM), 7):
            yield OPENAI_STREAM[i : i + 7]
        yield b"data: never dispatched"

    events = [e async for e in iter_sse(chunks())]

    assert events == decode([OPENAI_STREAM])
    assert events[-1].data == "[DONE]"
    assert len(events) == len(OPENAI_CHUNKS) + 1
