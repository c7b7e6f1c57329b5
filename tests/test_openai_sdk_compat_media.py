"""openai-python, pointed at the emulator, can use its image and audio endpoints.

This keeps the emulator honest (the reference client reads its answers) and shows that code
written for openai-python works against API4GPT by changing the base URL only. It also pins
where our SDK and openai-python send the same request.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from api4gpt_async import AsyncAPI4GPT, FormFile
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp3_bytes, png_bytes
from api4gpt_async.testing._openai_media import TRANSCRIPT

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.anyio

PNG = png_bytes(16, 16)


@pytest.fixture
async def oai(emulator: Emulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url + "/v1", max_retries=0
    ) as client:
        yield client


async def test_images_generate_url_and_b64(oai: openai.AsyncOpenAI, emulator: Emulator) -> None:
    answer = await oai.images.generate(prompt="a lighthouse", model="dall-e-3", size="1024x1024")
    assert answer.data is not None
    (image,) = answer.data
    assert image.url is not None
    assert image.url.startswith(emulator.file_url("img-"))
    assert image.revised_prompt == "a lighthouse, in vivid detail"
    assert isinstance(answer.created, int)
    inline = await oai.images.generate(
        prompt="a lighthouse", model="gpt-image-1", response_format="b64_json"
    )
    assert inline.data is not None
    assert inline.data[0].b64_json
    assert inline.usage is not None
    assert inline.usage.output_tokens == 1056


async def test_images_edit_sends_what_we_send(
    oai: openai.AsyncOpenAI, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    images = [("a.png", PNG), ("b.png", PNG)]
    theirs = await oai.images.edit(
        image=images, mask=("mask.png", PNG), prompt="combine", model="gpt-image-1"
    )
    ours = await client.images.edit(images, "combine", mask=("mask.png", PNG), model="gpt-image-1")
    assert theirs.data is not None
    assert len(theirs.data) == len(ours.data) == 1
    their_form, our_form = (r.form() for r in emulator.requests if r.route == "images.edit")

    def files(form: object) -> list[tuple[str, str, bytes]]:
        return sorted(
            (name, part.filename, part.content)
            for name, part in form.items()  # type: ignore[attr-defined]
            if isinstance(part, FormFile)
        )

    # Both send several images as repeated "image[]" parts, and the mask as "mask".
    assert files(their_form) == files(our_form)
    assert [name for name, _, _ in files(our_form)] == ["image[]", "image[]", "mask"]


async def test_audio_speech_and_transcriptions(oai: openai.AsyncOpenAI) -> None:
    speech = await oai.audio.speech.create(model="tts-1", input="Hello there.", voice="alloy")
    audio = speech.content
    assert audio[:2] == b"\xff\xfb"
    transcript = await oai.audio.transcriptions.create(
        file=("speech.mp3", io.BytesIO(audio)), model="whisper-1"
    )
    assert transcript.text == TRANSCRIPT
    verbose = await oai.audio.transcriptions.create(
        file=("speech.mp3", mp3_bytes(1.0)),
        model="whisper-1",
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert verbose.words is not None
    assert verbose.words[0].word == "Hello"
    text = await oai.audio.transcriptions.create(
        file=("speech.mp3", audio), model="whisper-1", response_format="text"
    )
    assert text.strip() == TRANSCRIPT
    # (openai-python 3.x marks audio.translations deprecated, so it is not called here.)


async def test_speech_bytes_match_ours(
    oai: openai.AsyncOpenAI, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    theirs = await oai.audio.speech.create(model="tts-1", input="Same words.", voice="echo")
    ours = await client.audio.speech.create(model="tts-1", input="Same words.", voice="echo")
    assert theirs.content == ours.content
    their_body, our_body = (r.json for r in emulator.requests if r.route == "audio.speech")
    assert their_body == our_body
