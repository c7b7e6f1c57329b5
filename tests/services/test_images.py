"""``client.images``: exactly what is sent (JSON and multipart), how answers read, ``save``,
interim ``102 Processing`` answers, and the billable-call rules.

Every request is checked on the emulator's log against OpenAI's OpenAPI description, and every
answer the emulator gave is checked against it too.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openapi_conformance as oc
import pytest
from openapi_conformance import validate_request, validate_response

from api4gpt_async import (
    AsyncAPI4GPT,
    BadRequestError,
    FormFile,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async.models.images import ImagesResponse
from api4gpt_async.testing import Emulator, RecordedRequest
from api4gpt_async.testing._media import png_bytes

pytestmark = pytest.mark.anyio
openapi_spec = oc.openapi_spec  # fixture: skips a test when the description is absent

GENERATE = "/v1/images/generations"
EDIT = "/v1/images/edits"
PNG = png_bytes(16, 16)
SERVED_PNG = png_bytes(64, 36)  # what the emulator's files route serves for any .png


def _last(emulator: Emulator, route: str) -> RecordedRequest:
    return [r for r in emulator.requests if r.route == route][-1]


def _check_answer(path: str, answer: ImagesResponse) -> None:
    """The answer as the emulator sent it conforms to OpenAI's description."""
    validate_response("POST", path, 200, dict(answer.raw))


# -- generate ---------------------------------------------------------------------------------


async def test_generate_sends_only_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    answer = await client.images.generate("a lighthouse at dawn")
    request = _last(emulator, "images.generate")
    assert request.method == "POST"
    assert request.json == {"prompt": "a lighthouse at dawn"}
    assert request.headers["Content-Type"] == "application/json"
    validate_request("POST", GENERATE, request.json)
    _check_answer(GENERATE, answer)
    assert answer.request_id  # the gateway's X-Oneapi-Request-Id


async def test_generate_gpt_image_with_every_option(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    answer = await client.images.generate(
        "a glass teapot",
        model="gpt-image-1",
        n=2,
        size="1536x1024",
        quality="high",
        background="transparent",
        moderation="low",
        output_format="webp",
        output_compression=80,
        user="user-42",
        extra_headers={"X-Trace": "t-1"},
    )
    request = _last(emulator, "images.generate")
    assert request.json == {
        "prompt": "a glass teapot",
        "model": "gpt-image-1",
        "n": 2,
        "size": "1536x1024",
        "quality": "high",
        "background": "transparent",
        "moderation": "low",
        "output_format": "webp",
        "output_compression": 80,
        "user": "user-42",
    }
    assert request.headers["X-Trace"] == "t-1"
    validate_request("POST", GENERATE, request.json)
    _check_answer(GENERATE, answer)
    assert len(answer.data) == 2
    assert all(image.url and image.b64_json is None for image in answer.data)
    assert answer.usage is not None
    assert answer.usage.output_tokens == 2112
    assert (answer.size, answer.quality, answer.background, answer.output_format) == (
        "1536x1024",
        "high",
        "transparent",
        "webp",
    )
    assert answer.request_id


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [
        (
            {"model": "dall-e-3", "size": "1792x1024", "quality": "hd", "style": "natural"},
            {"model": "dall-e-3", "size": "1792x1024", "quality": "hd", "style": "natural"},
        ),
        ({"model": "flux-dev", "size": "1024x768"}, {"model": "flux-dev", "size": "1024x768"}),
        (
            {"model": "flux-kontext-pro", "n": 1, "aspect_ratio": "16:9"},
            {"model": "flux-kontext-pro", "n": 1, "aspect_ratio": "16:9"},
        ),
        ({"model": "seedream-4", "size": "1024x819"}, {"model": "seedream-4", "size": "1024x819"}),
        ({"model": "nano-banana", "size": "1:1"}, {"model": "nano-banana", "size": "1:1"}),
    ],
    ids=["dall-e-3", "flux", "flux-kontext", "seedream", "nano-banana"],
)
async def test_generate_for_each_model_family(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    openapi_spec: Any,
    kwargs: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    answer = await client.images.generate("a red fox", **kwargs)
    request = _last(emulator, "images.generate")
    assert request.json == {"prompt": "a red fox", **sent}
    validate_request("POST", GENERATE, request.json)
    _check_answer(GENERATE, answer)
    (image,) = answer.data
    assert image.url is not None
    assert image.url.startswith(emulator.base_url + "/files/")
    assert image.b64_json is None  # the gateway's "" reads as absent
    if kwargs["model"] == "dall-e-3":
        assert image.revised_prompt == "a red fox, in vivid detail"
    else:
        assert image.revised_prompt is None
    assert answer.usage is None


async def test_stable_diffusion_via_extra_body_answers_b64_in_milliseconds(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    answer = await client.images.generate(
        "a castle",
        model="stable-diffusion-3.5-large-turbo",
        size="1024x1024",
        extra_body={"num_inference_steps": 5, "guidance_scale": 2, "negative_prompt": "fog"},
    )
    request = _last(emulator, "images.generate")
    assert request.json == {
        "prompt": "a castle",
        "model": "stable-diffusion-3.5-large-turbo",
        "size": "1024x1024",
        "num_inference_steps": 5,
        "guidance_scale": 2,
        "negative_prompt": "fog",
    }
    _check_answer(GENERATE, answer)
    assert answer.raw["created"] > 10**12  # milliseconds on the wire...
    seconds = await client.images.generate("a castle", model="dall-e-3")
    assert seconds.raw["created"] < 10**11
    assert answer.created == seconds.created  # ...the same instant once read
    assert answer.created == dt.datetime(2024, 7, 5, 14, 28, 26, tzinfo=dt.timezone.utc)
    (image,) = answer.data
    assert image.url is None
    data = image.decode()
    assert data is not None
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_b64_json_answer_saves_the_decoded_png(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    answer = await client.images.generate("a cat", model="dall-e-3", response_format="b64_json")
    assert _last(emulator, "images.generate").json["response_format"] == "b64_json"
    _check_answer(GENERATE, answer)
    (image,) = answer.data
    assert image.url is None
    assert image.b64_json
    path = await image.save(tmp_path / "cat.png")
    assert path.read_bytes() == base64.b64decode(image.b64_json)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert emulator.count("files") == 0  # nothing was downloaded


async def test_url_answer_saves_by_streamed_download(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    answer = await client.images.generate("a cat", n=2)
    first, second = answer.data
    path = await first.save(tmp_path / "sub" / "cat.png")
    assert path == tmp_path / "sub" / "cat.png"
    assert path.read_bytes() == SERVED_PNG
    in_folder = await second.save(tmp_path)
    assert second.url is not None
    assert in_folder == tmp_path / second.url.rsplit("/", 1)[1]
    assert in_folder.read_bytes() == SERVED_PNG
    assert emulator.count("files") == 2
    assert not list(tmp_path.rglob("*.part"))
    download = _last(emulator, "files")
    assert download.headers["Authorization"].startswith("Bearer ")  # own host: key sent


async def test_saving_from_another_host_never_sends_the_key(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    async with Emulator() as cdn:
        emulator.fail(
            "images.generate",
            status=200,
            body={"created": 1, "data": [{"url": cdn.file_url("elsewhere.png"), "b64_json": ""}]},
        )
        answer = await client.images.generate("a cat")
        path = await answer.data[0].save(tmp_path)
        (request,) = cdn.requests
    assert path == tmp_path / "elsewhere.png"
    assert path.read_bytes() == SERVED_PNG
    assert "Authorization" not in request.headers


async def test_interim_102_processing_answers_are_skipped(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any
) -> None:
    # "[slow]" makes the emulator write two raw "HTTP/1.1 102 Processing" answers first
    # (tests/testing/test_emulator_openai_media.py shows them on the wire).
    answer = await client.images.generate("a slow cat [slow]", model="gpt-image-1")
    assert len(answer.data) == 1
    _check_answer(GENERATE, answer)
    edit = await client.images.edit(PNG, "slower [slow]")
    assert len(edit.data) == 1
    assert emulator.count("images.generate") == 1
    assert emulator.count("images.edit") == 1
    # The connection stays usable after interim answers.
    assert len((await client.images.generate("next")).data) == 1


# -- billable rules ---------------------------------------------------------------------------


async def test_a_5xx_is_not_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("images.generate", status=500, times=3)
    with pytest.raises(ServerError) as info:
        await client.images.generate("a cat")
    assert info.value.status == 500
    assert emulator.count("images.generate") == 1


async def test_a_dropped_connection_is_uncertain_and_not_resent(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("images.generate", drop=True, times=3)
    with pytest.raises(SubmissionUncertainError):
        await client.images.generate("a cat")
    assert emulator.count("images.generate") == 1
    emulator.fail("images.edit", drop=True, times=3)
    with pytest.raises(SubmissionUncertainError):
        await client.images.edit(PNG, "a cat")
    assert emulator.count("images.edit") == 1


async def test_a_rate_limit_is_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.rate_limit("images.edit", retry_after=0)
    answer = await client.images.edit(PNG, "a cat")
    assert len(answer.data) == 1
    assert emulator.count("images.edit") == 2
    # The retried form is complete: same fields, same file.
    first, second = [r for r in emulator.requests if r.route == "images.edit"]
    assert first.form() == second.form()


async def test_a_bad_request_raises_with_the_param(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.images.generate("a cat", model="dall-e-3", n=2)
    assert info.value.status == 400
    assert info.value.code == "invalid_value"
    assert "n=1" in str(info.value)
    assert info.value.request_id


# -- edit -------------------------------------------------------------------------------------


async def test_edit_one_image_as_multipart(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(PNG)
    answer = await client.images.edit(
        source, "make the sky purple", model="nano-banana", n=1, size="1:1"
    )
    request = _last(emulator, "images.edit")
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    form = request.form()
    assert list(form.keys()) == ["image", "prompt", "model", "n", "size"]
    assert form["image"] == FormFile(filename="photo.png", content=PNG, content_type="image/png")
    assert (form["prompt"], form["model"], form["n"], form["size"]) == (
        "make the sky purple",
        "nano-banana",
        "1",
        "1:1",
    )
    validate_request("POST", EDIT, form, content_type="multipart/form-data")
    _check_answer(EDIT, answer)
    assert answer.data[0].url


async def test_edit_several_images_and_a_mask(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: Any, tmp_path: Path
) -> None:
    (tmp_path / "b.png").write_bytes(png_bytes(4, 4))
    mask = png_bytes(16, 16, color=(0, 0, 0))
    answer = await client.images.edit(
        [PNG, tmp_path / "b.png", ("c.webp", io.BytesIO(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp")],
        "put them in a gift basket",
        mask=("mask.png", mask),
        model="gpt-image-1",
        quality="high",
        background="opaque",
        input_fidelity="high",
        output_format="png",
        output_compression=90,
        response_format="b64_json",
        user="u-1",
    )
    form = _last(emulator, "images.edit").form()
    images = form.getall("image[]")
    assert "image" not in form
    assert [(i.filename, i.content_type) for i in images] == [
        ("image-0.png", "image/png"),
        ("b.png", "image/png"),
        ("c.webp", "image/webp"),
    ]
    assert images[0].content == PNG
    assert images[1].content == png_bytes(4, 4)
    assert form["mask"] == FormFile(filename="mask.png", content=mask, content_type="image/png")
    assert {k: v for k, v in form.items() if isinstance(v, str)} == {
        "prompt": "put them in a gift basket",
        "model": "gpt-image-1",
        "quality": "high",
        "background": "opaque",
        "input_fidelity": "high",
        "output_format": "png",
        "output_compression": "90",
        "response_format": "b64_json",
        "user": "u-1",
    }
    validate_request("POST", EDIT, form, content_type="multipart/form-data")
    _check_answer(EDIT, answer)
    assert answer.usage is not None
    assert answer.usage.input_tokens_details is not None
    assert answer.usage.input_tokens_details.image_tokens == 3 * 65  # the emulator saw 3 images
    assert answer.data[0].decode() is not None


async def test_edit_kontext_with_aspect_ratio_and_extra_fields(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    await client.images.edit(
        [PNG],  # a list of one is sent as the plain "image" part
        "change the shirt to red",
        model="flux-kontext-max",
        aspect_ratio="16:9",
        extra_body={"seed": 7, "safety_tolerance": 2, "raw": True},
    )
    form = _last(emulator, "images.edit").form()
    assert [k for k in form if k.startswith("image")] == ["image"]
    assert (form["aspect_ratio"], form["seed"], form["safety_tolerance"], form["raw"]) == (
        "16:9",
        "7",
        "2",
        "true",
    )


async def test_edit_with_no_image_fails_before_sending(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="at least one"):
        await client.images.edit([], "anything")
    assert emulator.count("images.edit") == 0


async def test_edit_of_a_non_image_is_refused_by_the_server(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(BadRequestError, match="Invalid image file"):
        await client.images.edit(("notes.txt", b"not an image"), "anything")
