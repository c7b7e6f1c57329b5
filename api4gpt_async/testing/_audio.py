"""The ``audio.transcriptions`` and ``audio.translations`` routes (POST /v1/audio/transcriptions
and /v1/audio/translations, multipart: ``file``, ``model``…) and ``audio.speech`` (POST
/v1/audio/speech, JSON → audio bytes).

Answers follow OpenAI's OpenAPI description, with the gateway's habits:

- transcriptions answer per ``response_format``: ``json`` ``{"text", "usage"}``,
  ``verbose_json`` (``task``, ``language``, ``duration`` read from the uploaded WAV/MP3,
  ``segments``, and ``words`` when ``timestamp_granularities[]`` asks), or ``text`` / ``srt``
  / ``vtt`` as ``text/plain``. Translations answer in English with ``task: "translate"``.
- speech answers real audio: MP3 (``audio/mpeg``, the default), WAV (``audio/wav``) or raw
  PCM (``audio/pcm``, 24 kHz 16-bit mono), about one second per 15 characters of input
  (divided by ``speed``), with ``Content-Length``. Other formats answer 400: the emulator cannot
  encode them.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .. import FormFile
from . import _media
from ._http import json_response, read_json_object
from ._validate import (
    Invalid,
    choice_param,
    file_param,
    form_body,
    invalid_response_with_id,
    missing_param,
    required_param,
    single_fields,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["PCM_SAMPLE_RATE", "TRANSCRIPT", "TRANSLATION", "register", "speech_seconds"]

#: What every transcription "hears".
TRANSCRIPT: Final = "Hello from the API4GPT emulator. Every upload sounds the same here."
#: What every translation says.
TRANSLATION: Final = "Hello from the API4GPT emulator. This speech was translated into English."
#: Audio formats the transcription routes accept (by file name extension), as OpenAI lists them.
AUDIO_EXTENSIONS: Final = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
#: Speech formats the emulator can produce, and their content types.
SPEECH_TYPES: Final = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm"}
SPEECH_FORMATS: Final = ("mp3", "opus", "aac", "flac", "wav", "pcm")
#: Characters of input per second of speech.
CHARS_PER_SECOND: Final = 15.0
PCM_SAMPLE_RATE: Final = 24_000

_TEXT_FORMATS: Final = ("text", "srt", "vtt")
_TRANSCRIPTION_FORMATS: Final = ("json", "verbose_json", *_TEXT_FORMATS)


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``audio.transcriptions``, ``audio.translations`` and ``audio.speech`` routes."""
    routes = _AudioRoutes(emu)
    app.router.add_post(
        "/v1/audio/transcriptions", routes.transcriptions, name="audio.transcriptions"
    )
    app.router.add_post("/v1/audio/translations", routes.translations, name="audio.translations")
    app.router.add_post("/v1/audio/speech", routes.speech, name="audio.speech")


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long the emulator's speech for ``text`` lasts, in seconds (at least half a second)."""
    return max(0.5, len(text) / CHARS_PER_SECOND / speed)


# --------------------------------------------------------------------------- validation


def _number(
    fields: Mapping[str, Any], name: str, low: float, high: float, *, form: bool = False
) -> float | None:
    """A number field: a JSON number, or (``form``) the text of a form field."""
    value = fields.get(name)
    if value is None:
        return None
    if form and isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise Invalid(f"'{name}' must be a number.", name, "invalid_type") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise Invalid(f"'{name}' must be a number.", name, "invalid_type")
    if not low <= value <= high:
        raise Invalid(f"'{name}' must be between {low:g} and {high:g}.", name, "invalid_value")
    return float(value)


# --------------------------------------------------------------------------- answers


def _audio_seconds(upload: FormFile) -> float:
    """The length of an uploaded WAV or MP3 (constant bit rate); a guess for anything else."""
    data = upload.content
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data)) as wav:
                frames: int = wav.getnframes()
                rate: int = wav.getframerate()
            return frames / float(rate or 1)
        except (wave.Error, EOFError):
            pass
    if data.startswith(_media.MP3_FRAME_HEADER):
        frames = len(data) // _media.MP3_FRAME_LENGTH
        return frames * _media.MP3_SAMPLES_PER_FRAME / _media.MP3_SAMPLE_RATE
    return max(1.0, len(data) / 4000)  # 32 kbit/s


def _segments(text: str, duration: float) -> list[dict[str, Any]]:
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    total = sum(len(s) for s in sentences) or 1
    segments, start = [], 0.0
    for index, sentence in enumerate(sentences):
        end = round(start + duration * len(sentence) / total, 3)
        segments.append(
            {
                "id": index,
                "seek": 0,
                "start": round(start, 3),
                "end": end,
                "text": " " + sentence,
                "tokens": [50364 + index, *range(1000 + 10 * index, 1003 + 10 * index)],
                "temperature": 0.0,
                "avg_logprob": -0.21,
                "compression_ratio": 1.12,
                "no_speech_prob": 0.01,
            }
        )
        start = end
    return segments


def _words(text: str, duration: float) -> list[dict[str, Any]]:
    words = [w.strip(".,") for w in text.split()]
    step = duration / max(1, len(words))
    return [
        {"word": word, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
        for i, word in enumerate(words)
    ]


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _subtitles(segments: list[dict[str, Any]], kind: str) -> str:
    if kind == "srt":
        blocks = [
            f"{i + 1}\n{_timestamp(s['start'], ',')} --> {_timestamp(s['end'], ',')}\n"
            f"{s['text'].strip()}\n"
            for i, s in enumerate(segments)
        ]
        return "\n".join(blocks)
    blocks = [
        f"{_timestamp(s['start'], '.')} --> {_timestamp(s['end'], '.')}\n{s['text'].strip()}\n"
        for s in segments
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


# --------------------------------------------------------------------------- routes


class _AudioRoutes:
    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    async def transcriptions(self, request: web.Request) -> web.Response:
        return await self._listen(request, translate=False)

    async def translations(self, request: web.Request) -> web.Response:
        return await self._listen(request, translate=True)

    async def _listen(self, request: web.Request, *, translate: bool) -> web.Response:
        try:
            form = form_body(await request.read(), request.headers.get("Content-Type", ""))
            fields = single_fields(form)
            upload = file_param(fields, "file")
            if upload is None:
                raise missing_param("file")
            extension = upload.filename.rpartition(".")[2].lower() if "." in upload.filename else ""
            if extension not in AUDIO_EXTENSIONS:
                raise Invalid(
                    f"Invalid file format. Supported formats: {list(AUDIO_EXTENSIONS)}",
                    "file",
                    "invalid_value",
                )
            required_param(fields, "model")
            response_format = (
                choice_param(fields, "response_format", _TRANSCRIPTION_FORMATS) or "json"
            )
            _number(fields, "temperature", 0.0, 1.0, form=True)
            string_param(fields, "prompt")
            language = None if translate else string_param(fields, "language")
            granularities = [
                *form.getall("timestamp_granularities[]", []),
                *form.getall("timestamp_granularities", []),
            ]
            if translate and granularities:
                raise Invalid(
                    "Unrecognized request argument supplied: timestamp_granularities",
                    "timestamp_granularities",
                    "unknown_parameter",
                )
            for granularity in granularities:
                if granularity not in ("word", "segment"):
                    raise Invalid(
                        f"Invalid value for 'timestamp_granularities': {granularity!r}.",
                        "timestamp_granularities",
                        "invalid_value",
                    )
            if granularities and response_format != "verbose_json":
                raise Invalid(
                    "timestamp_granularities is only supported with response_format "
                    "'verbose_json'.",
                    "timestamp_granularities",
                    "invalid_value",
                )
        except Invalid as exc:
            return invalid_response_with_id(self._emu, request, exc)
        text = TRANSLATION if translate else TRANSCRIPT
        duration = round(_audio_seconds(upload), 3)
        segments = _segments(text, duration)
        if response_format == "text":
            return web.Response(text=text + "\n", content_type="text/plain", charset="utf-8")
        if response_format in ("srt", "vtt"):
            return web.Response(
                text=_subtitles(segments, response_format),
                content_type="text/plain",
                charset="utf-8",
            )
        usage = {"type": "duration", "seconds": max(1, math.ceil(duration))}
        if response_format == "json":
            return json_response({"text": text} if translate else {"text": text, "usage": usage})
        answer: dict[str, Any] = {
            "task": "translate" if translate else "transcribe",
            "language": "english" if translate or not language else language,
            "duration": duration,
            "text": text,
        }
        wanted = set(granularities) or {"segment"}
        if "segment" in wanted:
            answer["segments"] = segments
        if "word" in wanted:
            answer["words"] = _words(text, duration)
        if not translate:
            answer["usage"] = usage
        return json_response(answer)

    async def speech(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            if body is None:
                raise Invalid(
                    "We could not parse the JSON body of your request.", None, "invalid_json"
                )
            required_param(body, "model")
            text = required_param(body, "input")
            if len(text) > 4096:
                raise Invalid(
                    "'input' is too long: at most 4096 characters.", "input", "string_above_max"
                )
            voice = body.get("voice")
            if voice is None:
                raise missing_param("voice")
            if not (
                (isinstance(voice, str) and voice)
                or (isinstance(voice, dict) and isinstance(voice.get("id"), str))
            ):
                raise Invalid(
                    "'voice' must be a voice name or {'id': ...}.", "voice", "invalid_type"
                )
            response_format = choice_param(body, "response_format", SPEECH_FORMATS) or "mp3"
            if response_format not in SPEECH_TYPES:
                raise Invalid(
                    f"The emulator cannot encode {response_format}; it produces "
                    + ", ".join(SPEECH_TYPES)
                    + ".",
                    "response_format",
                    "unsupported_value",
                )
            speed = _number(body, "speed", 0.25, 4.0) or 1.0
            string_param(body, "instructions")
            if choice_param(body, "stream_format", ("sse", "audio")) == "sse":
                raise Invalid(
                    "The emulator does not stream speech as SSE; use stream_format 'audio'.",
                    "stream_format",
                    "unsupported_value",
                )
        except Invalid as exc:
            return invalid_response_with_id(self._emu, request, exc)
        seconds = speech_seconds(text, speed)
        if response_format == "wav":
            audio = _media.wav_bytes(seconds)
        elif response_format == "pcm":
            audio = bytes(2 * round(seconds * PCM_SAMPLE_RATE))
        else:
            audio = _media.mp3_bytes(seconds)
        return web.Response(body=audio, content_type=SPEECH_TYPES[response_format])
