"""Suno routes: v4.0 (new-api's task relay) and v3.0 / v3.5 (GoAPI style).

v4.0 (new-api ``router/relay-router.go``, ``relay/channel/task/suno``), answers in the task
envelope ``{"code": "success", "message": "", "data": …}``:

=====================  ============================  ============================================
route name             path                          answer ``data``
=====================  ============================  ============================================
``suno.generate``      POST /suno/submit/music       the new task id (a string)
``suno.lyrics``        POST /suno/submit/lyrics      the new task id (a string)
``suno.fetch``         GET  /suno/fetch/{id}         the task record
``suno.fetch_many``    POST /suno/fetch              the records of the ids it knows, as a list
=====================  ============================  ============================================

v3.x (GoAPI style, integer-code envelope ``{"code": 200, "data": …, "message": "success"}``):
every candidate path the SDK knows is served, each a route of its own so that a test can switch
one off (``emu.fail(<route name>, status=200, body="<html>…", headers={"Content-Type":
"text/html"}, times=None)``) and watch the SDK move on:

=========================  ===============================================================
route names                paths
=========================  ===============================================================
``suno.v3_0.generate``     POST /suno/v1/v3.0/music, ``…generate.alt1`` /suno/v1/music,
                           ``…generate.alt2`` /api/suno/v1/music
``suno.v3_0.fetch``        GET ``<the same three prefixes>``/music/{id} (``.alt1``, ``.alt2``)
``suno.v3_0.concat``       POST ``<the same three prefixes>``/music/concat (``.alt1``, ``.alt2``)
``suno.v3_5.generate``     POST /suno/v1/v3.5/music, ``…generate.alt1`` /suno/v1/mv-3.5/music
``suno.v3_5.fetch``        GET ``<the same two prefixes>``/music/{id} (``.alt1``)
=========================  ===============================================================

Lifecycle of a music task (:func:`clip_status`), ``elapsed`` emulator seconds after its submit,
for a job of ``duration`` seconds: each of its two clips is ``submitted`` (first 2 s), then
``queued`` (until 4 s), then ``streaming`` (its ``audio_url`` a stream), then ``complete`` —
the first clip at 80 % of the duration, the second at the end. The task's status follows the
clip that is not complete yet (``SUBMITTED``, ``QUEUED``, ``IN_PROGRESS``), then ``SUCCESS``;
``progress`` is ``"0%"`` until the end and ``"100%"`` after, as on new-api. A prompt,
description or title with a word starting with "fail" ends with both clips in ``error`` and the
task ``FAILURE`` (``fail_reason`` = the first clip's ``error_message``). Lyrics are written at
once: their task is ``SUCCESS`` on the first fetch. v3.x tasks read ``pending`` →
``processing`` → ``completed`` / ``failed`` with the same clips, keyed by clip id.

Continuations check ``task_id`` (required, as upstream Suno-API does) and its clip; v3.0
``concat`` takes the id of a completed extension clip and makes a one-clip ``concat`` task.
``notify_hook`` is accepted (v4 and v3) and receives the finished task record (see
:mod:`._notify`).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from aiohttp import web

from . import _notify
from ._http import json_response, read_json_object, task_envelope, task_error
from ._task_record import QUEUED_SECONDS, SUBMITTED_SECONDS, TERMINAL, task_record
from ._validate import (
    Invalid,
    boolean_param,
    choice_param,
    number_param,
    object_param,
    request_object,
    string_param,
    task_invalid,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["DEFAULT_DURATION", "clip_status", "register"]

#: Emulator seconds from a music submit until its last clip is complete.
DEFAULT_DURATION: Final = 20.0
CLIP_SECONDS: Final = 151.0  # the length of every emulated song
FAILURE_MESSAGE: Final = "emulated failure: the prompt asked for it"

_FAIL_WORD: Final = re.compile(r"\bfail", re.IGNORECASE)
_MODELS: Final = (
    "chirp-v3-0",
    "chirp-v3-5",
    "chirp-v4",
    "chirp-auk",
    "chirp-bluejay",
    "chirp-crow",
)

ClipStatus = Literal["submitted", "queued", "streaming", "complete", "error"]

#: Clip status → task status, as upstream Suno-API maps them (``readerStatus``).
_TASK_STATUS: Final[Mapping[str, str]] = {
    "submitted": "SUBMITTED",
    "queued": "QUEUED",
    "streaming": "IN_PROGRESS",
    "complete": "SUCCESS",
    "error": "FAILURE",
}
#: Task status → the v3.x (GoAPI) word.
_V3_STATUS: Final[Mapping[str, str]] = {
    "SUBMITTED": "pending",
    "QUEUED": "pending",
    "IN_PROGRESS": "processing",
    "SUCCESS": "completed",
    "FAILURE": "failed",
}


def clip_status(elapsed: float, done_at: float, *, fails: bool) -> ClipStatus:
    """Where one clip is ``elapsed`` seconds after its submit, if it finishes at ``done_at``."""
    if elapsed >= done_at:
        return "error" if fails else "complete"
    if elapsed < SUBMITTED_SECONDS:
        return "submitted"
    if elapsed < QUEUED_SECONDS:
        return "queued"
    return "streaming"


@attrs.define(kw_only=True)
class _Clip:
    id: str
    title: str
    tags: str
    prompt: str
    description: str
    model: str
    done_at: float  # seconds after the task's submit
    kind: str = "gen"  # "gen" or "concat"
    continued_from: str | None = None


@attrs.define(kw_only=True)
class _Task:
    id: str
    row: int
    action: Literal["MUSIC", "LYRICS"]
    created: float
    fails: bool
    notify_hook: str | None
    clips: list[_Clip] = attrs.field(factory=list)
    lyrics: dict[str, Any] | None = None
    input: dict[str, Any] = attrs.field(factory=dict)
    v3: bool = False


@attrs.define
class _SunoState:
    """Every Suno task of one emulator (v4 and v3 alike), kept across restarts."""

    tasks: dict[str, _Task] = attrs.field(factory=dict)
    clips: dict[str, tuple[_Task, _Clip]] = attrs.field(factory=dict)
    rows: int = 0


#: (version, flavour name, default model, candidate prefixes) of the v3.x routes.
_V3_FLAVOURS: Final = (
    ("v3_0", "chirp-v3-0", ("/suno/v1/v3.0", "/suno/v1", "/api/suno/v1")),
    ("v3_5", "chirp-v3-5", ("/suno/v1/v3.5", "/suno/v1/mv-3.5")),
)


def register(emu: Emulator, app: web.Application) -> None:
    """Add the v4.0 routes and every v3.x candidate route to ``app``."""
    routes = _SunoRoutes(emu, emu._family_state(_SunoState))
    _notify.attach(emu, app)
    app.router.add_post("/suno/submit/music", routes.generate, name="suno.generate")
    app.router.add_post("/suno/submit/lyrics", routes.lyrics, name="suno.lyrics")
    app.router.add_get("/suno/fetch/{id}", routes.fetch, name="suno.fetch")
    app.router.add_post("/suno/fetch", routes.fetch_many, name="suno.fetch_many")
    for version, model, prefixes in _V3_FLAVOURS:
        for n, prefix in enumerate(prefixes):
            suffix = f".alt{n}" if n else ""
            generate = routes.v3_generate(model)
            app.router.add_post(
                f"{prefix}/music", generate, name=f"suno.{version}.generate{suffix}"
            )
            if version == "v3_0":
                app.router.add_post(
                    f"{prefix}/music/concat", routes.v3_concat, name=f"suno.v3_0.concat{suffix}"
                )
            app.router.add_get(
                f"{prefix}/music/{{id}}", routes.v3_fetch, name=f"suno.{version}.fetch{suffix}"
            )


# --------------------------------------------------------------------------- validation


def _model(body: Mapping[str, Any], default: str) -> str:
    return choice_param(body, "mv", _MODELS) or default


# --------------------------------------------------------------------------- routes


class _SunoRoutes:
    def __init__(self, emu: Emulator, state: _SunoState) -> None:
        self._emu = emu
        self._state = state

    # ------------------------------------------------------------------ v4.0

    async def generate(self, request: web.Request) -> web.Response:
        try:
            task = self._music(await request_object(request), default_model="chirp-v3-0", v3=False)
        except Invalid as exc:
            return task_invalid(exc)
        except LookupError:
            return task_error(400, "task_not_exist")
        return json_response(task_envelope(task.id))

    async def lyrics(self, request: web.Request) -> web.Response:
        try:
            body = await request_object(request)
            prompt = string_param(body, "prompt")
            notify_hook = string_param(body, "notify_hook")
        except Invalid as exc:
            return task_invalid(exc)
        if not prompt or not prompt.strip():
            return task_error(400, "prompt_empty")
        task = self._new_task("LYRICS", fails=bool(_FAIL_WORD.search(prompt)), hook=notify_hook)
        if not task.fails:
            title = prompt.strip().split("\n")[0][:40].title()
            task.lyrics = {
                "id": task.id,
                "title": title,
                "text": f"[Verse]\n{prompt.strip()}\n\n[Chorus]\n{title}, {title}",
                "status": "complete",
            }
        self._notify(task)
        return json_response(task_envelope(task.id))

    async def fetch(self, request: web.Request) -> web.Response:
        task = self._state.tasks.get(request.match_info["id"])
        if task is None or task.v3:
            return task_error(400, "task_not_exist")
        return json_response(task_envelope(self._record(task)))

    async def fetch_many(self, request: web.Request) -> web.Response:
        try:
            body = await request_object(request)
            choice_param(body, "action", ("MUSIC", "LYRICS"))
        except Invalid as exc:
            return task_invalid(exc)
        ids = body.get("ids")
        if ids is None:
            ids = []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return task_error(400, "invalid_request", "ids must be a list of strings")
        # new-api ignores ``action`` when filtering; unknown ids are simply left out.
        found = [self._state.tasks.get(i) for i in dict.fromkeys(ids)]
        records = [self._record(t) for t in found if t is not None and not t.v3]
        return json_response(task_envelope(records))

    # ------------------------------------------------------------------ v3.x

    def v3_generate(self, default_model: str) -> Any:
        async def generate(request: web.Request) -> web.Response:
            try:
                body = await request_object(request)
                inner = object_param(body, "input")
                custom = boolean_param(body, "custom_mode")
                if inner is None:
                    raise Invalid("input is required")
                if not custom and not (string_param(inner, "gpt_description_prompt") or "").strip():
                    raise Invalid("input.gpt_description_prompt is required unless custom_mode")
                # ``mv`` may be top-level or inside ``input`` (both are seen); top-level wins.
                merged = {**inner, **({"mv": body["mv"]} if "mv" in body else {})}
                merged["notify_hook"] = body.get("notify_hook")
                task = self._music(merged, default_model=default_model, v3=True)
            except Invalid as exc:
                return _v3_error(400, exc.plain)
            except LookupError:
                return _v3_error(400, "continue_clip_id is not a clip of yours")
            return json_response(_v3_envelope({"task_id": task.id}))

        return generate

    async def v3_fetch(self, request: web.Request) -> web.Response:
        task = self._state.tasks.get(request.match_info["id"])
        if task is None or not task.v3:
            return _v3_error(404, "task not found")
        return json_response(_v3_envelope(self._v3_record(task)))

    async def v3_concat(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        clip_id = body.get("clip_id") if body is not None else None
        if not isinstance(clip_id, str) or not clip_id:
            return _v3_error(400, "clip_id is required")
        found = self._state.clips.get(clip_id)
        if found is None:
            return _v3_error(404, "clip not found")
        parent, clip = found
        if clip.continued_from is None:
            return _v3_error(400, "only a clip made by an extension can be concatenated")
        if self._clip_status(parent, clip) != "complete":
            return _v3_error(400, "the clip is not complete yet")
        task = self._new_task("MUSIC", fails=False, hook=None, v3=True)
        self._add_clip(
            task,
            title=clip.title,
            tags=clip.tags,
            prompt=clip.prompt,
            description="",
            model=clip.model,
            done_at=self._duration() / 2,
            kind="concat",
        )
        return json_response(_v3_envelope({"task_id": task.id}))

    # ------------------------------------------------------------------ helpers

    def _duration(self) -> float:
        return DEFAULT_DURATION

    def _new_task(
        self, action: Literal["MUSIC", "LYRICS"], *, fails: bool, hook: str | None, v3: bool = False
    ) -> _Task:
        self._state.rows += 1
        task_id = str(uuid.uuid4()) if v3 else "task_" + secrets.token_hex(16)
        task = _Task(
            id=task_id,
            row=self._state.rows,
            action=action,
            created=self._emu.now,
            fails=fails,
            notify_hook=hook,
            v3=v3,
        )
        self._state.tasks[task.id] = task
        return task

    def _music(self, body: dict[str, Any], *, default_model: str, v3: bool) -> _Task:
        description = string_param(body, "gpt_description_prompt") or ""
        prompt = string_param(body, "prompt") or ""
        title = string_param(body, "title") or ""
        tags = string_param(body, "tags") or ""
        string_param(body, "negative_tags")
        hook = string_param(body, "notify_hook")
        boolean_param(body, "make_instrumental")
        model = _model(body, default_model)
        continue_clip = string_param(body, "continue_clip_id")
        number_param(body, "continue_at", 0, CLIP_SECONDS)
        parent_task_id = string_param(body, "task_id")
        if continue_clip:
            if not v3 and not parent_task_id:
                raise Invalid("task id is empty")
            found = self._state.clips.get(continue_clip)
            if found is None or (parent_task_id and found[0].id != parent_task_id):
                raise LookupError(continue_clip)
        if description:  # inspiration mode: Suno writes title and lyrics itself
            title, prompt = description.strip()[:40].title(), ""
        elif not (prompt or title or tags):
            raise Invalid("gpt_description_prompt, or prompt / title / tags, is required")
        fails = any(_FAIL_WORD.search(text) for text in (description, prompt, title))
        task = self._new_task("MUSIC", fails=fails, hook=hook, v3=v3)
        task.input = {k: v for k, v in body.items() if v is not None and k != "notify_hook"}
        duration = self._duration()
        for done_at in (duration * 0.8, duration):
            self._add_clip(
                task,
                title=title or "Untitled",
                tags=tags,
                prompt=prompt,
                description=description,
                model=model,
                done_at=done_at,
                continued_from=continue_clip or None,
            )
        self._notify(task)
        return task

    def _notify(self, task: _Task) -> None:
        """Send the finished record to the task's ``notify_hook``, if it has one."""
        done_at = max((c.done_at for c in task.clips), default=0.0)
        render = self._v3_record if task.v3 else self._record
        _notify.notify_when_done(
            self._emu, task.notify_hook, task.created + done_at, lambda: render(task)
        )

    def _add_clip(self, task: _Task, **fields: Any) -> None:
        clip = _Clip(id=str(uuid.uuid4()), **fields)
        task.clips.append(clip)
        self._state.clips[clip.id] = (task, clip)

    def _clip_status(self, task: _Task, clip: _Clip) -> ClipStatus:
        return clip_status(self._emu.now - task.created, clip.done_at, fails=task.fails)

    def _status(self, task: _Task) -> str:
        if task.action == "LYRICS":
            return "FAILURE" if task.fails else "SUCCESS"
        words = [self._clip_status(task, clip) for clip in task.clips]
        if "error" in words and all(w in ("error", "complete") for w in words):
            return "FAILURE"
        pending = next((w for w in words if w != "complete"), "complete")
        return _TASK_STATUS[pending]

    def _clip_view(self, task: _Task, clip: _Clip) -> dict[str, Any]:
        status = self._clip_status(task, clip)
        done = status == "complete"
        file = self._emu.file_url
        audio = file(f"{clip.id}.mp3") if done else None
        if status == "streaming":
            audio = file(f"{clip.id}-stream.mp3")
        return {
            "id": clip.id,
            "title": clip.title,
            "status": status,
            "audio_url": audio,
            "video_url": file(f"{clip.id}.mp4") if done else "",
            "image_url": file(f"{clip.id}.jpeg") if status != "submitted" else None,
            "image_large_url": file(f"{clip.id}-large.jpeg") if status != "submitted" else None,
            "is_video_pending": not done,
            "model_name": clip.model,
            "major_model_version": clip.model.removeprefix("chirp-"),
            "created_at": self._emu.timestamp(task.created),
            "metadata": {
                "tags": clip.tags,
                "prompt": clip.prompt,
                "gpt_description_prompt": clip.description or None,
                "type": clip.kind,
                "duration": CLIP_SECONDS if done else None,
                "error_type": "emulated" if status == "error" else None,
                "error_message": FAILURE_MESSAGE if status == "error" else None,
                "stream": True,
            },
        }

    def _record(self, task: _Task) -> dict[str, Any]:
        """The v4 task record (new-api ``TaskDto``) as it is now."""
        status = self._status(task)
        data: Any
        if task.action == "LYRICS":
            data, finish, start = task.lyrics, task.created, task.created
        else:
            data = [self._clip_view(task, clip) for clip in task.clips]
            finish = task.created + max(c.done_at for c in task.clips)
            start = task.created + SUBMITTED_SECONDS
        return task_record(
            row=task.row,
            task_id=task.id,
            action=task.action,
            status=status,
            submitted=task.created,
            started=start if self._emu.now >= start else None,
            finished=finish if status in TERMINAL else None,
            progress=100 if status in TERMINAL else 0,
            data=data,
            notify_hook=task.notify_hook,
            fail_reason=FAILURE_MESSAGE if status == "FAILURE" else None,
        )

    def _v3_record(self, task: _Task) -> dict[str, Any]:
        """The v3.x (GoAPI) task: status word, ``input`` as JSON text, clips keyed by id."""
        status = _V3_STATUS[self._status(task)]
        return {
            "task_id": task.id,
            "status": status,
            "input": json.dumps(task.input, ensure_ascii=False),
            "clips": {clip.id: self._clip_view(task, clip) for clip in task.clips},
        }


def _v3_envelope(data: Any) -> dict[str, Any]:
    return {"code": 200, "data": data, "message": "success"}


def _v3_error(status: int, message: str) -> web.Response:
    return json_response(
        {"code": status, "data": None, "message": message, "error_message": message},
        status=status,
    )
