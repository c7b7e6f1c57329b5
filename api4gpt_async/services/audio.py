"""Audio: ``client.audio.transcriptions``, ``.translations`` (multipart) and ``.speech`` (binary).

Transcriptions and translations are typed by the ``response_format`` asked for: ``"json"``
(the default) gives a :class:`Transcription`, ``"verbose_json"`` a
:class:`TranscriptionVerbose`, and ``"text"`` / ``"srt"`` / ``"vtt"`` a plain ``str``.

Speech answers with audio bytes. ``speech.create`` holds them in memory; for long audio
``speech.stream_to_file`` writes them to disk as they arrive, never holding the whole body.
A JSON answer where audio was expected is the gateway reporting an error: it is raised, never
saved as if it were audio. Every call here is billable: never re-sent once it may have reached
the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from .._convert import structure
from .._files import check_writable, extension_for, save_response
from .._json import read_json, read_json_answer
from .._raw_response import WithRawResponse
from .._text import body_text
from .._uploads import FileInput, form_text, to_form_file
from ..errors import APIError, ResponseDecodeError, error_from_event, request_id_from
from ..models.audio import (
    SpeechResponse,
    Transcription,
    TranscriptionVerbose,
    Translation,
    TranslationVerbose,
)
from ._common import body_of

if TYPE_CHECKING:
    from .._transport import FormValue, Reply, Transport
    from ._common import ServiceContext

__all__ = ["AudioService", "SpeechService", "TranscriptionsService", "TranslationsService"]

#: The answer formats of transcriptions and translations.
AudioResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
#: The formats answered as plain text.
TextFormat = Literal["text", "srt", "vtt"]
#: The audio formats speech can be produced in.
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

_Plain = TypeVar("_Plain")
_Verbose = TypeVar("_Verbose")

_TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
#: What speech asks for: any audio; JSON only arrives as an error.
_SPEECH_ACCEPT = {"Accept": "audio/*, application/octet-stream;q=0.9, */*;q=0.5"}


class AudioService(WithRawResponse):
    """``client.audio``: ``transcriptions``, ``translations`` and ``speech``."""

    def __init__(self, context: ServiceContext) -> None:
        transport, paths = context.transport, context.paths
        self.transcriptions: TranscriptionsService = TranscriptionsService(
            transport, paths["audio.transcriptions"]
        )
        self.translations: TranslationsService = TranslationsService(
            transport, paths["audio.translations"]
        )
        self.speech: SpeechService = SpeechService(transport, paths["audio.speech"])


class TranscriptionsService(WithRawResponse):
    """``client.audio.transcriptions``: speech to text in its own language."""

    def __init__(self, transport: Transport, path: str) -> None:
        self._transport = transport
        self._path = path

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: Literal["json"] | None = None,
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        timestamp_granularities: Sequence[Literal["word", "segment"]] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Transcription: ...

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: Literal["verbose_json"],
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        timestamp_granularities: Sequence[Literal["word", "segment"]] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TranscriptionVerbose: ...

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: TextFormat,
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        timestamp_granularities: Sequence[Literal["word", "segment"]] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> str: ...

    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: AudioResponseFormat | None = None,
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        timestamp_granularities: Sequence[Literal["word", "segment"]] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Transcription | TranscriptionVerbose | str:
        """Transcribe an audio file (``POST /v1/audio/transcriptions``, multipart).

        ``file`` is a path, bytes, a binary file object or a ``(filename, content)`` tuple;
        its name's extension tells the server the audio format (bare bytes are named from
        their content, e.g. ``upload.mp3``). ``timestamp_granularities`` (``"word"``,
        ``"segment"``) needs ``response_format="verbose_json"``.
        """
        fields: dict[str, Any] = {
            "model": model,
            "language": language,
            "prompt": prompt,
            "response_format": response_format,
            "temperature": temperature,
        }
        form = await _audio_form(file, fields, extra_body)
        for granularity in timestamp_granularities or ():
            form.append(("timestamp_granularities[]", granularity))
        return await _send(
            self._transport,
            self._path,
            form,
            response_format,
            (Transcription, TranscriptionVerbose),
            extra_headers,
            timeout,
        )


class TranslationsService(WithRawResponse):
    """``client.audio.translations``: speech in any language to English text."""

    def __init__(self, transport: Transport, path: str) -> None:
        self._transport = transport
        self._path = path

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: Literal["json"] | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Translation: ...

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: Literal["verbose_json"],
        prompt: str | None = None,
        temperature: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TranslationVerbose: ...

    @overload
    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: TextFormat,
        prompt: str | None = None,
        temperature: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> str: ...

    async def create(
        self,
        file: FileInput,
        *,
        model: str,
        response_format: AudioResponseFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Translation | TranslationVerbose | str:
        """Translate an audio file into English text (``POST /v1/audio/translations``)."""
        fields: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "response_format": response_format,
            "temperature": temperature,
        }
        form = await _audio_form(file, fields, extra_body)
        return await _send(
            self._transport,
            self._path,
            form,
            response_format,
            (Translation, TranslationVerbose),
            extra_headers,
            timeout,
        )


class SpeechService(WithRawResponse):
    """``client.audio.speech``: text to speech."""

    def __init__(self, transport: Transport, path: str) -> None:
        self._transport = transport
        self._path = path

    async def create(
        self,
        *,
        model: str,
        input: str,
        voice: str | Mapping[str, str],
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        instructions: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SpeechResponse:
        """Generate speech and return it in memory (``POST /v1/audio/speech``).

        ``voice`` is a voice name (``"alloy"``, ``"nova"``…) or a custom voice
        ``{"id": "voice_..."}``. ``response_format`` defaults to mp3 on the server.
        """
        body = _speech_body(model, input, voice, response_format, speed, instructions, extra_body)
        reply = await self._transport.request(
            "POST",
            self._path,
            json_body=body,
            billable=True,
            expect="bytes",
            timeout=timeout,
            headers={**_SPEECH_ACCEPT, **(extra_headers or {})},
        )
        content_type = reply.headers.get("Content-Type", "")
        if _is_json(content_type):
            raise _json_instead_of_audio(reply.data, reply.headers)
        return SpeechResponse(
            content=reply.data,
            content_type=content_type or None,
            request_id=reply.request_id,
            headers=reply.headers,
        )

    async def stream_to_file(
        self,
        dest: str | os.PathLike[str],
        *,
        model: str,
        input: str,
        voice: str | Mapping[str, str],
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        instructions: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        overwrite: bool = True,
    ) -> Path:
        """Generate speech straight into ``dest`` (a file path, or a folder; ``~`` expanded).

        The audio is written as it arrives, a chunk at a time, into ``<dest>.part``, which
        replaces ``dest`` only once the whole body (as long as ``Content-Length`` says) is
        there: ``dest`` is never left half written. In a folder the file is named
        ``speech-<request id>`` plus the extension of the audio's type. ``timeout`` bounds
        getting the answer started and then each read. Like openai-python's
        ``stream_to_file``, an existing file is replaced (atomically); with
        ``overwrite=False`` it raises ``FileExistsError`` before anything is requested. A
        ``dest`` ending in a separator is a folder too (created if needed; names made unique).
        """
        check_writable(dest, overwrite=overwrite)
        body = _speech_body(model, input, voice, response_format, speed, instructions, extra_body)
        async with self._transport.stream(
            "POST",
            self._path,
            json_body=body,
            billable=True,
            timeout=timeout,
            headers={**_SPEECH_ACCEPT, **(extra_headers or {})},
        ) as resp:
            content_type = resp.headers.get("Content-Type", "")
            if _is_json(content_type):
                raise _json_instead_of_audio(await resp.read(), resp.headers)
            stem = f"speech-{request_id_from(resp.headers) or 'audio'}"
            return await save_response(
                resp,
                dest,
                lambda: _safe_stem(stem) + extension_for(content_type, ".mp3"),
                what="speech",
                overwrite=overwrite,
            )


# --------------------------------------------------------------------------- helpers


async def _audio_form(
    file: FileInput, fields: Mapping[str, Any], extra_body: Mapping[str, Any] | None
) -> list[tuple[str, FormValue]]:
    form: list[tuple[str, FormValue]] = [("file", await to_form_file(file, default_stem="audio"))]
    form.extend((key, form_text(value)) for key, value in body_of(fields, extra_body).items())
    return form


async def _send(
    transport: Transport,
    path: str,
    form: list[tuple[str, FormValue]],
    response_format: str | None,
    models: tuple[type[_Plain], type[_Verbose]],
    extra_headers: Mapping[str, str] | None,
    timeout: float | None,
) -> _Plain | _Verbose | str:
    """Send the form and decode the answer by the format that was asked for."""
    text_answer = response_format in _TEXT_FORMATS
    reply = await transport.request(
        "POST",
        path,
        form=form,
        billable=True,
        expect="text" if text_answer else "json",
        timeout=timeout,
        headers=(
            {"Accept": "text/plain, */*;q=0.5", **(extra_headers or {})}
            if text_answer
            else extra_headers
        ),
    )
    if text_answer:
        return _text_of(reply, response_format)
    if response_format == "verbose_json":
        return structure(reply.data, models[1], request_id=reply.request_id)
    return structure(reply.data, models[0], request_id=reply.request_id)


def _text_of(reply: Reply, response_format: str | None) -> str:
    """The plain-text answer; a ``{"text": ...}`` JSON answer to ``text`` is unwrapped."""
    text: str = reply.data
    if response_format == "text" and _is_json(reply.headers.get("Content-Type", "")):
        try:
            body = read_json(text)
        except ValueError:
            return text
        if isinstance(body, dict) and isinstance(body.get("text"), str):
            return str(body["text"])
    return text


def _speech_body(
    model: str,
    input: str,
    voice: str | Mapping[str, str],
    response_format: str | None,
    speed: float | None,
    instructions: str | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return body_of(
        {
            "model": model,
            "input": input,
            "voice": voice if isinstance(voice, str) else dict(voice),
            "response_format": response_format,
            "speed": speed,
            "instructions": instructions,
        },
        extra_body,
    )


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _json_instead_of_audio(raw: bytes, headers: Mapping[str, str]) -> APIError:
    """The error a 2xx JSON answer to a speech request stands for."""
    request_id = request_id_from(headers)
    try:
        payload = read_json_answer(raw, headers)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and ("error" in payload or "message" in payload):
        return error_from_event(payload, request_id)
    return ResponseDecodeError(
        "expected audio, got a JSON answer",
        request_id=request_id,
        body=body_text(raw, headers)[:2000],
    )


def _safe_stem(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:120]
