"""Digital-human ("数字人") video jobs: a portrait or video made to speak.

Sources: the upstream apifox project "数字人 → 标准版数字人合成" and its gpt-best-family relays
(``POST /avatar/generation``, ``GET /avatar/task/{id}``). The detail arrives in two shapes,
both read into :class:`DigitalHumanTask`:

- wrapped by the gateway: a new-api task record (``task_id``, ``action: "avatar-generate"``,
  ``status``…) whose ``data`` is the upstream work;
- raw upstream (``{"code": 0, "data": work}``, unwrapped by the transport): the work alone,
  ``{"id", "work_video_path", "web_work_status": 200, "create_time" (ms)…}``; its status is
  derived from ``web_work_status`` (200 = done) and the video paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypedDict

import attrs

from .._convert import is_mapping, read_with
from ._base import Model
from ._task import RelayTask, without_unset_times

__all__ = ["CreateVoice", "DigitalHumanTask", "DigitalHumanVideo", "UseVoice"]


class CreateVoice(TypedDict):
    """Clone the voice in ``audio_url`` (a sample of at least 20 s), then say ``text``."""

    audio_url: str
    language: str  # "zh" or "en"
    text: str


class UseVoice(TypedDict):
    """Say ``text`` with a voice cloned before (``voice_engine_id`` such as ``"nina"``)."""

    voice_engine_id: str
    audio_id: str
    language: str  # "zh" or "en"
    text: str


_VIDEO_FIELDS = ("work_video_path", "no_wm_work_video_path", "wm_work_video_path")


@attrs.frozen(kw_only=True)
class DigitalHumanVideo(Model):
    """The upstream work: the finished video in up to three variants and a preview.

    ``web_work_status`` 200 means done (other values are undocumented); ``create_time`` is
    sent in milliseconds.
    """

    id: str | None = None
    work_name: str | None = None
    work_video_path: str | None = None
    wm_work_video_path: str | None = None
    no_wm_work_video_path: str | None = None
    work_webp_path: str | None = None
    web_work_status: int | None = None
    create_time: dt.datetime | None = None

    @property
    def video_url(self) -> str | None:
        """The video, from whichever field the answer fills (plain, then no-watermark, then
        watermarked)."""
        return self.work_video_path or self.no_wm_work_video_path or self.wm_work_video_path


def _raw_status(work: Mapping[str, Any]) -> str:
    if work.get("web_work_status") == 200 or any(work.get(name) for name in _VIDEO_FIELDS):
        return "SUCCESS"
    return "IN_PROGRESS"


def _task_fields(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if "task_id" not in value and ("web_work_status" in value or "work_video_path" in value):
        # The raw upstream work, without the gateway's task record around it.
        return {"task_id": value.get("id"), "status": _raw_status(value), "video": value}
    out = without_unset_times(value)
    data = out.pop("data", None)
    out["video"] = data if is_mapping(data) else None
    return out


@read_with(_task_fields)
@attrs.frozen(kw_only=True)
class DigitalHumanTask(RelayTask):
    """A digital-human job as the service reports it; also the result of a finished one.

    ``video`` is the upstream work once there is one; ``video_url`` its best video URL.
    """

    video: DigitalHumanVideo | None = None

    @property
    def video_url(self) -> str | None:
        return self.video.video_url if self.video is not None else None
