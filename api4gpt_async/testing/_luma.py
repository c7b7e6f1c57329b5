"""Luma video routes, in the service's two flavours (``shared/api/tasks-media.md`` §3).

========  ==========================  ====================  =============================
flavour   generate                    extend                query
========  ==========================  ====================  =============================
luma      POST /luma/v1/generations   POST /luma/v1/extend  GET /luma/v1/task?id=<id>
          ``luma.generate``           ``luma.extend``       ``luma.task``
lumvip    POST /luma/generations      POST /luma/extend     GET /luma/task?id=<id>
          ``lumvip.generate``         ``lumvip.extend``     ``lumvip.task``
========  ==========================  ====================  =============================

``luma`` answers the raw generation object (and spells the running state ``dreaming``, with
the extra ``thumbnail`` and ``video.download_url`` keys of the GoAmz format); ``lumvip`` wraps
every answer in the task envelope ``{"code": "success", "message": "", "data": …}`` and spells
it ``processing``. Generations are kept per flavour: an id of one is unknown to the other.

Timing is :func:`lifecycle`. A prompt carrying the magic word ``[fail]`` (:mod:`._magic`) ends
in ``failed`` instead of ``completed``. ``notify_hook`` is accepted but never called.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import attrs
from aiohttp import web

from ._http import json_response, read_json_object, task_envelope, task_error
from ._magic import FAILURE_REASON, wants_failure

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["PENDING_SECONDS", "lifecycle", "register"]

#: How long a new generation stays ``pending`` before it starts running.
PENDING_SECONDS: Final = 2.0

ASPECT_RATIOS: Final = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21")
VIDEO_WIDTH: Final = 1360
VIDEO_HEIGHT: Final = 752
_VIDEO_PATH: Final = re.compile(r"/files/(?P<id>[^/]+)\.mp4")

Phase = Literal["pending", "running", "done"]


def lifecycle(elapsed: float, duration: float) -> tuple[Phase, int | None]:
    """Where a generation is, ``elapsed`` emulator seconds after its submit.

    Returns ``(phase, estimate_wait_seconds)``:

    - ``0 <= elapsed < 2`` (:data:`PENDING_SECONDS`): ``"pending"``;
    - then until ``duration``: ``"running"`` (shown as ``processing`` or ``dreaming``);
    - from ``duration`` on: ``"done"`` (``completed``, or ``failed`` for a ``[fail]`` prompt).

    The estimate is the whole seconds left, rounded up, and None once done. A duration
    of 2 s or less goes straight from pending to done.
    """
    if elapsed >= duration:
        return "done", None
    phase: Phase = "pending" if elapsed < PENDING_SECONDS else "running"
    # Rounded first so that float noise from advance() steps cannot add a second.
    return phase, max(1, math.ceil(round(duration - elapsed, 6)))


@attrs.define(kw_only=True)
class _Generation:
    id: str
    prompt: str
    aspect_ratio: str
    created: float  # emulator clock at submit
    created_at: str
    fails: bool


@attrs.define
class _LumaState:
    """All generations, per flavour; kept by the emulator across restarts."""

    luma: dict[str, _Generation] = attrs.field(factory=dict)
    lumvip: dict[str, _Generation] = attrs.field(factory=dict)


@attrs.frozen
class _Flavour:
    name: Literal["luma", "lumvip"]
    prefix: str
    envelope: bool  # wrap answers in the task envelope
    running: str  # how the running state is spelled


_FLAVOURS: Final = (
    _Flavour("luma", "/luma/v1", envelope=False, running="dreaming"),
    _Flavour("lumvip", "/luma", envelope=True, running="processing"),
)


def register(emu: Emulator, app: web.Application) -> None:
    """Add both Luma flavours' named routes to ``app``."""
    state = emu._family_state(_LumaState)
    for flavour in _FLAVOURS:
        routes = _LumaRoutes(emu, flavour, getattr(state, flavour.name))
        app.router.add_post(
            f"{flavour.prefix}/generations", routes.generate, name=f"{flavour.name}.generate"
        )
        app.router.add_post(
            f"{flavour.prefix}/extend", routes.extend, name=f"{flavour.name}.extend"
        )
        app.router.add_get(f"{flavour.prefix}/task", routes.task, name=f"{flavour.name}.task")


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A request field is wrong; the message says which and how."""


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{name} must be a string")
    return value


def _required_string(body: dict[str, Any], name: str) -> str:
    value = _string(body, name)
    if value is None:
        raise _Invalid(f"{name} is required")
    if not value.strip():
        raise _Invalid(f"{name} must not be empty")
    return value


def _boolean(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"{name} must be a boolean")


def _aspect_ratio(body: dict[str, Any], default: str) -> str:
    value = _string(body, "aspect_ratio")
    if value is None:
        return default
    if value not in ASPECT_RATIOS:
        raise _Invalid(f"aspect_ratio must be one of {', '.join(ASPECT_RATIOS)}")
    return value


def _invalid(message: str) -> web.Response:
    return task_error(400, "invalid_request", message)


# --------------------------------------------------------------------------- routes


class _LumaRoutes:
    """The three routes of one flavour, over that flavour's generations."""

    def __init__(self, emu: Emulator, flavour: _Flavour, store: dict[str, _Generation]) -> None:
        self._emu = emu
        self._flavour = flavour
        self._store = store

    async def generate(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        if body is None:
            return _invalid("request body must be a JSON object")
        try:
            prompt = _required_string(body, "user_prompt")
            aspect_ratio = _aspect_ratio(body, "16:9")
            for name in ("expand_prompt", "loop"):
                _boolean(body, name)
            for name in ("image_url", "image_end_url", "notify_hook", "model_name", "resolution"):
                _string(body, name)
            duration = body.get("duration")
            if duration is not None and (
                isinstance(duration, bool) or not isinstance(duration, (str, int, float))
            ):
                raise _Invalid("duration must be a string such as '5s' or a number")
        except _Invalid as exc:
            return _invalid(str(exc))
        return self._answer(self._create(prompt, aspect_ratio))

    async def extend(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        if body is None:
            return _invalid("request body must be a JSON object")
        try:
            video_url = _required_string(body, "video_url")
            prompt = _string(body, "user_prompt") or ""
            _boolean(body, "expand_prompt")
            _string(body, "image_end_url")
            parent = self._completed_parent(video_url)
            aspect_ratio = _aspect_ratio(body, parent.aspect_ratio)
        except _Invalid as exc:
            return _invalid(str(exc))
        return self._answer(self._create(prompt, aspect_ratio))

    async def task(self, request: web.Request) -> web.Response:
        generation = self._store.get(request.query.get("id", ""))
        if generation is None:
            return task_error(400, "task_not_exist")
        return self._answer(generation)

    # ------------------------------------------------------------------ helpers

    def _create(self, prompt: str, aspect_ratio: str) -> _Generation:
        now = self._emu.now
        generation = _Generation(
            id=str(uuid.uuid4()),
            prompt=prompt,
            aspect_ratio=aspect_ratio,
            created=now,
            created_at=self._emu.timestamp(now),
            fails=wants_failure(prompt),
        )
        self._store[generation.id] = generation
        return generation

    def _completed_parent(self, video_url: str) -> _Generation:
        """The completed generation of this flavour whose video is at ``video_url``."""
        match = _VIDEO_PATH.fullmatch(urlsplit(video_url).path)
        parent = self._store.get(match["id"]) if match else None
        if parent is None or parent.fails or self._phase(parent)[0] != "done":
            raise _Invalid("video_url must be a completed generation's video")
        return parent

    def _phase(self, generation: _Generation) -> tuple[Phase, int | None]:
        return lifecycle(self._emu.now - generation.created, self._emu.luma_duration)

    def _answer(self, generation: _Generation) -> web.Response:
        view = self._view(generation)
        return json_response(task_envelope(view) if self._flavour.envelope else view)

    def _view(self, generation: _Generation) -> dict[str, Any]:
        """The generation object as it is now on the emulator clock."""
        phase, estimate = self._phase(generation)
        raw = not self._flavour.envelope
        state = self._flavour.running if phase == "running" else phase
        video: dict[str, Any] | None = None
        thumbnail: dict[str, Any] | None = None
        failure_reason: str | None = None
        if phase == "done" and generation.fails:
            state, failure_reason = "failed", FAILURE_REASON
        elif phase == "done":
            state = "completed"
            url = self._emu.file_url(f"{generation.id}.mp4")
            video = {"url": url, "width": VIDEO_WIDTH, "height": VIDEO_HEIGHT, "thumbnail": None}
            if raw:
                video["download_url"] = url
                thumbnail = {
                    "url": self._emu.file_url(f"{generation.id}.jpg"),
                    "width": VIDEO_WIDTH,
                    "height": VIDEO_HEIGHT,
                }
        view: dict[str, Any] = {
            "id": generation.id,
            "prompt": generation.prompt,
            "state": state,
            "created_at": generation.created_at,
            "video": video,
            "liked": None,
            "estimate_wait_seconds": None
            if estimate is None
            else self._emu.client_seconds(estimate),
            "aspect_ratio": generation.aspect_ratio,
            "failure_reason": failure_reason,
        }
        if raw:
            view["thumbnail"] = thumbnail
        return view
