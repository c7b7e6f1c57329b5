"""Zhipu CogVideoX video: ``client.zhipu_video``.

Zhipu's own API (docs.bigmodel.cn 生成视频异步), relayed as is: ``POST …/videos/generations``
answers ``{"id", "task_status": "PROCESSING", …}`` and ``GET …/async-result/{id}`` the job,
``PROCESSING`` → ``SUCCESS`` (``video_result``) or ``FAIL`` (an ``error`` object, still HTTP
200: the job failed, not the request). The path prefix differs per relay, so it is found among
the candidates (``/cogvideox/v4``, ``/zhipu/api/paas/v4``, ``/cogvideox/v1``, ``/api/paas/v4``).
Jobs are polled by ``id``, never by ``request_id`` (the caller's own id). No cancel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .._task_kind import MediaFile, TaskSnapshot, TaskState, state_from_text
from .._uploads import FileInput, file_base64
from ..models.zhipu_video import ZhipuVideoTask
from ._common import body_of
from ._task_family import StatusQuery, TaskFamily

if TYPE_CHECKING:
    from .._task_handle import TaskHandle

__all__ = ["ZhipuVideoService"]


class ZhipuVideoService(TaskFamily[ZhipuVideoTask, ZhipuVideoTask]):
    """Make CogVideoX videos from text or a first frame; every submit returns a handle."""

    name = "zhipu_video"
    status_model = ZhipuVideoTask
    status_query: ClassVar[StatusQuery] = StatusQuery(
        path="result", id_param=None, job_field="task_status"
    )

    async def generate(
        self,
        *,
        prompt: str | None = None,
        model: str = "cogvideox",
        image_url: str | FileInput | None = None,
        quality: str | None = None,
        with_audio: bool | None = None,
        size: str | None = None,
        fps: int | None = None,
        duration: int | None = None,
        request_id: str | None = None,
        user_id: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[ZhipuVideoTask]:
        """Start a video from ``prompt``, from a first frame ``image_url``, or both.

        ``image_url``: an ``http(s)`` or ``data:`` URL is sent as is; a path (``str`` or
        ``os.PathLike``), bytes or a binary file is read and sent as base64. ``model``:
        ``cogvideox``, ``cogvideox-flash``, ``cogvideox-2``, ``cogvideox-3``; ``quality``
        ``speed`` / ``quality``, ``size`` such as ``1920x1080``, ``fps`` 30 / 60, ``duration``
        5 / 10 seconds (newer models). ``request_id`` / ``user_id`` are your own ids, echoed.
        Raises ``ValueError`` without a prompt or an image.
        """
        if not prompt and image_url is None:
            raise ValueError("pass a prompt, an image_url, or both")
        image: str | None
        if image_url is None or (
            isinstance(image_url, str) and image_url.startswith(("http://", "https://", "data:"))
        ):
            image = image_url
        else:
            image = await file_base64(image_url)
        body = body_of(
            {
                "model": model,
                "prompt": prompt,
                "image_url": image,
                "quality": quality,
                "with_audio": with_audio,
                "size": size,
                "fps": fps,
                "duration": duration,
                "request_id": request_id,
                "user_id": user_id,
            },
            extra_body,
        )
        return await self._submit("generate", body, timeout)

    def read(self, status: ZhipuVideoTask) -> TaskSnapshot[ZhipuVideoTask]:
        state = state_from_text(status.task_status, kind=self.flavour)
        reason = None
        if state is TaskState.FAILED:
            error = status.error
            reason = "video generation failed"
            if error is not None and (error.message or error.code):
                code = f" (code {error.code})" if error.code else ""
                reason = f"{error.message or 'video generation failed'}{code}"
        return self.snapshot(
            status,
            state,
            progress=1.0 if state is TaskState.SUCCEEDED else None,
            failure_reason=reason,
        )

    def media_url(self, result: ZhipuVideoTask) -> str | None:
        return result.video_url

    def media_urls(self, result: ZhipuVideoTask) -> list[MediaFile]:
        """Each video, then its cover image."""
        files: list[MediaFile] = []
        many = len(result.video_result) > 1
        for n, video in enumerate(result.video_result, start=1):
            role = f"video{n}" if many else "video"
            if video.url:
                files.append(MediaFile(url=video.url, role=role, suffix=".mp4"))
            if video.cover_image_url:
                files.append(MediaFile(url=video.cover_image_url, role=f"{role}-cover"))
        return files
