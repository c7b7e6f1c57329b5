"""``client.audio``: multipart transcriptions / translations typed by format, and speech, in
memory or streamed to a file (atomic, size-checked, never holding the body)."""

from __future__ import annotations

import asyncio
import io
import re
import wave
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import openapi_conformance as oc
import pytest
from openapi_conformance import validate_request, validate_response, validate_schema

import api4gpt_async._files as files_module
from api4gpt_async import (
    APIConnectionError,
    APIError,
    AsyncAPI4GPT,
    BadRequestError,
    FormFile,
    ResponseDecodeError,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async.models.audio import (
    SpeechResponse,
    Transcription,
    TranscriptionVerbose,
    Translation,
    TranslationVerbose,
)
from api4gpt_async.testing import Emulator, RecordedRequest
from api4gpt_async.testing._media import MP3_FRAME_LENGTH, mp3_bytes, wav_bytes
from api4gpt_async.testing._openai_media import TRANSCRIPT, TRANSLATION, speech_seconds

pytestmark = pytest.mark.anyio
openapi_spec = oc.openapi_spec  # fixture: skips a test when the description is absent

TRANSCRIPTIONS = "/v1/audio/transcriptions"
TRANSLATIONS = "/v1/audio/translations"
SPEECH = "/v1/audio/speech"
AUDIO = mp3_bytes(3.0)


def _last(emulator: Emulator, route: str) -> RecordedRequest:
    return [r for r in emulator.requests if r.route == route][-1]


def _is_mp3(data: bytes) -> bool:
    """Every frame starts with the MPEG sync word (11 set bits) and the length adds up."""
    frames = [data[i : i + MP3_FRAME_LENGTH] for i in range(0, len(data), MP3_FRAME_LENGTH)]
    return bool(frames) and all(f[0] == 0xFF and f[1] & 0xE0 == 0xE0 for f in frames)


# -- transcriptions ---------------------------------------------------------------------------


async def test_transcription_json_sends_a_multipart_form(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    source = tmp_path / "meeting.mp3"
    source.write_bytes(AUDIO)
    result = await client.audio.transcriptions.create(
        source, model="whisper-1", language="en", prompt="API4GPT, emulator", temperature=0.2
    )
    assert isinstance(result, Transcription)
    assert result.text == TRANSCRIPT
    assert result.request_id
    request = _last(emulator, "audio.transcriptions")
    form = request.form()
    assert list(form.items()) == [
        ("file", FormFile(filename="meeting.mp3", content=AUDIO, content_type="audio/mpeg")),
        ("model", "whisper-1"),
        ("language", "en"),
        ("prompt", "API4GPT, emulator"),
        ("temperature", "0.2"),
    ]
    validate_request("POST", TRANSCRIPTIONS, form, content_type="multipart/form-data")
    validate_response("POST", TRANSCRIPTIONS, 200, dict(result.raw))


async def test_transcription_verbose_with_words_and_segments(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    result = await client.audio.transcriptions.create(
        ("clip.wav", wav_bytes(2.5)),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert isinstance(result, TranscriptionVerbose)
    assert (result.task, result.language, result.text) == ("transcribe", "english", TRANSCRIPT)
    assert result.duration == pytest.approx(2.5)  # measured from the WAV that was sent
    assert len(result.segments) == 2
    assert result.segments[0].start == 0.0
    assert result.segments[-1].end == pytest.approx(2.5)
    assert [w.word for w in result.words][:3] == ["Hello", "from", "the"]
    form = _last(emulator, "audio.transcriptions").form()
    assert form.getall("timestamp_granularities[]") == ["word", "segment"]
    assert form["response_format"] == "verbose_json"
    validate_request("POST", TRANSCRIPTIONS, form, content_type="multipart/form-data")
    # The spec's 200 schema is a oneOf whose plain-JSON branch also matches every verbose
    # answer (it allows extra keys), so the answer is checked against its own branch.
    validate_schema("CreateTranscriptionResponseVerboseJson", dict(result.raw))


async def test_transcription_plain_text_formats(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    text = await client.audio.transcriptions.create(
        AUDIO, model="whisper-1", response_format="text"
    )
    assert text == TRANSCRIPT + "\n"
    srt = await client.audio.transcriptions.create(AUDIO, model="whisper-1", response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,")
    assert "\n\n2\n" in srt
    assert srt.rstrip().endswith("Every upload sounds the same here.")
    vtt = await client.audio.transcriptions.create(AUDIO, model="whisper-1", response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert "00:00:03.000" in vtt  # ends with the 3-second upload
    assert _last(emulator, "audio.transcriptions").headers["Accept"].startswith("text/plain")


async def test_a_json_answer_to_a_text_request_is_unwrapped(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("audio.transcriptions", status=200, body={"text": "only the words"})
    text = await client.audio.transcriptions.create(
        AUDIO, model="whisper-1", response_format="text"
    )
    assert text == "only the words"


async def test_bare_bytes_are_named_so_the_server_knows_the_format(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    await client.audio.transcriptions.create(AUDIO, model="whisper-1")
    upload = _last(emulator, "audio.transcriptions").form()["file"]
    assert isinstance(upload, FormFile)
    assert (upload.filename, upload.content_type) == ("audio.mp3", "audio/mpeg")
    with pytest.raises(BadRequestError, match="Invalid file format") as info:
        await client.audio.transcriptions.create(b"no known magic", model="whisper-1")
    assert info.value.status == 400


async def test_transcription_file_object(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    stream = io.BytesIO(AUDIO)
    stream.name = "from-memory.mp3"
    await client.audio.transcriptions.create(stream, model="gpt-4o-transcribe")
    upload = _last(emulator, "audio.transcriptions").form()["file"]
    assert isinstance(upload, FormFile)
    assert upload.filename == "from-memory.mp3"


# -- translations -----------------------------------------------------------------------------


async def test_translation_json_and_verbose(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    plain = await client.audio.translations.create(
        ("interview.mp3", AUDIO), model="whisper-1", prompt="names: Ana", temperature=0
    )
    assert isinstance(plain, Translation)
    assert plain.text == TRANSLATION
    form = _last(emulator, "audio.translations").form()
    assert list(form) == ["file", "model", "prompt", "temperature"]
    assert form["temperature"] == "0"
    validate_request("POST", TRANSLATIONS, form, content_type="multipart/form-data")
    validate_response("POST", TRANSLATIONS, 200, dict(plain.raw))

    verbose = await client.audio.translations.create(
        ("interview.mp3", AUDIO), model="whisper-1", response_format="verbose_json"
    )
    assert isinstance(verbose, TranslationVerbose)
    assert (verbose.task, verbose.language) == ("translate", "english")
    assert verbose.duration == pytest.approx(3.0, abs=0.03)
    assert verbose.segments
    validate_schema("CreateTranslationResponseVerboseJson", dict(verbose.raw))
    text = await client.audio.translations.create(AUDIO, model="whisper-1", response_format="text")
    assert text == TRANSLATION + "\n"


async def test_transcription_errors_are_typed(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("audio.transcriptions", status=500, times=3)
    with pytest.raises(ServerError):
        await client.audio.transcriptions.create(AUDIO, model="whisper-1")
    assert emulator.count("audio.transcriptions") == 1  # billable: not retried
    emulator.clear_faults()
    with pytest.raises(BadRequestError, match="timestamp_granularities"):
        await client.audio.transcriptions.create(
            AUDIO, model="whisper-1", timestamp_granularities=["word"]
        )


# -- speech -----------------------------------------------------------------------------------


async def test_speech_in_memory_is_a_real_mp3(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    speech = await client.audio.speech.create(
        model="gpt-4o-mini-tts", input=text, voice="coral", speed=1.25, instructions="cheerful"
    )
    assert isinstance(speech, SpeechResponse)
    assert speech.content_type == "audio/mpeg"
    assert _is_mp3(speech.content)
    assert speech.content == mp3_bytes(speech_seconds(text, 1.25))
    assert int(speech.headers["Content-Length"]) == len(speech.content)
    assert speech.request_id
    request = _last(emulator, "audio.speech")
    assert request.json == {
        "model": "gpt-4o-mini-tts",
        "input": text,
        "voice": "coral",
        "speed": 1.25,
        "instructions": "cheerful",
    }
    validate_request("POST", SPEECH, request.json)
    # OpenAI's description declares the audio as application/octet-stream.
    validate_response("POST", SPEECH, 200, speech.content, content_type="application/octet-stream")
    path = await speech.save(tmp_path / "fox.mp3")
    assert path.read_bytes() == speech.content


async def test_speech_as_wav_and_with_a_custom_voice(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    speech = await client.audio.speech.create(
        model="tts-1", input="Hello there.", voice={"id": "voice_123"}, response_format="wav"
    )
    assert speech.content_type == "audio/wav"
    with wave.open(io.BytesIO(speech.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(
            speech_seconds("Hello there.")
        )
    body = _last(emulator, "audio.speech").json
    assert body["voice"] == {"id": "voice_123"}
    validate_request("POST", SPEECH, body)


async def test_speech_errors_are_typed_never_audio(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(BadRequestError, match="cannot encode") as info:
        await client.audio.speech.create(
            model="tts-1", input="hi", voice="alloy", response_format="flac"
        )
    assert info.value.code == "unsupported_value"
    # A 200 that carries a JSON error instead of audio is an error too.
    emulator.fail(
        "audio.speech",
        status=200,
        body={"error": {"message": "upstream said no", "type": "upstream_error", "code": "x"}},
    )
    with pytest.raises(APIError, match="upstream said no"):
        await client.audio.speech.create(model="tts-1", input="hi", voice="alloy")
    emulator.fail("audio.speech", status=200, body=[1, 2], times=1)
    with pytest.raises(ResponseDecodeError, match="expected audio"):
        await client.audio.speech.create(model="tts-1", input="hi", voice="alloy")


async def test_speech_5xx_and_drops_follow_the_billable_rules(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("audio.speech", status=503, times=3)
    with pytest.raises(ServerError):
        await client.audio.speech.create(model="tts-1", input="hi", voice="alloy")
    assert emulator.count("audio.speech") == 1
    emulator.clear_faults()
    emulator.fail("audio.speech", drop=True, times=3)
    with pytest.raises(SubmissionUncertainError):
        await client.audio.speech.stream_to_file(
            tmp_path / "x.mp3", model="tts-1", input="hi", voice="alloy"
        )
    assert emulator.count("audio.speech") == 2
    assert list(tmp_path.iterdir()) == []


# -- speech streamed to a file ----------------------------------------------------------------


async def test_stream_to_file_writes_in_chunks_and_atomically(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    openapi_spec: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "A long chapter read aloud. " * 150  # about 4 minutes: roughly 1 MB of MP3
    expected = mp3_bytes(speech_seconds(text))
    chunk_sizes: list[int] = []
    original = files_module.write_stream

    async def counting_write_stream(
        chunks: AsyncIterable[bytes], target: Path, **kwargs: Any
    ) -> int:
        async def counted() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                chunk_sizes.append(len(chunk))
                assert target.read_bytes() == b"old version"  # replaced only when complete
                yield chunk

        return await original(counted(), target, **kwargs)

    monkeypatch.setattr(files_module, "_CHUNK", 16 * 1024)
    monkeypatch.setattr(files_module, "write_stream", counting_write_stream)
    target = tmp_path / "chapter.mp3"
    target.write_bytes(b"old version")
    path = await client.audio.speech.stream_to_file(
        target, model="tts-1-hd", input=text, voice="onyx"
    )
    assert path == target
    data = path.read_bytes()
    assert data == expected
    assert _is_mp3(data)
    assert sum(chunk_sizes) == len(expected) > 1_000_000
    assert max(chunk_sizes) <= 16 * 1024  # never more than one chunk held
    assert len(chunk_sizes) >= len(expected) // (16 * 1024)
    assert [p.name for p in tmp_path.iterdir()] == ["chapter.mp3"]  # no .part left
    request = _last(emulator, "audio.speech")
    assert request.json == {"model": "tts-1-hd", "input": text, "voice": "onyx"}
    validate_request("POST", SPEECH, request.json)


async def test_stream_to_file_into_a_folder(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    path = await client.audio.speech.stream_to_file(
        tmp_path, model="tts-1", input="Hi.", voice="alloy", response_format="wav"
    )
    assert path.parent == tmp_path
    assert path.name.startswith("speech-")
    assert path.suffix == ".wav"
    assert path.read_bytes()[:4] == b"RIFF"


async def test_a_truncated_stream_leaves_the_old_file_alone(tmp_path: Path) -> None:
    """The server promises 100000 bytes of audio, sends a few frames and hangs up."""

    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length[1]) if length else 0)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n"
            + mp3_bytes(0.1)
        )
        await writer.drain()
        writer.close()

    target = tmp_path / "speech.mp3"
    target.write_bytes(b"previous take")
    server = await asyncio.start_server(cut_short, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, AsyncAPI4GPT(api_key="sk-x", base_url=f"http://127.0.0.1:{port}") as client:
        with pytest.raises(APIConnectionError):
            await client.audio.speech.stream_to_file(
                target, model="tts-1", input="hi", voice="alloy"
            )
    assert target.read_bytes() == b"previous take"
    assert [p.name for p in tmp_path.iterdir()] == ["speech.mp3"]


async def test_stream_to_file_raises_errors_instead_of_saving_them(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(BadRequestError, match="voice"):
        await client.audio.speech.stream_to_file(
            tmp_path / "a.mp3", model="tts-1", input="hi", voice=""
        )
    emulator.fail(
        "audio.speech", status=200, body={"error": {"message": "quota gone", "type": "x"}}
    )
    with pytest.raises(APIError, match="quota gone"):
        await client.audio.speech.stream_to_file(
            tmp_path / "b.mp3", model="tts-1", input="hi", voice="alloy"
        )
    emulator.fail("audio.speech", status=500)
    with pytest.raises(ServerError):
        await client.audio.speech.stream_to_file(
            tmp_path / "c.mp3", model="tts-1", input="hi", voice="alloy"
        )
    assert list(tmp_path.iterdir()) == []
