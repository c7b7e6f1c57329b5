"""What the OpenAI-style text services (chat, completions, embeddings, models) share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._convert import structure
from .._streaming import Stream

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = [
    "Headers",
    "Query",
    "create_maybe_streamed",
    "listed",
    "open_sse",
    "query_string",
    "send_json",
]

T = TypeVar("T")
C = TypeVar("C")

#: ``extra_headers``: sent on top of the client's own headers.
Headers = Mapping[str, str]
#: ``extra_query``: added to the URL's query string (booleans as ``true`` / ``false``).
Query = Mapping[str, object]


def listed(value: Any) -> Any:
    """An iterable parameter (a generator, a tuple…) as a list; strings and None as they are."""
    if value is None or isinstance(value, (str, bytes, Mapping, list)):
        return value
    if isinstance(value, Iterable):
        return list(value)
    return value


def query_string(extra_query: Query | None) -> dict[str, str] | None:
    if not extra_query:
        return None
    return {key: _query_value(value) for key, value in extra_query.items()}


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def send_json(
    transport: Transport,
    method: str,
    path: str,
    body: Any,
    cls: type[T],
    *,
    billable: bool,
    extra_headers: Headers | None,
    extra_query: Query | None,
    timeout: float | None,
) -> T:
    """Send one request and decode its answer as ``cls``."""
    reply = await transport.request(
        method,
        path,
        params=query_string(extra_query),
        json_body=body,
        billable=billable,
        timeout=timeout,
        headers=extra_headers,
    )
    return structure(reply.data, cls, request_id=reply.request_id)


async def open_sse(
    transport: Transport,
    path: str,
    body: Any,
    cls: type[T],
    *,
    extra_headers: Headers | None,
    extra_query: Query | None,
    timeout: float | None,
) -> Stream[T]:
    """POST a billable streaming request; return its events decoded as ``cls``."""
    byte_stream = await transport.open_stream(
        "POST",
        path,
        params=query_string(extra_query),
        json_body=body,
        billable=True,
        timeout=timeout,
        headers=extra_headers,
    )
    request_id = byte_stream.request_id
    decode: Callable[[Any], T] = lambda data: structure(data, cls, request_id=request_id)  # noqa: E731
    return Stream(byte_stream, decode)


def create_maybe_streamed(
    transport: Transport,
    path: str,
    body: Mapping[str, Any],
    cls: type[T],
    chunk_cls: type[C],
    *,
    stream: bool | None,
    extra_headers: Headers | None,
    extra_query: Query | None,
    timeout: float | None,
) -> Awaitable[T | Stream[C]]:
    """The billable POST behind chat and completions: one answer, or a stream of chunks.

    Not a coroutine function: the caller awaits the request's own coroutine (one frame less
    for each request in flight). ``body`` is ``body_of``'s (models and mappings in it: see
    ``_json._JSON``).
    """
    if stream:
        return open_sse(
            transport,
            path,
            body,
            chunk_cls,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )
    return send_json(
        transport,
        "POST",
        path,
        body,
        cls,
        billable=True,
        extra_headers=extra_headers,
        extra_query=extra_query,
        timeout=timeout,
    )
