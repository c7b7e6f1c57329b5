"""Callbacks: ``notify_hook`` POSTs from the service resolve waiting handles at once.

A :class:`WebhookReceiver` reads one callback body (a Midjourney task object, a new-api task
envelope ``{"code", "data"}`` of Suno / digital human / lumvip, a Luma generation object),
tells its kind (from the callback URL's last path segment as :meth:`WebhookReceiver.url_for`
builds it, else from the body's shape), checks the secret token the URL carries, drops
duplicates and hands the status to ``client.tasks.deliver``: the handles waiting on that job
get it as if a poll had answered. Polling carries on as the fallback, so a lost callback only
costs the time to the next poll.

Two ways in, neither needing a web framework: :meth:`WebhookReceiver.aiohttp_handler` (an
``aiohttp.web`` handler) and the receiver itself, a plain ASGI application (mount it in
FastAPI / Starlette: ``app.mount("/hooks", receiver)``). Both must run in the event loop of the
client whose handles they resolve.
"""

from __future__ import annotations

import collections
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, quote, urlsplit

import attrs

from ._hooks import call_hook
from ._json import read_json
from .errors import API4GPTError

if TYPE_CHECKING:
    from aiohttp import web

    from ._client import AsyncAPI4GPT
    from ._task_kind import TaskSnapshot

__all__ = ["DEFAULT_MAX_BODY", "Callback", "CallbackRejected", "WebhookReceiver"]

logger = logging.getLogger("api4gpt_async")

#: Callback bodies are status objects: a few KB. Larger ones are refused (413).
DEFAULT_MAX_BODY: Final = 1 << 20
#: How many (kind, id, state, progress) deliveries are remembered to drop repeats.
DEFAULT_REMEMBER: Final = 10_000

ASGIScope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _task_record(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A new-api task record (``TaskDto``: ``task_id``, ``action``, ``status``…), bare or in
    the task envelope ``{"code", "data"}``."""
    data = body.get("data")
    record = data if "code" in body and isinstance(data, Mapping) else body
    return record if "task_id" in record and "action" in record else None


def _is_suno(body: Mapping[str, Any]) -> bool:
    record = _task_record(body)
    return record is not None and str(record["action"]).upper() in ("MUSIC", "LYRICS")


def _is_digital_human(body: Mapping[str, Any]) -> bool:
    record = _task_record(body)
    return record is not None and str(record["action"]).lower().startswith("avatar")


def _is_midjourney(body: Mapping[str, Any]) -> bool:
    return (
        "id" in body
        and "action" in body
        and "task_id" not in body
        and ("submitTime" in body or "progress" in body)
    )


def _is_luma(body: Mapping[str, Any]) -> bool:
    return "id" in body and "state" in body


def _is_lumvip(body: Mapping[str, Any]) -> bool:
    data = body.get("data")
    return "code" in body and isinstance(data, Mapping) and _is_luma(data)


#: Body shapes that tell a family without the URL, tried in order (first match wins): one
#: entry a family. Bodies that several families share (Suno v3.x GoAPI tasks, Zhipu results)
#: are told by the callback URL only, where :meth:`WebhookReceiver.url_for` puts the kind.
BODY_SHAPES: Final[tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...]] = (
    ("suno", _is_suno),
    ("digital_human", _is_digital_human),
    ("midjourney", _is_midjourney),
    ("lumvip", _is_lumvip),
    ("luma", _is_luma),
)


class CallbackRejected(API4GPTError):
    """A callback that was not taken; ``status`` is the HTTP status to answer it with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen(kw_only=True)
class Callback:
    """One callback taken: the job's ``kind``, ``id`` and ``snapshot``; ``duplicate`` when the
    same state and progress of that job had already been delivered (it is then not delivered
    again)."""

    kind: str
    id: str
    snapshot: TaskSnapshot[Any]
    duplicate: bool = False

    def as_json(self) -> dict[str, Any]:
        """What the handlers answer: ``{"ok": true, "kind", "id", "state", "duplicate"}``."""
        return {
            "ok": True,
            "kind": self.kind,
            "id": self.id,
            "state": self.snapshot.state.value,
            "duplicate": self.duplicate,
        }


class WebhookReceiver:
    """Takes the service's ``notify_hook`` callbacks for one client.

    ``url`` is where the callback route is reachable from the service (``https://me.example/
    hooks``); :meth:`url_for` appends the kind and the token. With ``token`` set, a callback
    whose URL does not carry ``?token=<token>`` is refused (403; compared in constant time).
    Bodies over ``max_body`` bytes are refused (413). ``on_callback`` is called with every
    :class:`Callback` taken (duplicates included).
    """

    def __init__(
        self,
        client: AsyncAPI4GPT,
        *,
        url: str | None = None,
        token: str | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        remember: int = DEFAULT_REMEMBER,
        on_callback: Callable[[Callback], None] | None = None,
    ) -> None:
        if max_body < 1:
            raise ValueError("max_body must be at least 1 byte")
        self._tasks = client.tasks
        self.url: str | None = url.rstrip("/") if url else None
        self._token = token
        self.max_body = max_body
        self._remember = remember
        self._seen: collections.OrderedDict[tuple[Any, ...], None] = collections.OrderedDict()
        self._on_callback = on_callback

    def __repr__(self) -> str:
        return f"<WebhookReceiver url={self.url!r} token={'set' if self._token else 'none'}>"

    def url_for(self, kind: str) -> str:
        """The ``notify_hook`` URL to submit a ``kind`` job with: ``<url>/<kind>?token=…``."""
        if self.url is None:
            raise ValueError("WebhookReceiver(url=...) is needed to build callback URLs")
        self._check_kind(kind)
        url = f"{self.url}/{kind}"
        return f"{url}?token={quote(self._token, safe='')}" if self._token else url

    def receive(
        self, body: bytes, *, kind: str | None = None, token: str | None = None
    ) -> Callback:
        """Take one callback: ``body`` as POSTed, ``kind`` and ``token`` read from its URL.

        Raises :class:`CallbackRejected` (with the HTTP status to answer) for a wrong token
        (403), a body too large (413), one that is not JSON (400), of an unknown kind (404) or
        not a status of its kind (422).
        """
        if self._token is not None and not (
            token is not None and hmac.compare_digest(token.encode(), self._token.encode())
        ):
            logger.warning("callback refused: missing or wrong token")
            raise CallbackRejected("missing or wrong token", status=403)
        if len(body) > self.max_body:
            raise CallbackRejected(f"body over {self.max_body} bytes", status=413)
        try:
            data = read_json(body)
        except ValueError:
            raise CallbackRejected("the body is not JSON", status=400) from None
        if not isinstance(data, Mapping):
            raise CallbackRejected("the body is not a JSON object", status=422)
        if kind is None:
            kind = next((name for name, shape in BODY_SHAPES if shape(data)), None)
            if kind is None:
                raise CallbackRejected("cannot tell the kind of job; use url_for", status=422)
        self._check_kind(kind, status=404)
        try:
            snap = self._tasks.read(kind, data)
        except API4GPTError as exc:
            raise CallbackRejected(f"not a {kind} status: {exc}", status=422) from None
        task_id = snap.id
        seen = (kind, task_id, *snap._change_key)
        duplicate = seen in self._seen
        if duplicate:
            self._seen.move_to_end(seen)
        else:
            self._seen[seen] = None
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
            self._tasks.deliver(kind, snap)
        logger.debug("callback %s %s %s%s", kind, task_id, snap.state.value,
                     " (duplicate)" if duplicate else "")  # fmt: skip
        callback = Callback(kind=kind, id=task_id, snapshot=snap, duplicate=duplicate)
        if self._on_callback is not None:
            call_hook(self._on_callback, callback)
        return callback

    def _check_kind(self, kind: str, *, status: int = 0) -> None:
        if kind not in self._tasks.kinds:
            message = f"unknown task kind {kind!r} (known: {', '.join(self._tasks.kinds)})"
            if status:
                raise CallbackRejected(message, status=status)
            raise ValueError(message)

    def _route(self, path: str, query: str) -> tuple[str | None, str | None]:
        """The kind (last path segment, or ``?kind=``) and token of a callback URL."""
        params = {name: values[0] for name, values in parse_qs(query).items()}
        last = path.rstrip("/").rpartition("/")[2]
        kind = last if last in self._tasks.kinds else params.get("kind")
        return kind, params.get("token")

    def _answer(self, body: bytes, path: str, query: str) -> tuple[int, dict[str, Any]]:
        kind, token = self._route(path, query)
        try:
            return 200, self.receive(body, kind=kind, token=token).as_json()
        except CallbackRejected as exc:
            return exc.status, {"ok": False, "error": str(exc)}

    # -- aiohttp ---------------------------------------------------------------------------

    async def aiohttp_handler(self, request: web.Request) -> web.Response:
        """An ``aiohttp.web`` handler: ``router.add_post("/hooks/{kind}", r.aiohttp_handler)``."""
        from aiohttp import web

        if request.content_length is not None and request.content_length > self.max_body:
            status, answer = 413, {"ok": False, "error": f"body over {self.max_body} bytes"}
        else:
            body = bytearray()
            async for chunk in request.content.iter_chunked(65536):
                body += chunk
                if len(body) > self.max_body:
                    break
            url = urlsplit(str(request.rel_url))
            status, answer = self._answer(bytes(body), url.path, url.query)
        return web.json_response(answer, status=status)

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        """A plain ASGI application: POST ``<mount>/<kind>?token=…`` takes a callback."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _asgi_json(send, 405, {"ok": False, "error": "only POST is accepted"})
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await _asgi_json(send, 413, {"ok": False, "error": f"body over {self.max_body} bytes"})
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body or not message.get("more_body"):
                break
        query = scope.get("query_string", b"").decode("latin-1")
        status, answer = self._answer(bytes(body), scope["path"], query)
        await _asgi_json(send, status, answer)


async def _asgi_json(send: ASGISend, status: int, payload: Mapping[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
