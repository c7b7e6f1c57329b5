"""OpenAI-style image and audio routes (``shared/api/openai-compatible.md`` §5 and §7).

=======================  ==============================  ===============================
route name               endpoint                        body
=======================  ==============================  ===============================
``images.generate``      POST /v1/images/generations     JSON
``images.edit``          POST /v1/images/edits           multipart (``image`` / ``image[]``
                                                         / ``images``, ``mask``, ``prompt``…)
``audio.transcriptions`` POST /v1/audio/transcriptions   multipart (``file``, ``model``…)
``audio.translations``   POST /v1/audio/translations     multipart (``file``, ``model``…)
``audio.speech``         POST /v1/audio/speech           JSON → audio bytes
=======================  ==============================  ===============================

Answers follow OpenAI's OpenAPI description, with the gateway's habits:

- every image item carries ``url``, ``b64_json`` and ``revised_prompt``, the unused ones as
  ``""``. Items are hosted URLs (``emu.file_url("<id>.png")``, served by the ``files`` route)
  unless ``response_format="b64_json"``, then inline PNGs. gpt-image models add ``usage`` and
  echo ``size`` / ``quality`` / ``background`` / ``output_format``; ``dall-e-3`` revises the
  prompt; ``stable-diffusion*`` models answer ``b64_json`` with ``created`` in **milliseconds**.
- a prompt containing ``[slow]`` makes image routes send two interim ``HTTP/1.1 102
  Processing`` answers before the real one, as new-api does every ~25 s on slow image models.
- transcriptions answer per ``response_format``: ``json`` ``{"text", "usage"}``,
  ``verbose_json`` (``task``, ``language``, ``duration`` read from the uploaded WAV/MP3,
  ``segments``, and ``words`` when ``timestamp_granularities[]`` asks), or ``text`` / ``srt``
  / ``vtt`` as ``text/plain``. Translations answer in English with ``task: "translate"``.
- speech answers real audio: MP3 (``audio/mpeg``, the default), WAV (``audio/wav``) or raw
  PCM (``audio/pcm``, 24 kHz 16-bit mono), about one second per 15 characters of input
  (divided by ``speed``), with ``Content-Length``. Other formats answer 400: the emulator cannot
  encode them.

Invalid requests get OpenAI's 400 ``{"error": {"message", "type": "invalid_request_error",
"param", "code"}}``, naming the field.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import math
import uuid
import wave
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .._transport import FormFile
from . import _media
from ._http import json_response, read_json_object
from ._multipart import FormField, parse_form

if TYPE_CHECKING:
    from multidict import MultiDict

    from ._emulator import Emulator

__all__ = [
    "SLOW_WORD",
    "TRANSCRIPT",
    "TRANSLATION",
    "register",
    "speech_seconds",
]

#: A prompt containing this makes image routes send interim ``102 Processing`` answers first.
SLOW_WORD: Final = "[slow]"
#: How many interim answers a ``[slow]`` prompt gets.
INTERIM_ANSWERS: Final = 2
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
_GPT_IMAGE_SIZES: Final = ("1024x1024", "1024x1536", "1536x1024")
_IMAGE_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_MAX_EDIT_IMAGES: Final = 16
#: The colours of the n inline images of one answer (each image differs from its neighbours).
_PALETTE: Final = ((0x2B, 0x59, 0xC3), (0xE0, 0x6C, 0x2D), (0x3C, 0xA5, 0x5C), (0x9B, 0x4D, 0xCA))


def register(emu: Emulator, app: web.Application) -> None:
    """Add the image and audio routes to ``app``."""
    routes = _MediaRoutes(emu)
    app.router.add_post("/v1/images/generations", routes.generate, name="images.generate")
    app.router.add_post("/v1/images/edits", routes.edit, name="images.edit")
    app.router.add_post(
        "/v1/audio/transcriptions", routes.transcriptions, name="audio.transcriptions"
    )
    app.router.add_post("/v1/audio/translations", routes.translations, name="audio.translations")
    app.router.add_post("/v1/audio/speech", routes.speech, name="audio.speech")


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long the emulator's speech for ``text`` lasts, in seconds (at least half a second)."""
    return max(0.5, len(text) / CHARS_PER_SECOND / speed)


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A request field is wrong: OpenAI's 400, naming the field in ``param``."""

    def __init__(self, message: str, param: str | None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def _missing(name: str) -> _Invalid:
    return _Invalid(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")


def _error(emu: Emulator, request: web.Request, exc: _Invalid) -> web.Response:
    rid = emu._request_id(request)
    return json_response(
        {
            "error": {
                "message": f"{exc} (request id: {rid})",
                "type": "invalid_request_error",
                "param": exc.param,
                "code": exc.code,
            }
        },
        status=400,
    )


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"Invalid type for '{name}': expected a string.", name, "invalid_type")
    return value


def _required(fields: Mapping[str, Any], name: str) -> str:
    value = _text(fields, name)
    if value is None:
        raise _missing(name)
    if not value.strip():
        raise _Invalid(f"'{name}' must not be empty.", name, "empty_string")
    return value


def _integer(
    fields: Mapping[str, Any], name: str, low: int, high: int, *, form: bool = False
) -> int | None:
    """An integer field: a JSON number, or (``form``) the digits of a form field."""
    value = fields.get(name)
    if value is None:
        return None
    if form and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise _Invalid(f"'{name}' must be an integer.", name, "invalid_type") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"'{name}' must be an integer.", name, "invalid_type")
    if not low <= value <= high:
        raise _Invalid(f"'{name}' must be between {low} and {high}.", name, "invalid_value")
    return value


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
            raise _Invalid(f"'{name}' must be a number.", name, "invalid_type") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise _Invalid(f"'{name}' must be a number.", name, "invalid_type")
    if not low <= value <= high:
        raise _Invalid(f"'{name}' must be between {low:g} and {high:g}.", name, "invalid_value")
    return float(value)


def _choice(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(fields, name)
    if value is not None and value not in allowed:
        raise _Invalid(
            f"Invalid value for '{name}': {value!r}. Supported values are: "
            + ", ".join(repr(a) for a in allowed)
            + ".",
            name,
            "invalid_value",
        )
    return value


def _form(request_body: bytes, content_type: str) -> MultiDict[FormField]:
    try:
        return parse_form(request_body, content_type)
    except ValueError as exc:
        raise _Invalid(
            f"Invalid multipart/form-data body ({exc}); this endpoint takes multipart uploads.",
            None,
            "invalid_request",
        ) from None


def _single_fields(form: MultiDict[FormField]) -> dict[str, FormField]:
    """The first value of each name (repeated file names are read separately)."""
    fields: dict[str, FormField] = {}
    for name, value in form.items():
        fields.setdefault(name, value)
    return fields


def _file(form: Mapping[str, FormField], name: str) -> FormFile | None:
    value = form.get(name)
    if value is not None and not isinstance(value, FormFile):
        raise _Invalid(f"'{name}' must be a file upload, not a text field.", name, "invalid_type")
    return value


# --------------------------------------------------------------------------- answers


def _png(index: int) -> bytes:
    return _media.png_bytes(64, 64, color=_PALETTE[index % len(_PALETTE)])


def _image_items(emu: Emulator, *, n: int, b64: bool, revised_prompt: str) -> list[dict[str, str]]:
    """The ``data`` items: every key present, the unused ones ``""`` as the gateway sends."""
    items = []
    for index in range(n):
        url = "" if b64 else emu.file_url(f"img-{uuid.uuid4().hex[:20]}.png")
        inline = base64.b64encode(_png(index)).decode("ascii") if b64 else ""
        items.append({"url": url, "b64_json": inline, "revised_prompt": revised_prompt})
    return items


def _images_answer(
    emu: Emulator,
    *,
    model: str,
    prompt: str,
    n: int,
    response_format: str | None,
    fields: Mapping[str, Any],
    input_images: int = 0,
) -> dict[str, Any]:
    family = model.lower()
    millis = family.startswith(("stable-diffusion", "sd-", "sd3"))
    b64 = response_format == "b64_json" or millis
    revised = (
        f"{prompt.replace(SLOW_WORD, '').strip()}, in vivid detail" if "dall-e-3" in family else ""
    )
    instant = _dt.datetime.fromisoformat(emu.timestamp().replace("Z", "+00:00"))
    created = int(instant.timestamp() * 1000) if millis else int(instant.timestamp())
    answer: dict[str, Any] = {
        "created": created,
        "data": _image_items(emu, n=n, b64=b64, revised_prompt=revised),
    }
    if family.startswith(("gpt-image", "chatgpt-image")):
        text_tokens = max(1, len(prompt.split()))
        image_tokens = 65 * input_images
        output_tokens = 1056 * n
        answer["usage"] = {
            "input_tokens": text_tokens + image_tokens,
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        }
        size = fields.get("size")
        answer["size"] = size if size in _GPT_IMAGE_SIZES else "1024x1024"
        quality = fields.get("quality")
        answer["quality"] = quality if quality in ("low", "medium", "high") else "medium"
        answer["background"] = (
            "transparent" if fields.get("background") == "transparent" else "opaque"
        )
        output_format = fields.get("output_format")
        answer["output_format"] = output_format if output_format in ("jpeg", "webp") else "png"
    return answer


async def _interim_processing(request: web.Request, prompt: str) -> None:
    """For a ``[slow]`` prompt: raw ``102 Processing`` answers ahead of the real one."""
    if SLOW_WORD not in prompt:
        return
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    for _ in range(INTERIM_ANSWERS):
        transport.write(b"HTTP/1.1 102 Processing\r\n\r\n")


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


class _MediaRoutes:
    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    # -- images ----------------------------------------------------------------------------

    async def generate(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            if body is None:
                raise _Invalid(
                    "We could not parse the JSON body of your request.", None, "invalid_json"
                )
            prompt = _required(body, "prompt")
            model = _text(body, "model") or "dall-e-2"
            n = _integer(body, "n", 1, 10) or 1
            if model.startswith("dall-e-3") and n != 1:
                raise _Invalid("You must provide n=1 for this model.", "n", "invalid_value")
            response_format = _choice(body, "response_format", ("url", "b64_json"))
            for name in (
                "size",
                "quality",
                "style",
                "background",
                "moderation",
                "user",
                "output_format",
                "aspect_ratio",
            ):
                _text(body, name)
            _integer(body, "output_compression", 0, 100)
        except _Invalid as exc:
            return _error(self._emu, request, exc)
        await _interim_processing(request, prompt)
        answer = _images_answer(
            self._emu,
            model=model,
            prompt=prompt,
            n=n,
            response_format=response_format,
            fields=body,
        )
        return json_response(answer)

    async def edit(self, request: web.Request) -> web.Response:
        try:
            form = _form(await request.read(), request.headers.get("Content-Type", ""))
            images = [*form.getall("image", []), *form.getall("image[]", [])]
            images.extend(form.getall("images", []))
            if not images:
                raise _missing("image")
            if len(images) > _MAX_EDIT_IMAGES:
                raise _Invalid(
                    f"Too many images: at most {_MAX_EDIT_IMAGES}.", "image", "invalid_value"
                )
            for index, image in enumerate(images, 1):
                if not isinstance(image, FormFile):
                    raise _Invalid("'image' must be a file upload.", "image", "invalid_type")
                if not image.content.startswith(_IMAGE_SIGNATURES) and not (
                    image.content[:4] == b"RIFF" and image.content[8:12] == b"WEBP"
                ):
                    raise _Invalid(
                        f"Invalid image file or mode for image {index}, please check your "
                        "image file.",
                        "image",
                        "invalid_image_file",
                    )
            fields = _single_fields(form)
            prompt = _required(fields, "prompt")
            mask = _file(fields, "mask")
            if mask is not None and not mask.content.startswith(b"\x89PNG\r\n\x1a\n"):
                raise _Invalid("Invalid mask: it must be a PNG image.", "mask", "invalid_image")
            model = _text(fields, "model") or "dall-e-2"
            n = _integer(fields, "n", 1, 10, form=True) or 1
            response_format = _choice(fields, "response_format", ("url", "b64_json"))
            _integer(fields, "output_compression", 0, 100, form=True)
            _choice(fields, "input_fidelity", ("high", "low"))
        except _Invalid as exc:
            return _error(self._emu, request, exc)
        await _interim_processing(request, prompt)
        answer = _images_answer(
            self._emu,
            model=model,
            prompt=prompt,
            n=n,
            response_format=response_format,
            fields=fields,
            input_images=len(images),
        )
        return json_response(answer)

    # -- audio -----------------------------------------------------------------------------

    async def transcriptions(self, request: web.Request) -> web.Response:
        return await self._listen(request, translate=False)

    async def translations(self, request: web.Request) -> web.Response:
        return await self._listen(request, translate=True)

    async def _listen(self, request: web.Request, *, translate: bool) -> web.Response:
        try:
            form = _form(await request.read(), request.headers.get("Content-Type", ""))
            fields = _single_fields(form)
            upload = _file(fields, "file")
            if upload is None:
                raise _missing("file")
            extension = upload.filename.rpartition(".")[2].lower() if "." in upload.filename else ""
            if extension not in AUDIO_EXTENSIONS:
                raise _Invalid(
                    f"Invalid file format. Supported formats: {list(AUDIO_EXTENSIONS)}",
                    "file",
                    "invalid_value",
                )
            _required(fields, "model")
            response_format = _choice(fields, "response_format", _TRANSCRIPTION_FORMATS) or "json"
            _number(fields, "temperature", 0.0, 1.0, form=True)
            _text(fields, "prompt")
            language = None if translate else _text(fields, "language")
            granularities = [
                *form.getall("timestamp_granularities[]", []),
                *form.getall("timestamp_granularities", []),
            ]
            if translate and granularities:
                raise _Invalid(
                    "Unrecognized request argument supplied: timestamp_granularities",
                    "timestamp_granularities",
                    "unknown_parameter",
                )
            for granularity in granularities:
                if granularity not in ("word", "segment"):
                    raise _Invalid(
                        f"Invalid value for 'timestamp_granularities': {granularity!r}.",
                        "timestamp_granularities",
                        "invalid_value",
                    )
            if granularities and response_format != "verbose_json":
                raise _Invalid(
                    "timestamp_granularities is only supported with response_format "
                    "'verbose_json'.",
                    "timestamp_granularities",
                    "invalid_value",
                )
        except _Invalid as exc:
            return _error(self._emu, request, exc)
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
                raise _Invalid(
                    "We could not parse the JSON body of your request.", None, "invalid_json"
                )
            _required(body, "model")
            text = _required(body, "input")
            if len(text) > 4096:
                raise _Invalid(
                    "'input' is too long: at most 4096 characters.", "input", "string_above_max"
                )
            voice = body.get("voice")
            if voice is None:
                raise _missing("voice")
            if not (
                (isinstance(voice, str) and voice)
                or (isinstance(voice, dict) and isinstance(voice.get("id"), str))
            ):
                raise _Invalid(
                    "'voice' must be a voice name or {'id': ...}.", "voice", "invalid_type"
                )
            response_format = _choice(body, "response_format", SPEECH_FORMATS) or "mp3"
            if response_format not in SPEECH_TYPES:
                raise _Invalid(
                    f"The emulator cannot encode {response_format}; it produces "
                    + ", ".join(SPEECH_TYPES)
                    + ".",
                    "response_format",
                    "unsupported_value",
                )
            speed = _number(body, "speed", 0.25, 4.0) or 1.0
            _text(body, "instructions")
            if _choice(body, "stream_format", ("sse", "audio")) == "sse":
                raise _Invalid(
                    "The emulator does not stream speech as SSE; use stream_format 'audio'.",
                    "stream_format",
                    "unsupported_value",
                )
        except _Invalid as exc:
            return _error(self._emu, request, exc)
        seconds = speech_seconds(text, speed)
        if response_format == "wav":
            audio = _media.wav_bytes(seconds)
        elif response_format == "pcm":
            audio = bytes(2 * round(seconds * PCM_SAMPLE_RATE))
        else:
            audio = _media.mp3_bytes(seconds)
        return web.Response(body=audio, content_type=SPEECH_TYPES[response_format])
