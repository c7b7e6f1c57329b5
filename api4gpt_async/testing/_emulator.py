"""The emulator core: server lifecycle, task clock, auth, fault injection and request log.

Route families (Luma, and later chat, Suno, Midjourney…) live in their own modules. Each one
exposes a *registrar*, ``register(emu: Emulator, app: web.Application) -> None``, that adds
*named* routes (``"luma.generate"``, ``"lumvip.task"``…) to ``app``; the route name is what
:class:`RecordedRequest.route`, :meth:`Emulator.count` and :meth:`Emulator.fail` refer to, and
:attr:`Emulator.routes` lists them all, read from the application the registrars build (so a
name given to ``count`` or ``fail`` is checked against what is really served). To add a family,
write its module and append its registrar to :data:`FAMILIES`.

What a family module may use besides the public API:

- the task family kit :mod:`._jobs` (job stores, lifecycles, status routes) and the request
  checks of :mod:`._validate`;
- ``emu.now`` — the task clock (lifecycles must read only this);
- ``emu.duration(family)`` — how long that family's jobs take (``Emulator(durations=...)``);
- ``emu.file_url(name)`` — the URL of a media file served by the ``files`` route;
- ``emu._family_state(Factory)`` — a per-emulator state object (kept across restarts);
- ``emu._request_id(request)`` — the request id, for error messages that quote it;
- the response helpers of :mod:`._http`.

Every request goes through one middleware, in this order:

1. it gets a request id (``X-Oneapi-Request-Id`` on every answer) and its body is read;
2. it is appended to :attr:`Emulator.requests` — always, whatever comes next, and at once, so
   that a test sees it while a fault ``delay`` or a slow handler still holds the answer back;
   its ``status`` is 0 until the answer's status line goes out;
3. **faults** armed with :meth:`Emulator.fail` for its route name or path answer it — before
   authentication, like a proxy or load balancer in front of the gateway would;
4. unknown paths (and known paths with a wrong method) get the gateway's 404;
5. **authentication** (every route but ``files``) answers 401 on a missing or wrong key;
6. a request naming a **model** the emulator does not serve gets the gateway's 503
   ``model_not_found`` (see :mod:`._model_names`; extend the list with ``models=`` or
   :meth:`Emulator.accept_models`);
7. the route handler answers, and the log entry gets the status answered (a dropped
   connection, or a client that went away first, leaves it 0).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from . import (
    _admin,
    _digital_human,
    _luma,
    _magic,
    _media,
    _midjourney,
    _multipart,
    _openai_media,
    _openai_text,
    _suno,
    _zhipu,
)
from ._http import REQUEST_ID_HEADER, default_error_body, json_response, openai_error
from ._model_names import MODEL_ROUTES, ModelNames
from ._routes import route_table, unknown_route
from ._task_record import CLOCK_EPOCH

if TYPE_CHECKING:
    from .. import AsyncAPI4GPT

__all__ = [
    "ANONYMOUS_ROUTES",
    "FAMILIES",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "Registrar",
]

_log = logging.getLogger("api4gpt_async.testing")

_T = TypeVar("_T")

#: A route family: adds its named routes to the application being built.
Registrar = Callable[["Emulator", web.Application], None]

#: The route families the emulator serves, registered in this order at every start.
FAMILIES: Final[tuple[Registrar, ...]] = (
    _luma.register,
    _openai_text.register,
    _openai_media.register,
    _midjourney.register,
    _suno.register,
    _zhipu.register,
    _digital_human.register,
    _admin.register,
)

#: Routes that need no ``Authorization`` (the media files, like a CDN).
ANONYMOUS_ROUTES: Final = frozenset({"files", "midjourney.image"})

#: Header names whose values are masked in the request log.
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "mj-api-secret"}
)

#: Largest request body accepted (uploads for image edits and transcriptions are big).
_MAX_BODY: Final = 64 * 1024 * 1024

#: Longest a stop waits for in-flight handlers (fault delays are woken up at stop anyway).
_SHUTDOWN_TIMEOUT: Final = 1.0


# --------------------------------------------------------------------------- request log


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the emulator received, as seen on the wire (secrets masked).

    Attributes:
        method: HTTP method, e.g. ``"POST"``.
        path: URL path, decoded, e.g. ``"/luma/task"`` (``/suno/fetch/a/b`` for an id ``a/b``).
        raw_path: the path as sent, percent-encoding kept (``/suno/fetch/a%2Fb``).
        route: name of the matched route (``"luma.generate"``…, one of
            :attr:`Emulator.routes`), None if no route matched.
        query: query parameters (the last value wins for repeated names).
        headers: request headers; ``Authorization`` and other key headers are masked
            (``"Bearer sk-e***"``).
        body: the raw body (multipart bodies included).
        status: the status answered; 0 when no answer was sent (dropped connection, or the
            client went away first), and while the answer is still to come: a request is
            logged when it arrives, and its status filled in when it is answered.
        at: the emulator clock (:attr:`Emulator.now`) when the request arrived.
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    at: float
    raw_path: str = ""

    @property
    def json(self) -> Any:
        """The body parsed as JSON (parsed on each access), or None if it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def form(self) -> _multipart.Form:
        """The ``multipart/form-data`` body as fields, in order; repeated names keep each value.

        Text parts are ``str``; file parts are :class:`~api4gpt_async.FormFile` (``filename``,
        exact ``content`` bytes, ``content_type``). Read one with ``form["prompt"]``, all of a
        repeated name with ``form.getall("image[]")``.

        Raises:
            ValueError: if the body is not a complete multipart/form-data body.
        """
        return _multipart.parse_form(self.body, _multipart.content_type_of(self.headers))

    def _answered(self, status: int) -> None:
        """Fill in the status: the entry is logged on arrival, before its answer exists, and
        stays read-only to its readers."""
        object.__setattr__(self, "status", status)


def _mask_secret(value: str) -> str:
    """``"Bearer sk-emulator"`` → ``"Bearer sk-e***"``; short tokens are hidden entirely."""
    scheme, space, token = value.partition(" ")
    if not space:
        scheme, token = "", value
    shown = token[:4] if len(token) > 8 else ""
    return f"{scheme}{space}{shown}***"


# --------------------------------------------------------------------------- faults


@attrs.define(kw_only=True, eq=False, on_setattr=attrs.setters.frozen)
class Fault:
    """An armed fault: the next ``times`` matching requests get this answer instead.

    Returned by :meth:`Emulator.fail`, :meth:`Emulator.rate_limit` and :meth:`Emulator.delay`;
    its configuration is read-only and :attr:`hits` counts the requests it answered.

    Attributes:
        target: a route name (``"luma.task"``) or a URL path (``"/luma/task"``).
        status: status to answer; None lets the real handler answer (after ``delay``).
        body: dict/list → JSON, str → ``text/plain``, bytes → as is, None → the gateway's
            default error JSON for ``status``.
        headers: extra response headers (a ``Content-Type`` here wins).
        delay: real seconds to wait before answering (or dropping).
        drop: close the connection without any answer.
        truncate_at: let the route answer, but close the connection after this many body
            bytes (its ``Content-Length`` still promises the whole body).
        stall: with ``truncate_at``, real seconds to wait after those bytes before closing.
        times: how many requests it answers; None = until :meth:`Emulator.clear_faults`.
    """

    target: str
    status: int | None = 500
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    drop: bool = False
    truncate_at: int | None = None
    stall: float = 0.0
    times: int | None = 1
    _hits: int = attrs.field(default=0, init=False, on_setattr=attrs.setters.NO_OP)

    @property
    def hits(self) -> int:
        """How many requests this fault has answered so far."""
        return self._hits

    @property
    def remaining(self) -> int | None:
        """How many more requests it will answer (None: unlimited)."""
        return None if self.times is None else self.times - self._hits

    @property
    def active(self) -> bool:
        """Whether it still answers requests."""
        return self.times is None or self._hits < self.times

    def _consume(self) -> None:
        self._hits += 1

    def _response(self, request_id: str) -> web.Response:
        assert self.status is not None
        body: Any = self.body
        if body is None:
            body = default_error_body(self.status, request_id)
        if isinstance(body, (dict, list)):
            response = json_response(body, status=self.status)
        elif isinstance(body, str):
            response = web.Response(text=body, status=self.status)
        else:
            response = web.Response(
                body=bytes(body), status=self.status, content_type="application/octet-stream"
            )
        response.headers.update(self.headers)
        return response


def _check_body(body: Any) -> None:
    if body is None or isinstance(body, (str, bytes, bytearray, memoryview)):
        return
    if isinstance(body, (dict, list)):
        json.dumps(body)  # fail now, not in the middle of a request
        return
    raise TypeError(f"fault body must be dict, list, str, bytes or None, not {type(body)!r}")


def _format_retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(float(seconds))


# --------------------------------------------------------------------------- the emulator

#: Emulator seconds from a submit until a job ends, for a family without its own duration.
DEFAULT_DURATION: Final = 12.0


class Emulator:
    """An in-process fake of the API4GPT service, served by ``aiohttp.web`` on the loopback.

    Use it as ``async with Emulator() as emu:`` (or :meth:`start` / :meth:`stop`) and point a
    client at :attr:`base_url` with :attr:`api_key`. Task lifecycles run on the emulator's own
    clock :attr:`now`; with ``time_scale=0`` it stands still and only :meth:`advance` moves it.
    Requests are logged in :attr:`requests`; :meth:`count` and :meth:`fail` take a route name
    from :attr:`routes` (an unknown one raises ``ValueError``) or a URL path.

    Args:
        api_key: the key clients must send as ``Authorization: Bearer <key>``; a leading
            ``sk-`` is ignored on both sides, like the gateway does.
        time_scale: emulator seconds per real second (0 freezes the clock).
        host: interface to listen on.
        port: TCP port; 0 picks a free one.
        durations: emulator seconds from a submit until the job ends, per task family
            (``{"luma": 30}``; both Luma flavours read ``"luma"``); a family not listed takes
            :data:`DEFAULT_DURATION`.
        luma_duration: the same as ``durations={"luma": …}`` (kept as an alias).
        models: model names served besides :data:`~._model_names.DEFAULT_MODELS` (a trailing
            ``*`` accepts any suffix); any other name gets the gateway's 503
            ``model_not_found``.

    Time left (``estimate_wait_seconds``) is reported in real seconds when the clock runs: a
    12 s job on ``time_scale=6`` says 2 s, so clients poll as fast as the clock goes.

    Magic words in a prompt make it misbehave on purpose; they are bracketed, so ordinary
    words such as "failing" never trigger them:

    - :attr:`FAIL` ``"[fail]"``: a job whose prompt carries it ends ``failed``;
    - :attr:`REFUSE` ``"[refuse]"``: a chat reply is a refusal;
    - :attr:`STREAM_ERROR` ``"[stream-error]"``: a stream ends with an error event, no ``[DONE]``;
    - :attr:`STREAM_CUT` ``"[stream-cut]"``: a stream ends early without ``[DONE]``;
    - :attr:`HUGE` ``"[huge]"``: a ~3 MB reply, streamed as one event;
    - :attr:`SLOW` ``"[slow]"``: an image route first sends two ``102 Processing`` answers.
    """

    FAIL: Final = _magic.FAIL
    REFUSE: Final = _magic.REFUSE
    STREAM_ERROR: Final = _magic.STREAM_ERROR
    STREAM_CUT: Final = _magic.STREAM_CUT
    HUGE: Final = _magic.HUGE
    SLOW: Final = _magic.SLOW

    def __init__(
        self,
        *,
        api_key: str = "sk-emulator",
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        durations: Mapping[str, float] | None = None,
        luma_duration: float | None = None,
        models: Iterable[str] = (),
    ) -> None:
        if not api_key.removeprefix("sk-"):
            raise ValueError("api_key must not be empty")
        if time_scale < 0:
            raise ValueError("time_scale must not be negative")
        if luma_duration is not None and luma_duration < 0:
            raise ValueError("luma_duration must not be negative")
        for family, seconds in (durations or {}).items():
            if seconds < 0:
                raise ValueError(f"durations[{family!r}] must not be negative")
        self._api_key = api_key
        self._bare_key = api_key.removeprefix("sk-")
        self._host = host
        self._port = port
        #: Emulator seconds from a submit until the job ends, per family; may be changed at
        #: any time (read by :meth:`duration`).
        self.durations: dict[str, float] = {"luma": DEFAULT_DURATION, **(durations or {})}
        if luma_duration is not None:
            self.durations["luma"] = luma_duration
        self._models = ModelNames()
        self._models.add(models)
        #: Every request received, oldest first, logged as it arrives: one still waiting for
        #: its answer (a fault ``delay``, a slow handler) is here with ``status`` 0.
        self.requests: list[RecordedRequest] = []

        self._time_scale = float(time_scale)
        self._clock_offset = 0.0
        self._clock_origin = time.monotonic()

        self._rid_prefix = _dt.datetime.now().strftime("%Y%m%d%H%M%S%f")
        self._rid_counter = itertools.count(1)
        self._live_rids: dict[int, str] = {}  # id(request) -> request id, while handled
        self._live_records: dict[int, RecordedRequest] = {}  # id(request) -> its log entry

        self._faults: list[Fault] = []
        self._routes: Mapping[str, str] | None = None  # read from the app built (see routes)
        self._sleepers: set[asyncio.Future[None]] = set()
        self._states: dict[object, object] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:
        where = self._base_url if self._base_url is not None else "stopped"
        return f"<Emulator {where}>"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving; :attr:`base_url` is valid afterwards.

        Raises:
            RuntimeError: if it is already running.
        """
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = self._build_app()
        self._routes = route_table(app)
        runner = web.AppRunner(
            app,
            access_log=None,
            handler_cancellation=True,  # a client that goes away cancels its handler
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            port = runner.addresses[0][1]
        except BaseException:
            await runner.cleanup()
            raise
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._runner = runner
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop serving and release the socket. Calling it again does nothing.

        Requests still waiting out a fault ``delay`` are answered at once.
        """
        runner, self._runner = self._runner, None
        self._base_url = None
        if runner is None:
            return
        for sleeper in self._sleepers:
            if not sleeper.done():
                sleeper.set_result(None)
        await runner.cleanup()

    async def serve_forever(self) -> None:
        """Start, serve until cancelled, then stop (used by ``api4gpt emulator``)."""
        await self.start()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.stop()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._runner is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash).

        Raises:
            RuntimeError: if the emulator is not running.
        """
        if self._base_url is None:
            raise RuntimeError("the emulator is not running; use 'async with Emulator()'")
        return self._base_url

    @property
    def api_key(self) -> str:
        """The key clients must send."""
        return self._api_key

    def client(self, **overrides: Any) -> AsyncAPI4GPT:
        """An ``AsyncAPI4GPT`` for this emulator, tuned for tests: it polls every few
        milliseconds and retries without real back-off, so a test moves the clock with
        :meth:`advance` and never waits. Keywords override any client option::

            async with Emulator(time_scale=0) as emu, emu.client() as client:
                job = await client.luma.generate("a test")
                emu.advance(60)
                await job.wait()
        """
        from .. import AsyncAPI4GPT, PollPolicy, RetryPolicy

        options: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "poll": PollPolicy(
                initial_delay=0.001, multiplier=2, max_delay=0.01, jitter=0, timeout=30
            ),
            "retry": RetryPolicy(initial_delay=0.001, max_delay=0.005),
            "timeout": 30,
            **overrides,
        }
        return AsyncAPI4GPT(**options)

    def file_url(self, name: str) -> str:
        """The URL at which the emulator serves the media file ``name`` (e.g. ``"x.mp4"``)."""
        return f"{self.base_url}/files/{name}"

    def accept_models(self, *names: str) -> None:
        """Serve these model names too (a trailing ``*`` accepts any suffix)."""
        self._models.add(names)

    # ------------------------------------------------------------------ clock

    def duration(self, family: str) -> float:
        """Emulator seconds from a ``family`` submit until the job ends."""
        return self.durations.get(family, DEFAULT_DURATION)

    @property
    def luma_duration(self) -> float:
        """Emulator seconds from a Luma submit until it ends (``durations["luma"]``)."""
        return self.duration("luma")

    @luma_duration.setter
    def luma_duration(self, value: float) -> None:
        self.durations["luma"] = value

    @property
    def midjourney(self) -> _midjourney.MidjourneySettings:
        """The Midjourney switches: banned words, queue full, remix, a stock gateway's HTML
        answers, notify hooks (see :class:`~._midjourney.MidjourneySettings`)."""
        return _midjourney.settings(self)

    @property
    def now(self) -> float:
        """The task clock in seconds: manual advances + real elapsed time × ``time_scale``."""
        return self._clock_offset + (time.monotonic() - self._clock_origin) * self._time_scale

    @property
    def time_scale(self) -> float:
        """Emulator seconds per real second; may be changed at any time (0 freezes the clock)."""
        return self._time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ValueError("time_scale must not be negative")
        self._clock_offset = self.now
        self._clock_origin = time.monotonic()
        self._time_scale = float(value)

    def advance(self, seconds: float) -> None:
        """Move the task clock forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        self._clock_offset += seconds

    def client_seconds(self, seconds: float) -> int:
        """An emulator duration as clients should read it (an ETA): real seconds, rounded up.

        Divided by :attr:`time_scale` when the clock runs; unchanged when it is frozen (0).
        """
        scaled = seconds / self._time_scale if self._time_scale > 0 else seconds
        return max(1, math.ceil(round(scaled, 6))) if seconds > 0 else 0

    def timestamp(self, at: float | None = None) -> str:
        """``at`` (default: :attr:`now`) as an ISO-8601 UTC string like the service's
        ``created_at`` (``2024-07-05T14:28:26.000000Z``), counted from :data:`CLOCK_EPOCH`."""
        instant = CLOCK_EPOCH + _dt.timedelta(seconds=self.now if at is None else at)
        return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    # ------------------------------------------------------------------ route names

    @property
    def routes(self) -> Mapping[str, str]:
        """Every route name served, mapped to its method and path (read-only), e.g.
        ``emu.routes["suno.fetch_many"] == "POST /suno/fetch"``.

        These are the names :meth:`count`, :meth:`fail`, :meth:`rate_limit`, :meth:`delay` and
        :attr:`RecordedRequest.route` use; they are read from the routes the families register,
        so the list cannot drift from what is served. A path shows its variable parts in
        braces (``GET /suno/fetch/{id}``); Midjourney's ``{mode}`` is empty or one of
        ``mj-fast/``, ``mj-relax/``, ``mj-turbo/``. A ``GET`` route answers ``HEAD`` too.
        """
        if self._routes is None:  # not started yet: build the app only to read its routes
            self._routes = route_table(self._build_app())
        return self._routes

    def _target(self, target: str) -> str:
        """``target`` if it is a route name or a URL path, else a ``ValueError`` that names the
        closest route names: a misspelt name would otherwise count 0 and never fire."""
        if not target:
            raise ValueError("target must be a route name or a path")
        routes = self.routes
        if target in routes:
            return target
        if not target.startswith("/"):
            raise ValueError(unknown_route(target, routes))
        templates = [name for name, route in routes.items() if route.endswith(f" {target}")]
        if "{" in target and templates:  # "/suno/fetch/{id}": no request has this path
            raise ValueError(
                f"{target!r} is the path pattern of the route {templates[0]!r}, not a path a "
                f"request has: give the route name, or a path with the id filled in"
            )
        return target

    # ------------------------------------------------------------------ request log

    def count(self, route: str) -> int:
        """How many logged requests have this route name, or this path, answered or not
        (a request is logged as it arrives).

        Raises:
            ValueError: if ``route`` is neither a route name (see :attr:`routes`) nor a path.
        """
        route = self._target(route)
        return sum(1 for r in self.requests if r.route == route or r.path == route)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.requests.clear()

    # ------------------------------------------------------------------ faults

    def fail(
        self,
        target: str,
        *,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
        truncate_at: int | None = None,
        stall: float = 0.0,
        times: int | None = 1,
    ) -> Fault:
        """Answer the next ``times`` requests for ``target`` with an error instead.

        Args:
            target: a route name (``"luma.generate"``, one of :attr:`routes`) or a URL path
                (``"/luma/generations"``).
            status: the HTTP status to answer.
            body: dict/list → JSON; str → ``text/plain`` (set ``headers={"Content-Type":
                "text/html"}`` for an HTML error page); bytes → as is; None → the gateway's
                default error JSON for ``status``, e.g. 500 ``{"error": {"message": "do
                request failed (request id: …)", "type": "new_api_error", "code":
                "do_request_failed"}}``.
            headers: extra response headers.
            delay: real seconds to wait before answering (for client timeout tests); the
                request is in :attr:`requests` (and :meth:`count`) meanwhile, with status 0.
            drop: read the request, then close the connection without answering; the client
                sees ``aiohttp.ServerDisconnectedError``. Note that aiohttp clients silently
                retry an idempotent request (GET…) once after such a disconnect, so drop a
                GET ``times=2`` for the error to reach the caller.
            truncate_at: instead of an error, let the route answer as usual but close the
                connection after this many bytes of the body (headers, ``Content-Length``
                included, are sent whole): a download cut short. ``status`` and ``body`` are
                then unused.
            stall: with ``truncate_at``, wait this many real seconds after the bytes sent
                before closing: a body stalled mid-way (for read-timeout tests).
            times: how many requests to answer; None until :meth:`clear_faults`.

        Faults are checked before authentication, in the order they were armed; each request
        is answered by the first active fault that matches it.

        Raises:
            ValueError: if ``target`` is neither a route name nor a path (the message names
                the closest route names), or another argument is out of range.
        """
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        _check_body(body)
        if (truncate_at is not None and truncate_at < 0) or stall < 0:
            raise ValueError("truncate_at and stall must not be negative")
        return self._arm(
            Fault(
                target=target,
                status=None if truncate_at is not None else status,
                truncate_at=truncate_at,
                stall=stall,
                body=body,
                headers=dict(headers or {}),
                delay=delay,
                drop=drop,
                times=times,
            )
        )

    def rate_limit(self, target: str, *, retry_after: float = 1.0, times: int | None = 1) -> Fault:
        """Answer the next ``times`` requests for ``target`` with the gateway's 429.

        The answer carries ``Retry-After`` (whole seconds as an integer string) and
        ``{"error": {"message": "当前分组上游负载已饱和，请稍后再试 (request id: …)",
        "type": "new_api_error", "code": "rate_limit_exceeded"}}``.
        """
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        return self.fail(
            target,
            status=429,
            headers={"Retry-After": _format_retry_after(retry_after)},
            times=times,
        )

    def delay(self, target: str, seconds: float, *, times: int | None = 1) -> Fault:
        """Make the next ``times`` requests for ``target`` wait ``seconds`` of real time,
        then answer them normally (they are in :attr:`requests` meanwhile, with status 0)."""
        return self._arm(Fault(target=target, status=None, delay=seconds, times=times))

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still armed, in the order they apply."""
        return list(self._faults)

    def _arm(self, fault: Fault) -> Fault:
        self._target(fault.target)
        if fault.delay < 0:
            raise ValueError("delay must not be negative")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (or None for unlimited)")
        self._faults.append(fault)
        return fault

    def _take_fault(self, route: str | None, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.target == path or (route is not None and fault.target == route):
                fault._consume()
                if not fault.active:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ for family modules

    def _family_state(self, factory: Callable[[], _T]) -> _T:
        """The state object of a family, created by ``factory()`` on first use."""
        try:
            state = self._states[factory]
        except KeyError:
            state = self._states[factory] = factory()
        return state  # type: ignore[return-value]

    def _request_id(self, request: web.BaseRequest) -> str:
        """The id of a request being handled."""
        return self._live_rids.get(id(request), "")

    # ------------------------------------------------------------------ the application

    def _build_app(self) -> web.Application:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._handle(request, handler)

        app = web.Application(middlewares=[middleware], client_max_size=_MAX_BODY)
        app.on_response_prepare.append(self._on_response_prepare)
        app.router.add_get("/files/{name}", _media.serve_file, name="files")
        for register in FAMILIES:
            register(self, app)
        return app

    async def _on_response_prepare(
        self, request: web.Request, response: web.StreamResponse
    ) -> None:
        # Streamed answers are prepared inside their handler: give them the request id too,
        # and log their status now, as it goes out (the stream may take a while).
        rid = self._live_rids.get(id(request))
        if rid is not None and REQUEST_ID_HEADER not in response.headers:
            response.headers[REQUEST_ID_HEADER] = rid
        record = self._live_records.get(id(request))
        if record is not None:
            record._answered(response.status)

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = f"{self._rid_prefix}{next(self._rid_counter):08d}"
        at = self.now
        route = request.match_info.route.name
        key = id(request)
        self._live_rids[key] = rid
        record: RecordedRequest | None = None
        try:
            try:
                body = await request.read()
            except web.HTTPException as exc:  # e.g. 413, body over client_max_size
                record = self._log(request, route, b"", at)
                response: web.StreamResponse | None = _http_error(exc, rid)
            else:
                record = self._live_records[key] = self._log(request, route, body, at)
                response = await self._answer(request, handler, route, rid)
            if response is None:  # drop: close the connection, answer nothing
                transport = request.transport
                if transport is not None:
                    transport.close()
                # aiohttp's attempt to send this fails quietly on the closed transport.
                return web.Response(status=204)
            record._answered(response.status)
            if not response.prepared and REQUEST_ID_HEADER not in response.headers:
                response.headers[REQUEST_ID_HEADER] = rid
            return response
        finally:
            del self._live_rids[key]
            self._live_records.pop(key, None)
            if record is None:  # its body could not be read: the client went away
                self._log(request, route, b"", at)

    def _log(
        self, request: web.Request, route: str | None, body: bytes, at: float
    ) -> RecordedRequest:
        """Append a request to :attr:`requests` as it arrives, its status still 0."""
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            route=route,
            query=dict(request.query),
            headers={
                name: _mask_secret(value) if name.lower() in _SECRET_HEADERS else value
                for name, value in request.headers.items()
            },
            body=body,
            status=0,
            at=at,
            raw_path=request.rel_url.raw_path,
        )
        self.requests.append(record)
        return record

    async def _answer(
        self, request: web.Request, handler: Handler, route: str | None, rid: str
    ) -> web.StreamResponse | None:
        """The answer to a request whose body has been read; None to drop the connection."""
        fault = self._take_fault(route, request.path) if self._faults else None
        if fault is not None:
            if fault.delay > 0:
                await self._sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                return fault._response(rid)
        if route is None:
            return openai_error(
                404,
                f"Invalid URL ({request.method} {request.path})",
                type="invalid_request_error",
            )
        if route not in ANONYMOUS_ROUTES:
            denied = self._check_auth(request, rid)
            if denied is not None:
                return denied
        if route in MODEL_ROUTES:
            refused = self._models.refusal(request, await request.read(), rid)
            if refused is not None:
                return refused
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = _http_error(exc, rid)
        except Exception:
            _log.exception("emulator route %s failed", route)
            response = openai_error(500, f"emulator internal error (request id: {rid})")
        if fault is not None and fault.truncate_at is not None and type(response) is web.Response:
            response.headers.setdefault(REQUEST_ID_HEADER, rid)
            return await _media.cut_short(
                request, response, at=fault.truncate_at, stall=fault.stall, sleep=self._sleep
            )
        return response

    def _check_auth(self, request: web.Request, rid: str) -> web.Response | None:
        """None if the request carries the key, else the gateway's 401."""
        token = request.headers.get("Authorization", "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return openai_error(401, f"未提供令牌 (request id: {rid})")
        if token.removeprefix("sk-") != self._bare_key:
            return openai_error(401, f"无效的令牌 (request id: {rid})")
        return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of real time, or until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _resolve, waiter)
        self._sleepers.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._sleepers.discard(waiter)


def _http_error(exc: web.HTTPException, rid: str) -> web.Response:
    """An aiohttp HTTP exception as the gateway's OpenAI-style error answer."""
    return openai_error(exc.status, f"{exc.reason} (request id: {rid})")


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
