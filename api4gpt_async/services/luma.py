"""Luma video: ``client.luma`` (shared pool) and ``client.lumvip`` (VIP accounts).

Both flavours take the same requests; ``lumvip`` wraps its answers in the task envelope and
``luma`` answers with the bare generation object. The transport's unwrapping reads both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from .._convert import structure
from .._raw_response import WithRawResponse
from ..models.luma import LumaGeneration
from ..tasks import TaskHandle, TaskKind, TaskSnapshot, TaskState, state_from_text
from ._common import body_of

if TYPE_CHECKING:
    from .._transport import Transport
    from ..tasks import Tasks

__all__ = ["LumaKind", "LumaService"]

Flavour = Literal["luma", "lumvip"]


class LumaKind(TaskKind[LumaGeneration, LumaGeneration]):
    """How the poller reads a Luma generation. Luma has no batch query and no cancel."""

    def __init__(self, transport: Transport, *, name: Flavour, task_path: str) -> None:
        super().__init__(transport)
        self.name = name
        self._task_path = task_path

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> LumaGeneration:
        reply = await self.transport.request(
            "GET", self._task_path, params={"id": task_id}, envelope=True, timeout=timeout
        )
        return structure(reply.data, LumaGeneration, request_id=reply.request_id)

    def snapshot(self, task_id: str, status: LumaGeneration) -> TaskSnapshot[LumaGeneration]:
        state = state_from_text(status.state, kind=self.name)
        return TaskSnapshot(
            id=task_id,
            kind=self.name,
            state=state,
            raw=status,
            progress=1.0 if state is TaskState.SUCCEEDED else None,
            eta_seconds=status.estimate_wait_seconds,
            failure_reason=status.failure_reason or _text(status.raw.get("fail_reason")),
        )

    def result(self, status: LumaGeneration) -> LumaGeneration:
        return status

    def media_url(self, result: LumaGeneration) -> str | None:
        return result.video_url


class LumaService(WithRawResponse):
    """Submit, extend and look up Luma generations; every submit returns a ``TaskHandle``."""

    def __init__(
        self, transport: Transport, tasks: Tasks, paths: Mapping[str, str], flavour: Flavour
    ) -> None:
        self._transport = transport
        self._tasks = tasks
        self._generate_path = paths[f"{flavour}.generate"]
        self._extend_path = paths[f"{flavour}.extend"]
        self._kind = LumaKind(transport, name=flavour, task_path=paths[f"{flavour}.task"])
        tasks.register(self._kind)

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
        return await self._submit(self._generate_path, body, timeout)

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
        return await self._submit(self._extend_path, body, timeout)

    async def get(self, generation_id: str, *, timeout: float | None = None) -> LumaGeneration:
        """The generation as it is now (one status query, no waiting)."""
        return await self._kind.fetch(generation_id, timeout=timeout)

    def task(self, generation_id: str) -> TaskHandle[LumaGeneration]:
        """Re-attach to a generation by id (no request is made)."""
        return self._tasks.handle(self._kind, generation_id)

    async def _submit(
        self, path: str, body: dict[str, Any], timeout: float | None
    ) -> TaskHandle[LumaGeneration]:
        reply = await self._transport.request(
            "POST", path, json_body=body, billable=True, envelope=True, timeout=timeout
        )
        generation = structure(reply.data, LumaGeneration, request_id=reply.request_id)
        snapshot = self._kind.snapshot(generation.id, generation)
        return self._tasks.handle(self._kind, generation.id, snapshot)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
