"""Luma video: ``client.luma`` (shared pool) and ``client.lumvip`` (VIP accounts).

Both flavours take the same requests (source: new-api ``relay/channel/task/luma`` and the GoAmz
Luma API format it forwards): ``POST <prefix>/generations``, ``POST <prefix>/extend`` and
``GET <prefix>/task?id=<id>``. ``lumvip`` wraps its answers in the task envelope and ``luma``
answers with the bare generation object; the transport's unwrapping reads both. Luma has no
batch query and no cancel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._task_kind import MediaFile, TaskSnapshot, TaskState, state_from_text
from ..models.luma import LumaGeneration
from ._common import ServiceContext, body_of
from ._task_family import TaskFamily

if TYPE_CHECKING:
    from .._task_handle import TaskHandle

__all__ = ["LumaService"]

Flavour = Literal["luma", "lumvip"]


class LumaService(TaskFamily[LumaGeneration, LumaGeneration]):
    """Submit, extend and look up Luma generations; every submit returns a ``TaskHandle``."""

    name = "luma"
    status_model = LumaGeneration

    def __init__(self, context: ServiceContext, flavour: Flavour = "luma") -> None:
        super().__init__(context, flavour)

    def read(self, status: LumaGeneration) -> TaskSnapshot[LumaGeneration]:
        state = state_from_text(status.state, kind=self.flavour)
        return self.snapshot(
            status,
            state,
            progress=1.0 if state is TaskState.SUCCEEDED else None,
            eta_seconds=status.estimate_wait_seconds,
            failure_reason=status.failure_reason or _text(status.raw.get("fail_reason")),
        )

    def media_url(self, result: LumaGeneration) -> str | None:
        return result.video_url

    def media_urls(self, result: LumaGeneration) -> list[MediaFile]:
        """The video, then its thumbnail where the flavour sends one."""
        video = result.video_url
        files = [MediaFile(url=video, role="video", suffix=".mp4")] if video else []
        thumbnail = result.thumbnail or (result.video.thumbnail if result.video else None)
        if thumbnail is not None and thumbnail.url:
            files.append(MediaFile(url=thumbnail.url, role="thumbnail"))
        return files

    async def generate(
        self,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        expand_prompt: bool | None = None,
        loop: bool | None = None,
        image_url: str | None = None,
        image_end_url: str | None = None,
        notify_hook: str | None = None,
        model_name: str | None = None,
        resolution: str | None = None,
        duration: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[LumaGeneration]:
        """Start a video from a prompt (and optionally a first / last frame).

        ``model_name``, ``resolution`` and ``duration`` are only sent when set: not every
        deployment forwards them.
        """
        body = body_of(
            {
                "user_prompt": prompt,
                "aspect_ratio": aspect_ratio,
                "expand_prompt": expand_prompt,
                "loop": loop,
                "image_url": image_url,
                "image_end_url": image_end_url,
                "notify_hook": notify_hook,
                "model_name": model_name,
                "resolution": resolution,
                "duration": duration,
            },
            extra_body,
        )
        return await self._submit("generate", body, timeout)

    async def extend(
        self,
        generation: LumaGeneration | str,
        *,
        prompt: str | None = None,
        aspect_ratio: str | None = None,
        expand_prompt: bool | None = None,
        image_end_url: str | None = None,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[LumaGeneration]:
        """Continue a finished video. Pass the generation, or its id (it is looked up first)."""
        if isinstance(generation, str):
            generation = await self.get(generation, timeout=timeout)
        video_url = generation.video_url
        if not video_url:
            raise ValueError(
                f"generation {generation.id} has no video yet (state {generation.state!r}); "
                "extend needs a finished one"
            )
        body = body_of(
            {
                "video_url": video_url,
                "user_prompt": prompt,
                "aspect_ratio": aspect_ratio,
                "expand_prompt": expand_prompt,
                "image_end_url": image_end_url,
                "notify_hook": notify_hook,
            },
            extra_body,
        )
        return await self._submit("extend", body, timeout)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
