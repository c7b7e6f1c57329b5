"""``Stream[T]``: a streamed answer read as typed chunks.

Iterate it with ``async for``; use it as an async context manager (or call ``aclose``) to make
sure the connection is released when you stop early. ``[DONE]`` ends it; an error event raises
the typed error (also one that follows ``[DONE]`` in the same read: a gateway closing a cut
answer); a body that ends without ``[DONE]`` raises ``APIConnectionError``, because a cut-off
answer must not pass for a complete one. The call's ``timeout`` bounds the time between
*events*: keep-alive comments (``: PING``) do not count. A 200 whose body is an HTML page or a
JSON error object raises a typed error, not "ended before [DONE]". ``finish_reason`` /
``truncated`` tell an answer that ended at ``[DONE]`` without any ``finish_reason`` (possibly
cut upstream; some gateways never send one, so this is not raised).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
from aiohttp import hdrs

from ._json import read_json
from ._sse import SSEDecoder
from ._text import body_text
from ._transport import ByteStream
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ResponseDecodeError,
    error_from_event,
)

__all__ = ["Stream"]

T = TypeVar("T")

#: How much of a body that carries no event is kept to tell what it is (HTML, JSON error).
_SNIFF_LIMIT = 4096


class Stream(Generic[T]):
    """Typed chunks of one streamed answer. Iterate once."""

    def __init__(self, body: ByteStream, decode: Callable[[Any], T]) -> None:
        self._body = body
        self._decode = decode
        self._iterator: AsyncIterator[T] | None = None
        self.request_id: str | None = body.request_id
        #: The last ``finish_reason`` a chunk gave (``"stop"``, ``"length"``…), None until then.
        self.finish_reason: str | None = None
        self._done = False

    @property
    def truncated(self) -> bool:
        """True when the stream ended at ``[DONE]`` but no chunk gave a ``finish_reason``:
        the answer may have been cut upstream (or the gateway never sends one)."""
        return self._done and self.finish_reason is None

    def __aiter__(self) -> AsyncIterator[T]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    async def __anext__(self) -> T:
        return await self.__aiter__().__anext__()

    async def _iterate(self) -> AsyncIterator[T]:
        decoder = SSEDecoder()
        body = self._body
        try:
            content_type = body.headers.get(hdrs.CONTENT_TYPE, "")
            if "json" in content_type:
                await self._refuse_json_answer()
            if "html" in content_type:
                raise _html_instead_of_events(self.request_id)
            limit = body.timeout
            deadline = anyio.current_time() + limit
            seen_event = False
            head = bytearray()  # the start of a body that has given no event yet
            while True:
                chunk = await body.read(deadline)
                if chunk is None:
                    raise APITimeoutError(
                        f"no event for {limit:g}s on the stream (keep-alive comments do not "
                        "count): the upstream stalled",
                        request_id=self.request_id,
                    )
                if not chunk:
                    break
                events = decoder.feed(chunk)
                if not events:
                    if not seen_event and len(head) < _SNIFF_LIMIT:
                        head += chunk[: _SNIFF_LIMIT - len(head)]
                    continue
                seen_event = True
                deadline = anyio.current_time() + limit  # events move it, comments do not
                for number, event in enumerate(events):
                    if event.data == "[DONE]":
                        self._after_done(events[number + 1 :])
                        self._done = True
                        return
                    payload = _loads(event.data, self.request_id)
                    if event.event == "error" or (
                        isinstance(payload, dict) and payload.get("error") is not None
                    ):
                        raise error_from_event(payload, self.request_id)
                    self._note_finish_reason(payload)
                    yield self._decode(payload)
            if not seen_event and head:
                raise _not_an_event_stream(bytes(head), body.headers, self.request_id)
            raise APIConnectionError(
                "the stream ended before [DONE]: the answer may be incomplete",
                request_id=self.request_id,
            )
        finally:
            await body.aclose()

    def _after_done(self, events: list[Any]) -> None:
        """Events that arrived with ``[DONE]`` in the same read: an error among them raises."""
        for event in events:
            try:
                payload = read_json(event.data)
            except ValueError:
                continue
            if event.event == "error" or (isinstance(payload, dict) and payload.get("error")):
                raise error_from_event(payload, self.request_id)

    def _note_finish_reason(self, payload: Any) -> None:
        if type(payload) is dict:
            choices = payload.get("choices")
            if type(choices) is list:
                for choice in choices:
                    if type(choice) is dict and choice.get("finish_reason"):
                        self.finish_reason = str(choice["finish_reason"])

    async def _refuse_json_answer(self) -> None:
        """A JSON body where events were expected: an error object raises as such."""
        pieces = []
        while chunk := await self._body.read():
            pieces.append(chunk)
        raw = b"".join(pieces)
        payload = _loads(raw.decode(errors="replace"), self.request_id)
        if isinstance(payload, dict) and payload.get("error") is not None:
            raise error_from_event(payload, self.request_id)
        raise ResponseDecodeError(
            "expected an event stream but the answer is a single JSON object "
            "(does this model support stream=True?)",
            request_id=self.request_id,
            body=payload,
        )

    async def aclose(self) -> None:
        """Stop reading and release the connection (safe to call more than once)."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]
        await self._body.aclose()

    async def __aenter__(self) -> Stream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _html_instead_of_events(request_id: str | None) -> ResponseDecodeError:
    return ResponseDecodeError(
        "expected an event stream, got an HTML page: check the base URL (it should be the "
        "API's, not a website's or a proxy's)",
        request_id=request_id,
    )


def _not_an_event_stream(
    head: bytes, headers: Mapping[str, str], request_id: str | None
) -> APIError:
    """A 200 body that gave no event: an HTML page, a JSON error object, or something else."""
    text = body_text(head, headers).strip()
    if text.lower().startswith(("<!doctype", "<html")):
        return _html_instead_of_events(request_id)
    try:
        payload = read_json(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and (payload.get("error") or "code" in payload):
        return error_from_event(payload, request_id)
    return ResponseDecodeError(
        f"expected an event stream, got {text[:200]!r}", request_id=request_id, body=text
    )


def _loads(data: str, request_id: str | None) -> Any:
    try:
        return read_json(data)
    except ValueError:
        raise ResponseDecodeError(
            f"a stream event is not JSON: {data[:200]!r}", request_id=request_id, body=data
        ) from None
