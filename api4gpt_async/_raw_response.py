"""``with_raw_response``: any service call, answered with its HTTP status and headers too.

openai-python's habit: ``await client.chat.completions.with_raw_response.create(...)`` gives an
object with ``headers``, ``status_code``, ``request_id`` and ``parse()`` (the usual result).
It is written once, here, over every service: the wrapper runs the ordinary method while the
transport notes each answer it accepts (a context variable, so concurrent calls never mix),
and wraps the result with the last one noted.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Generic, NamedTuple, TypeVar

__all__ = ["RawResponse", "RawResponseWrapper", "WithRawResponse", "note_response"]

T = TypeVar("T")
S = TypeVar("S")


class _Seen(NamedTuple):
    status: int
    headers: Mapping[str, str]
    request_id: str | None


_sink: ContextVar[list[_Seen] | None] = ContextVar("api4gpt_async_raw_response", default=None)


def note_response(status: int, headers: Mapping[str, str], request_id: str | None) -> None:
    """Called by the transport for every answer it accepts; a no-op unless a wrapper listens."""
    sink = _sink.get()
    if sink is not None:
        sink.append(_Seen(status, headers, request_id))


class RawResponse(Generic[T]):
    """One call's answer with its HTTP details: ``headers``, ``status_code``, ``request_id``,
    and ``parse()`` for the result the call returns without ``with_raw_response``.

    For a call that sends several requests (a Luma submit that retried, say) the details are
    those of the last answer accepted.
    """

    __slots__ = ("_parsed", "headers", "request_id", "status_code")

    def __init__(
        self, parsed: T, *, status_code: int, headers: Mapping[str, str], request_id: str | None
    ) -> None:
        self._parsed = parsed
        self.status_code = status_code
        self.headers = headers
        self.request_id = request_id

    def parse(self) -> T:
        """The call's usual result (a model, a stream, a task handle...)."""
        return self._parsed

    def __repr__(self) -> str:
        return f"<RawResponse status_code={self.status_code} request_id={self.request_id!r}>"


class RawResponseWrapper(Generic[S]):
    """``service.with_raw_response``: the service's methods, each returning a
    :class:`RawResponse`; sub-services (``client.with_raw_response.chat.completions``) too."""

    __slots__ = ("_target",)

    def __init__(self, target: S) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._target, name)
        if isinstance(attr, WithRawResponse):
            return RawResponseWrapper(attr)
        if not callable(attr):
            raise AttributeError(f"{name!r} is not a method: with_raw_response wraps calls")
        return _raw(attr, name)

    def __repr__(self) -> str:
        return f"<with_raw_response of {self._target!r}>"


def _raw(method: Callable[..., Any], name: str) -> Callable[..., Awaitable[RawResponse[Any]]]:
    async def call(*args: Any, **kwargs: Any) -> RawResponse[Any]:
        sink: list[_Seen] = []
        token = _sink.set(sink)
        try:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        finally:
            _sink.reset(token)
        if not sink:
            raise TypeError(f"{name}() sent no request: with_raw_response has nothing to show")
        seen = sink[-1]
        return RawResponse(
            result, status_code=seen.status, headers=seen.headers, request_id=seen.request_id
        )

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


class WithRawResponse:
    """Mixed into every service (and the client): adds ``with_raw_response``."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> RawResponseWrapper[Any]:
        """This object's calls, each answered as a :class:`RawResponse` (headers, status,
        request id, and ``parse()`` for the usual result), as in openai-python."""
        return RawResponseWrapper(self)
