"""The emulator's image and audio routes, driven with raw aiohttp (no SDK client involved).

Every answer is checked against OpenAI's OpenAPI description; every refusal is OpenAI's 400
error body naming the field.
"""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from typing import Any

import aiohttp
import openapi_conformance as oc
import pytest
from openapi_conformance import validate_request, validate_response, validate_schema

from api4gpt_async import FormFile
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp3_bytes, png_bytes, wav_bytes
from api4gpt_async.testing._multipart import parse_form
from api4gpt_async.testing._openai_media import (
    PCM_SAMPLE_RATE,
    TRANSCRIPT,
    TRANSLATION,
    speech_seconds,
)

from ._wire import call

pytestmark = pytest.mark.anyio
openapi_spec = oc.openapi_spec  # fixture: skips a test when the description is absent

PNG = png_bytes(8, 8)


async def post(
    session: aiohttp.ClientSession, path: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    return await call(session, "POST", path, **kwargs)


def form(*fields: tuple[str, Any]) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields:
        if isinstance(value, FormFile):
            data.add_field(
                name, value.content, filename=value.filename, content_type=value.content_type
            )
        else:
            data.add_field(name, value)
    return data


def png_file(name: str = "in.png") -> FormFile:
    return FormFile(filename=name, content=PNG, content_type="image/png")


def audio_file(name: str = "clip.mp3", content: bytes | None = None) -> FormFile:
    return FormFile(filename=name, content=mp3_bytes(2.0) if content is None else content)


def assert_openai_400(status: int, body: Any, param: str | None) -> None:
    assert status == 400
    validate_schema("ErrorResponse", body)
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param
    assert "(request id: " in body["error"]["message"]


# -- images -----------------------------------------------------------------------------------


async def test_generate_url_answer(
    emu: Emulator, http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    status, body, response = await post(
        http, "/v1/images/generations", json={"prompt": "a fox", "model": "dall-e-3"}
    )
    assert status == 200
    assert response.headers["X-Oneapi-Request-Id"]
    validate_response("POST", "/v1/images/generations", 200, body)
    (item,) = body["data"]
    assert item["b64_json"] == ""  # every key present, unused ones empty, like new-api
    assert item["revised_prompt"] == "a fox, in vivid detail"
    assert item["url"].startswith(emu.file_url("img-"))
    async with http.get(item["url"]) as image:
        assert image.content_type == "image/png"
        assert (await image.read())[:8] == b"\x89PNG\r\n\x1a\n"
    assert "usage" not in body


async def test_generate_b64_gpt_image_answer(
    http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    status, body, _ = await post(
        http,
        "/v1/images/generations",
        json={"prompt": "two cats", "model": "gpt-image-1", "n": 3, "response_format": "b64_json",
              "size": "1024x1536", "quality": "low", "background": "transparent"},
    )  # fmt: skip
    assert status == 200
    validate_response("POST", "/v1/images/generations", 200, body)
    images = [base64.b64decode(item["b64_json"]) for item in body["data"]]
    assert len(images) == 3
    assert all(image[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    assert len(set(images)) == 3  # each image differs
    assert all(item["url"] == "" for item in body["data"])
    assert body["usage"]["output_tokens"] == 3 * 1056
    assert (body["size"], body["quality"], body["background"], body["output_format"]) == (
        "1024x1536",
        "low",
        "transparent",
        "png",
    )


async def test_stable_diffusion_answers_milliseconds(
    http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    _, sd, _ = await post(
        http, "/v1/images/generations", json={"prompt": "x", "model": "stable-diffusion-3.5"}
    )
    _, other, _ = await post(http, "/v1/images/generations", json={"prompt": "x", "model": "flux"})
    validate_response("POST", "/v1/images/generations", 200, sd)
    assert sd["created"] == other["created"] * 1000
    assert sd["data"][0]["b64_json"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "dall-e-3"}, "prompt"),
        ({"prompt": "  "}, "prompt"),
        ({"prompt": "x", "n": 0}, "n"),
        ({"prompt": "x", "n": "2"}, "n"),
        ({"prompt": "x", "model": "dall-e-3", "n": 2}, "n"),
        ({"prompt": "x", "response_format": "png"}, "response_format"),
        ({"prompt": "x", "output_compression": 101}, "output_compression"),
        ({"prompt": 3}, "prompt"),
    ],
)
async def test_generate_refusals(
    http: aiohttp.ClientSession, openapi_spec: Any, body: dict[str, Any], param: str
) -> None:
    status, answer, _ = await post(http, "/v1/images/generations", json=body)
    assert_openai_400(status, answer, param)


async def test_generate_refuses_a_body_that_is_not_json(
    http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    status, answer, _ = await post(http, "/v1/images/generations", data=b"prompt=x")
    assert_openai_400(status, answer, None)


async def test_slow_prompts_get_interim_102_answers_on_the_wire(emu: Emulator) -> None:
    """What the SDK's 102 test relies on: raw interim answers, then the real one."""
    host, port = emu.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        payload = b'{"prompt": "a slow cat [slow]"}'
        writer.write(
            b"POST /v1/images/generations HTTP/1.1\r\nHost: emu\r\n"
            + f"Authorization: Bearer {emu.api_key}\r\n".encode()
            + b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        raw = await reader.read()  # until the server closes
    finally:
        writer.close()
        await writer.wait_closed()
    processing = b"HTTP/1.1 102 Processing\r\n\r\n"
    assert raw.startswith(processing * 2 + b"HTTP/1.1 200 OK\r\n")
    assert b'"data":[' in raw


async def test_edit_one_image(
    emu: Emulator, http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    fields = (("image", png_file()), ("prompt", "make it red"), ("model", "nano-banana"))
    status, body, _ = await post(http, "/v1/images/edits", data=form(*fields))
    assert status == 200
    validate_response("POST", "/v1/images/edits", 200, body)
    assert body["data"][0]["url"]
    recorded = emu.requests[-1].form()
    assert list(recorded.items()) == list(fields)
    validate_request("POST", "/v1/images/edits", recorded, content_type="multipart/form-data")


@pytest.mark.parametrize("name", ["image", "image[]", "images"])
async def test_edit_reads_every_spelling_of_several_images(
    http: aiohttp.ClientSession, openapi_spec: Any, name: str
) -> None:
    fields = [(name, png_file(f"{i}.png")) for i in range(3)]
    fields += [("prompt", "a collage"), ("model", "gpt-image-1"), ("mask", png_file("m.png"))]
    status, body, _ = await post(http, "/v1/images/edits", data=form(*fields))
    assert status == 200
    validate_response("POST", "/v1/images/edits", 200, body)
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 3 * 65


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ((("prompt", "no image"),), "image"),
        ((("image", png_file()),), "prompt"),
        ((("image", "text, not a file"), ("prompt", "x")), "image"),
        ((("image", FormFile(filename="a.png", content=b"not png")), ("prompt", "x")), "image"),
        ((("image", png_file()), ("prompt", "x"), ("mask", FormFile(filename="m", content=b"x"))),
         "mask"),
        ((("image", png_file()), ("prompt", "x"), ("n", "many")), "n"),
        ((("image", png_file()), ("prompt", "x"), ("input_fidelity", "max")), "input_fidelity"),
        ((*(("image[]", png_file()) for _ in range(17)), ("prompt", "x")), "image"),
    ],
)  # fmt: skip
async def test_edit_refusals(
    http: aiohttp.ClientSession,
    openapi_spec: Any,
    fields: tuple[tuple[str, Any], ...],
    param: str,
) -> None:
    status, body, _ = await post(http, "/v1/images/edits", data=form(*fields))
    assert_openai_400(status, body, param)


async def test_edit_refuses_json(http: aiohttp.ClientSession, openapi_spec: Any) -> None:
    status, body, _ = await post(http, "/v1/images/edits", json={"prompt": "x"})
    assert_openai_400(status, body, None)
    assert "multipart" in body["error"]["message"]


# -- transcriptions and translations ----------------------------------------------------------


async def test_transcription_json(
    emu: Emulator, http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    fields = (("file", audio_file()), ("model", "whisper-1"), ("language", "en"))
    status, body, _ = await post(http, "/v1/audio/transcriptions", data=form(*fields))
    assert status == 200
    validate_response("POST", "/v1/audio/transcriptions", 200, body)
    # Two seconds of MP3 are 84 whole frames (2.016 s), billed as 3 started seconds.
    assert body == {"text": TRANSCRIPT, "usage": {"type": "duration", "seconds": 3}}
    validate_request(
        "POST", "/v1/audio/transcriptions", emu.requests[-1].form(),
        content_type="multipart/form-data",
    )  # fmt: skip


async def test_transcription_verbose_json_words_only_when_asked(
    http: aiohttp.ClientSession, openapi_spec: Any
) -> None:
    base = (("file", audio_file("a.wav", wav_bytes(4.0))), ("model", "whisper-1"))
    verbose = ("response_format", "verbose_json")
    _, plain, _ = await post(http, "/v1/audio/transcriptions", data=form(*base, verbose))
    assert (plain["task"], plain["language"], plain["duration"]) == ("transcribe", "english", 4.0)
    assert "words" not in plain
    assert plain["segments"][-1]["end"] == 4.0
    validate_schema("CreateTranscriptionResponseVerboseJson", plain)
    _, words, _ = await post(
        http,
        "/v1/audio/transcriptions",
        data=form(*base, verbose, ("timestamp_granularities[]", "word")),
    )
    assert "segments" not in words
    assert words["words"][0] == {"word": "Hello", "start": 0.0, "end": pytest.approx(0.364, 0.01)}
    validate_schema("CreateTranscriptionResponseVerboseJson", words)
    _, both, _ = await post(
        http,
        "/v1/audio/transcriptions",
        data=form(
            *base,
            verbose,
            ("language", "de"),
            ("timestamp_granularities[]", "word"),
            ("timestamp_granularities[]", "segment"),
        ),
    )
    assert both["language"] == "de"
    assert both["words"]
    assert both["segments"]


@pytest.mark.parametrize(
    ("response_format", "start"),
    [
        ("text", TRANSCRIPT + "\n"),
        ("srt", "1\n00:00:00,000 --> 00:00:00,"),
        ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:00."),
    ],
)
async def test_transcription_text_formats(
    http: aiohttp.ClientSession, response_format: str, start: str
) -> None:
    fields = (("file", audio_file()), ("model", "whisper-1"), ("response_format", response_format))
    status, body, response = await post(http, "/v1/audio/transcriptions", data=form(*fields))
    assert status == 200
    assert response.content_type == "text/plain"
    assert response.charset == "utf-8"
    assert body.startswith(start)


async def test_translation(http: aiohttp.ClientSession, openapi_spec: Any) -> None:
    base = (("file", audio_file()), ("model", "whisper-1"))
    _, plain, _ = await post(http, "/v1/audio/translations", data=form(*base))
    assert plain == {"text": TRANSLATION}
    validate_response("POST", "/v1/audio/translations", 200, plain)
    _, verbose, _ = await post(
        http, "/v1/audio/translations", data=form(*base, ("response_format", "verbose_json"))
    )
    assert (verbose["task"], verbose["language"]) == ("translate", "english")
    validate_schema("CreateTranslationResponseVerboseJson", verbose)
    status, body, _ = await post(
        http,
        "/v1/audio/translations",
        data=form(*base, ("response_format", "verbose_json"),
                  ("timestamp_granularities[]", "word")),
    )  # fmt: skip
    assert_openai_400(status, body, "timestamp_granularities")


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ((("model", "whisper-1"),), "file"),
        ((("file", "not a file"), ("model", "whisper-1")), "file"),
        ((("file", audio_file("notes.txt")), ("model", "whisper-1")), "file"),
        ((("file", audio_file()),), "model"),
        ((("file", audio_file()), ("model", "w"), ("response_format", "xml")), "response_format"),
        ((("file", audio_file()), ("model", "w"), ("temperature", "hot")), "temperature"),
        ((("file", audio_file()), ("model", "w"), ("temperature", "1.5")), "temperature"),
        ((("file", audio_file()), ("model", "w"), ("timestamp_granularities[]", "word")),
         "timestamp_granularities"),
        ((("file", audio_file()), ("model", "w"), ("response_format", "verbose_json"),
          ("timestamp_granularities[]", "line")), "timestamp_granularities"),
    ],
)  # fmt: skip
async def test_transcription_refusals(
    http: aiohttp.ClientSession,
    openapi_spec: Any,
    fields: tuple[tuple[str, Any], ...],
    param: str,
) -> None:
    status, body, _ = await post(http, "/v1/audio/transcriptions", data=form(*fields))
    assert_openai_400(status, body, param)


# -- speech -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response_format", "content_type"),
    [(None, "audio/mpeg"), ("mp3", "audio/mpeg"), ("wav", "audio/wav"), ("pcm", "audio/pcm")],
)
async def test_speech_answers_real_audio(
    http: aiohttp.ClientSession,
    openapi_spec: Any,
    response_format: str | None,
    content_type: str,
) -> None:
    request: dict[str, Any] = {"model": "tts-1", "input": "Hello, world. " * 3, "voice": "nova"}
    if response_format:
        request["response_format"] = response_format
    validate_request("POST", "/v1/audio/speech", request)
    status, audio, response = await post(http, "/v1/audio/speech", json=request)
    assert status == 200
    assert response.content_type == content_type
    assert int(response.headers["Content-Length"]) == len(audio)
    validate_response(
        "POST", "/v1/audio/speech", 200, audio, content_type="application/octet-stream"
    )
    seconds = speech_seconds(request["input"])
    if content_type == "audio/mpeg":
        assert audio == mp3_bytes(seconds)
        assert audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0
    elif content_type == "audio/wav":
        with wave.open(io.BytesIO(audio)) as wav:
            assert wav.getnframes() / wav.getframerate() == pytest.approx(seconds)
    else:
        assert len(audio) == 2 * round(seconds * PCM_SAMPLE_RATE)


async def test_speech_speed_shortens_the_audio(http: aiohttp.ClientSession) -> None:
    text = "word " * 60
    _, normal, _ = await post(
        http, "/v1/audio/speech", json={"model": "tts-1", "input": text, "voice": "alloy"}
    )
    _, fast, _ = await post(
        http,
        "/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": "alloy", "speed": 2.0},
    )
    assert len(fast) == pytest.approx(len(normal) / 2, rel=0.05)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "voice": "alloy"}, "model"),
        ({"model": "tts-1", "voice": "alloy"}, "input"),
        ({"model": "tts-1", "input": "x" * 4097, "voice": "alloy"}, "input"),
        ({"model": "tts-1", "input": "x"}, "voice"),
        ({"model": "tts-1", "input": "x", "voice": 7}, "voice"),
        ({"model": "m", "input": "x", "voice": "a", "response_format": "ogg"}, "response_format"),
        ({"model": "m", "input": "x", "voice": "a", "response_format": "opus"}, "response_format"),
        ({"model": "tts-1", "input": "x", "voice": "a", "speed": 5}, "speed"),
        ({"model": "tts-1", "input": "x", "voice": "a", "stream_format": "sse"}, "stream_format"),
    ],
)  # fmt: skip
async def test_speech_refusals(
    http: aiohttp.ClientSession, openapi_spec: Any, body: dict[str, Any], param: str
) -> None:
    status, answer, _ = await post(http, "/v1/audio/speech", json=body)
    assert_openai_400(status, answer, param)


# -- common -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/images/generations",
        "/v1/images/edits",
        "/v1/audio/transcriptions",
        "/v1/audio/translations",
        "/v1/audio/speech",
    ],
)
async def test_every_media_route_needs_the_key(emu: Emulator, path: str) -> None:
    async with aiohttp.ClientSession(emu.base_url) as anon:
        status, body, _ = await post(anon, path, json={"prompt": "x"})
    assert status == 401
    assert emu.requests[-1].route is not None
    assert "error" in body


async def test_routes_are_named_for_counting_and_faults(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.fail("images.generate", status=503)
    status, _, _ = await post(http, "/v1/images/generations", json={"prompt": "x"})
    assert status == 503
    await post(http, "/v1/audio/speech", json={"model": "m", "input": "x", "voice": "v"})
    assert [r.route for r in emu.requests] == ["images.generate", "audio.speech"]
    assert emu.count("images.generate") == emu.count("/v1/images/generations") == 1


async def test_recorded_form_keeps_order_repeats_and_exact_bytes(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    binary = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    await post(
        http,
        "/v1/images/edits",
        data=form(
            ("image[]", FormFile(filename="raw.png", content=b"\x89PNG\r\n\x1a\n" + binary)),
            ("image[]", png_file("second.png")),
            ("prompt", "héllo\r\nwörld"),
        ),
    )
    recorded = emu.requests[-1].form()
    first, second = recorded.getall("image[]")
    assert first == FormFile(
        filename="raw.png",
        content=b"\x89PNG\r\n\x1a\n" + binary,
        content_type="application/octet-stream",
    )
    assert second.filename == "second.png"
    assert recorded["prompt"] == "héllo\r\nwörld"
    await post(http, "/v1/images/generations", json={"prompt": "x"})
    with pytest.raises(ValueError, match="multipart"):
        emu.requests[-1].form()


def test_parse_form_rejects_broken_bodies() -> None:
    with pytest.raises(ValueError, match="boundary"):
        parse_form(b"", "multipart/form-data")
    with pytest.raises(ValueError, match="incomplete"):
        parse_form(
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
            "multipart/form-data; boundary=b",
        )
    with pytest.raises(ValueError, match="no name"):
        parse_form(
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        )
    assert list(parse_form(b"--b--\r\n", 'multipart/form-data; boundary="b"').items()) == []
