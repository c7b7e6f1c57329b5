"""The one way to the network: session, retries, deadline, error mapping, envelopes.

Services describe a request; this module sends it. Nothing else in the package imports aiohttp
(the emulator aside), so the rules for retrying, deadlines and errors are written exactly once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import platform
import re
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

import aiohttp
import anyio
import attrs
from aiohttp import hdrs
from multidict import CIMultiDictProxy

from ._hooks import Hooks, RequestEvent, RetryEvent, call_hook
from ._json import encode_body, read_json_answer
from ._paths import PathNotServedError, no_handler_answered
from ._raw_response import note_response
from ._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ._text import body_text
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ContentPolicyError,
    InsecureBaseURLWarning,
    RateLimitError,
    ResponseDecodeError,
    SubmissionUncertainError,
    error_for,
    error_from_envelope,
    error_from_event,
    error_from_response,
    request_id_from,
)

__all__ = [
    "ByteStream",
    "FormFile",
    "Reply",
    "Transport",
    "normalize_base_url",
]

logger = logging.getLogger("api4gpt_async")

T = TypeVar("T")

DEFAULT_BASE_URL = "https://one.api4gpt.com"
_USER_AGENT = (
    f"api4gpt-async/{__version__} python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)
#: Envelope codes that mean success (new-api task relays use "success"; GoAPI-style 200 or 0).
_ENVELOPE_OK = frozenset({"success", 200, 0, "200", "0"})

#: How a family wraps its answers: ``"task"`` is new-api's ``{"code": "success", "data": …}``
#: (``envelope=True`` means it); ``"midjourney"`` is midjourney-proxy's ``{"code": 1,
#: "description": …, "result": …}``.
EnvelopeStyle = Literal["task", "midjourney"]
#: midjourney-proxy ``ReturnCode``s that accept a submit: 1 success, 21 exists / waits in
#: MODAL, 22 queued (new-api rewrites most 21 and all 22 to 1).
_MIDJOURNEY_OK = frozenset({1, 21, 22})
#: The HTTP status each midjourney-proxy / new-api failure code stands for: 3 not found,
#: 4 validation error, 5 new-api relay error, 9 upstream failure, 23 queue full (a refusal:
#: retried like a 429), 30 new-api group saturated. 24 (banned prompt) is ContentPolicyError.
_MIDJOURNEY_STATUS = {3: 404, 4: 400, 5: 502, 9: 500, 23: 429, 30: 429}


@attrs.frozen(kw_only=True)
class FormFile:
    """One file part of a multipart upload, already read into memory."""

    filename: str
    content: bytes = attrs.field(repr=lambda content: f"<{len(content)} bytes>")
    content_type: str = "application/octet-stream"


FormValue = str | FormFile


class Reply(NamedTuple):
    """A decoded 2xx answer and the id the gateway gave the request (a tuple: it is hot)."""

    data: Any
    request_id: str | None
    headers: Mapping[str, str]
    status: int = 200


class ByteStream:
    """An open streamed answer: its body read piece by piece, and ``aclose`` to release it."""

    def __init__(self, response: aiohttp.ClientResponse, what: str, timeout: float) -> None:
        self._response = response
        self._what = what
        #: Seconds a reader may wait for the next piece of content (for SSE: the next event).
        self.timeout = timeout
        self.headers: Mapping[str, str] = response.headers
        self.request_id: str | None = request_id_from(response.headers)

    async def read(self, deadline: float | None = None) -> bytes | None:
        """The next piece of the body as it arrived (any size), ``b""`` at its end, or
        ``None`` when nothing arrived by ``deadline`` (anyio's clock; ``None``: no limit but
        the client's read timeout). Network failures raise our errors."""
        content = self._response.content
        try:
            chunk = content.read_nowait()  # what has arrived already needs no timer
            if chunk or content.at_eof():
                return chunk
            if deadline is None:
                return await content.readany()
            with anyio.CancelScope(deadline=deadline):
                return await content.readany()
            return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = map_client_error(exc, billable=False, what=f"reading {self._what}")
        raise failure  # outside the handler, so aiohttp's error is not chained

    async def aclose(self) -> None:
        self._response.release()


def normalize_base_url(url: str) -> str:
    """The host root: trailing slashes and a trailing ``/v1`` are dropped, the scheme is made
    lower case (``HTTPS://`` is ``https://``)."""
    url = url.strip().rstrip("/")
    scheme, separator, rest = url.partition("://")
    if separator:
        url = scheme.lower() + separator + rest
    if url.endswith("/v1"):
        url = url[:-3].rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
    return url


def base_url_hint(base_url: str) -> str:
    """What a 404 should add when ``base_url`` ends in a ``/V1`` (any case but the ``/v1``
    :func:`normalize_base_url` drops): kept as a path of its own, it doubles the version every
    ``/v1/...`` path already names. ``""`` for any other base URL."""
    root, _, last = base_url.rpartition("/")
    if last.lower() != "v1" or not urlsplit(base_url).path:  # (a host named v1 is no path)
        return ""
    return (
        f"; the base URL ends in /{last}, a version the paths name themselves: "
        f"did you mean {root!r}?"
    )


class _SharedSession:
    """The aiohttp session of one client and its ``with_options`` copies, bound to a loop.

    Created on first use inside the running loop, and rebuilt when the loop changes: a client
    kept at module level and used from a second ``asyncio.run`` gets a fresh session (the old
    loop's is dropped quietly). A session passed in cannot be rebuilt: using it from another
    loop raises ``RuntimeError``. One never closed ends quietly: its connector is closed
    synchronously when this holder is collected or the interpreter exits (no work on a loop).
    """

    def __init__(self, session: aiohttp.ClientSession | None, max_connections: int) -> None:
        self._session = session
        self._owned = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._max_connections = max_connections
        self._closed = False
        self._finalizer = weakref.finalize(self, _abandon, None)

    def get(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this client is closed")
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is not loop:
            if self._loop is None:  # an injected session's first use
                self._loop = loop
            elif not self._owned:
                raise RuntimeError(
                    "the aiohttp session passed to AsyncAPI4GPT(session=...) belongs to another "
                    "event loop; create the session (or let the client create its own) inside "
                    "the loop that uses it"
                )
            else:
                self._drop()
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(connector=connector)
            self._loop = loop
            self._finalizer = weakref.finalize(self, _abandon, self._session)
        return self._session

    def _drop(self) -> None:
        self._finalizer.detach()
        _abandon(self._session)
        self._session = None

    async def aclose(self) -> None:
        self._closed = True
        if self._session is None or not self._owned:
            self._session = None
        elif self._loop is asyncio.get_running_loop():
            self._finalizer.detach()
            session, self._session = self._session, None
            await session.close()
        else:  # made by a loop that is gone or elsewhere: nothing to await there
            self._drop()


def _abandon(session: aiohttp.ClientSession | None) -> None:
    """Close an owned session's connector without a loop, as aiohttp's own ``__del__`` does.

    Its sockets are closed (or, when their loop is already closed, simply let go), and the
    session then counts as closed, so it prints no "Unclosed client session" at exit.
    """
    connector = session.connector if session is not None else None
    if connector is not None and not connector.closed:
        connector._close()


def warn_if_insecure(base_url: str) -> None:
    """``InsecureBaseURLWarning`` for plain ``http://`` to anything but this machine."""
    if not base_url.startswith("http://"):
        return
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    warnings.warn(
        f"base_url {base_url!r} is plain http:// to another machine: the API key and all "
        "content travel unencrypted; use https://",
        InsecureBaseURLWarning,
        stacklevel=4,
    )


def unwrap_envelope(
    body: Any, headers: Mapping[str, str] | None = None, style: EnvelopeStyle = "task"
) -> Any:
    """``{"code": "success", "data": X}`` gives X; a failure code raises; other bodies pass.

    With ``style="midjourney"`` an answer ``{"code": 1 | 21 | 22, "description", "result"}`` is
    returned whole (the caller reads ``result`` and ``properties``), and any other code raises:
    24 ``ContentPolicyError``; 23 (queue full) ``RateLimitError``, so it is retried like a 429;
    3, 4, 5, 9, 30 the error of the HTTP status they stand for; others ``APIError``; each with
    the answer's ``description`` as message and ``code``. Task objects and lists pass as they
    are.
    """
    if style == "midjourney":
        return _unwrap_midjourney(body, headers)
    if isinstance(body, dict) and "code" in body and "data" in body:
        if _code_of(body) in _ENVELOPE_OK:
            return body["data"]
        raise error_from_envelope(body, headers)
    return body


def _code_of(body: Mapping[str, Any]) -> str | int | None:
    """An envelope's ``code`` if it is a string or an integer; anything else (a list, an
    object, a boolean, a float) is no code that could mean success."""
    code = body["code"]
    return code if type(code) in (str, int) else None


def _unwrap_midjourney(body: Any, headers: Mapping[str, str] | None) -> Any:
    if not (isinstance(body, dict) and "code" in body and "id" not in body):
        return body
    raw_code = _code_of(body)
    code = int(raw_code) if isinstance(raw_code, str) and raw_code.isdigit() else raw_code
    if code in _MIDJOURNEY_OK:
        return body
    if code == 24:
        props = body.get("properties")
        props = props if isinstance(props, Mapping) else {}
        description = body.get("description") or "banned prompt"
        raise ContentPolicyError(
            f"{description}: {props['bannedWord']}" if props.get("bannedWord") else description,
            code=code,
            banned_word=props.get("bannedWord") or None,
            prompt_en=props.get("promptEn") or None,
            request_id=request_id_from(headers),
            body=body,
        )
    status = _MIDJOURNEY_STATUS.get(code) if isinstance(code, int) else None
    if status is None:
        raise error_from_envelope(body, headers)
    raise error_for(status, body, headers=headers)


class Transport:
    """Owns the HTTP session and sends every request the SDK makes."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        retry: RetryPolicy,
        max_connections: int,
        session: aiohttp.ClientSession | None = None,
        hooks: Hooks | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url: str = normalize_base_url(base_url)
        #: Added to a 404's message when the base URL is the likely cause (see base_url_hint).
        self.not_found_hint: str = base_url_hint(self.base_url)
        self.hooks: Hooks = hooks or Hooks()
        warn_if_insecure(self.base_url)
        self.timeout = timeout
        self.retry = retry
        self._shared = _SharedSession(session, max_connections)
        self._headers = {
            hdrs.AUTHORIZATION: f"Bearer {api_key}",
            hdrs.USER_AGENT: _USER_AGENT,
            hdrs.ACCEPT: "application/json",
            **(default_headers or {}),
        }
        self._json_headers = {**self._headers, hdrs.CONTENT_TYPE: "application/json"}
        self._default_timeout = aiohttp.ClientTimeout(total=timeout)

    # -- session lifecycle -------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        return self._shared.get()

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The current session, if one was made (for tests that count its connections)."""
        return self._shared._session

    def share_session_of(self, other: Transport) -> None:
        """Use ``other``'s session from now on (``with_options`` copies share one)."""
        self._shared = other._shared

    async def aclose(self) -> None:
        await self._shared.aclose()

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Sequence[tuple[str, FormValue]] | None = None,
        billable: bool = False,
        envelope: bool | EnvelopeStyle = False,
        expect: Literal["json", "text", "bytes"] = "json",
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        probe_path: bool = False,
        job_field: str | None = None,
    ) -> Coroutine[Any, Any, Reply]:
        """Send one logical request (retrying as allowed) and decode its answer.

        ``billable`` requests are never re-sent once they may have reached the server.
        ``timeout`` bounds the whole call, retries and back-off sleeps included. ``envelope``
        names the family's answer wrapper (``True`` is ``"task"``; see ``unwrap_envelope``).
        ``probe_path``: an answer proving no handler took the request (an HTML page, a
        non-JSON 404, a router's ``Invalid URL`` 404) raises ``PathNotServedError``, so the
        caller may try another path.
        ``job_field``: a 200 carrying an ``error`` object next to this field (e.g. Zhipu's
        ``task_status``) describes a failed job, so it is returned as data, not raised.

        A plain function returning the retry loop's coroutine (awaited by the caller): one
        coroutine fewer for each request in flight.
        """
        url = self.base_url + path
        attempt = _RequestAttempt(
            self, method, url, params, json_body, form, headers, billable,
            path, envelope, expect, timeout, probe_path, job_field,
        )  # fmt: skip
        return self._retrying(method, url, billable, timeout, attempt, _describe_reply)

    async def _open(
        self, method: str, url: str, *, billable: bool, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        """Send a request and return the open response (its body unread); failures mapped."""
        try:
            return await self._get_session().request(method, url, **kwargs)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = map_client_error(exc, billable=billable, what=f"{method} {url}")
        raise failure  # outside the handler, so aiohttp's error is not chained

    def _body(
        self,
        json_body: Any,
        form: Sequence[tuple[str, FormValue]] | None,
        extra_headers: Mapping[str, str] | None,
    ) -> tuple[Any, Mapping[str, str]]:
        if form is not None:
            data: Any = aiohttp.FormData()
            for name, value in form:
                if isinstance(value, FormFile):
                    data.add_field(
                        name,
                        value.content,
                        filename=value.filename,
                        content_type=value.content_type,
                    )
                else:
                    data.add_field(name, value)
            headers: Mapping[str, str] = self._headers
        elif json_body is not None:
            data = encode_body(json_body)
            headers = self._json_headers
        else:
            data, headers = None, self._headers
        if extra_headers:
            headers = {**headers, **extra_headers}
        return data, headers

    async def _retrying(
        self,
        method: str,
        url: str,
        billable: bool,
        timeout: float | None,
        attempt: Callable[[float, int], Awaitable[T]],
        describe: Callable[[T], tuple[int, str | None]],
    ) -> T:
        """Run ``attempt(remaining_seconds, retries_so_far)`` until it succeeds or may not retry.

        The one retry loop: the call's deadline covers every attempt and every back-off sleep,
        ``_retry_delay`` decides, and each attempt is reported to the ``on_request`` hook.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        retries = 0
        # A success is described (status, request id) only when a hook or the debug log wants it.
        timed = self.hooks.on_request is not None or logger.isEnabledFor(logging.DEBUG)
        while True:
            started = loop.time()
            remaining = deadline - started
            if remaining <= 0:
                raise APITimeoutError(f"{method} {url} timed out")
            try:
                result = await attempt(remaining, retries)
            except APIError as error:
                self._report(method, url, retries, started, error=error)
                delay = self._retry_delay(error, billable=billable, retries=retries)
                if delay is None or delay > deadline - loop.time():
                    # No retry left, or waiting would pass the deadline: this is the answer.
                    raise
                retries += 1
                await self._wait_to_retry(method, url, retries, delay, error)
            else:
                if timed:
                    status, request_id = describe(result)
                    self._report(method, url, retries, started, status=status, rid=request_id)
                return result

    async def retrying(
        self,
        method: str,
        url: str,
        attempt: Callable[[float, int], Awaitable[T]],
        *,
        timeout: float | None = None,
        describe: Callable[[T], tuple[int, str | None]],
    ) -> T:
        """Run a non-billable ``attempt(remaining_seconds, retries_so_far)`` under the client's
        retry policy and deadline, like ``request`` does (used by resumable downloads, whose
        attempt is a whole exchange: open, then read the body). ``describe`` gives the status
        and request id of a result for the ``on_request`` hook."""
        return await self._retrying(method, url, False, timeout, attempt, describe)

    def _report(
        self,
        method: str,
        url: str,
        retries: int,
        started: float,
        *,
        error: APIError | None = None,
        status: int | None = None,
        rid: str | None = None,
    ) -> None:
        """Tell the ``on_request`` hook, and the debug log (one line per attempt: method, path,
        status, request id, elapsed ms; never a header, so never the key), how one attempt
        ended."""
        hook = self.hooks.on_request
        debug = logger.isEnabledFor(logging.DEBUG)
        if hook is None and not debug:
            return
        if error is not None:
            status, rid = getattr(error, "status", None), error.request_id
        elapsed = asyncio.get_running_loop().time() - started
        if debug:
            logger.debug(
                "%s %s -> %s request_id=%s %.0f ms (attempt %d)%s",
                method, urlsplit(url).path, status if status is not None else "-", rid or "-",
                elapsed * 1000, retries + 1, f" {type(error).__name__}" if error else "",
            )  # fmt: skip
        if hook is not None:
            event = RequestEvent(
                method=method, url=url, attempt=retries + 1, status=status, request_id=rid,
                elapsed=elapsed, error=error,
            )  # fmt: skip
            call_hook(hook, event)

    async def _wait_to_retry(
        self, method: str, url: str, retry: int, delay: float, error: APIError
    ) -> None:
        """Log and report a retry, then sleep before it."""
        logger.info(
            "retrying %s %s in %.2fs (retry %d of %d) after: %s",
            method, url, delay, retry, self.retry.max_retries, error,
        )  # fmt: skip
        if self.hooks.on_retry is not None:
            event = RetryEvent(method=method, url=url, retry=retry, delay=delay, error=error)
            call_hook(self.hooks.on_retry, event)
        await anyio.sleep(delay)

    def _retry_delay(self, error: APIError, *, billable: bool, retries: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to raise it."""
        if retries >= self.retry.max_retries:
            return None
        if isinstance(error, RateLimitError):
            # The server refused the request, so even a billable one is safe to repeat.
            if error.retry_after is not None:
                if error.retry_after > self.retry.max_retry_after:
                    return None
                return error.retry_after
            return self.retry.backoff(retries + 1)
        if isinstance(error, APIConnectionError):
            if error.request_sent is False or not billable:
                return self.retry.backoff(retries + 1)
            return None
        if not billable and is_retryable_status(error):
            return self.retry.backoff(retries + 1)
        return None

    # -- streams -----------------------------------------------------------------------------

    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        billable: bool,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ByteStream:
        """Like ``stream`` but returns the open body for the caller to read and close.

        Errors before the body starts (401, 429, 5xx…) are raised here, as ``request`` would.
        """
        response, _ = await self._open_ok(
            method,
            path,
            params=params,
            json_body=json_body,
            billable=billable,
            timeout=timeout,
            headers={hdrs.ACCEPT: "text/event-stream", **(headers or {})},
        )
        per_call = self.timeout if timeout is None else timeout
        return ByteStream(response, f"{method} {path}", per_call)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Sequence[tuple[str, FormValue]] | None = None,
        billable: bool = False,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        max_redirects: int = 10,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a response whose body is read piece by piece (SSE, downloads).

        Retries (as ``request`` would) until a 2xx status arrives; then each read may wait up to
        ``timeout`` seconds. The response is released when the block exits, however it exits.
        ``retry=False`` makes one attempt, for a caller that retries the whole exchange itself
        with :meth:`retrying`; at most ``max_redirects`` redirects are followed.
        """
        resp, url = await self._open_ok(
            method, url_or_path, params=params, json_body=json_body, form=form,
            billable=billable, timeout=timeout, headers=headers, retry=retry,
            max_redirects=max_redirects,
        )  # fmt: skip
        failure: APIConnectionError | None = None
        try:
            yield resp
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = map_client_error(exc, billable=False, what=f"reading {url}")
        finally:
            resp.release()
        if failure is not None:
            raise failure  # outside the handler, so aiohttp's error is not chained

    async def _open_ok(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Sequence[tuple[str, FormValue]] | None = None,
        billable: bool,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        max_redirects: int = 10,
    ) -> tuple[aiohttp.ClientResponse, str]:
        """The open 2xx response of ``stream`` (its body unread), retried as allowed, and the
        URL it was asked of."""
        absolute = url_or_path[:8].lower().startswith(("http://", "https://"))
        url = url_or_path if absolute else self.base_url + url_or_path
        same_host = not absolute or url.startswith(self.base_url + "/")
        per_call = self.timeout if timeout is None else timeout

        attempt = _OpenAttempt(
            self, method, url, params, json_body, form, headers, billable,
            same_host, per_call, max_redirects,
        )  # fmt: skip
        if retry:
            resp = await self._retrying(method, url, billable, timeout, attempt, _describe_response)
        else:
            resp = await attempt(per_call, 0)
        note_response(resp.status, resp.headers, request_id_from(resp.headers))
        return resp, url


@attrs.define
class _Attempt:
    """What one logical request sends; calling a subclass's instance makes one attempt.

    An object, not a closure: a closure keeps each of its variables in a cell of its own, and
    the garbage collector visits every cell of every request in flight.
    """

    transport: Transport
    method: str
    url: str
    params: Mapping[str, str] | None
    json_body: Any
    form: Sequence[tuple[str, FormValue]] | None
    headers: Mapping[str, str] | None
    billable: bool


@attrs.define
class _OpenAttempt(_Attempt):
    """An attempt of ``Transport.stream``: the open 2xx response (its body unread), or the
    error its answer means."""

    same_host: bool
    per_call: float
    max_redirects: int

    async def __call__(self, remaining: float, retries: int) -> aiohttp.ClientResponse:
        transport, method, url, billable = self.transport, self.method, self.url, self.billable
        data, send_headers = transport._body(self.json_body, self.form, self.headers)
        if not self.same_host:
            # Never hand our key to a CDN or any other host a result URL points at.
            send_headers = {k: v for k, v in send_headers.items() if k.lower() != "authorization"}
        resp = await transport._open(
            method,
            url,
            params=self.params,
            data=data,
            headers=send_headers,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=remaining, sock_read=self.per_call
            ),
            # aiohttp gives up *at* its ``max_redirects``-th redirect answer: one more, so
            # that ``max_redirects`` redirects are followed, as documented.
            max_redirects=self.max_redirects + 1,
            billable=billable,
        )
        if resp.status >= 300:
            try:
                raw = await resp.read()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                raw = b""
            finally:
                resp.release()
            raise _status_error(
                resp.status, resp.headers, raw, billable, f"{method} {url}",
                transport.not_found_hint,
            )  # fmt: skip
        return resp


@attrs.define
class _RequestAttempt(_Attempt):
    """An attempt of ``Transport.request``: the answer read whole and decoded, or the error
    it means."""

    path: str
    envelope: bool | EnvelopeStyle
    expect: Literal["json", "text", "bytes"]
    timeout: float | None
    probe_path: bool
    job_field: str | None

    async def __call__(self, remaining: float, retries: int) -> Reply:
        """Send the request once and read its answer whole; failures mapped to SDK errors."""
        transport, method, url, billable = self.transport, self.method, self.url, self.billable
        if self.timeout is None and retries == 0:
            attempt_timeout = transport._default_timeout  # the common case: nothing to build
        else:
            attempt_timeout = aiohttp.ClientTimeout(total=remaining)
        data, send_headers = transport._body(self.json_body, self.form, self.headers)
        try:
            # Awaited, then entered: the same as ``async with session.request(...)`` but
            # without the request context manager's own coroutine in flight.
            resp = await transport._get_session().request(
                method, url, params=self.params, data=data, headers=send_headers,
                timeout=attempt_timeout,
            )  # fmt: skip
            async with resp:
                status, resp_headers, raw = resp.status, resp.headers, await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = map_client_error(exc, billable=billable, what=f"{method} {url}")
        else:
            return self._read(status, resp_headers, raw)
        raise failure  # outside the handler, so aiohttp's error is not chained

    def _read(self, status: int, resp_headers: CIMultiDictProxy[str], raw: bytes) -> Reply:
        """The answer as a ``Reply``, or the error it means."""
        method, url, billable = self.method, self.url, self.billable
        if self.probe_path and no_handler_answered(status, resp_headers, raw):
            raise PathNotServedError(
                f"no handler for {method} {self.path} (HTTP {status}, not a JSON answer)",
                status=status,
                request_id=request_id_from(resp_headers),
                body=body_text(raw, resp_headers)[:500],
            )
        if status >= 300:
            raise _status_error(
                status, resp_headers, raw, billable, f"{method} {url}",
                self.transport.not_found_hint,
            )  # fmt: skip
        request_id = request_id_from(resp_headers)
        try:
            decoded = _decode(
                raw, self.expect, self.envelope, resp_headers, request_id, self.job_field
            )
        except ResponseDecodeError as error:
            if billable and not _is_html(resp_headers, raw):
                raise SubmissionUncertainError(
                    f"{method} {url} was answered {status} but the answer could not be "
                    f"read ({error.message}); the request was probably accepted and "
                    "billed, so it was not re-sent",
                    status=status, request_id=request_id, body=error.body,
                ) from error  # fmt: skip
            raise
        note_response(status, resp_headers, request_id)  # the answer the call returns
        return Reply(decoded, request_id, resp_headers, status)


def _describe_reply(reply: Reply) -> tuple[int, str | None]:
    return reply.status, reply.request_id


def _describe_response(response: aiohttp.ClientResponse) -> tuple[int, str | None]:
    return response.status, request_id_from(response.headers)


def _decode(
    raw: bytes,
    expect: str,
    envelope: bool | EnvelopeStyle,
    headers: Mapping[str, str],
    request_id: str | None,
    job_field: str | None = None,
) -> Any:
    if expect == "bytes":
        return raw
    if expect == "text":
        return body_text(raw, headers)
    if envelope == "midjourney" and not raw.strip():
        return None  # midjourney-proxy answers some actions (cancel) with an empty 200
    try:
        body = read_json_answer(raw, headers)
    except ValueError:
        raise _not_json(raw, headers, request_id) from None
    if (
        type(body) is dict
        and body.get("error")
        and "choices" not in body
        and (job_field is None or job_field not in body)
    ):
        # Some upstreams answer an OpenAI error object with status 200 (but a job's status may
        # carry its own failure as an error object: that is the job's outcome).
        raise error_from_event(body, request_id or request_id_from(headers))
    if not envelope:
        return body
    return unwrap_envelope(body, headers, "task" if envelope is True else envelope)


def _is_html(headers: Mapping[str, str], raw: bytes) -> bool:
    if "html" in headers.get(hdrs.CONTENT_TYPE, ""):
        return True
    return raw.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


def _not_json(raw: bytes, headers: Mapping[str, str], request_id: str | None) -> APIError:
    """A 2xx body that is not JSON: a decode error that says what arrived instead."""
    content_type = headers.get(hdrs.CONTENT_TYPE, "")
    if _is_html(headers, raw):
        what = "an HTML page (check the base URL: it should be the API's, not a website's)"
    elif not raw.strip():
        what = "an empty body"
    else:
        sent_as = f" sent as {content_type}" if content_type else ""
        what = f"a body that is not valid JSON{sent_as}: {body_text(raw, headers)[:80]!r}"
    return ResponseDecodeError(
        f"expected a JSON answer, got {what}",
        request_id=request_id,
        body=body_text(raw, headers)[:2000],
    )


def _status_error(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    billable: bool,
    what: str,
    not_found_hint: str = "",
) -> APIError:
    """The error for a non-2xx answer, with the billing rule applied (and, on a 404, the
    transport's ``not_found_hint``).

    A 5xx whose body is not the gateway's JSON error (an HTML or empty page) came from a proxy
    in front of the gateway, which may have passed the request on: for a billable request it
    is ``SubmissionUncertainError``. A 5xx carrying a JSON error body is the gateway's refusal.
    """
    error = error_from_response(status, headers, raw, retry_after=parse_retry_after(headers))
    if status == 404 and not_found_hint:
        error.message += not_found_hint
        error.args = (error.message,)
    if billable and status >= 500 and not isinstance(error.body, Mapping):
        return SubmissionUncertainError(
            f"{what} got HTTP {status} ({error.message}) from a proxy in front of the "
            "gateway; the request may have been accepted and billed, so it was not re-sent",
            status=status, request_id=error.request_id, body=error.body,
        )  # fmt: skip
    return error


_SECRET = re.compile(r"(?i)(bearer\s+|sk-|api[-_]key[=:]\s*)[^\s'\",)>]+")


def _summary(exc: BaseException) -> str:
    """``Type: message`` of a library exception with anything that looks like a key masked.

    Never its repr: aiohttp's ``ClientResponseError`` repr shows the request headers.
    """
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return _SECRET.sub(r"\1***", text)


def map_client_error(exc: BaseException, *, billable: bool, what: str) -> APIConnectionError:
    """The one place aiohttp's exceptions become ours.

    Whether a billable request may have reached the server decides between a plain connection
    error (safe to retry) and ``SubmissionUncertainError`` (never retried blindly): only a
    failure to connect proves it was not sent; a timeout or a drop after that may hide an
    accepted job. The result carries ``cause_summary`` (secrets masked); callers raise it
    outside their ``except`` block so that aiohttp's exception, whose repr shows the request
    headers and so the key, is neither its ``__cause__`` nor its ``__context__``.
    """
    summary = _summary(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"could not connect for {what}: {summary}", request_sent=False, cause_summary=summary
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            f"timed out connecting for {what}", request_sent=False, cause_summary=summary
        )
    timed_out = isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError))
    if billable:
        failed = "timed out" if timed_out else f"failed ({summary})"
        return SubmissionUncertainError(
            f"the exchange {failed} after {what} was sent; "
            "the request may have been accepted and billed, so it was not re-sent",
            request_sent=True,
            cause_summary=summary,
        )
    if timed_out:
        # Only raised when the call's deadline is spent, so it is never retried either way.
        return APITimeoutError(f"{what} timed out", cause_summary=summary)
    return APIConnectionError(f"connection failed during {what}: {summary}", cause_summary=summary)
