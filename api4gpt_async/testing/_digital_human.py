"""Digital-human routes: the upstream "标准版数字人合成" project as the gpt-best family relays it.

=============================  =============================  ===================================
route name                     path                           answer
=============================  =============================  ===================================
``digital_human.create``       POST /avatar/generation        ``{"code": "success", "message":
                                                              "", "data": "<32 hex>"}``
``digital_human.task``         GET  /avatar/task/{id}         the task record (see below)
=============================  =============================  ===================================

The create body needs ``avatar_url`` and exactly one voice source: ``audio_url``,
``create_voice {audio_url, language, text}`` or ``use_voice {voice_engine_id, audio_id,
language, text}`` (``language`` ``zh``, ``en`` or ``cn``); ``no_watermark`` is a boolean.

The detail is a new-api task record (``action: "avatar-generate"``) whose ``data`` is the
upstream work: ``SUBMITTED`` (first 2 s), ``QUEUED`` (until 4 s), ``IN_PROGRESS`` with
``progress`` rising in steps of 10 %, then ``SUCCESS`` after ``emu.duration("digital_human")``
emulator seconds with ``work_video_path`` (and its watermarked / unwatermarked variants) and a
preview. An ``avatar_url`` carrying the magic word ``[fail]`` (``Emulator.FAIL``) ends
``FAILURE`` with a ``fail_reason``. With
``raw_detail(emu, True)`` the detail is the raw upstream answer instead, ``{"code": 0,
"data": <work>}`` (``web_work_status`` 200 when done).
"""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any, Final

import attrs
from aiohttp import web

from . import _notify
from ._jobs import Job, JobStore, answer, asks_to_fail, task_not_exist, task_route
from ._task_record import QUEUED_SECONDS, SUBMITTED_SECONDS, TERMINAL, task_record, unix_time
from ._validate import (
    Invalid,
    boolean_param,
    choice_param,
    object_param,
    request_object,
    required_param,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["FAILURE_REASON", "raw_detail", "register"]

FAILURE_REASON: Final = "emulated failure: no face found in avatar_url"
LANGUAGES: Final = ("zh", "en", "cn")
_VOICES: Final = ("audio_url", "create_voice", "use_voice")


@attrs.define
class _AvatarState:
    raw_detail: bool = False


def raw_detail(emu: Emulator, raw: bool = True) -> None:
    """Answer ``GET /avatar/task/{id}`` as the raw upstream does (``{"code": 0, "data":
    work}``) instead of the gateway's task record."""
    emu._family_state(_AvatarState).raw_detail = raw


def register(emu: Emulator, app: web.Application) -> None:
    """Add the two digital-human routes."""
    routes = _AvatarRoutes(emu, JobStore(emu, "digital_human"), emu._family_state(_AvatarState))
    _notify.attach(emu, app)
    app.router.add_post(
        "/avatar/generation", task_route(routes.create), name="digital_human.create"
    )
    app.router.add_get("/avatar/task/{id}", routes.task, name="digital_human.task")


def _check(body: dict[str, Any]) -> None:
    avatar_url = required_param(body, "avatar_url")
    if not avatar_url.startswith(("http://", "https://")):
        raise Invalid("avatar_url must be an http(s) URL")
    given = [name for name in _VOICES if body.get(name) is not None]
    if len(given) != 1:
        raise Invalid("exactly one of audio_url, create_voice or use_voice is required")
    if given[0] == "audio_url":
        required_param(body, "audio_url")
    else:
        voice = object_param(body, given[0]) or {}
        needed = ("audio_url",) if given[0] == "create_voice" else ("voice_engine_id", "audio_id")
        for name in (*needed, "text"):
            try:
                required_param(voice, name)
            except Invalid:
                raise Invalid(f"{given[0]}.{name} is required") from None
        if choice_param(voice, "language", LANGUAGES) is None:
            raise Invalid(f"{given[0]}.language is required")
    boolean_param(body, "no_watermark")
    string_param(body, "notify_hook")


class _AvatarRoutes:
    def __init__(self, emu: Emulator, store: JobStore, state: _AvatarState) -> None:
        self._emu = emu
        self._store = store
        self._state = state

    async def create(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        _check(body)
        job = self._store.create(job_id=secrets.token_hex(16), hook=body.get("notify_hook"))
        job.fails = asks_to_fail(body["avatar_url"])
        due = job.created + self._duration()
        _notify.notify_when_done(self._emu, job.fields["hook"], due, lambda: self._record(job))
        return answer(job.id, envelope=True)

    async def task(self, request: web.Request) -> web.Response:
        job = self._store.get(request.match_info["id"])
        if job is None:
            return task_not_exist()
        if self._state.raw_detail:
            return answer({"code": 0, "msg": "ok", "data": self._work(job)}, envelope=False)
        return answer(self._record(job), envelope=True)

    def _duration(self) -> float:
        return self._emu.duration("digital_human")

    def _status(self, job: Job) -> tuple[str, int]:
        """The record's status and progress (percent) now."""
        elapsed, duration = self._emu.now - job.created, self._duration()
        if elapsed >= duration:
            return ("FAILURE" if job.fails else "SUCCESS"), 100
        if elapsed < SUBMITTED_SECONDS:
            return "SUBMITTED", 0
        if elapsed < QUEUED_SECONDS:
            return "QUEUED", 0
        running = (elapsed - QUEUED_SECONDS) / max(duration - QUEUED_SECONDS, 1e-9)
        return "IN_PROGRESS", min(90, 10 + 10 * math.floor(running * 9))

    def _work(self, job: Job) -> dict[str, Any]:
        """The upstream work object (empty paths until it is done)."""
        status, _ = self._status(job)
        done = status == "SUCCESS"
        file = self._emu.file_url
        return {
            "id": job.id,
            "work_name": f"avatar-{job.id[:8]}",
            "work_video_path": file(f"{job.id}.mp4") if done else "",
            "wm_work_video_path": file(f"{job.id}-wm.mp4") if done else "",
            "no_wm_work_video_path": file(f"{job.id}-nowm.mp4") if done else "",
            "work_webp_path": file(f"{job.id}-preview.jpeg") if done else "",
            "web_work_status": 200 if done else (-1 if status == "FAILURE" else 1),
            "create_time": unix_time(job.created) * 1000,  # milliseconds, as upstream sends
        }

    def _record(self, job: Job) -> dict[str, Any]:
        status, progress = self._status(job)
        return task_record(
            task_id=job.id,
            action="avatar-generate",
            status=status,
            submitted=job.created,
            started=job.created + QUEUED_SECONDS if status != "SUBMITTED" else None,
            finished=job.created + self._duration() if status in TERMINAL else None,
            progress=progress,
            data=self._work(job) if status != "SUBMITTED" else None,
            notify_hook=job.fields["hook"],
            fail_reason=FAILURE_REASON if status == "FAILURE" else None,
        )
