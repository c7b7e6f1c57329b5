"""The emulator's Zhipu CogVideoX routes, at every path prefix, over raw HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._zhipu import FAILURE, PREFIXES

from ._wire import call

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_every_prefix_runs_a_job_to_its_video(
    emu: Emulator, http: aiohttp.ClientSession, prefix: str
) -> None:
    body = {"model": "cogvideox", "prompt": "a lighthouse at dusk", "request_id": "mine-1"}
    status, submitted, _ = await call(http, "POST", f"{prefix}/videos/generations", json=body)
    assert status == 200
    assert submitted["task_status"] == "PROCESSING" and submitted["request_id"] == "mine-1"
    assert submitted["id"].isdigit() and len(submitted["id"]) == 19
    assert "code" not in submitted  # Zhipu's own shape, no envelope
    result_path = f"{prefix}/async-result/{submitted['id']}"
    _, result, _ = await call(http, "GET", result_path)
    assert result["task_status"] == "PROCESSING" and "video_result" not in result
    emu.advance(emu.duration("zhipu_video"))
    _, result, _ = await call(http, "GET", result_path)
    assert result["task_status"] == "SUCCESS" and result["model"] == "cogvideox"
    (video,) = result["video_result"]
    assert video["url"] == emu.file_url(f"{submitted['id']}.mp4")
    assert video["cover_image_url"] == emu.file_url(f"{submitted['id']}-cover.jpeg")


async def test_a_failed_job_is_a_200_with_an_error_object(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    body = {"model": "cogvideox-2", "prompt": "this should [fail]"}
    _, submitted, _ = await call(http, "POST", "/cogvideox/v4/videos/generations", json=body)
    emu.advance(emu.duration("zhipu_video"))
    status, result, _ = await call(http, "GET", f"/cogvideox/v4/async-result/{submitted['id']}")
    assert status == 200
    assert result["task_status"] == "FAIL" and result["error"] == FAILURE


async def test_only_the_id_finds_a_job(http: aiohttp.ClientSession) -> None:
    body = {"model": "cogvideox", "prompt": "x", "request_id": "my-request"}
    await call(http, "POST", "/cogvideox/v4/videos/generations", json=body)
    status, answer, _ = await call(http, "GET", "/cogvideox/v4/async-result/my-request")
    assert (status, answer["code"]) == (400, "task_not_exist")


async def test_image_to_video_accepts_url_and_base64(http: aiohttp.ClientSession) -> None:
    for image in ("https://cdn.example/first.png", "data:image/png;base64,iVBORw0KGgo=", "A" * 40):
        body = {"model": "cogvideox", "image_url": image}
        status, _, _ = await call(http, "POST", "/cogvideox/v4/videos/generations", json=body)
        assert status == 200


async def test_every_documented_field_is_accepted(http: aiohttp.ClientSession) -> None:
    body = {
        "model": "cogvideox-3",
        "prompt": "waves",
        "quality": "quality",
        "with_audio": True,
        "size": "1920x1080",
        "fps": 60,
        "duration": 10,
        "request_id": "r",
        "user_id": "u",
    }
    status, _, _ = await call(http, "POST", "/cogvideox/v4/videos/generations", json=body)
    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "no model"},
        {"model": "sora", "prompt": "x"},
        {"model": "cogvideox"},
        {"model": "cogvideox", "image_url": "not an image"},
        {"model": "cogvideox", "prompt": "x", "quality": "best"},
        {"model": "cogvideox", "prompt": "x", "fps": 24},
        {"model": "cogvideox", "prompt": "x", "duration": 7},
        {"model": "cogvideox", "prompt": "x", "size": "big"},
        {"model": "cogvideox", "prompt": "x", "with_audio": "yes"},
    ],
)
async def test_generate_validates(http: aiohttp.ClientSession, body: Any) -> None:
    status, answer, _ = await call(http, "POST", "/cogvideox/v4/videos/generations", json=body)
    assert (status, answer["code"]) == (400, "invalid_request")


async def test_each_prefix_is_its_own_route(emu: Emulator, http: aiohttp.ClientSession) -> None:
    body = {"model": "cogvideox", "prompt": "x"}
    for prefix in PREFIXES:
        await call(http, "POST", f"{prefix}/videos/generations", json=body)
    assert emu.count("zhipu_video.generate") == 1
    assert [emu.count(f"zhipu_video.generate.alt{n}") for n in (1, 2, 3)] == [1, 1, 1]
