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
for a job of ``duration`` seconds (``emu.duration("suno")``): each of its two clips is
``submitted`` (first 2 s), then ``queued`` (until 4 s), then ``streaming`` (its ``audio_url`` a
stream), then ``complete`` — the first clip at 80 % of the duration, the second at the end. The
task's status follows the clip that is not complete yet (``SUBMITTED``, ``QUEUED``,
``IN_PROGRESS``), then ``SUCCESS``; ``progress`` is ``"0%"`` until the end and ``"100%"``
after, as on new-api. A prompt, description or title carrying the magic word ``[fail]`` ends with
both clips in ``error`` and the task ``FAILURE`` (``fail_reason`` = the first clip's
``error_message``). Lyrics are written at once: their task is ``SUCCESS`` on the first fetch.
v3.x tasks read ``pending`` → ``processing`` → ``completed`` / ``failed`` with the same clips,
keyed by clip id.

Continuations check ``task_id`` (required, as upstream Suno-API does) and its clip; v3.0
``concat`` takes the id of a completed extension clip and makes a one-clip ``concat`` task.
``notify_hook`` is accepted (v4 and v3) and receives the finished task record (see
:mod:`._notify`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from aiohttp import web

from . import _notify
from ._http import json_response, task_error
from ._jobs import Job, JobStore, answer, by_id, by_ids, path_id, task_not_exist, task_route
from ._task_record import QUEUED_SECONDS, SUBMITTED_SECONDS, TERMINAL, task_record
from ._validate import (
    Invalid,
    boolean_param,
    choice_param,
    number_param,
    object_param,
    request_object,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["FAILURE_MESSAGE", "clip_status", "register"]

CLIP_SECONDS: Final = 151.0  # the length of every emulated song
FAILURE_MESSAGE: Final = "emulated failure: the prompt asked for it"
MODELS: Final = (
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

#: (version, default model, candidate prefixes) of the v3.x routes.
_V3_FLAVOURS: Final = (
    ("v3_0", "chirp-v3-0", ("/suno/v1/v3.0", "/suno/v1", "/api/suno/v1")),
    ("v3_5", "chirp-v3-5", ("/suno/v1/v3.5", "/suno/v1/mv-3.5")),
)


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
    done_share: float  # the share of the family's duration after which it is done
    kind: str = "gen"  # "gen" or "concat"
    continued_from: str | None = None


@attrs.define
class _Rows:
    count: int = 0  # newer new-api numbers its task rows: the integer ``id`` of a record


def register(emu: Emulator, app: web.Application) -> None:
    """Add the v4.0 routes and every v3.x candidate route to ``app``."""
    routes = _SunoRoutes(emu, JobStore(emu, "suno"), JobStore(emu, "suno.v3", duration="suno"))
    _notify.attach(emu, app)
    add = app.router
    add.add_post("/suno/submit/music", task_route(routes.generate), name="suno.generate")
    add.add_post("/suno/submit/lyrics", task_route(routes.lyrics), name="suno.lyrics")
    fetch = by_id(routes.v4, routes.record, envelope=True, job_id=path_id())
    add.add_get("/suno/fetch/{id}", fetch, name="suno.fetch")
    add.add_post("/suno/fetch", task_route(routes.fetch_many), name="suno.fetch_many")
    v3_fetch = by_id(
        routes.v3,
        lambda job: _v3_envelope(routes.v3_record(job)),
        envelope=False,
        job_id=path_id(),
        not_found=lambda: _v3_error(404, "task not found"),
    )
    for version, model, prefixes in _V3_FLAVOURS:
        generate = routes.v3_generate(model)
        for n, prefix in enumerate(prefixes):
            suffix = f".alt{n}" if n else ""
            add.add_post(f"{prefix}/music", generate, name=f"suno.{version}.generate{suffix}")
            if version == "v3_0":
                name = f"suno.v3_0.concat{suffix}"
                add.add_post(f"{prefix}/music/concat", routes.v3_concat, name=name)
            add.add_get(f"{prefix}/music/{{id}}", v3_fetch, name=f"suno.{version}.fetch{suffix}")


def _title(text: str) -> str:
    """A song title made from the first line of a prompt."""
    line = text.strip().split("\n")[0][:40].strip()
    return line[:1].upper() + line[1:]


def _v3_envelope(data: Any) -> dict[str, Any]:
    return {"code": 200, "data": data, "message": "success"}


def _v3_error(status: int, message: str) -> web.Response:
    return json_response(
        {"code": status, "data": None, "message": message, "error_message": message},
        status=status,
    )


class _SunoRoutes:
    def __init__(self, emu: Emulator, v4: JobStore, v3: JobStore) -> None:
        self._emu = emu
        self.v4 = v4
        self.v3 = v3
        self._rows = emu._family_state(_Rows)
        self._fetch_many = by_ids(v4, self.record, envelope=True)

    # ------------------------------------------------------------------ v4.0

    async def generate(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        try:
            job = self._music(body, default_model="chirp-v3-0", store=self.v4)
        except LookupError:
            return task_not_exist()
        return answer(job.id, envelope=True)

    async def fetch_many(self, request: web.Request) -> web.StreamResponse:
        if (await request_object(request)).get("ids") is None:
            return answer([], envelope=True)  # new-api: no ids, an empty list
        return await self._fetch_many(request)

    async def lyrics(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        prompt = string_param(body, "prompt")
        hook = string_param(body, "notify_hook")
        if not prompt or not prompt.strip():
            return task_error(400, "prompt_empty")
        job = self._new_job(self.v4, "LYRICS", text=prompt, hook=hook)
        if not job.fails:
            title = _title(prompt)
            job.fields["lyrics"] = {
                "id": job.id,
                "title": title,
                "text": f"[Verse]\n{prompt.strip()}\n\n[Chorus]\n{title}, {title}",
                "status": "complete",
            }
        self._notify(job)
        return answer(job.id, envelope=True)

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
                job = self._music(merged, default_model=default_model, store=self.v3)
            except Invalid as exc:
                return _v3_error(400, exc.plain)
            except LookupError:
                return _v3_error(400, "continue_clip_id is not a clip of yours")
            return json_response(_v3_envelope({"task_id": job.id}))

        return generate

    async def v3_concat(self, request: web.Request) -> web.Response:
        try:
            clip_id = string_param(await request_object(request), "clip_id")
        except Invalid as exc:
            return _v3_error(400, exc.plain)
        if not clip_id:
            return _v3_error(400, "clip_id is required")
        found = self._find_clip(clip_id)
        if found is None:
            return _v3_error(404, "clip not found")
        parent, clip = found
        if clip.continued_from is None:
            return _v3_error(400, "only a clip made by an extension can be concatenated")
        if self._clip_status(parent, clip) != "complete":
            return _v3_error(400, "the clip is not complete yet")
        job = self._new_job(self.v3, "MUSIC", text="", hook=None)
        self._add_clip(job, clip=clip, done_share=0.5, kind="concat", continued_from=None)
        return json_response(_v3_envelope({"task_id": job.id}))

    # ------------------------------------------------------------------ jobs and clips

    def _new_job(
        self, store: JobStore, action: Literal["MUSIC", "LYRICS"], *, text: str, hook: str | None
    ) -> Job:
        self._rows.count += 1
        job_id = str(uuid.uuid4()) if store is self.v3 else "task_" + secrets.token_hex(16)
        return store.create(
            prompt=text,
            job_id=job_id,
            action=action,
            row=self._rows.count,
            hook=hook,
            clips=[],
            lyrics=None,
            input={},
        )

    def _music(self, body: dict[str, Any], *, default_model: str, store: JobStore) -> Job:
        description = string_param(body, "gpt_description_prompt") or ""
        prompt = string_param(body, "prompt") or ""
        title = string_param(body, "title") or ""
        tags = string_param(body, "tags") or ""
        string_param(body, "negative_tags")
        hook = string_param(body, "notify_hook")
        boolean_param(body, "make_instrumental")
        model = choice_param(body, "mv", MODELS) or default_model
        continue_clip = string_param(body, "continue_clip_id")
        number_param(body, "continue_at", 0, CLIP_SECONDS)
        parent_task_id = string_param(body, "task_id")
        if continue_clip:
            if store is self.v4 and not parent_task_id:
                raise Invalid("task id is empty")
            found = self._find_clip(continue_clip)
            if found is None or (parent_task_id and found[0].id != parent_task_id):
                raise LookupError(continue_clip)
        if description:  # inspiration mode: Suno writes title and lyrics itself
            title, prompt = _title(description), ""
        elif not (prompt or title or tags):
            raise Invalid("gpt_description_prompt, or prompt / title / tags, is required")
        job = self._new_job(store, "MUSIC", text=" ".join((description, prompt, title)), hook=hook)
        job.fields["input"] = {
            k: v for k, v in body.items() if v is not None and k != "notify_hook"
        }
        template = _Clip(
            id="",
            title=title or "Untitled",
            tags=tags,
            prompt=prompt,
            description=description,
            model=model,
            done_share=1.0,
            continued_from=continue_clip or None,
        )
        for share in (0.8, 1.0):
            self._add_clip(job, clip=template, done_share=share)
        self._notify(job)
        return job

    def _add_clip(self, job: Job, *, clip: _Clip, **changes: Any) -> None:
        job.fields["clips"].append(attrs.evolve(clip, id=str(uuid.uuid4()), **changes))

    def _find_clip(self, clip_id: str) -> tuple[Job, _Clip] | None:
        for store in (self.v4, self.v3):
            for job in store:
                for clip in job.fields["clips"]:
                    if clip.id == clip_id:
                        return job, clip
        return None

    def _notify(self, job: Job) -> None:
        """Send the finished record to the job's ``notify_hook``, if it has one."""
        done = max((c.done_share for c in job.fields["clips"]), default=0.0) * self._duration()
        render = self.v3_record if self.v3.get(job.id) is job else self.record
        _notify.notify_when_done(
            self._emu, job.fields["hook"], job.created + done, lambda: render(job)
        )

    def _duration(self) -> float:
        return self._emu.duration("suno")

    def _clip_status(self, job: Job, clip: _Clip) -> ClipStatus:
        done_at = clip.done_share * self._duration()
        return clip_status(self._emu.now - job.created, done_at, fails=job.fails)

    def _status(self, job: Job) -> str:
        if job.fields["action"] == "LYRICS":
            return "FAILURE" if job.fails else "SUCCESS"
        words = [self._clip_status(job, clip) for clip in job.fields["clips"]]
        if "error" in words and all(w in ("error", "complete") for w in words):
            return "FAILURE"
        pending = next((w for w in words if w != "complete"), "complete")
        return _TASK_STATUS[pending]

    # ------------------------------------------------------------------ views

    def _clip_view(self, job: Job, clip: _Clip) -> dict[str, Any]:
        status = self._clip_status(job, clip)
        done = status == "complete"
        file = self._emu.file_url
        audio = file(f"{clip.id}.mp3") if done else None
        if status == "streaming":
            audio = file(f"{clip.id}-stream.mp3")
        shown = status != "submitted"
        return {
            "id": clip.id,
            "title": clip.title,
            "status": status,
            "audio_url": audio,
            "video_url": file(f"{clip.id}.mp4") if done else "",
            "image_url": file(f"{clip.id}.jpeg") if shown else None,
            "image_large_url": file(f"{clip.id}-large.jpeg") if shown else None,
            "is_video_pending": not done,
            "model_name": clip.model,
            "major_model_version": clip.model.removeprefix("chirp-"),
            "created_at": job.created_at,
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

    def record(self, job: Job) -> dict[str, Any]:
        """The v4 task record (new-api ``TaskDto``) as it is now."""
        status = self._status(job)
        clips = job.fields["clips"]
        if job.fields["action"] == "LYRICS":
            data, finish, start = job.fields["lyrics"], job.created, job.created
        else:
            data = [self._clip_view(job, clip) for clip in clips]
            finish = job.created + max(c.done_share for c in clips) * self._duration()
            start = job.created + SUBMITTED_SECONDS
        return task_record(
            row=job.fields["row"],
            task_id=job.id,
            action=job.fields["action"],
            status=status,
            submitted=job.created,
            started=start if self._emu.now >= start else None,
            finished=finish if status in TERMINAL else None,
            progress=100 if status in TERMINAL else 0,
            data=data,
            notify_hook=job.fields["hook"],
            fail_reason=FAILURE_MESSAGE if status == "FAILURE" else None,
        )

    def v3_record(self, job: Job) -> dict[str, Any]:
        """The v3.x (GoAPI) task: status word, ``input`` as JSON text, clips keyed by id."""
        return {
            "task_id": job.id,
            "status": _V3_STATUS[self._status(job)],
            "input": json.dumps(job.fields["input"], ensure_ascii=False),
            "clips": {clip.id: self._clip_view(job, clip) for clip in job.fields["clips"]},
        }
