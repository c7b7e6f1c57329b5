"""Luma video routes, in the service's two flavours (new-api ``relay/channel/task/luma``, GoAmz
Luma API format).

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

Timing is :func:`._jobs.lifecycle` with ``emu.duration("luma")``. A prompt carrying the magic
word ``[fail]`` (``Emulator.FAIL``) ends in ``failed`` instead of ``completed``. A ``notify_hook``
gets the finished generation (as the status route answers it, envelope included) from the kit's
sender (:mod:`._notify`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import attrs
from aiohttp import web

from . import _notify
from ._http import task_envelope
from ._jobs import FAILURE_REASON, Job, JobStore, answer, by_id, task_route
from ._validate import Invalid, boolean_param, choice_param, request_object, required_param
from ._validate import string_param as string

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["register"]

ASPECT_RATIOS: Final = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21")
VIDEO_WIDTH: Final = 1360
VIDEO_HEIGHT: Final = 752

_VIDEO_PATH: Final = re.compile(r"/files/(?P<id>[^/]+)\.mp4")


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
    for flavour in _FLAVOURS:
        routes = _LumaRoutes(emu, flavour, JobStore(emu, flavour.name, duration="luma"))
        add = app.router.add_route
        add(
            "POST",
            f"{flavour.prefix}/generations",
            routes.generate,
            name=f"{flavour.name}.generate",
        )
        add("POST", f"{flavour.prefix}/extend", routes.extend, name=f"{flavour.name}.extend")
        _notify.attach(emu, app)
        task = by_id(routes.store, routes.view, envelope=flavour.envelope)
        add("GET", f"{flavour.prefix}/task", task, name=f"{flavour.name}.task")


class _LumaRoutes:
    """The submit routes and the generation view of one flavour."""

    def __init__(self, emu: Emulator, flavour: _Flavour, store: JobStore) -> None:
        self._emu = emu
        self._flavour = flavour
        self.store = store
        self.generate = task_route(self._generate)
        self.extend = task_route(self._extend)

    async def _generate(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        prompt = required_param(body, "user_prompt")
        aspect_ratio = choice_param(body, "aspect_ratio", ASPECT_RATIOS) or "16:9"
        for name in ("expand_prompt", "loop"):
            boolean_param(body, name)
        for name in ("image_url", "image_end_url", "notify_hook", "model_name", "resolution"):
            string(body, name)
        duration = body.get("duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, (str, int, float))
        ):
            raise Invalid("duration must be a string such as '5s' or a number", "duration")
        job = self.store.create(prompt=prompt, aspect_ratio=aspect_ratio)
        self._notify(job, string(body, "notify_hook"))
        return answer(self.view(job), envelope=self._flavour.envelope)

    async def _extend(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        video_url = required_param(body, "video_url")
        prompt = string(body, "user_prompt") or ""
        boolean_param(body, "expand_prompt")
        for name in ("image_end_url", "notify_hook"):
            string(body, name)
        parent = self._completed_parent(video_url)
        aspect_ratio = choice_param(body, "aspect_ratio", ASPECT_RATIOS)
        job = self.store.create(
            prompt=prompt, aspect_ratio=aspect_ratio or parent.fields["aspect_ratio"]
        )
        self._notify(job, string(body, "notify_hook"))
        return answer(self.view(job), envelope=self._flavour.envelope)

    def _completed_parent(self, video_url: str) -> Job:
        """The completed generation of this flavour whose video is at ``video_url``."""
        match = _VIDEO_PATH.fullmatch(urlsplit(video_url).path)
        parent = self.store.get(match["id"]) if match else None
        if parent is None or parent.fails or self.store.phase(parent)[0] != "done":
            raise Invalid("video_url must be a completed generation's video", "video_url")
        return parent

    def _notify(self, job: Job, url: str | None) -> None:
        """Send the finished generation to ``url``, as the status route would answer it."""
        wrap = task_envelope if self._flavour.envelope else (lambda view: view)
        due = job.created + self._emu.duration("luma")
        _notify.notify_when_done(self._emu, url, due, lambda: wrap(self.view(job)))

    def view(self, job: Job) -> dict[str, Any]:
        """The generation object as it is now on the emulator clock."""
        phase, estimate = self.store.phase(job)
        raw = not self._flavour.envelope
        state = self._flavour.running if phase == "running" else phase
        video: dict[str, Any] | None = None
        thumbnail: dict[str, Any] | None = None
        failure_reason: str | None = None
        if phase == "done" and job.fails:
            state, failure_reason = "failed", FAILURE_REASON
        elif phase == "done":
            state = "completed"
            url = self._emu.file_url(f"{job.id}.mp4")
            video = {"url": url, "width": VIDEO_WIDTH, "height": VIDEO_HEIGHT, "thumbnail": None}
            if raw:
                video["download_url"] = url
                thumbnail = {
                    "url": self._emu.file_url(f"{job.id}.jpg"),
                    "width": VIDEO_WIDTH,
                    "height": VIDEO_HEIGHT,
                }
        view: dict[str, Any] = {
            "id": job.id,
            "prompt": job.fields["prompt"],
            "state": state,
            "created_at": job.created_at,
            "video": video,
            "liked": None,
            "estimate_wait_seconds": estimate,
            "aspect_ratio": job.fields["aspect_ratio"],
            "failure_reason": failure_reason,
        }
        if raw:
            view["thumbnail"] = thumbnail
        return view
