"""Decoder edges: comments inside an event, a new stream after ``flush``, invalid UTF-8."""

from __future__ import annotations

import pytest

from api4gpt_async._sse import ServerSentEvent, SSEDecoder


def decode(stream: bytes, *, step: int | None = None) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    step = step or len(stream)
    events: list[ServerSentEvent] = []
    for start in range(0, len(stream), step):
        events.extend(decoder.feed(stream[start : start + step]))
    return events


@pytest.mark.parametrize("step", [None, 1, 3])
@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # the gateway's keep-alive between two data lines of one event
        (b"data: a\n: PING\ndata: b\n\n", [("message", "a\nb", None)]),
        # before any data: the event name and id set earlier are kept too
        (b"event: delta\nid: 4\n: PING\ndata: x\n\n", [("delta", "x", "4")]),
        # after the last data line, right before the blank line
        (b'data: {"n": 1}\n:\n\ndata: next\n\n', [("message", '{"n": 1}', None),
                                                   ("message", "next", None)]),
        # several comments, \r\n endings, a retry field in between
        (b"data: 1\r\n: a\r\nretry: 10\r\n: b\r\ndata: 2\r\n\r\n", [("message", "1\n2", None)]),
    ],
)  # fmt: skip
def test_a_comment_inside_an_event_keeps_its_fields(
    stream: bytes, expected: list[tuple[str, str, str | None]], step: int | None
) -> None:
    events = decode(stream, step=step)
    assert [(e.event or "message", e.data, e.id) for e in events] == expected


def test_a_comment_inside_an_event_keeps_its_retry() -> None:
    (event,) = decode(b"retry: 300\n: PING\ndata: x\n\n")
    assert event.retry == 300


def test_flush_starts_a_new_stream() -> None:
    bom = "\ufeff".encode()
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [
        ServerSentEvent(event=None, data="a", id=None, retry=None)
    ]
    decoder.flush()
    # a new stream: its BOM is stripped again
    assert [e.data for e in decoder.feed(bom + b"data: b\n\n")] == ["b"]
    decoder.flush()
    # a blank first line: a BOM after it is not at the start, so that line is an unknown field
    assert decoder.feed(b"\n" + bom + b"data: c\n\ndata: d\n\n") == [
        ServerSentEvent(event=None, data="d", id=None, retry=None)
    ]


@pytest.mark.parametrize(
    ("chunks", "data"),
    [
        ([b"data: \xff\n\n"], "\ufffd"),  # the first line of a chunk
        ([b"data: x\ndata: \xfe!\n\n"], "x\n\ufffd!"),  # a later line
        ([b"data: a\xe2\x82", b"b\n\n"], "a\ufffdb"),  # a line continued from the last chunk
    ],
)
def test_invalid_utf8_is_replaced_not_raised(chunks: list[bytes], data: str) -> None:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    assert [e.data for e in events] == [data]


def test_invalid_utf8_in_a_later_comment_or_field_is_replaced_not_raised() -> None:
    events = SSEDecoder().feed(b"data: x\n: \xff ping\nevent: e\xff\n\n")
    assert [(e.event, e.data) for e in events] == [("e\ufffd", "x")]


def test_a_new_decoder_has_no_connection_state() -> None:
    decoder = SSEDecoder()
    assert (decoder.retry, decoder.last_event_id) == (None, None)


def test_a_blank_first_line_is_a_line_ending_not_half_of_one() -> None:
    bom = "\ufeff".encode()
    # A stream that opens with a blank line: the BOM after it is not at the start.
    assert [e.data for e in SSEDecoder().feed(b"\n" + bom + b"data: c\n\ndata: d\n\n")] == ["d"]
