"""Every endpoint path, in one table a user can override, and the safe choice among candidates.

Several task-family paths are inferred from peer services (new-api ``router/relay-router.go``,
the GoAmz Luma API, reseller docs) rather than read on API4GPT's own pages. Such an endpoint
lists its *candidate* paths, most likely first. The first request to it tries them in order, and
only moves on when the answer proves that no handler took the request (so nothing was billed):
an HTML page (status 200 or 404; a new-api gateway serves its web UI for paths it has no route
for), a 404 whose body is not JSON, or the router's own JSON 404 for a path it has no route
for (``Invalid URL (POST /x)``, as OpenAI, new-api under ``/v1`` and ``/api`` and the emulator
answer; one-api's ``api_not_found``). Any other JSON answer — even an error such as 400
``task_not_exist`` or a 404 for an unknown id — comes from a handler, so it is the answer and
never a reason to switch. The
path that answered is remembered for the client's lifetime (``client.paths_in_use``) and logged
once.

A user's override is used alone, with no probing: if the service answers differently, pass
``AsyncAPI4GPT(paths={"zhipu_video.generate": "/new/path"})`` instead of waiting for a release.
Templates put the id in the path as ``{id}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._json import read_json
from .errors import APIStatusError, NotFoundError

if TYPE_CHECKING:
    from ._transport import Reply, Transport

__all__ = [
    "DEFAULT_PATHS",
    "PathNotServedError",
    "PathTable",
    "id_text",
    "is_route_miss",
    "no_handler_answered",
    "path_segment",
    "request_path",
    "resolve_paths",
]

logger = logging.getLogger("api4gpt_async")

#: Endpoint key → its path, or its candidate paths in the order they are tried.
DEFAULT_PATHS: Mapping[str, str | tuple[str, ...]] = MappingProxyType(
    {
        # OpenAI-compatible
        "chat.completions": "/v1/chat/completions",
        "completions": "/v1/completions",
        "embeddings": "/v1/embeddings",
        "images.generate": "/v1/images/generations",
        "images.edit": "/v1/images/edits",
        "audio.transcriptions": "/v1/audio/transcriptions",
        "audio.translations": "/v1/audio/translations",
        "audio.speech": "/v1/audio/speech",
        "models": "/v1/models",
        # Luma, GoAmz-style pool: raw generation objects
        "luma.generate": "/luma/v1/generations",
        "luma.extend": "/luma/v1/extend",
        "luma.task": "/luma/v1/task",
        # Luma, VIP accounts: answers in the task envelope (the query path is documented)
        "lumvip.generate": "/luma/generations",
        "lumvip.extend": "/luma/extend",
        "lumvip.task": "/luma/task",
        # Midjourney (midjourney-proxy through new-api's /mj relay); `speed` puts /mj-fast,
        # /mj-relax or /mj-turbo in front of a submit path
        "midjourney.imagine": "/mj/submit/imagine",
        "midjourney.action": "/mj/submit/action",
        "midjourney.modal": "/mj/submit/modal",
        "midjourney.blend": "/mj/submit/blend",
        "midjourney.describe": "/mj/submit/describe",
        "midjourney.shorten": "/mj/submit/shorten",
        "midjourney.swap_face": "/mj/insight-face/swap",
        "midjourney.fetch": "/mj/task/{id}/fetch",
        "midjourney.list_by_condition": "/mj/task/list-by-condition",
        "midjourney.image_seed": "/mj/task/{id}/image-seed",
        "midjourney.list": "/mj/task/list",
        "midjourney.query": "/mj/task/query",
        "midjourney.queue": "/mj/task/queue",
        "midjourney.cancel": "/mj/task/{id}/cancel",
        # Suno v4.0: new-api's task relay (router/relay-router.go: /suno/submit/:action,
        # /suno/fetch, /suno/fetch/:id)
        "suno.generate": "/suno/submit/music",
        "suno.lyrics": "/suno/submit/lyrics",
        "suno.fetch": "/suno/fetch/{id}",
        "suno.fetch_many": "/suno/fetch",
        # Suno v3.0 / v3.5, GoAPI ("GoAmz") style: the version segment of same-template
        # resellers first, then the GoAmz client prefixes (/suno/v1, /suno/v1/mv-3.5), then
        # GoAPI's own /api/suno/v1
        "suno.v3_0.generate": ("/suno/v1/v3.0/music", "/suno/v1/music", "/api/suno/v1/music"),
        "suno.v3_0.fetch": (
            "/suno/v1/v3.0/music/{id}",
            "/suno/v1/music/{id}",
            "/api/suno/v1/music/{id}",
        ),
        "suno.v3_0.concat": (
            "/suno/v1/v3.0/music/concat",
            "/suno/v1/music/concat",
            "/api/suno/v1/music/concat",
        ),
        "suno.v3_5.generate": ("/suno/v1/v3.5/music", "/suno/v1/mv-3.5/music"),
        "suno.v3_5.fetch": ("/suno/v1/v3.5/music/{id}", "/suno/v1/mv-3.5/music/{id}"),
        # Zhipu CogVideoX: gpt-best-family relays, 302.ai, YunApi-style v1, official layout
        "zhipu_video.generate": (
            "/cogvideox/v4/videos/generations",
            "/zhipu/api/paas/v4/videos/generations",
            "/cogvideox/v1/videos/generations",
            "/api/paas/v4/videos/generations",
        ),
        "zhipu_video.result": (
            "/cogvideox/v4/async-result/{id}",
            "/zhipu/api/paas/v4/async-result/{id}",
            "/cogvideox/v1/async-result/{id}",
            "/api/paas/v4/async-result/{id}",
        ),
        # Digital human (the upstream "标准版数字人合成" project, as the gpt-best family relays it)
        "digital_human.create": "/avatar/generation",
        "digital_human.task": "/avatar/task/{id}",
    }
)


class PathNotServedError(NotFoundError):
    """No handler took the request at this path (an HTML page, a 404 that is not JSON, or the
    router's own ``Invalid URL`` 404).

    Nothing was billed. Raised by the transport only for requests that probe candidates; when
    every candidate answers so, the last one reaches the caller (a ``NotFoundError``).
    """


def no_handler_answered(status: int, headers: Mapping[str, str], raw: bytes) -> bool:
    """Whether an answer proves that no handler received the request.

    True for an HTML page with status 200 or 404, for a 404 whose body is not JSON (empty,
    text, HTML) and for a router's JSON 404 for a path it has no route for (see
    :func:`is_route_miss`). Any other JSON body, whatever its status, came from a handler.
    """
    if status not in (200, 404):
        return False
    head = raw[:64].lstrip().lower()
    html = "html" in headers.get("Content-Type", "").lower() or head.startswith(
        (b"<!doctype", b"<html")
    )
    if html:
        return True
    if status != 404:
        return False
    return not head.startswith((b"{", b"[")) or is_route_miss(raw)


#: The message of the router's JSON 404 for an unknown path: OpenAI's and new-api's
#: ``Invalid URL (POST /v1/x)`` (new-api ``controller/relay.go`` ``RelayNotFound``, the emulator
#: too) and one-api's ``API not found: POST:/v1/x``.
_ROUTE_MISS = re.compile(r"Invalid URL \([A-Z]+ /|API not found: [A-Z]+:/")


def is_route_miss(raw: bytes) -> bool:
    """Whether a 404's JSON body is a router's answer to a path it has no route for, not a
    handler's "no such job": ``{"error": {"message": "Invalid URL (POST /x)", ...}}``
    (``type`` ``invalid_request_error``) or one-api's ``{"error": {"code": "api_not_found"}}``.
    """
    try:
        body = read_json(raw)
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    message = error.get("message")
    return error.get("code") == "api_not_found" or (
        isinstance(message, str) and _ROUTE_MISS.match(message) is not None
    )


class PathTable(Mapping[str, str]):
    """One client's paths: ``table[key]`` is the path used now for that endpoint.

    An endpoint with candidates reads as its first candidate until one has answered, then as
    the remembered one. Overrides replace an endpoint's candidates with exactly one path.
    """

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(DEFAULT_PATHS)
        if unknown:
            raise ValueError(f"unknown endpoint keys in paths: {', '.join(sorted(unknown))}")
        bad = [k for k, v in overrides.items() if not isinstance(v, str) or not v.startswith("/")]
        if bad:
            raise ValueError(f"paths must be strings starting with '/': {', '.join(sorted(bad))}")
        self._candidates: dict[str, tuple[str, ...]] = {
            key: (value,) if isinstance(value, str) else tuple(value)
            for key, value in DEFAULT_PATHS.items()
        }
        self._candidates.update({key: (path,) for key, path in overrides.items()})
        self._overrides = MappingProxyType(overrides)
        self._chosen: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        chosen = self._chosen.get(key)
        return chosen if chosen is not None else self._candidates[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._candidates)

    def __len__(self) -> int:
        return len(self._candidates)

    def __repr__(self) -> str:
        return f"<PathTable overrides={dict(self._overrides)!r} in_use={self._chosen!r}>"

    def candidates(self, key: str) -> tuple[str, ...]:
        """The paths a request to ``key`` tries now, in order (one once a choice is made)."""
        chosen = self._chosen.get(key)
        return (chosen,) if chosen is not None else self._candidates[key]

    def remember(self, key: str, path: str) -> None:
        """Keep ``path`` for ``key`` from now on (the first answer wins; logged once)."""
        if len(self._candidates[key]) < 2 or key in self._chosen:
            return
        self._chosen[key] = path
        logger.info("API4GPT serves %s at %s; using it from now on", key, path)

    @property
    def in_use(self) -> Mapping[str, str]:
        """The user's overrides and every choice made among candidates so far."""
        return MappingProxyType({**self._overrides, **self._chosen})


def resolve_paths(overrides: Mapping[str, str] | None) -> PathTable:
    """A client's table: the defaults with the caller's overrides (an unknown key raises)."""
    return PathTable(overrides)


def expand(template: str, path_params: Mapping[str, str] | None) -> str:
    """``/x/{id}`` with each parameter percent-encoded: an id never adds a path segment.

    Nor removes one: ``""``, ``"."`` and ``".."`` (which the URL would resolve to another
    endpoint, ``/mj/task/../fetch`` → ``/mj/fetch``) raise ``ValueError``, and an id that is
    no string ``TypeError``.
    """
    if not path_params:
        return template
    return template.format_map({name: path_segment(name, v) for name, v in path_params.items()})


def id_text(name: str, value: object) -> str:
    """``value`` as the text of an id: a string (an int is written out), never empty.

    Raises ``TypeError`` for anything else (``None`` would go out as ``"None"``) and
    ``ValueError`` for ``""`` (a request without its id).
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    text = str(value)
    if not text:
        raise ValueError(f"{name} cannot be empty")
    return text


def path_segment(name: str, value: object) -> str:
    """``value`` (see :func:`id_text`) as one percent-encoded path segment; ``"."`` and
    ``".."`` raise ``ValueError``."""
    text = id_text(name, value)
    if _UNRESERVED.fullmatch(text) is None:  # the common id needs no quoting (quote is slow)
        text = quote(text, safe="")
    if text in (".", ".."):
        raise ValueError(f"{name} cannot be {text!r}: it would name another path")
    return text


#: What ``quote(…, safe="")`` leaves as it is.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def request_path(
    transport: Transport,
    paths: Mapping[str, str],
    key: str,
    method: str,
    *,
    path_params: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Awaitable[Reply]:
    """``transport.request`` to endpoint ``key``, trying its candidate paths safely.

    With one path this is a plain request. With candidates, each is sent in turn while the
    answer proves no handler took it (``PathNotServedError``); the first real answer — success
    or error — ends the search and its path is remembered. ``paths`` may be a plain mapping
    (then its single path is used). Not a coroutine function: a request with one path is
    the transport's own coroutine, one frame less on the hot path.
    """
    if not isinstance(paths, PathTable):
        return transport.request(method, expand(paths[key], path_params), **kwargs)
    candidates = paths.candidates(key)
    if len(candidates) == 1:
        return transport.request(method, expand(candidates[0], path_params), **kwargs)
    return _probe_paths(transport, paths, key, candidates, method, path_params, kwargs)


async def _probe_paths(
    transport: Transport,
    paths: PathTable,
    key: str,
    candidates: tuple[str, ...],
    method: str,
    path_params: Mapping[str, str] | None,
    kwargs: Mapping[str, Any],
) -> Reply:
    """Each candidate in turn until one is served (see ``request_path``)."""
    tried: list[str] = []
    for template in candidates:
        try:
            reply = await transport.request(
                method, expand(template, path_params), probe_path=True, **kwargs
            )
        except PathNotServedError as error:
            tried.append(template)
            logger.debug("no handler for %s at %s (%s); trying the next path", key, template, error)
            if len(tried) == len(candidates):
                error.message = (
                    f"no handler for {key} at any of {', '.join(tried)}; if the service moved "
                    f"it, pass paths={{{key!r}: '/its/path'}}{transport.not_found_hint}"
                )
                error.args = (error.message,)
                raise
            continue
        except APIStatusError as error:
            # A JSON error came from a handler at this path: that path is the one.
            if isinstance(error.body, (dict, list)):
                paths.remember(key, template)
            raise
        paths.remember(key, template)
        return reply
    raise AssertionError("unreachable")  # pragma: no cover
