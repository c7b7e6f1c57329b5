"""Image answers decode from every shape the gateway sends; ``save`` writes them safely."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import pickle
import threading
from pathlib import Path

import attrs
import pytest

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.images import Image, ImagesResponse
from api4gpt_async.testing._media import png_bytes

PNG = png_bytes(8, 8)
B64 = base64.b64encode(PNG).decode()

#: new-api's shape: every key present, the unused ones as "" (url mode, DALL·E 3).
GATEWAY_URL_ANSWER = {
    "created": 1731000000,
    "data": [
        {
            "url": "https://cdn.example/img/abc.png",
            "b64_json": "",
            "revised_prompt": "A cat, photographed at dusk",
        }
    ],
}

#: OpenAI's gpt-image shape: inline data, usage and the echoed settings.
GPT_IMAGE_ANSWER = {
    "created": 1713833628,
    "data": [{"b64_json": B64}],
    "background": "transparent",
    "output_format": "png",
    "size": "1024x1024",
    "quality": "high",
    "usage": {
        "total_tokens": 100,
        "input_tokens": 50,
        "output_tokens": 50,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
    },
}


def test_gateway_url_answer() -> None:
    answer = structure(GATEWAY_URL_ANSWER, ImagesResponse, request_id="rid-9")
    assert answer.created == dt.datetime(2024, 11, 7, 17, 20, tzinfo=dt.timezone.utc)
    (image,) = answer.data
    assert image.url == "https://cdn.example/img/abc.png"
    assert image.b64_json is None  # "" reads as absent
    assert image.decode() is None
    assert image.revised_prompt == "A cat, photographed at dusk"
    assert answer.usage is None
    assert answer.request_id == "rid-9"
    assert answer.raw == GATEWAY_URL_ANSWER


def test_gpt_image_answer() -> None:
    answer = structure(GPT_IMAGE_ANSWER, ImagesResponse)
    assert answer.data[0].url is None
    assert answer.data[0].decode() == PNG
    assert (answer.background, answer.output_format, answer.size, answer.quality) == (
        "transparent",
        "png",
        "1024x1024",
        "high",
    )
    usage = answer.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (50, 50, 100)
    assert usage.input_tokens_details is not None
    assert usage.input_tokens_details.image_tokens == 40


def test_created_in_milliseconds_is_the_same_instant() -> None:
    seconds = structure({"created": 1731000000, "data": []}, ImagesResponse)
    millis = structure({"created": 1731000000000, "data": []}, ImagesResponse)
    assert seconds.created == millis.created
    assert millis.created is not None
    assert millis.created.year == 2024


def test_lenient_about_absent_and_empty() -> None:
    answer = structure(
        {"data": [{"url": "", "b64_json": "", "revised_prompt": ""}]}, ImagesResponse
    )
    assert answer.created is None
    assert answer.data == [Image()]
    assert structure({"created": 1}, ImagesResponse).data == []
    extra = structure({"created": 1, "data": [{"url": "u", "seed": 7}], "x": 1}, ImagesResponse)
    assert extra.data[0].raw["seed"] == 7
    assert extra.raw["x"] == 1


def test_wrong_shapes_raise_decode_errors() -> None:
    with pytest.raises(ResponseDecodeError, match="ImagesResponse"):
        structure({"created": 1, "data": "not a list"}, ImagesResponse)
    with pytest.raises(ResponseDecodeError):
        structure(["not", "an", "object"], ImagesResponse)


def test_decode_accepts_a_data_url_and_rejects_garbage() -> None:
    assert Image(b64_json=f"data:image/png;base64,{B64}").decode() == PNG
    with pytest.raises(ValueError, match="base64"):
        Image(b64_json="@@@ not base64").decode()


def test_the_bound_downloader_is_invisible() -> None:
    image = structure({"url": "https://x/a.png"}, Image)
    object.__setattr__(image, "_downloader", lambda *a: None)
    assert image == Image(url="https://x/a.png")
    assert "downloader" not in repr(image)
    assert attrs.evolve(image, revised_prompt="p")._downloader is None  # a copy is unbound


def test_pickles_and_deep_copies_drop_the_binding() -> None:
    answer = structure(GATEWAY_URL_ANSWER, ImagesResponse, request_id="r")
    object.__setattr__(answer.data[0], "_downloader", threading.Lock())  # not picklable
    for copied in (pickle.loads(pickle.dumps(answer)), copy.deepcopy(answer)):
        assert copied == answer
        assert copied.data[0].raw == GATEWAY_URL_ANSWER["data"][0]  # type: ignore[index]
        assert copied.data[0]._downloader is None


@pytest.mark.anyio
async def test_save_b64_to_a_file_and_into_a_folder(tmp_path: Path) -> None:
    image = Image(b64_json=B64)
    path = await image.save(tmp_path / "deep" / "out.png")
    assert path == tmp_path / "deep" / "out.png"
    assert path.read_bytes() == PNG
    named = await image.save(tmp_path)
    assert named.parent == tmp_path
    assert named.name.startswith("image-")
    assert named.suffix == ".png"
    assert named.read_bytes() == PNG
    assert await image.save(tmp_path) == named  # same content, same name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["deep", named.name])


@pytest.mark.anyio
async def test_save_names_inline_jpeg_by_its_content(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(32)
    path = await Image(b64_json=base64.b64encode(jpeg).decode()).save(tmp_path)
    assert path.suffix == ".jpg"


@pytest.mark.anyio
async def test_save_of_an_unbound_url_image_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"client\.download"):
        await Image(url="https://cdn.example/a.png").save(tmp_path)
    with pytest.raises(ValueError, match="neither"):
        await Image(revised_prompt="only words").save(tmp_path)
    assert list(tmp_path.iterdir()) == []
