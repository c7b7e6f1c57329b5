"""Server-Sent Events decoder for streamed chat/completions answers.

aiohttp's ``StreamReader.readline()`` refuses lines longer than its buffer limit, and a
single ``data:`` line can carry a multi-megabyte base64 image. So we parse the raw
chunks ourselves, incrementally and in linear time, following the WHATWG
event-stream rules: https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import attrs

__all__ = ["SSEDecoder", "ServerSentEvent", "iter_sse"]

_BOM = "\ufeff"


@attrs.frozen(kw_only=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is ``None`` when the server sent no (or an empty) ``event:`` field, i.e. the
    default ``"message"`` type. ``id`` is the last event ID in effect (it carries over
    between events, as the spec says; ``None`` until the server sends one). ``retry`` is
    the ``retry:`` value sent within this event's block, if any.
    """

    event: str | None
    data: str
    id: str | None
    retry: int | None

    def json(self) -> Any:
        """``data`` parsed as JSON."""
        return json.loads(self.data)


class SSEDecoder:
    """Incremental event-stream parser: feed it raw ``bytes`` of any size.

    Chunks may split anywhere (inside a UTF-8 character, between ``\\r`` and ``\\n``).
    Only the new bytes are searched for line endings and a partial line accumulates in
    a ``bytearray``, so a huge line fed in small chunks costs linear time. No line
    length limit. ``data: [DONE]`` is an ordinary event: the caller decides it ends the
    stream.

    ``last_event_id`` and ``retry`` hold the connection-level state (what a reconnect
    should send / wait), also updated by blocks that carry no data.
    """

    __slots__ = (
        "_buf",
        "_data",
        "_event",
        "_event_retry",
        "_skip_lf",
        "_started",
        "last_event_id",
        "retry",
    )

    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._buf = bytearray()  # the current, unterminated line
        self._skip_lf = False  # the previous chunk ended with "\r"
        self._started = False  # the first line (where a BOM may sit) is behind us
        self._event = ""
        self._data: list[str] = []
        self._event_retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse ``chunk`` and return the events it completed."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":  # second half of a CRLF split across chunks
                chunk = chunk[1:]
                if not chunk:
                    return []
        # bytes.splitlines() breaks at exactly \r\n, \r and \n: the spec's line endings.
        lines = chunk.splitlines()
        last = chunk[-1:]
        tail = b""
        if last == b"\r":
            self._skip_lf = True
        elif last != b"\n":  # the last line is unterminated: keep it for later
            tail = lines.pop()
        events: list[ServerSentEvent] = []
        first = True
        for raw in lines:
            if first:
                first = False
                if self._buf:
                    self._buf += raw
                    line = self._buf.decode(errors="replace")
                    self._buf.clear()
                else:
                    line = raw.decode(errors="replace")
                if not self._started:
                    self._started = True
                    if line.startswith(_BOM):
                        line = line[1:]
            elif raw[:5] == b"data:":
                # The common lines, read without the general field parsing of ``_line``.
                value = raw[6:] if raw[5:6] == b" " else raw[5:]
                self._data.append(value.decode(errors="replace"))
                continue
            elif not raw and self._data:
                events.append(self._dispatch())
                continue
            else:
                line = raw.decode(errors="replace")
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buf += tail
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of input: discard whatever was not closed by a blank line.

        Per the WHATWG spec an event still pending at EOF (no trailing blank line) is
        incomplete and is not dispatched, so this always returns ``[]``. It resets the
        decoder for a new stream, keeping ``last_event_id`` and ``retry`` for a reconnect.
        """
        self._buf.clear()
        self._skip_lf = False
        self._started = False
        self._reset_event()
        return []

    def _reset_event(self) -> None:
        self._event = ""
        self._data = []
        self._event_retry = None

    def _dispatch(self) -> ServerSentEvent:
        data = self._data
        event = ServerSentEvent(
            event=self._event or None,
            data=data[0] if len(data) == 1 else "\n".join(data),
            id=self.last_event_id,
            retry=self._event_retry,
        )
        self._reset_event()
        return event

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data:  # nothing to dispatch; the spec drops the block
                self._reset_event()
                return None
            return self._dispatch()
        if line[0] == ":":  # comment, e.g. the gateway's ": PING" keep-alive
            return None
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = self._event_retry = int(value)
        return None


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Decode an async stream of raw chunks (e.g. ``response.content.iter_any()``)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
