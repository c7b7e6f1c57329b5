"""Midjourney routes: midjourney-proxy as relayed by new-api under ``/mj``.

Every route also answers under the mode prefixes ``/mj-fast/mj``, ``/mj-relax/mj`` and
``/mj-turbo/mj``, the same way (new-api strips the prefix before forwarding).

==========================================  =================================
route                                       name
==========================================  =================================
POST /mj/submit/imagine                     ``midjourney.imagine``
POST /mj/submit/action                      ``midjourney.action``
POST /mj/submit/modal                       ``midjourney.modal``
POST /mj/submit/blend                       ``midjourney.blend``
POST /mj/submit/describe                    ``midjourney.describe``
POST /mj/submit/shorten                     ``midjourney.shorten``
POST /mj/insight-face/swap                  ``midjourney.swap_face``
GET  /mj/task/{id}/fetch                    ``midjourney.fetch``
POST /mj/task/list-by-condition             ``midjourney.list_by_condition``
GET  /mj/task/{id}/image-seed               ``midjourney.image_seed``
GET  /mj/task/list                          ``midjourney.list``
POST /mj/task/query                         ``midjourney.query``
GET  /mj/task/queue                         ``midjourney.queue``
POST /mj/task/{id}/cancel                   ``midjourney.cancel``
GET  /mj/image/{id}                         ``midjourney.image`` (no key needed)
==========================================  =================================

Submits answer midjourney-proxy's ``{"code", "description", "result", "properties"}`` (the
switches named below live in ``emu.midjourney``, a :class:`MidjourneySettings`):

- 1 accepted (``result`` the new task id, a 16-digit string);
- 21 "Waiting for window confirm" for the Custom Zoom and Vary (Region) buttons, whose new task
  waits in ``MODAL`` until ``/mj/submit/modal`` (new-api keeps 21 for those two only). With
  :attr:`MidjourneySettings.remix` on, reroll / variation / pan tasks wait in ``MODAL`` too but
  are answered with code 1, as new-api rewrites them;
- 23 queue full, for the next :attr:`MidjourneySettings.queue_full` submits;
- 24 banned prompt when the prompt holds a word of :attr:`MidjourneySettings.banned_words`
  (``properties.bannedWord`` / ``promptEn``);
- 4 validation errors, with HTTP 200 (the proxy's checks) or HTTP 400 and ``type:
  "upstream_error"`` (new-api's own: ``prompt_is_required``, ``task_status_not_success``,
  ``task_no_found``, ``sour_base64_and_target_base64_is_required``).

Tasks are jobs of the kit's :class:`~._jobs.JobStore` (``"midjourney"``) and follow
:func:`lifecycle` over ``emu.duration("midjourney")`` (``Emulator(durations={"midjourney":
…})``): ``""`` (new-api before its first sync), ``NOT_START``, ``SUBMITTED``, ``IN_PROGRESS``
with stepped progress, then ``SUCCESS`` — or ``FAILURE`` with a ``failReason`` when the prompt
carries the magic word ``[fail]``. Request checks are the kit's (:mod:`._validate`), rendered in
the proxy's shape. Finished
grids carry U1–U4, 🔄 and V1–V4 buttons; finished upscales carry Vary, Zoom Out, Custom Zoom
and pan buttons; every button click creates a new task id (a repeated click answers the first
child's id, like the proxy's code 21 rewritten to 1). Images are small valid PNGs: a grid of
four coloured quadrants, and for ``U<n>`` that quadrant's colour alone.

A ``notifyHook`` receives the task object (POSTed as JSON) on every change of status or
progress, in order, even when the clock jumps. With :attr:`MidjourneySettings.stock_gateway`
the four endpoints stock new-api does not route (``list``, ``query``, ``queue``, ``cancel``)
answer its web UI: HTTP 200, ``text/html``.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from aiohttp import web

from . import _notify
from ._http import json_response
from ._jobs import Job, JobStore, asks_to_fail, by_id, by_ids, path_id
from ._media import GRID_COLORS, grid_png_bytes, png_bytes
from ._task_record import CLOCK_EPOCH
from ._validate import (
    Invalid,
    choice_param,
    object_param,
    request_object,
    required_param,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["MidjourneySettings", "lifecycle", "register", "settings"]

#: ``status`` stays ``""`` this long (new-api shows its stored copy before the first sync).
SYNC_SECONDS: Final = 1.0
#: ``NOT_START`` until this, then ``SUBMITTED`` until :data:`RUNNING_AT`.
SUBMITTED_AT: Final = 2.0
RUNNING_AT: Final = 3.0
#: The progress values shown while running, in order (as the proxy reports Discord's).
PROGRESS_STEPS: Final = (0, 15, 31, 46, 62, 78, 93)
GRID_SIZE: Final = (128, 96)
FAILURE_REASON: Final = "[Invalid parameter] emulated failure: the prompt asked for it"
CANCEL_REASON: Final = "取消任务"
SPA_PAGE: Final = (
    '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>New API</title></head>'
    '<body><div id="root"></div><script src="/assets/index.js"></script></body></html>'
)

_MODE_PREFIX: Final = r"/{mode:(?:mj-(?:fast|relax|turbo)/)?}mj"
_BOT_TYPES: Final = ("MID_JOURNEY", "NIJI_JOURNEY")
_DIMENSIONS: Final = ("PORTRAIT", "SQUARE", "LANDSCAPE")
_UNFINISHED: Final = ("NOT_START", "SUBMITTED", "IN_PROGRESS", "MODAL", "")

#: What a task produces: a 2x2 grid (with U/V buttons), one image (upscale: with its own
#: buttons; image: none, e.g. a face swap) or only text (describe, shorten).
Kind = Literal["grid", "upscale", "image", "text"]


@attrs.define(kw_only=True)
class MidjourneySettings:
    """Switches for the Midjourney routes of one emulator (``emu.midjourney``); change any time.

    How long a task takes is ``emu.durations["midjourney"]``, as for every task family.

    Attributes:
        banned_words: words that make a submit answer code 24.
        queue_full: how many of the next submits answer code 23 (queue full).
        remix: reroll / variation / pan tasks wait in ``MODAL`` (answered with code 1).
        stock_gateway: ``list``, ``query``, ``queue`` and ``cancel`` answer an HTML page.
        notify: whether ``notifyHook`` URLs are called (new-api drops them unless enabled).
    """

    banned_words: tuple[str, ...] = ("gore", "bloodbath")
    queue_full: int = 0
    remix: bool = False
    stock_gateway: bool = False
    notify: bool = True


@attrs.define(kw_only=True)
class _Task:
    """What the proxy knows of a task beyond the kit's :class:`~._jobs.Job` (id, clock, fails).

    ``job.created`` is when it was submitted, or confirmed out of ``MODAL``.
    """

    job: Job
    action: str
    kind: Kind
    description: str
    state: str | None = None
    submit_ms: int = 0
    notify_hook: str | None = None
    index: int | None = None  # the grid quadrant an upscale shows
    color: tuple[int, int, int] | None = None
    modal: bool = False
    form: Literal["zoom", "region", "remix"] | None = None  # what the MODAL form asks for
    cancelled_at: float | None = None
    final_prompt: str | None = None
    button_hash: str = attrs.field(factory=lambda: uuid.uuid4().hex)
    children: dict[str, str] = attrs.field(factory=dict)  # customId -> child id
    watch: _notify.Watch | None = None  # its notify hook's sender

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def prompt(self) -> str:
        return str(self.job.fields["prompt"])

    @prompt.setter
    def prompt(self, value: str) -> None:
        self.job.fields["prompt"] = value


@attrs.define
class _MidjourneyState:
    """Settings and the id counter of one emulator; kept across restarts."""

    settings: MidjourneySettings = attrs.field(factory=MidjourneySettings)
    ids: Any = attrs.field(factory=lambda: itertools.count(1730000000000001))


def settings(emu: Emulator) -> MidjourneySettings:
    """The Midjourney switches of ``emu`` (see :class:`MidjourneySettings`)."""
    return emu._family_state(_MidjourneyState).settings


# --------------------------------------------------------------------------- the state machine


def lifecycle(elapsed: float, duration: float) -> tuple[str, str]:
    """``(status, progress)`` of a task ``elapsed`` emulator seconds after its submit.

    ``""`` / ``""`` for the first second, ``NOT_START`` then ``SUBMITTED`` (``"0%"``) until
    3 s, ``IN_PROGRESS`` through :data:`PROGRESS_STEPS` until ``duration``, then ``SUCCESS``
    / ``"100%"`` (the caller turns it into ``FAILURE`` for a failing task).
    """
    if elapsed >= duration:
        return "SUCCESS", "100%"
    if elapsed < SYNC_SECONDS:
        return "", ""
    if elapsed < SUBMITTED_AT:
        return "NOT_START", "0%"
    if elapsed < RUNNING_AT:
        return "SUBMITTED", "0%"
    fraction = (elapsed - RUNNING_AT) / max(duration - RUNNING_AT, 1e-9)
    # Rounded first so that float noise (advance() steps, change_times) cannot lose a step.
    index = int(round(fraction * len(PROGRESS_STEPS), 6))
    step = PROGRESS_STEPS[min(index, len(PROGRESS_STEPS) - 1)]
    return "IN_PROGRESS", f"{step}%"


def change_times(duration: float) -> list[float]:
    """The elapsed times at which :func:`lifecycle` may change, in order."""
    running = max(duration - RUNNING_AT, 0.0)
    steps = [RUNNING_AT + running * k / len(PROGRESS_STEPS) for k in range(len(PROGRESS_STEPS))]
    times = [0.0, SYNC_SECONDS, SUBMITTED_AT, *steps, duration]
    return sorted({min(t, duration) for t in times})


def _buttons(task: _Task) -> list[dict[str, Any]]:
    """The buttons of a finished task (midjourney-proxy ``Button`` objects)."""
    h = task.button_hash

    def button(custom_id: str, label: str = "", emoji: str = "") -> dict[str, Any]:
        return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": 2}

    if task.kind == "grid":
        return [
            *(button(f"MJ::JOB::upsample::{n}::{h}", f"U{n}") for n in range(1, 5)),
            button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
            *(button(f"MJ::JOB::variation::{n}::{h}", f"V{n}") for n in range(1, 5)),
        ]
    if task.kind == "upscale":
        return [
            button(f"MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO", "Upscale (Subtle)"),
            button(f"MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO", "Upscale (Creative)"),
            button(f"MJ::JOB::high_variation::1::{h}::SOLO", "Vary (Strong)", "🪄"),
            button(f"MJ::JOB::low_variation::1::{h}::SOLO", "Vary (Subtle)", "🪄"),
            button(f"MJ::Inpaint::1::{h}::SOLO", "Vary (Region)", "🖌️"),
            button(f"MJ::Outpaint::50::1::{h}::SOLO", "Zoom Out 2x", "🔍"),
            button(f"MJ::Outpaint::75::1::{h}::SOLO", "Zoom Out 1.5x", "🔍"),
            button(f"MJ::CustomZoom::{h}", "Custom Zoom", "🔍"),
            button(f"MJ::JOB::pan_left::1::{h}::SOLO", emoji="⬅️"),
            button(f"MJ::JOB::pan_right::1::{h}::SOLO", emoji="➡️"),
            button(f"MJ::JOB::pan_up::1::{h}::SOLO", emoji="⬆️"),
            button(f"MJ::JOB::pan_down::1::{h}::SOLO", emoji="⬇️"),
        ]
    return []


#: What clicking a button starts: ``(action, kind, needs the modal form)`` by custom id kind.
def _child_of(custom_id: str) -> tuple[str, Kind, bool] | None:
    parts = custom_id.split("::")
    word = parts[2] if len(parts) > 2 and parts[1] == "JOB" else parts[1] if len(parts) > 1 else ""
    if word == "upsample" or word.startswith("upsample_"):
        return "UPSCALE", "upscale", False
    if word in ("variation", "high_variation", "low_variation"):
        return "VARIATION", "grid", False
    if word == "reroll":
        return "REROLL", "grid", False
    if word.startswith("pan_"):
        return "PAN", "grid", False
    if word == "Outpaint":
        return "ZOOM", "grid", False
    if word == "CustomZoom":
        return "ZOOM", "grid", True
    if word == "Inpaint":
        return "VARIATION", "grid", True
    return None


# --------------------------------------------------------------------------- answers


def _submitted(task_id: str, code: int = 1, **properties: Any) -> web.Response:
    description = "Waiting for window confirm" if code == 21 else "Submit success"
    return json_response(
        {"code": code, "description": description, "result": task_id, "properties": properties}
    )


def _refused(code: int, description: str, *, status: int = 200, **extra: Any) -> web.Response:
    """A midjourney-proxy failure answer (HTTP 200), or new-api's own (HTTP 400)."""
    if status != 200:
        return json_response(
            {"description": description, "type": "upstream_error", "code": code}, status=status
        )
    body = {"code": code, "description": description, "result": None, "properties": extra}
    return json_response(body)


class _Rejected(Invalid):
    """A check new-api makes itself: HTTP 400 ``{"description", "type": "upstream_error",
    "code": 4}`` instead of the proxy's HTTP 200 code 4."""


def _route(handler: Callable[[web.Request], Awaitable[web.Response]]) -> Any:
    """``handler`` with the kit's :class:`~._validate.Invalid` answered in the proxy's shape."""

    async def route(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except Invalid as exc:
            return _refused(4, exc.plain, status=400 if isinstance(exc, _Rejected) else 200)

    return route


def _data_url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not re.match(
        r"^data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+$", value
    ):
        raise Invalid(f"{name}: base64 format error (a data URL is expected)", name)
    return value


def _data_urls(body: dict[str, Any], name: str, least: int, most: int) -> list[str]:
    value = body.get(name) or []
    if not isinstance(value, list):
        raise Invalid(f"{name} must be a list", name)
    if not least <= len(value) <= most:
        raise Invalid(f"{name} size must be {least}~{most}", name)
    return [_data_url(item, name) for item in value]


async def _read(
    request: web.Request, *required: str
) -> tuple[dict[str, Any], str | None, str | None, list[str]]:
    """A submit's body, its ``state`` and ``notifyHook``, and its ``required`` strings.

    ``botType`` and ``accountFilter`` (every submit may carry them) are checked here.
    """
    body = await request_object(request)
    choice_param(body, "botType", _BOT_TYPES)
    object_param(body, "accountFilter")
    values = [required_param(body, name) for name in required]
    return body, string_param(body, "state"), string_param(body, "notifyHook"), values


# --------------------------------------------------------------------------- routes


def register(emu: Emulator, app: web.Application) -> None:
    """Add the Midjourney routes (and the notify-hook sender) to ``app``."""
    routes = _Routes(emu, JobStore(emu, "midjourney"), emu._family_state(_MidjourneyState))
    unknown = lambda: _refused(4, "task_no_found ", status=400)  # noqa: E731
    view = routes.view_of
    add = app.router.add_route
    for method, path, handler, name in (
        ("POST", "/submit/imagine", _route(routes.imagine), "imagine"),
        ("POST", "/submit/action", _route(routes.action), "action"),
        ("POST", "/submit/modal", _route(routes.modal), "modal"),
        ("POST", "/submit/blend", _route(routes.blend), "blend"),
        ("POST", "/submit/describe", _route(routes.describe), "describe"),
        ("POST", "/submit/shorten", _route(routes.shorten), "shorten"),
        ("POST", "/insight-face/swap", _route(routes.swap_face), "swap_face"),
        ("GET", "/task/{id}/fetch",
         by_id(routes.store, view, envelope=False, job_id=path_id(), not_found=unknown), "fetch"),
        ("POST", "/task/list-by-condition", by_ids(routes.store, view, envelope=False),
         "list_by_condition"),
        ("GET", "/task/{id}/image-seed", routes.image_seed, "image_seed"),
        ("GET", "/task/list", routes.list, "list"),
        ("POST", "/task/query", _route(routes.query), "query"),
        ("GET", "/task/queue", routes.queue, "queue"),
        ("POST", "/task/{id}/cancel", routes.cancel, "cancel"),
        ("GET", "/image/{id}", routes.image, "image"),
    ):  # fmt: skip
        add(method, _MODE_PREFIX + path, handler, name=f"midjourney.{name}")
    _notify.attach(emu, app)


class _Routes:
    def __init__(self, emu: Emulator, store: JobStore, state: _MidjourneyState) -> None:
        self._emu = emu
        self.store = store
        self._state = state

    @property
    def _settings(self) -> MidjourneySettings:
        return self._state.settings

    def _task(self, task_id: str) -> _Task | None:
        job = self.store.get(task_id)
        return None if job is None else job.fields["task"]

    def _tasks(self) -> list[_Task]:
        return [job.fields["task"] for job in self.store]

    def _duration(self) -> float:
        return self._emu.duration("midjourney")

    # ------------------------------------------------------------------ submits

    async def _submit(
        self,
        request: web.Request,
        make: Callable[[dict[str, Any]], tuple[str, str, Kind, str]],
        *,
        final_prompt: Callable[[str], str | None] | None = None,
        color: tuple[int, int, int] | None = None,
    ) -> web.Response:
        """Check, refuse (codes 23 / 24) or create a task; ``make(body)`` gives its prompt,
        action, kind and description."""
        body, state, hook, _ = await _read(request)
        prompt, action, kind, description = make(body)
        refusal = self._refusal(prompt)
        if refusal is not None:
            return refusal
        task = self._create(prompt, action, kind, description, state=state, hook=hook)
        task.final_prompt = final_prompt(prompt) if final_prompt is not None else None
        task.color = color
        return _submitted(task.id)

    def _refusal(self, prompt: str) -> web.Response | None:
        settings = self._settings
        if settings.queue_full > 0:
            settings.queue_full -= 1
            return _refused(23, "队列已满，请稍后尝试", numberOfQueues=10)
        for word in settings.banned_words:
            if re.search(rf"\b{re.escape(word)}\b", prompt, re.IGNORECASE):
                return _refused(24, "可能包含敏感词", promptEn=prompt, bannedWord=word)
        return None

    def _create(
        self,
        prompt: str,
        action: str,
        kind: Kind,
        description: str,
        *,
        state: str | None,
        hook: str | None,
    ) -> _Task:
        job = self.store.create(prompt=prompt, job_id=str(next(self._state.ids)))
        task = _Task(
            job=job, action=action, kind=kind, description=description, state=state,
            submit_ms=_epoch_ms(job.created),
            notify_hook=hook if self._settings.notify else None,
        )  # fmt: skip
        job.fields["task"] = task
        self._notify(task)
        return task

    async def imagine(self, request: web.Request) -> web.Response:
        def make(body: dict[str, Any]) -> tuple[str, str, Kind, str]:
            prompt = string_param(body, "prompt")
            if not (prompt or "").strip():
                raise _Rejected("prompt_is_required", "prompt")
            assert prompt is not None
            _data_urls(body, "base64Array", 0, 5)
            return prompt, "IMAGINE", "grid", f"/imagine {prompt}"

        return await self._submit(request, make)

    async def blend(self, request: web.Request) -> web.Response:
        def make(body: dict[str, Any]) -> tuple[str, str, Kind, str]:
            images = _data_urls(body, "base64Array", 2, 5)
            dimensions = choice_param(body, "dimensions", _DIMENSIONS) or "SQUARE"
            return "", "BLEND", "grid", f"/blend {len(images)} images {dimensions}"

        return await self._submit(request, make)

    async def describe(self, request: web.Request) -> web.Response:
        def make(body: dict[str, Any]) -> tuple[str, str, Kind, str]:
            _data_url(body.get("base64"), "base64")
            return "", "DESCRIBE", "text", "/describe"

        def described(_: str) -> str:
            return "\n\n".join(
                f"{emoji} an emulated description, take {n} --ar 4:3"
                for n, emoji in enumerate(("1️⃣", "2️⃣", "3️⃣", "4️⃣"), start=1)
            )

        return await self._submit(request, make, final_prompt=described)

    async def shorten(self, request: web.Request) -> web.Response:
        def make(body: dict[str, Any]) -> tuple[str, str, Kind, str]:
            prompt = required_param(body, "prompt")
            return prompt, "SHORTEN", "text", f"/shorten {prompt}"

        def shortened(prompt: str) -> str:
            words = prompt.split()
            options = "\n".join(
                f"{n}️⃣ {' '.join(words[: max(1, len(words) - n)])}" for n in range(1, 6)
            )
            return f"**Important tokens**\n{' '.join(words[:3])}\n\n{options}"

        return await self._submit(request, make, final_prompt=shortened)

    async def swap_face(self, request: web.Request) -> web.Response:
        def make(body: dict[str, Any]) -> tuple[str, str, Kind, str]:
            if not body.get("sourceBase64") or not body.get("targetBase64"):
                raise _Rejected("sour_base64_and_target_base64_is_required")
            _data_url(body["sourceBase64"], "sourceBase64")
            _data_url(body["targetBase64"], "targetBase64")
            return "InsightFace", "SWAP_FACE", "image", "/swap_face"

        return await self._submit(request, make, color=GRID_COLORS[0])

    async def action(self, request: web.Request) -> web.Response:
        _, state, hook, (parent_id, custom_id) = await _read(request, "taskId", "customId")
        parent = self._task(parent_id)
        if parent is None:
            raise _Rejected("task_no_found", "taskId")
        if self.view(parent)["status"] != "SUCCESS":
            raise _Rejected("task_status_not_success", "taskId")
        buttons = {b["customId"]: b["label"] or b["emoji"] for b in _buttons(parent)}
        if custom_id not in buttons:
            raise Invalid(f"customId {custom_id!r} is not a button of task {parent_id}")
        known = self._task(parent.children.get(custom_id, ""))
        if known is not None and not known.modal:
            return _submitted(known.id)  # the proxy's 21 "already done", rewritten to 1
        child_of = _child_of(custom_id)
        if child_of is None:
            raise _Rejected("unknown_action", "customId")
        action, kind, modal = child_of
        refusal = self._refusal(parent.prompt)
        if refusal is not None:
            return refusal
        description = f"/{action.lower()} {parent.id} {buttons[custom_id]}"
        child = self._create(parent.prompt, action, kind, description, state=state, hook=hook)
        child.job.fails = parent.job.fails
        if kind == "upscale":
            child.index = int(custom_id.split("::")[3]) if action == "UPSCALE" else None
            if parent.kind == "grid" and child.index:
                child.color = GRID_COLORS[child.index - 1]
            else:
                child.color, child.index = parent.color, parent.index
        if modal:
            child.form = "zoom" if "CustomZoom" in custom_id else "region"
        elif self._settings.remix and action in ("VARIATION", "REROLL", "PAN"):
            child.form = "remix"
        child.modal = child.form is not None
        if child.modal:
            child.final_prompt = parent.prompt + (" --zoom 2" if child.form == "zoom" else "")
        parent.children[custom_id] = child.id
        if modal:  # new-api keeps code 21 for Custom Zoom and Vary (Region) only
            return _submitted(child.id, 21, finalPrompt=child.final_prompt, remix=True)
        return _submitted(child.id)

    async def modal(self, request: web.Request) -> web.Response:
        body, state, hook, (task_id,) = await _read(request, "taskId")
        prompt = string_param(body, "prompt")
        mask = body.get("maskBase64")
        task = self._task(task_id)
        if task is None:
            raise _Rejected("task_no_found", "taskId")
        if not task.modal:
            raise Invalid(f"task {task_id} is not waiting for a modal form", "taskId")
        if task.form == "zoom" and prompt is not None and "--zoom" not in prompt:
            raise Invalid("a Custom Zoom prompt needs --zoom 1..2", "prompt")
        if mask is not None:
            _data_url(mask, "maskBase64")
        elif task.form == "region":
            raise Invalid("maskBase64 is required for Vary (Region)", "maskBase64")
        task.modal, task.form = False, None
        task.prompt = prompt or task.final_prompt or task.prompt
        task.job.fails = task.job.fails or asks_to_fail(task.prompt)
        task.job.created = self._emu.now
        task.state = state if state is not None else task.state
        task.notify_hook = (hook if self._settings.notify else None) or task.notify_hook
        task.final_prompt = None
        if task.watch is not None:
            _notify.resend(self._emu, task.watch, task.notify_hook)
        else:
            self._notify(task)
        return _submitted(task.id)

    # ------------------------------------------------------------------ queries

    async def image_seed(self, request: web.Request) -> web.Response:
        task = self._task(request.match_info["id"])
        if task is None:
            return json_response({"code": 3, "description": "关联任务不存在或已失效"}, status=404)
        if self.view(task)["status"] != "SUCCESS":
            return json_response({"code": 4, "description": "关联任务状态错误"}, status=400)
        seed = str(int(task.button_hash[:8], 16))
        return json_response({"code": 1, "description": "成功", "result": seed})

    async def list(self, request: web.Request) -> web.Response:
        if self._settings.stock_gateway:
            return _spa()
        newest = sorted(self._tasks(), key=lambda t: t.submit_ms, reverse=True)
        return json_response([self.view(t) for t in newest[:100]])

    async def queue(self, request: web.Request) -> web.Response:
        if self._settings.stock_gateway:
            return _spa()
        views = [self.view(t) for t in self._tasks()]
        waiting = [v for v in views if v["status"] in ("NOT_START", "SUBMITTED", "IN_PROGRESS")]
        return json_response(sorted(waiting, key=lambda v: v["submitTime"]))

    async def query(self, request: web.Request) -> web.Response:
        if self._settings.stock_gateway:
            return _spa()
        body = await request_object(request)
        page, size = body.get("pageNumber", 0), body.get("pageSize", 10)
        if not isinstance(page, int) or not isinstance(size, int) or page < 0 or size < 1:
            raise Invalid("pageNumber must be >= 0 and pageSize >= 1")
        ids = {str(i) for i in body.get("ids") or []} | (
            {str(body["id"])} if body.get("id") else set()
        )
        statuses = set(body.get("statusSet") or []) | (
            {body["status"]} if body.get("status") else set()
        )
        matching = [
            v for v in map(self.view, self._tasks())
            if (not ids or v["id"] in ids)
            and (not statuses or v["status"] in statuses)
            and (not body.get("action") or v["action"] == body["action"])
            and (not body.get("state") or v["state"] == body["state"])
        ]  # fmt: skip
        matching.sort(key=lambda v: v["submitTime"], reverse=True)
        content = matching[page * size : (page + 1) * size]
        total_pages = -(-len(matching) // size)
        return json_response(
            {
                "content": content,
                "totalElements": len(matching),
                "totalPages": total_pages,
                "number": page,
                "size": size,
                "numberOfElements": len(content),
                "first": page == 0,
                "last": page >= total_pages - 1,
                "empty": not content,
            }
        )

    async def cancel(self, request: web.Request) -> web.Response:
        if self._settings.stock_gateway:
            return _spa()
        task = self._task(request.match_info["id"])
        if task is not None and self.view(task)["status"] in _UNFINISHED:
            task.cancelled_at = self._emu.now
        return web.Response(status=200)  # trueai's Ok(): an empty body, whatever happened

    async def image(self, request: web.Request) -> web.Response:
        task = self._task(request.match_info["id"])
        if task is None or self.view(task)["status"] != "SUCCESS" or task.kind == "text":
            return web.Response(status=404, text="image not found")
        width, height = GRID_SIZE
        if task.kind == "grid":
            data = grid_png_bytes(width, height)
        else:
            data = png_bytes(width // 2, height // 2, color=task.color or GRID_COLORS[0])
        return web.Response(body=data, content_type="image/png")

    # ------------------------------------------------------------------ views

    def view_of(self, job: Job) -> dict[str, Any]:
        """The view of a job of the store (for the kit's status routes)."""
        return self.view(job.fields["task"])

    def view(self, task: _Task, at: float | None = None) -> dict[str, Any]:
        """The task object (midjourney-proxy ``Task``, as new-api stores it) at clock ``at``."""
        now = self._emu.now if at is None else at
        started, duration = task.job.created, self._duration()
        elapsed = now - started
        status, progress = lifecycle(elapsed, duration)
        fail_reason = ""
        finished = started + duration
        if task.modal:
            status, progress, finished = "MODAL", "0%", 0.0
        elif task.cancelled_at is not None and task.cancelled_at < finished:
            status, fail_reason, finished = "FAILURE", CANCEL_REASON, task.cancelled_at
        elif status == "SUCCESS" and task.job.fails:
            status, fail_reason = "FAILURE", FAILURE_REASON
        done = status in ("SUCCESS", "FAILURE")
        properties: dict[str, Any] = {"finalZhPrompt": ""}
        properties["finalPrompt"] = task.final_prompt or (
            f"{task.prompt} --v 6.1" if task.prompt else ""
        )
        return {
            "id": task.id,
            "action": task.action,
            "status": status,
            "progress": progress,
            "prompt": task.prompt,
            "promptEn": task.prompt,
            "description": task.description,
            "state": task.state or "",
            "submitTime": task.submit_ms,
            "startTime": _epoch_ms(started + RUNNING_AT) if elapsed >= RUNNING_AT else 0,
            "finishTime": _epoch_ms(finished) if done else 0,
            "imageUrl": (
                f"{self._emu.base_url}/mj/image/{task.id}"
                if status == "SUCCESS" and task.kind != "text"
                else ""
            ),
            "failReason": fail_reason,
            "buttons": _buttons(task) if status == "SUCCESS" else [],
            "properties": properties,
            "customId": "",
            "botType": "",
            "maskBase64": "",
        }

    # ------------------------------------------------------------------ notify hooks

    def _notify(self, task: _Task) -> None:
        """POST every change of ``task``'s status or progress to its notify hook, in order."""
        task.watch = _notify.notify_changes(
            self._emu, task.notify_hook,
            render=lambda at: self.view(task, at),
            key=lambda view: None if view["status"] == "" else (view["status"], view["progress"]),
            final=lambda view: view["status"] in ("SUCCESS", "FAILURE"),
            times=lambda: _task_change_times(task, self._duration()),
        )  # fmt: skip


def _task_change_times(task: _Task, duration: float) -> list[float]:
    """The emulator times at which ``task``'s status may change (a cancel cuts them short)."""
    times = [task.job.created + t for t in change_times(duration)]
    if task.cancelled_at is not None:
        times = [t for t in times if t < task.cancelled_at] + [task.cancelled_at]
    return times


def _spa() -> web.Response:
    """What stock new-api answers for a path it does not route: its web UI, status 200."""
    return web.Response(text=SPA_PAGE, content_type="text/html")


def _epoch_ms(clock: float) -> int:
    """The emulator clock as epoch milliseconds (counted from its ``CLOCK_EPOCH``)."""
    return int((CLOCK_EPOCH.timestamp() + clock) * 1000)
