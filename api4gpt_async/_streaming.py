"""``Stream[T]``: a streamed answer read as typed chunks.

Iterate it with ``async for``; use it as an async context manager (or call ``aclose``) to make
sure the connection is released when you stop early. ``[DONE]`` ends it; an error event raises
the typed error; a body that ends without ``[DONE]`` raises ``APIConnectionError``, because a
cut-off answer must not pass for a complete one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from ._sse import SSEDecoder
from ._transport import ByteStream
from .errors import APIConnectionError, ResponseDecodeError, error_from_event

__all__ = ["Stream"]

T = TypeVar("T")


class Stream(Generic[T]):
    """Typed chunks of one streamed answer. Iterate once."""

    def __init__(self, body: ByteStream, decode: Callable[[Any], T]) -> None:
        self._body = body
        self._decode = decode
        self._iterator: AsyncIterator[T] | None = None
        self.request_id: str | None = body.request_id

    def __aiter__(self) -> AsyncIterator[T]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    async def __anext__(self) -> T:
        return await self.__aiter__().__anext__()

    async def _iterate(self) -> AsyncIterator[T]:
        decoder = SSEDecoder()
        try:
            if "json" in self._body.headers.get("Content-Type", ""):
                await self._refuse_json_answer()
            async for chunk in self._body.chunks():
                for event in decoder.feed(chunk):
                    if event.data == "[DONE]":
                        return
                    payload = _loads(event.data, self.request_id)
                    if event.event == "error" or (
                        isinstance(payload, dict) and payload.get("error") is not None
                    ):
                        raise error_from_event(payload, self.request_id)
                    yield self._decode(payload)
            raise APIConnectionError(
                "the stream ended before [DONE]: the answer may be incomplete",
                request_id=self.request_id,
            )
        finally:
            await self._body.aclose()

    async def _refuse_json_answer(self) -> None:
        """A JSON body where events were expected: an error object raises as such."""
        raw = b"".join([chunk async for chunk in self._body.chunks()])
        payload = _loads(raw.decode("utf-8", "replace"), self.request_id)
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


def _loads(data: str, request_id: str | None) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise ResponseDecodeError(
            f"a stream event is not JSON: {data[:200]!r}", request_id=request_id, body=data
        ) from None
