"""Midjourney: ``client.midjourney`` (midjourney-proxy, relayed by new-api under ``/mj``).

Sources: midjourney-proxy's API (novicezk/midjourney-proxy, litter-coder/midjourney-proxy-plus
``docs/api.md``, trueai-org/midjourney-proxy) and new-api ``relay/relay-mj.go``, which changes
a few things: codes 21 / 22 come back as 1 (so a task waiting for input is told by its status
``MODAL``, not the code), ``notifyHook`` and ``accountFilter`` may be dropped, ``properties``
is mostly stripped, and ``list``, ``queue``, ``query`` and ``cancel`` are not routed on a stock
gateway (it answers its web page: ``UnsupportedOperation`` here).

Every submit answers ``{"code", "description", "result"}``; the transport reads it
(``envelope="midjourney"``): 1 / 21 / 22 accepted, 23 (queue full) retried like a 429, 24
``ContentPolicyError``, others typed errors. The new task's id is ``result``.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

import anyio.to_thread

from .._convert import structure
from .._files import check_writable, download, save_bytes
from .._grid import require_pillow, split_grid_file
from .._paths import expand
from .._task_handle import TaskHandle
from .._task_kind import MediaFile, TaskSnapshot, TaskState, state_from_text
from .._uploads import FileInput, to_data_url
from ..errors import NotFoundError, ResponseDecodeError, UnsupportedOperation
from ..models.midjourney import (
    MidjourneyButton,
    MidjourneyPage,
    MidjourneySubmitResult,
    MidjourneyTask,
)
from ._common import body_of
from ._task_family import BatchQuery, StatusQuery, TaskFamily

if TYPE_CHECKING:
    from .._transport import EnvelopeStyle

__all__ = ["MidjourneyService"]

Speed = Literal["fast", "relax", "turbo"]
BotType = Literal["MID_JOURNEY", "NIJI_JOURNEY"]
Dimensions = Literal["PORTRAIT", "SQUARE", "LANDSCAPE"]
#: Tasks as a list (an alias: the service has a method called ``list``).
TaskList = list[MidjourneyTask]
#: A task given by value, by handle or by id.
TaskRef = MidjourneyTask | TaskHandle[MidjourneyTask] | str

#: ``failReason`` of a task cancelled through trueai's midjourney-proxy (it ends in FAILURE).
_CANCEL_REASONS = frozenset({"取消任务", "cancel", "cancelled", "canceled"})
#: Actions whose image is a 2x2 grid.
_GRID_ACTIONS = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND", "ZOOM", "PAN"})


class MidjourneyService(TaskFamily[MidjourneyTask, MidjourneyTask]):
    """Imagine, click buttons, blend, describe, shorten, swap faces; query and cancel tasks.

    Every submit returns a ``TaskHandle[MidjourneyTask]``. Images are accepted as a path,
    bytes, a binary file object or a data URL, and sent as the data URLs the API wants.
    ``speed`` ("fast", "relax", "turbo") sends a submit through ``/mj-<speed>/mj/...``: best
    effort, as stock new-api strips that prefix (the proxy behind it may honour it; so may
    ``--fast`` / ``--relax`` / ``--turbo`` in the prompt). Waiting tasks are polled in
    ``list-by-condition`` batches of 50 ids.

    Submits raise ``ContentPolicyError`` (code 24, ``banned_word``), ``RateLimitError`` once
    a full queue (code 23) outlasts the retries, ``BadRequestError`` (code 4 or new-api's own
    checks), ``NotFoundError`` (code 3) and ``ServerError`` (codes 5, 9) — never re-sent, as
    they may have been billed; ``ValueError`` for arguments refused before sending.
    """

    name = "midjourney"
    status_model = MidjourneyTask
    submit_envelope: ClassVar[bool | EnvelopeStyle] = "midjourney"
    status_query: ClassVar[StatusQuery] = StatusQuery(
        path="fetch", id_param=None, envelope="midjourney"
    )
    batch_query: ClassVar[BatchQuery | None] = BatchQuery(
        path="list_by_condition", size=50, envelope="midjourney"
    )

    # -- the family contract -------------------------------------------------------------------

    def read(self, status: MidjourneyTask) -> TaskSnapshot[MidjourneyTask]:
        word = (status.status or "").strip().upper()
        needs_action = word == "MODAL"
        if needs_action or not word:  # "" is new-api's copy before its first sync
            state = TaskState.PENDING
        else:
            state = state_from_text(word, kind=self.flavour)
        reason = status.fail_reason
        if state is TaskState.FAILED and (reason or "").strip().lower() in _CANCEL_REASONS:
            state = TaskState.CANCELLED
        return self.snapshot(
            status,
            state,
            progress=1.0 if state is TaskState.SUCCEEDED else status.progress_fraction,
            failure_reason=reason if state is TaskState.FAILED else None,
            needs_action=needs_action,
        )

    def media_url(self, result: MidjourneyTask) -> str | None:
        return result.image_url

    def media_urls(self, result: MidjourneyTask) -> builtins.list[MediaFile]:
        """The image: a grid (2x2) or a single picture, named by the task's action.

        Its URL's extension names the file; a gateway's image route has none (new-api's
        ``/mj/image/{id}``), and Midjourney's images are PNG then.
        """
        url = result.image_url
        role = "grid" if (result.action or "").upper() in _GRID_ACTIONS else "image"
        if not url:
            return []
        suffix = "" if PurePosixPath(urlsplit(url).path).suffix else ".png"
        return [MediaFile(url=url, role=role, suffix=suffix)]

    def suggested_input(self, status: MidjourneyTask) -> str | None:
        return status.final_prompt

    def submitted(self, data: Any, request_id: str | None) -> tuple[str, MidjourneyTask | None]:
        """The id in ``result``; a code 21 "Waiting for window confirm" means the new task
        already waits in MODAL, so its handle says so at once."""
        answer = structure(data, MidjourneySubmitResult, request_id=request_id)
        try:
            task_id = answer.task_id
        except ValueError as exc:
            raise ResponseDecodeError(str(exc), body=data, request_id=request_id) from None
        if answer.code == 21 and "window" in (answer.description or "").lower():
            waiting = {"id": task_id, "status": "MODAL", "properties": answer.properties}
            return task_id, structure(waiting, MidjourneyTask, request_id=request_id)
        return task_id, None

    # -- submits -------------------------------------------------------------------------------

    async def imagine(
        self,
        prompt: str,
        *,
        bot_type: BotType | None = None,
        images: Sequence[FileInput] | None = None,
        speed: Speed | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Start a 2x2 grid from a prompt (Midjourney syntax: ``"fox --ar 3:2 --v 6"``).

        ``images`` are reference images (``base64Array``).
        """
        fields = {"prompt": prompt, "botType": bot_type, "base64Array": await _data_urls(images)}
        return await self._send(
            "imagine", fields, state, notify_hook, account_filter, extra_body, timeout, speed=speed
        )

    async def blend(
        self,
        images: Sequence[FileInput],
        *,
        dimensions: Dimensions | None = None,
        bot_type: BotType | None = None,
        speed: Speed | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Blend 2–5 images into a grid; ``dimensions`` PORTRAIT (2:3), SQUARE, LANDSCAPE (3:2)."""
        if not 2 <= len(images) <= 5:
            raise ValueError(f"blend takes 2 to 5 images, got {len(images)}")
        fields = {"base64Array": await _data_urls(images), "dimensions": dimensions,
                  "botType": bot_type}  # fmt: skip
        return await self._send(
            "blend", fields, state, notify_hook, account_filter, extra_body, timeout, speed=speed
        )

    async def describe(
        self,
        image: FileInput,
        *,
        bot_type: BotType | None = None,
        speed: Speed | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Four prompts for an image; read them from the result's ``final_prompt``."""
        fields = {"base64": await to_data_url(image), "botType": bot_type}
        return await self._send(
            "describe", fields, state, notify_hook, account_filter, extra_body, timeout, speed=speed
        )

    async def shorten(
        self,
        prompt: str,
        *,
        bot_type: BotType | None = None,
        speed: Speed | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Shorter versions of a prompt; read them from the result's ``final_prompt``."""
        fields = {"prompt": prompt, "botType": bot_type}
        return await self._send(
            "shorten", fields, state, notify_hook, account_filter, extra_body, timeout, speed=speed
        )

    async def swap_face(
        self,
        source: FileInput,
        target: FileInput,
        *,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Put the face of ``source`` onto ``target`` (InsightFace)."""
        fields = {"sourceBase64": await to_data_url(source),
                  "targetBase64": await to_data_url(target)}  # fmt: skip
        return await self._send(
            "swap_face", fields, state, notify_hook, account_filter, extra_body, timeout
        )

    async def action(
        self,
        task: TaskRef,
        custom_id: str,
        *,
        choose_same_channel: bool | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        account_filter: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Click the button ``custom_id`` of a finished task; a new task does the work.

        Some buttons (Custom Zoom, Vary (Region), and with remix on the rerolls, variations
        and pans) start a task that waits in MODAL: its ``wait()`` raises
        ``TaskNeedsActionError``; answer with :meth:`modal`.
        """
        fields = {"taskId": _id_of(task), "customId": custom_id,
                  "chooseSameChannel": choose_same_channel}  # fmt: skip
        return await self._send(
            "action", fields, state, notify_hook, account_filter, extra_body, timeout
        )

    async def click(self, task: TaskRef, label: str, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """Click a button of a finished task by its label, emoji or kind: ``"U2"``, ``"🔄"``,
        ``"Zoom Out 2x"``, ``"Vary (Strong)"``, ``"⬅️"``, ``"pan_left"``…

        Raises ``ValueError`` naming the buttons the task has when none matches. Other
        keywords are those of :meth:`action`.
        """
        status = await self._finished(task)
        button = status.button(label)
        if button is None:
            raise ValueError(_no_button(status, repr(label)))
        return await self.action(status.id, button.custom_id, **kw)

    async def upscale(self, task: TaskRef, n: int, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """U1–U4: one image of the grid, as a new task (``n`` = 1..4)."""
        return await self._press(task, "upsample", n, f"U{n}", kw)

    async def variation(self, task: TaskRef, n: int, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """V1–V4: a new grid of variations of one image (``n`` = 1..4)."""
        return await self._press(task, "variation", n, f"V{n}", kw)

    async def reroll(self, task: TaskRef, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """🔄: run the prompt again."""
        return await self._press(task, "reroll", None, "🔄", kw)

    async def vary(
        self, task: TaskRef, strength: Literal["strong", "subtle"] = "strong", **kw: Any
    ) -> TaskHandle[MidjourneyTask]:
        """Vary (Strong) / Vary (Subtle) of an upscaled image."""
        kind = "high_variation" if strength == "strong" else "low_variation"
        return await self._press(task, kind, None, f"Vary ({strength.title()})", kw)

    async def zoom_out(
        self, task: TaskRef, factor: float = 2, **kw: Any
    ) -> TaskHandle[MidjourneyTask]:
        """Zoom Out 2x or 1.5x (``factor``) of an upscaled image."""
        markers = {2.0: "::Outpaint::50::", 1.5: "::Outpaint::75::"}
        if factor not in markers:
            raise ValueError(f"factor must be 2 or 1.5, got {factor!r}")
        marker = markers[factor]
        status = await self._finished(task)
        button = next((b for b in status.buttons if marker in b.custom_id), None)
        if button is None:
            raise ValueError(_no_button(status, f"Zoom Out {factor:g}x"))
        return await self.action(status.id, button.custom_id, **kw)

    async def pan(
        self, task: TaskRef, direction: Literal["left", "right", "up", "down"], **kw: Any
    ) -> TaskHandle[MidjourneyTask]:
        """⬅️ ➡️ ⬆️ ⬇️: extend an upscaled image in one direction."""
        return await self._press(task, f"pan_{direction}", None, f"pan {direction}", kw)

    async def custom_zoom(self, task: TaskRef, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """Custom Zoom: the new task waits in MODAL; send ``--zoom`` with :meth:`modal`."""
        return await self._press(task, "CustomZoom", None, "Custom Zoom", kw)

    async def vary_region(self, task: TaskRef, **kw: Any) -> TaskHandle[MidjourneyTask]:
        """Vary (Region): the new task waits in MODAL; send the mask with :meth:`modal`."""
        return await self._press(task, "Inpaint", None, "Vary (Region)", kw)

    async def modal(
        self,
        task: TaskRef,
        *,
        prompt: str | None = None,
        mask: FileInput | None = None,
        state: str | None = None,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """Send the input a task waiting in MODAL asks for, then wait on the handle returned.

        ``prompt`` (empty: the suggested one; Custom Zoom needs ``--zoom 1..2``) and ``mask``
        (Vary (Region): the area to redraw, as an image) as ``maskBase64``.
        """
        fields = {"taskId": _id_of(task), "prompt": prompt,
                  "maskBase64": await to_data_url(mask) if mask is not None else None}  # fmt: skip
        return await self._send("modal", fields, state, notify_hook, None, extra_body, timeout)

    # -- queries -------------------------------------------------------------------------------

    async def image_seed(self, task: TaskRef, *, timeout: float | None = None) -> str:
        """The seed of a finished task's image (needs the proxy's DM channel set up)."""
        with _served("image seeds"):
            reply = await self._transport.request(
                "GET", self._path("image_seed", _id_of(task)), envelope="midjourney",
                timeout=timeout,
            )  # fmt: skip
        return str(structure(reply.data, MidjourneySubmitResult).result)

    async def list(self, *, timeout: float | None = None) -> TaskList:
        """The newest tasks (100 at most on trueai's proxy). Not served by every gateway."""
        with _served("the task list"):
            reply = await self._transport.request(
                "GET", self.path("list"), envelope="midjourney", timeout=timeout
            )
        return _tasks(reply.data, reply.request_id)

    async def queue(self, *, timeout: float | None = None) -> TaskList:
        """Tasks queued or running, oldest first. Not served by every gateway."""
        with _served("the task queue"):
            reply = await self._transport.request(
                "GET", self.path("queue"), envelope="midjourney", timeout=timeout
            )
        return _tasks(reply.data, reply.request_id)

    async def query(
        self,
        *,
        page_number: int = 0,
        page_size: int = 10,
        sort: str | None = None,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        status_set: Sequence[str] | None = None,
        action: str | None = None,
        state: str | None = None,
        prompt: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> MidjourneyPage:
        """One page of tasks matching the filters (``pageNumber`` counts from 0); the page as
        sent stays in ``raw``. Not served by every gateway."""
        body = body_of(
            {"pageNumber": page_number, "pageSize": page_size, "sort": sort,
             "ids": list(ids) if ids is not None else None, "status": status,
             "statusSet": list(status_set) if status_set is not None else None,
             "action": action, "state": state, "prompt": prompt},
            extra_body,
        )  # fmt: skip
        with _served("the paged task query"):
            reply = await self._transport.request(
                "POST", self.path("query"), json_body=body, envelope="midjourney",
                timeout=timeout,
            )  # fmt: skip
        return structure(reply.data, MidjourneyPage, request_id=reply.request_id)

    async def cancel(self, task_id: TaskRef) -> MidjourneyTask:
        """Cancel a task that has not finished (by id, value or handle), then return it as it
        is now.

        The proxy answers an empty 200 whether or not it cancelled anything; the task then
        reads ``CANCEL`` or ``FAILURE`` "取消任务" (``TaskState.CANCELLED`` either way).
        """
        task = _id_of(task_id)
        with _served("cancelling tasks"):
            await self._transport.request("POST", self._path("cancel", task), envelope="midjourney")
        return await self.get(task)

    # -- the grid ------------------------------------------------------------------------------

    async def split_grid(
        self,
        task: TaskRef,
        folder: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        timeout: float | None = None,
    ) -> builtins.list[Path]:
        """Cut a finished grid into its four images, saved in ``folder`` (created if needed;
        ``~`` expanded) as ``<id>-1.png`` … ``<id>-4.png`` (top left, top right, bottom left,
        bottom right).

        On v5 and later models these are the images U1–U4 would give, without four more jobs.
        An existing file is only replaced with ``overwrite=True`` (else ``FileExistsError``,
        before anything is downloaded). Needs the ``images`` extra (Pillow): ``pip install
        'api4gpt-async[images]'``; without it an ``ImportError`` says so, before any request.
        """
        require_pillow()
        status = await self._finished(task)
        if not status.image_url:
            raise ValueError(f"task {status.id} has no image ({status.status or 'no status'})")
        targets = [Path(folder) / f"{status.id}-{n}.png" for n in range(1, 5)]
        for target in targets:
            check_writable(target, overwrite=overwrite)
        with tempfile.TemporaryDirectory(prefix="api4gpt-grid-") as scratch:
            grid = await download(self._transport, status.image_url, Path(scratch) / "grid",
                                  timeout=timeout)  # fmt: skip
            parts = await anyio.to_thread.run_sync(split_grid_file, grid)
        return [
            await save_bytes(data, target, functools.partial(str, target.name), overwrite=overwrite)
            for data, target in zip(parts, targets, strict=True)
        ]

    # -- helpers -------------------------------------------------------------------------------

    def _path(self, key: str, task_id: str) -> str:
        return expand(self.path(key), {"id": task_id})

    async def _send(
        self,
        key: str,
        fields: Mapping[str, Any],
        state: str | None,
        notify_hook: str | None,
        account_filter: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: float | None,
        *,
        speed: Speed | None = None,
    ) -> TaskHandle[MidjourneyTask]:
        """A submit with the fields every submit shares; ``speed`` picks the path prefix."""
        body = body_of(
            {**fields, "state": state, "notifyHook": notify_hook,
             "accountFilter": dict(account_filter) if account_filter is not None else None},
            extra_body,
        )  # fmt: skip
        path = self.path(key)
        if speed is not None:
            if speed not in ("fast", "relax", "turbo"):
                raise ValueError(f"speed must be 'fast', 'relax' or 'turbo', got {speed!r}")
            path = f"/mj-{speed}{path}" if path.startswith("/mj/") else path
        return await self._submit(key, body, timeout, path=path)

    async def _press(
        self, task: TaskRef, kind: str, n: int | None, what: str, kw: Mapping[str, Any]
    ) -> TaskHandle[MidjourneyTask]:
        if n is not None and not 1 <= n <= 4:
            raise ValueError(f"n must be 1 to 4, got {n}")
        status = await self._finished(task)
        button = _find(status.buttons, kind, n)
        if button is None:
            raise ValueError(_no_button(status, what))
        return await self.action(status.id, button.custom_id, **kw)

    async def _finished(self, task: TaskRef) -> MidjourneyTask:
        """The finished task's status, fetched unless the caller gave a finished one."""
        if isinstance(task, MidjourneyTask) and (task.status or "").upper() == "SUCCESS":
            return task
        if isinstance(task, TaskHandle):
            last = task.last
            if last is not None and last.state is TaskState.SUCCEEDED:
                return last.raw  # type: ignore[no-any-return]
        status = await self.get(_id_of(task))
        if (status.status or "").upper() != "SUCCESS":
            raise ValueError(
                f"task {status.id} has not finished (it is {status.status or 'not started'!r}):"
                " wait for it first"
            )
        return status


def _id_of(task: TaskRef) -> str:
    if isinstance(task, MidjourneyTask):
        return task.id
    if isinstance(task, TaskHandle):
        return task.id
    return str(task)


def _find(buttons: Sequence[MidjourneyButton], kind: str, n: int | None) -> MidjourneyButton | None:
    for button in buttons:
        if button.action == kind and (n is None or button.index == n):
            return button
    return None


def _no_button(status: MidjourneyTask, what: str) -> str:
    have = ", ".join(b.label or b.emoji or b.custom_id for b in status.buttons) or "none"
    return f"task {status.id} has no {what} button (its buttons: {have})"


async def _data_urls(images: Sequence[FileInput] | None) -> list[str] | None:
    if images is None:
        return None
    return [await to_data_url(image) for image in images]


def _tasks(data: Any, request_id: str | None) -> TaskList:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ResponseDecodeError(
            f"expected a list of tasks, got {type(data).__name__}", body=data, request_id=request_id
        )
    return [structure(item, MidjourneyTask, request_id=request_id) for item in data]


@contextlib.contextmanager
def _served(what: str) -> Iterator[None]:
    """An HTML page (any status) or a non-JSON 404 means no handler took the request: the
    gateway does not serve this endpoint (stock new-api answers its web UI with a 200)."""
    try:
        yield
    except ResponseDecodeError as exc:
        if "html" not in str(exc).lower():
            raise
        raise UnsupportedOperation(
            f"this gateway does not serve {what} (it answered a web page)"
        ) from exc
    except NotFoundError as exc:
        if isinstance(exc.body, Mapping):
            raise  # a JSON 404 is an answer (e.g. an unknown task id)
        raise UnsupportedOperation(f"this gateway does not serve {what} (404)") from exc
