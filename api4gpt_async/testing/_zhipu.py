"""Zhipu CogVideoX routes, at every path prefix relays are known to use, answering in Zhipu's
own shape (no envelope; sources: docs.bigmodel.cn 生成视频异步, docs.z.ai).

=========================================  =========================================
route names                                paths (one prefix each)
=========================================  =========================================
``zhipu_video.generate`` (``.alt1``…)      POST ``<prefix>/videos/generations``
``zhipu_video.result`` (``.alt1``…)        GET  ``<prefix>/async-result/{id}``
=========================================  =========================================

with the prefixes ``/cogvideox/v4`` (no suffix), ``/zhipu/api/paas/v4`` (``.alt1``),
``/cogvideox/v1`` (``.alt2``) and ``/api/paas/v4`` (``.alt3``). Switch one off with
``emu.fail("zhipu_video.generate", status=200, body="<html>…", headers={"Content-Type":
"text/html"}, times=None)`` to watch the SDK's path discovery.

A submit answers ``{"model", "id": "<19 digits>", "request_id", "task_status":
"PROCESSING"}``; the result is ``PROCESSING`` until ``emu.duration("zhipu_video")`` emulator
seconds have passed, then ``SUCCESS`` with ``video_result: [{"url": <mp4>, "cover_image_url":
<jpeg>}]`` — or, for a prompt carrying the magic word ``[fail]``, ``FAIL`` with ``error:
{"code": "1301", "message": …}`` (still HTTP 200: a failed job is not a failed request). Only
the ``id`` finds a job: its ``request_id`` (the caller's own id) is unknown to the result route,
which answers 400 ``task_not_exist`` for it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ._http import json_response
from ._jobs import Job, JobStore, by_id, path_id, task_route
from ._validate import (
    Invalid,
    boolean_param,
    choice_param,
    integer_param,
    request_object,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["FAILURE", "PREFIXES", "register"]

#: The path prefixes served, in the order relays most often use them.
PREFIXES: Final = ("/cogvideox/v4", "/zhipu/api/paas/v4", "/cogvideox/v1", "/api/paas/v4")
MODELS: Final = ("cogvideox", "cogvideox-flash", "cogvideox-2", "cogvideox-3")
FAILURE: Final = {"code": "1301", "message": "emulated failure: the prompt asked for it"}


def register(emu: Emulator, app: web.Application) -> None:
    """Add the generate and result routes at every prefix."""
    routes = _ZhipuRoutes(emu, JobStore(emu, "zhipu_video"))
    generate = task_route(routes.generate)
    result = by_id(routes.store, routes.view, envelope=False, job_id=path_id())
    for n, prefix in enumerate(PREFIXES):
        suffix = f".alt{n}" if n else ""
        app.router.add_post(
            f"{prefix}/videos/generations", generate, name=f"zhipu_video.generate{suffix}"
        )
        app.router.add_get(
            f"{prefix}/async-result/{{id}}", result, name=f"zhipu_video.result{suffix}"
        )


def _check(body: dict[str, Any]) -> tuple[str, str]:
    """The model and the text that decides the outcome, or ``Invalid``."""
    model = choice_param(body, "model", MODELS)
    if model is None:
        raise Invalid("model is required")
    prompt = string_param(body, "prompt") or ""
    image_url = string_param(body, "image_url") or ""
    if not prompt.strip() and not image_url.strip():
        raise Invalid("prompt or image_url is required")
    # A URL, a data URI or bare base64 (which must at least look like it).
    is_url = image_url.startswith(("http://", "https://", "data:image/"))
    if image_url and not is_url and not re.fullmatch(r"[A-Za-z0-9+/=\s]{16,}", image_url):
        raise Invalid("image_url must be a URL or base64 image data")
    choice_param(body, "quality", ("speed", "quality"))
    boolean_param(body, "with_audio")
    size = string_param(body, "size")
    if size is not None and not re.fullmatch(r"\d{3,4}x\d{3,4}", size):
        raise Invalid("size must look like 1920x1080")
    if integer_param(body, "fps", 1) not in (None, 30, 60):
        raise Invalid("fps must be 30 or 60")
    if integer_param(body, "duration", 1) not in (None, 5, 10):
        raise Invalid("duration must be 5 or 10")
    string_param(body, "request_id")
    string_param(body, "user_id")
    return model, prompt


class _ZhipuRoutes:
    def __init__(self, emu: Emulator, store: JobStore) -> None:
        self._emu = emu
        self.store = store

    async def generate(self, request: web.Request) -> web.Response:
        body = await request_object(request)
        model, prompt = _check(body)
        job = self.store.create(
            prompt=prompt,
            job_id=str(8_000_000_000_000_000_000 + secrets.randbelow(10**18)),
            model=model,
            request_id=body.get("request_id") or str(uuid.uuid4()),
        )
        return json_response({"id": job.id, **self.view(job)})

    def view(self, job: Job) -> dict[str, Any]:
        """The job as the result route shows it (the submit answer adds ``id``)."""
        view: dict[str, Any] = {
            "model": job.fields["model"],
            "request_id": job.fields["request_id"],
        }
        if self.store.phase(job)[0] != "done":
            view["task_status"] = "PROCESSING"
        elif job.fails:
            view["task_status"] = "FAIL"
            view["error"] = dict(FAILURE)
        else:
            view["task_status"] = "SUCCESS"
            view["video_result"] = [
                {
                    "url": self._emu.file_url(f"{job.id}.mp4"),
                    "cover_image_url": self._emu.file_url(f"{job.id}-cover.jpeg"),
                }
            ]
        return view
