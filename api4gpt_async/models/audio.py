"""Audio: transcriptions and translations (typed by the requested format) and speech.

``json`` answers read as :class:`Transcription` / :class:`Translation`, ``verbose_json`` ones as
:class:`TranscriptionVerbose` / :class:`TranslationVerbose` (segments, and words when asked);
``text``, ``srt`` and ``vtt`` answers are plain ``str``. Speech is binary: a
:class:`SpeechResponse` holds the audio bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from .._files import extension_for, save_bytes, user_path
from ._base import Model

__all__ = [
    "SpeechResponse",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionVerbose",
    "TranscriptionWord",
    "Translation",
    "TranslationVerbose",
]


@attrs.frozen(kw_only=True)
class TranscriptionSegment(Model):
    """One segment of a ``verbose_json`` answer; times are seconds from the start."""

    id: int | None = None
    seek: int | None = None
    start: float | None = None
    end: float | None = None
    text: str | None = None
    tokens: list[int] | None = None
    temperature: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None


@attrs.frozen(kw_only=True)
class TranscriptionWord(Model):
    """One word with its timing (``timestamp_granularities=["word"]``)."""

    word: str
    start: float | None = None
    end: float | None = None


@attrs.frozen(kw_only=True)
class Transcription(Model):
    """A ``json`` transcription: the text."""

    text: str = ""


@attrs.frozen(kw_only=True)
class TranscriptionVerbose(Model):
    """A ``verbose_json`` transcription: text, language, duration (s), segments, words."""

    text: str = ""
    language: str | None = None
    duration: float | None = None
    task: str | None = None
    segments: list[TranscriptionSegment] = attrs.field(factory=list)
    words: list[TranscriptionWord] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class Translation(Model):
    """A ``json`` translation: the English text."""

    text: str = ""


@attrs.frozen(kw_only=True)
class TranslationVerbose(Model):
    """A ``verbose_json`` translation: English text, source language, duration, segments."""

    text: str = ""
    language: str | None = None
    duration: float | None = None
    task: str | None = None
    segments: list[TranscriptionSegment] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class SpeechResponse:
    """Generated speech, held in memory: ``content`` (the audio bytes) and how it was sent.

    For long audio prefer ``client.audio.speech.stream_to_file``, which never holds it all.
    """

    content: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")
    content_type: str | None = None
    request_id: str | None = attrs.field(default=None, eq=False)
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)

    async def save(self, dest: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the audio to ``dest`` (a file path, or a folder; ``~`` expanded), atomically.

        A ``dest`` ending in a separator, or an existing folder, is a folder (created if
        needed); there the file is named ``speech-<hash>`` plus the extension of its content
        type. An existing file raises ``FileExistsError`` unless ``overwrite=True``.
        """

        def name() -> str:
            digest = hashlib.sha256(self.content).hexdigest()[:16]
            return f"speech-{digest}{extension_for(self.content_type or '', '.mp3')}"

        return await save_bytes(self.content, dest, name, overwrite=overwrite)

    # -- openai-python's names (its binary response); plain, synchronous writes ---------------

    def read(self) -> bytes:
        """The audio bytes (``content``)."""
        return self.content

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the audio to the file ``file`` (``~`` expanded), replacing it, as openai-python
        does.

        A synchronous write of bytes already in memory; in async code prefer ``await save(...)``
        (atomic, never overwrites unasked).
        """
        Path(user_path(file)).write_bytes(self.content)

    def stream_to_file(
        self, file: str | os.PathLike[str], *, chunk_size: int | None = None
    ) -> None:
        """openai-python's (deprecated) name for :meth:`write_to_file`; ``chunk_size`` is
        accepted and ignored. To stream from the network, use
        ``client.audio.speech.stream_to_file(dest, ...)``."""
        del chunk_size
        self.write_to_file(file)
