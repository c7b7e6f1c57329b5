"""Suno music and lyrics jobs: v4.0 (new-api task relay) and v3.0 / v3.5 (GoAPI style).

Shapes read (sources: new-api ``dto/suno.go``, Suno-API ``entity/po/task_data.go``, GoAPI's
Suno README and reseller examples):

- v4.0 task record: ``{"task_id", "action": "MUSIC"|"LYRICS", "status", "fail_reason",
  "progress": "0%"|"100%", "submit_time"…, "data": …}`` where ``data`` is a list of clips for
  MUSIC and a lyrics object — or a list of them — for LYRICS;
- a clip either nests its inputs under ``metadata`` (``tags``, ``prompt``, ``duration``,
  ``error_message``…) or is *flattened* (``clip_id``, ``state``, top-level ``tags``,
  ``duration``…); both read into the same :class:`SunoClip`;
- v3.x task: ``{"task_id", "status": "pending"|"processing"|"completed"|"failed", "input":
  "<JSON text>", "clips": {"<clip id>": clip, …}}`` — the id-keyed map reads as ``clips``.

Ids are opaque strings: UUIDs on older gateways, ``task_…`` on newer ones, ``lyrics-…`` on some.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import attrs

from .._convert import is_mapping, read_with, read_with_fallbacks
from ._base import Model
from ._task import RelayTask, without_unset_times

__all__ = ["SunoClip", "SunoLyrics", "SunoTask"]

#: Inputs and outcome a clip keeps under ``metadata`` (read as the clip's own fields).
_METADATA_FIELDS = (
    "tags",
    "prompt",
    "gpt_description_prompt",
    "duration",
    "type",
    "error_type",
    "error_message",
)


@read_with_fallbacks(
    aliases={"id": "clip_id", "status": "state"},  # a flattened clip's names
    nested="metadata",
    nested_fields=_METADATA_FIELDS,
)
@attrs.frozen(kw_only=True)
class SunoClip(Model):
    """One song of a music job (a job normally makes two).

    ``status``: ``submitted`` → ``queued`` → ``streaming`` → ``complete``, or ``error``.
    While streaming, ``audio_url`` may be a stream that is not the final file. ``duration`` is
    in seconds (None until known). ``error_message`` explains an ``error`` clip.
    """

    id: str
    title: str | None = None
    status: str | None = None
    audio_url: str | None = None
    video_url: str | None = None
    image_url: str | None = None
    image_large_url: str | None = None
    model_name: str | None = None
    major_model_version: str | None = None
    duration: float | None = None
    tags: str | None = None
    prompt: str | None = None
    gpt_description_prompt: str | None = None
    type: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    created_at: dt.datetime | None = None


@read_with_fallbacks(aliases={"status": "state"})
@attrs.frozen(kw_only=True)
class SunoLyrics(Model):
    """Lyrics written by a LYRICS job; ``text`` has ``[Verse]`` / ``[Chorus]`` markers."""

    id: str | None = None
    title: str | None = None
    text: str | None = None
    status: str | None = None
    error_message: str | None = None


def _is_lyrics(item: Any) -> bool:
    return is_mapping(item) and "text" in item and "audio_url" not in item


def _task_fields(value: Mapping[str, Any]) -> Mapping[str, Any]:
    out = without_unset_times(value)
    data = out.pop("data", None)
    clips = out.get("clips")
    if is_mapping(clips):  # v3.x: clips keyed by clip id
        out["clips"] = [
            {"id": key, **clip} if is_mapping(clip) and "id" not in clip else clip
            for key, clip in clips.items()
        ]
    if isinstance(out.get("input"), str):  # v3.x: the inputs as JSON text
        try:
            out["input"] = json.loads(out["input"])
        except ValueError:
            out["input"] = None
    lyrics_action = str(out.get("action") or "").upper() == "LYRICS"
    if _is_lyrics(data) or (lyrics_action and is_mapping(data)):
        out["lyrics"] = data
    elif isinstance(data, list) and data and (lyrics_action or _is_lyrics(data[0])):
        out["lyrics"] = data[0]
    elif isinstance(data, list) and "clips" not in out:
        out["clips"] = data
    return out


@read_with(_task_fields)
@attrs.frozen(kw_only=True)
class SunoTask(RelayTask):
    """A Suno job as the service reports it; also the result of a finished one.

    ``status`` is the task's word (v4: ``SUBMITTED``… ``SUCCESS`` / ``FAILURE``; v3.x:
    ``pending``… ``completed`` / ``failed``). ``clips`` holds the songs of a music job,
    ``lyrics`` the text of a lyrics job; ``input`` is what a v3.x job was asked (decoded).
    """

    clips: list[SunoClip] = attrs.field(factory=list)
    lyrics: SunoLyrics | None = None
    input: Mapping[str, Any] | None = None

    @property
    def audio_urls(self) -> list[str]:
        """The audio file of every clip that has one, in order."""
        return [clip.audio_url for clip in self.clips if clip.audio_url]
