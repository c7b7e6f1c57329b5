"""Suno music: ``client.suno`` (v4.0) with ``client.suno.v3_0`` and ``client.suno.v3_5``.

v4.0 is new-api's Suno task relay (``router/relay-router.go``, ``relay/channel/task/suno``):
``POST /suno/submit/music`` and ``/suno/submit/lyrics`` answer the new task id in the task
envelope; ``GET /suno/fetch/{id}`` and ``POST /suno/fetch {"ids": [...]}`` answer task records.
Waiting v4 handles are folded into ``POST /suno/fetch`` batches by the client's scheduler.
v3.0 / v3.5 are the older GoAPI-style relay (integer-code envelope, clips keyed by id), whose
paths are still candidates (see ``_paths``). Suno has no cancel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .._task_kind import MediaFile, TaskSnapshot, TaskState, state_from_text
from ..models.suno import SunoTask
from ._common import ServiceContext, body_of
from ._task_family import BatchQuery, StatusQuery, TaskFamily

if TYPE_CHECKING:
    from .._task_handle import TaskHandle

__all__ = ["SunoService", "SunoV3Service", "SunoV30Service"]

_CLIP_DONE = frozenset({"complete", "completed", "succeeded", "success"})


class _SunoFamily(TaskFamily[SunoTask, SunoTask]):
    status_model = SunoTask
    id_field = "task_id"
    submit_answer: ClassVar[Literal["status", "id"]] = "id"
    status_query: ClassVar[StatusQuery] = StatusQuery(path="fetch", id_param=None)

    def read(self, status: SunoTask) -> TaskSnapshot[SunoTask]:
        """A Suno task (any version) as a snapshot.

        The task's own word decides, but a music task only counts as done once every clip is
        complete with its audio, and a clip in ``error`` fails it. The reason is
        ``fail_reason``, else the first failed clip's (or the lyrics') ``error_message``.
        """
        state = state_from_text(status.status, kind=self.flavour)
        errors = [c.error_message or "clip failed" for c in status.clips if c.status == "error"]
        if state is TaskState.SUCCEEDED and errors:
            state = TaskState.FAILED
        elif state is TaskState.SUCCEEDED and not all(
            (clip.status or "").lower() in _CLIP_DONE and clip.audio_url for clip in status.clips
        ):
            state = TaskState.RUNNING  # the record is ahead of its clips: wait for them
        reason = None
        if state is TaskState.FAILED:
            lyrics_error = status.lyrics.error_message if status.lyrics else None
            reasons = (status.fail_reason, *errors, lyrics_error, "the song could not be made")
            reason = next(r for r in reasons if r)
        succeeded = state is TaskState.SUCCEEDED
        return self.snapshot(
            status,
            state,
            progress=1.0 if succeeded else status.running_progress,
            failure_reason=reason,
        )

    def media_url(self, result: SunoTask) -> str | None:
        return next(iter(result.audio_urls), None)

    def media_urls(self, result: SunoTask) -> list[MediaFile]:
        """Each clip's audio and cover image (the large one when there is one)."""
        files: list[MediaFile] = []
        for n, clip in enumerate(result.clips, start=1):
            if clip.audio_url:
                files.append(MediaFile(url=clip.audio_url, role=f"clip{n}", suffix=".mp3"))
            cover = clip.image_large_url or clip.image_url
            if cover:
                files.append(MediaFile(url=cover, role=f"clip{n}-cover"))
        return files


class SunoV3Service(_SunoFamily):
    """Suno v3.x in the GoAPI style (``client.suno.v3_5``; ``v3_0`` adds ``concat``)."""

    name = "suno.v3_5"
    default_model = "chirp-v3-5"

    async def generate(
        self,
        *,
        gpt_description_prompt: str | None = None,
        prompt: str | None = None,
        title: str | None = None,
        tags: str | None = None,
        make_instrumental: bool | None = None,
        continue_clip_id: str | None = None,
        continue_at: float | None = None,
        mv: str | None = None,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[SunoTask]:
        """Make two songs: from a description (inspiration mode) or from lyrics (custom mode:
        ``prompt`` with ``title`` and ``tags``), or continue a clip.

        ``mv`` (default this version's model) is sent both at the top and inside ``input``,
        as relays differ on where they read it. Raises ``ValueError`` without either mode.
        """
        if gpt_description_prompt is None and prompt is None:
            raise ValueError("pass gpt_description_prompt (inspiration) or prompt (lyrics)")
        model = mv or self.default_model
        fields = {
            "gpt_description_prompt": gpt_description_prompt,
            "prompt": prompt,
            "title": title,
            "tags": tags,
            "make_instrumental": make_instrumental,
            "continue_clip_id": continue_clip_id,
            "continue_at": continue_at,
            "mv": model,
        }
        body = body_of(
            {
                "custom_mode": gpt_description_prompt is None,
                "mv": model,
                "input": body_of(fields, None),
                "notify_hook": notify_hook,
            },
            extra_body,
        )
        return await self._submit("generate", body, timeout)


class SunoV30Service(SunoV3Service):
    """Suno v3.0 in the GoAPI style: ``generate``, ``get``, ``task`` and ``concat``."""

    name = "suno.v3_0"
    default_model = "chirp-v3-0"

    async def concat(
        self,
        clip_id: str,
        *,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[SunoTask]:
        """Join an extension clip with what it continues into one song (a new job).

        ``clip_id`` must be a clip made by a continuation, and complete.
        """
        return await self._submit("concat", body_of({"clip_id": clip_id}, extra_body), timeout)


class SunoService(_SunoFamily):
    """Suno v4.0 songs and lyrics; ``v3_0`` / ``v3_5`` reach the older relay."""

    name = "suno"
    batch_query: ClassVar[BatchQuery | None] = BatchQuery(path="fetch_many", size=50)

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.v3_0: SunoV30Service = SunoV30Service(context)
        self.v3_5: SunoV3Service = SunoV3Service(context)

    async def generate(
        self,
        *,
        prompt: str | None = None,
        gpt_description_prompt: str | None = None,
        title: str | None = None,
        tags: str | None = None,
        negative_tags: str | None = None,
        mv: str | None = None,
        make_instrumental: bool | None = None,
        continue_clip_id: str | None = None,
        continue_at: float | None = None,
        task_id: str | None = None,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[SunoTask]:
        """Make two songs (``POST /suno/submit/music``); returns the job's handle.

        - inspiration: ``gpt_description_prompt`` (Suno writes lyrics, title and style);
        - custom: ``prompt`` (lyrics with ``[Verse]`` / ``[Chorus]``), ``title``, ``tags``;
        - continuation: also ``continue_clip_id`` and ``continue_at`` (seconds into that
          clip) and ``task_id``, the job that made the clip — required, as upstream checks it.

        ``mv`` is the model (``chirp-v3-0`` when unset, the gateway's default; ``chirp-v3-5``,
        ``chirp-v4``…). Stock new-api drops ``negative_tags`` and ``notify_hook``; they are
        sent when set. Raises ``ValueError`` for a request that cannot be valid.
        """
        if gpt_description_prompt is None and prompt is None and continue_clip_id is None:
            raise ValueError("pass gpt_description_prompt (inspiration) or prompt (lyrics)")
        if continue_clip_id is not None and not task_id:
            raise ValueError("a continuation needs task_id: the job that made continue_clip_id")
        body = body_of(
            {
                "prompt": prompt,
                "gpt_description_prompt": gpt_description_prompt,
                "title": title,
                "tags": tags,
                "negative_tags": negative_tags,
                "mv": mv,
                "make_instrumental": make_instrumental,
                "continue_clip_id": continue_clip_id,
                "continue_at": continue_at,
                "task_id": task_id,
                "notify_hook": notify_hook,
            },
            extra_body,
        )
        return await self._submit("generate", body, timeout)

    async def lyrics(
        self,
        prompt: str,
        *,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[SunoTask]:
        """Write lyrics on a theme (``POST /suno/submit/lyrics``); the result's ``lyrics``
        holds the title and text. Usually finished by the first poll."""
        if not prompt or not prompt.strip():
            raise ValueError("prompt must not be empty")
        body = body_of({"prompt": prompt, "notify_hook": notify_hook}, extra_body)
        return await self._submit("lyrics", body, timeout)
