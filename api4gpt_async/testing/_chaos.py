"""A fault-injecting HTTP proxy, to put in front of the emulator (or any server) in tests.

``ChaosProxy(upstream)`` listens on the loopback and forwards every request to ``upstream``;
a seeded share of them (``rate``, 5 % by default) gets one of the faults below instead of the
plain answer. Faults marked *after* forward the request first, so the server did the work (and
billed it) but the client never gets a proper answer: the cases that must end in
``SubmissionUncertainError`` for a billable request, and in a retry for an idempotent one.

===================  ==========================================================================
fault                what the client sees
===================  ==========================================================================
``html_5xx_before``  a 502/503/504 HTML page from "the proxy"; nothing forwarded
``html_5xx_after``   the same, after the upstream answered
``rate_limit``       429 with ``Retry-After`` (``retry_after`` seconds); nothing forwarded
``drop_before``      the connection closed without an answer; nothing forwarded
``drop_after``       the same, after the upstream answered
``truncated``        the upstream's status and headers, then the body cut short (its
                     ``Content-Length`` still promises the whole) and the connection closed
``malformed``        the upstream's status and headers with an unreadable body
``invalid_http``     ``HTTP/1.1 2OO OK``: a status line that is not HTTP
``slow``             the upstream's answer ``slow`` seconds late (past the client's timeout)
``ping_stall``       streams only: the first events, then ``: PING`` comments every
                     ``ping_every`` seconds for ``slow`` seconds, then the connection closed
``download_cut``     media downloads only (a GET answered with an image, video, audio or
                     octet-stream body): the file cut short, connection closed
===================  ==========================================================================

URLs of the upstream inside answers (media links) are rewritten to point at the proxy, so
downloads go through it too. :attr:`ChaosProxy.injected` counts the faults dealt by kind and
:attr:`ChaosProxy.log` lists each one with its path. :meth:`ChaosProxy.force` deals a chosen
fault to the next matching requests (for tests that want one exact case).
"""

from __future__ import annotations

import asyncio
import collections
import random
import typing
from collections.abc import Collection, Mapping
from typing import Final, Literal

import aiohttp
import attrs
from aiohttp import web

__all__ = ["ALL_FAULTS", "ChaosProxy", "FaultKind", "InjectedFault"]

FaultKind = Literal[
    "html_5xx_before",
    "html_5xx_after",
    "rate_limit",
    "drop_before",
    "drop_after",
    "truncated",
    "malformed",
    "invalid_http",
    "slow",
    "ping_stall",
    "download_cut",
]

#: Every fault kind, in the order of the table above.
ALL_FAULTS: Final[tuple[FaultKind, ...]] = typing.get_args(FaultKind)

#: Faults dealt before anything reaches the upstream.
BEFORE_FORWARDING: Final = frozenset({"html_5xx_before", "rate_limit", "drop_before"})

_STREAM_ONLY: Final = frozenset({"ping_stall"})
_DOWNLOAD_ONLY: Final = frozenset({"download_cut"})
_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "host",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
_HTML_PAGE: Final = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS: Final = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


@attrs.frozen(kw_only=True)
class InjectedFault:
    """One fault the proxy dealt: its kind, the request's method and path, and whether the
    request reached the upstream (and what the upstream answered, 0 if it did not)."""

    kind: FaultKind
    method: str
    path: str
    forwarded: bool
    upstream_status: int = 0


@attrs.define(eq=False)
class _Forced:
    kind: FaultKind
    path_prefix: str | None
    times: int


class ChaosProxy:
    """A fault-injecting proxy on ``127.0.0.1`` in front of ``upstream``.

    Args:
        upstream: the server's root URL, e.g. ``emu.base_url``.
        rate: the share of requests (0–1) that get a fault; each applicable kind is equally
            likely. Streams are also open to ``ping_stall`` and downloads to ``download_cut``.
        seed: seeds the fault draw (the order requests arrive in still varies under load).
        faults: the kinds to deal (default: every kind).
        slow: seconds a ``slow`` answer is held back, and a ``ping_stall`` lasts; set it past
            the client's timeout.
        ping_every: seconds between ``: PING`` comments of a ``ping_stall``.
        retry_after: the ``Retry-After`` of a ``rate_limit`` fault, in seconds.
        port: the port to listen on (0 picks a free one).

    Use it as ``async with ChaosProxy(emu.base_url) as proxy:`` and point the client at
    :attr:`base_url`.
    """

    def __init__(
        self,
        upstream: str,
        *,
        rate: float = 0.05,
        seed: int | None = 0,
        faults: Collection[FaultKind] = ALL_FAULTS,
        slow: float = 3.0,
        ping_every: float = 0.2,
        retry_after: float = 0.05,
        port: int = 0,
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        unknown = set(faults) - set(ALL_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.upstream = upstream.rstrip("/")
        self.rate = rate
        self.faults: tuple[FaultKind, ...] = tuple(k for k in ALL_FAULTS if k in faults)
        self.slow = slow
        self.ping_every = ping_every
        self.retry_after = retry_after
        self._port = port
        self._random = random.Random(seed)
        self._forced: list[_Forced] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url: str | None = None
        self._stopping: asyncio.Event | None = None
        #: How many faults of each kind were dealt.
        self.injected: collections.Counter[str] = collections.Counter()
        #: Every fault dealt, in order.
        self.log: list[InjectedFault] = []
        #: How many requests arrived.
        self.requests = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; :attr:`base_url` is valid afterwards."""
        if self._runner is not None:
            raise RuntimeError("the proxy is already running")
        self._stopping = asyncio.Event()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            await self._session.close()
            raise
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop listening and close the way upstream. Calling it again does nothing."""
        runner, self._runner = self._runner, None
        self._base_url = None
        if self._stopping is not None:
            self._stopping.set()
        if runner is not None:
            await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> ChaosProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: where clients should send their requests."""
        if self._base_url is None:
            raise RuntimeError("the proxy is not running")
        return self._base_url

    # -- choosing faults -----------------------------------------------------------------------

    def force(self, kind: FaultKind, *, path_prefix: str | None = None, times: int = 1) -> None:
        """Deal ``kind`` to the next ``times`` requests it applies to whose path starts with
        ``path_prefix`` (any path when None), whatever the rate."""
        if kind not in ALL_FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self._forced.append(_Forced(kind, path_prefix, times))

    def _choose(
        self,
        path: str,
        is_stream: bool,
        is_download: bool,
        only: Collection[str] | None = None,
    ) -> FaultKind | None:
        for forced in self._forced:
            if forced.path_prefix is not None and not path.startswith(forced.path_prefix):
                continue
            if not _applies(forced.kind, is_stream, is_download):
                continue
            if only is not None and forced.kind not in only:
                continue
            forced.times -= 1
            if forced.times == 0:
                self._forced.remove(forced)
            return forced.kind
        if self.rate == 0 or self._random.random() >= self.rate:
            return None
        kinds: list[FaultKind] = [
            k
            for k in self.faults
            if _applies(k, is_stream, is_download) and (only is None or k in only)
        ]
        return self._random.choice(kinds) if kinds else None

    # -- the handler ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        is_stream = b'"stream": true' in body or b'"stream":true' in body
        kind = self._choose(request.path, is_stream, is_download=False)
        if kind is None:
            return await self._forward(request, body)
        if kind in BEFORE_FORWARDING:
            self._record(kind, request, forwarded=False)
            if kind == "html_5xx_before":
                return self._html_error()
            if kind == "rate_limit":
                return web.json_response(
                    {"error": {"message": "too many requests", "type": "proxy_error"}},
                    status=429,
                    headers={"Retry-After": str(self.retry_after)},
                )
            return _drop(request)
        return await self._forward(request, body, fault=kind)

    def _record(
        self, kind: FaultKind, request: web.Request, *, forwarded: bool, status: int = 0
    ) -> None:
        self.injected[kind] += 1
        self.log.append(
            InjectedFault(
                kind=kind,
                method=request.method,
                path=request.path,
                forwarded=forwarded,
                upstream_status=status,
            )
        )

    def _html_error(self) -> web.Response:
        status = self._random.choice(tuple(_REASONS))
        page = _HTML_PAGE.format(status=status, reason=_REASONS[status])
        return web.Response(text=page, status=status, content_type="text/html")

    async def _forward(
        self, request: web.Request, body: bytes, *, fault: FaultKind | None = None
    ) -> web.StreamResponse:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        url = self.upstream + request.rel_url.raw_path_qs
        try:
            async with self._session.request(
                request.method,
                url,
                data=body or None,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None),
            ) as upstream:
                out_headers = _response_headers(upstream.headers)
                if upstream.content_type == "text/event-stream":
                    return await self._relay_stream(request, upstream, out_headers, fault)
                raw = await upstream.read()
                status = upstream.status
        except aiohttp.ClientError:
            return web.Response(status=502, text="upstream unreachable")
        raw = self._rewrite(raw)
        if fault is None and request.method == "GET" and _is_media(out_headers):
            # Whether a GET is a download shows in its answer: a second draw, downloads only.
            fault = self._choose(
                request.path, is_stream=False, is_download=True, only=_DOWNLOAD_ONLY
            )
        if fault is not None:
            self._record(fault, request, forwarded=True, status=status)
            return await self._spoil(request, fault, status, out_headers, raw)
        return web.Response(body=raw, status=status, headers=out_headers)

    def _rewrite(self, raw: bytes) -> bytes:
        """Point the upstream's own URLs in an answer at the proxy."""
        upstream = self.upstream.encode()
        if upstream in raw and self._base_url is not None:
            raw = raw.replace(upstream, self._base_url.encode())
        return raw

    async def _spoil(
        self,
        request: web.Request,
        fault: FaultKind,
        status: int,
        headers: Mapping[str, str],
        raw: bytes,
    ) -> web.StreamResponse:
        """The answer ``raw`` as the fault ``fault`` delivers it."""
        if fault == "html_5xx_after":
            return self._html_error()
        if fault == "drop_after":
            return _drop(request)
        if fault in ("truncated", "download_cut"):
            return await _cut(request, status, headers, raw, at=len(raw) // 2)
        if fault == "malformed":
            garbage = b'{"not json' + raw[: len(raw) // 3]
            return web.Response(body=garbage, status=status, headers=headers)
        if fault == "invalid_http":
            transport = request.transport
            if transport is not None:
                transport.write(
                    b"HTTP/1.1 2OO OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(raw)}\r\n\r\n".encode()
                    + raw
                )
                transport.close()
            return web.Response(status=204)
        # slow
        await self._wait(self.slow)
        return web.Response(body=raw, status=status, headers=headers)

    async def _relay_stream(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        headers: Mapping[str, str],
        fault: FaultKind | None,
    ) -> web.StreamResponse:
        if fault is None or fault in ("slow", "ping_stall"):
            if fault is not None:
                self._record(fault, request, forwarded=True, status=upstream.status)
            if fault == "slow":
                await self._wait(self.slow)
            response = web.StreamResponse(status=upstream.status, headers=headers)
            await response.prepare(request)
            if fault == "ping_stall":
                # The first event only, then keep-alive comments and no more events.
                raw = await upstream.read()
                end = raw.find(b"\n\n")
                await response.write(self._rewrite(raw[: end + 2 if end >= 0 else 0]))
                await self._ping(response)
                _close(request)
                return response
            async for chunk in upstream.content.iter_any():
                await response.write(self._rewrite(chunk))
            await response.write_eof()
            return response
        raw = await upstream.read()
        self._record(fault, request, forwarded=True, status=upstream.status)
        return await self._spoil(request, fault, upstream.status, headers, raw)

    async def _ping(self, response: web.StreamResponse) -> None:
        """``: PING`` comments every ``ping_every`` seconds for ``slow`` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.slow
        while loop.time() < end:
            await response.write(b": PING\n\n")
            if await self._wait(self.ping_every):
                return

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if the proxy stops; True if it stopped."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True


def _applies(kind: FaultKind, is_stream: bool, is_download: bool) -> bool:
    if kind in _STREAM_ONLY:
        return is_stream
    if kind in _DOWNLOAD_ONLY:
        return is_download
    return True


def _is_media(headers: Mapping[str, str]) -> bool:
    kind = headers.get("Content-Type", "").split(";")[0].strip().lower()
    return kind.startswith(("image/", "video/", "audio/")) or kind == "application/octet-stream"


def _response_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}


def _close(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


def _drop(request: web.Request) -> web.Response:
    _close(request)
    return web.Response(status=204)  # sending it fails quietly on the closed transport


async def _cut(
    request: web.Request, status: int, headers: Mapping[str, str], raw: bytes, *, at: int
) -> web.StreamResponse:
    """The status, headers (with the whole ``Content-Length``) and ``at`` body bytes, then the
    connection closed."""
    cut = web.StreamResponse(status=status, headers=headers)
    cut.content_length = len(raw)
    await cut.prepare(request)
    await cut.write(raw[:at])
    _close(request)
    return cut
