"""Digital-human video: ``client.digital_human``, a portrait (or video) made to speak.

The upstream "数字人 → 标准版数字人合成" project as the gpt-best family relays it:
``POST /avatar/generation`` answers the task id in the task envelope; ``GET /avatar/task/{id}``
answers the gateway's task record around the upstream work, or the raw work — both are read.
Upstream limits: the image must show a face, files at most 100 MB, a voice sample to clone at
least 20 s. No batch query, no cancel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from .._task_kind import MediaFile, TaskSnapshot, TaskState, state_from_text
from ..models.digital_human import CreateVoice, DigitalHumanTask, UseVoice
from ._common import body_of
from ._task_family import StatusQuery, TaskFamily

if TYPE_CHECKING:
    from .._task_handle import TaskHandle

__all__ = ["DigitalHumanService"]


class DigitalHumanService(TaskFamily[DigitalHumanTask, DigitalHumanTask]):
    """Make talking-head videos; ``create`` returns the job's handle."""

    name = "digital_human"
    status_model = DigitalHumanTask
    id_field = "task_id"
    submit_answer: ClassVar[Literal["status", "id"]] = "id"
    status_query: ClassVar[StatusQuery] = StatusQuery(path="task", id_param=None)

    async def create(
        self,
        avatar_url: str,
        *,
        audio_url: str | None = None,
        create_voice: CreateVoice | Mapping[str, Any] | None = None,
        use_voice: UseVoice | Mapping[str, Any] | None = None,
        no_watermark: bool | None = None,
        notify_hook: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> TaskHandle[DigitalHumanTask]:
        """Animate ``avatar_url`` (a portrait with a face, or a video to lip-sync) with speech.

        Exactly one voice source: ``audio_url`` (an existing track), ``create_voice``
        (``{"audio_url", "language", "text"}``: clone the voice in a ≥ 20 s sample, then say
        ``text``) or ``use_voice`` (``{"voice_engine_id", "audio_id", "language", "text"}``:
        a voice cloned before). ``language``: ``zh`` or ``en``. Raises ``ValueError`` (before
        anything is sent, so nothing is billed) unless exactly one is given.
        """
        given = [
            name
            for name, value in (
                ("audio_url", audio_url),
                ("create_voice", create_voice),
                ("use_voice", use_voice),
            )
            if value is not None
        ]
        if len(given) != 1:
            listed = ", ".join(given) if given else "none"
            raise ValueError(
                "pass exactly one voice source: audio_url, create_voice or use_voice "
                f"(got {listed})"
            )
        body = body_of(
            {
                "avatar_url": avatar_url,
                "audio_url": audio_url,
                "create_voice": dict(create_voice) if create_voice is not None else None,
                "use_voice": dict(use_voice) if use_voice is not None else None,
                "no_watermark": no_watermark,
                "notify_hook": notify_hook,
            },
            extra_body,
        )
        return await self._submit("create", body, timeout)

    def read(self, status: DigitalHumanTask) -> TaskSnapshot[DigitalHumanTask]:
        state = state_from_text(status.status, kind=self.flavour)
        succeeded = state is TaskState.SUCCEEDED
        return self.snapshot(
            status,
            state,
            progress=1.0 if succeeded else status.running_progress,
            failure_reason=(status.fail_reason or "the video could not be made")
            if state is TaskState.FAILED
            else None,
        )

    def media_url(self, result: DigitalHumanTask) -> str | None:
        return result.video_url

    def media_urls(self, result: DigitalHumanTask) -> list[MediaFile]:
        """The video, then its preview image."""
        files: list[MediaFile] = []
        if result.video_url:
            files.append(MediaFile(url=result.video_url, role="video", suffix=".mp4"))
        if result.video is not None and result.video.work_webp_path:
            files.append(MediaFile(url=result.video.work_webp_path, role="preview"))
        return files
