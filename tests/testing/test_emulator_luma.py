"""The Luma emulator module: both flavours' routes, lifecycle, validation and lookups."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._jobs import lifecycle
from api4gpt_async.testing._media import mp4_bytes

from ._wire import call


@pytest.mark.anyio
async def test_lumvip_wraps_answers_and_luma_does_not(http: aiohttp.ClientSession) -> None:
    status, wrapped, _ = await call(
        http, "POST", "/luma/generations", json={"user_prompt": "a boat", "aspect_ratio": "9:16"}
    )
    assert status == 200
    assert wrapped["code"] == "success"
    assert wrapped["message"] == ""
    generation = wrapped["data"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", generation["id"]
    )
    assert generation == {
        "id": generation["id"],
        "prompt": "a boat",
        "state": "pending",
        "created_at": "2024-07-05T14:28:26.000000Z",
        "video": None,
        "liked": None,
        "estimate_wait_seconds": 12,
        "aspect_ratio": "9:16",
        "failure_reason": None,
    }

    status, raw, _ = await call(http, "POST", "/luma/v1/generations", json={"user_prompt": "b"})
    assert status == 200
    assert "code" not in raw
    assert raw["prompt"] == "b"
    assert raw["state"] == "pending"
    assert raw["aspect_ratio"] == "16:9"
    assert raw["thumbnail"] is None
    assert raw["id"] != generation["id"]


@pytest.mark.parametrize(
    ("elapsed", "duration", "expected"),
    [
        (0.0, 12.0, ("pending", 12)),
        (1.999, 12.0, ("pending", 11)),
        (2.0, 12.0, ("running", 10)),
        (0.1 + 0.2 + 11.4, 12.0, ("running", 1)),  # float noise does not add a second
        (11.9999999999, 12.0, ("running", 1)),
        (12.0, 12.0, ("done", None)),
        (99.0, 12.0, ("done", None)),
        (0.0, 0.0, ("done", None)),  # luma_duration=0: done at once
        (1.0, 1.5, ("pending", 1)),
    ],
)
def test_lifecycle_timing(
    elapsed: float, duration: float, expected: tuple[str, int | None]
) -> None:
    assert lifecycle(elapsed, duration) == expected


async def _state(http: aiohttp.ClientSession, path: str, gid: str) -> dict[str, Any]:
    status, body, _ = await call(http, "GET", path, params={"id": gid})
    assert status == 200
    return body["data"] if "code" in body else body  # type: ignore[no-any-return]


@pytest.mark.anyio
async def test_lumvip_lifecycle_follows_the_clock(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    _, created, _ = await call(http, "POST", "/luma/generations", json={"user_prompt": "x"})
    gid = created["data"]["id"]

    now = await _state(http, "/luma/task", gid)
    assert (now["state"], now["estimate_wait_seconds"], now["video"]) == ("pending", 12, None)
    emu.advance(1.9)
    assert (await _state(http, "/luma/task", gid))["state"] == "pending"
    emu.advance(0.1)
    now = await _state(http, "/luma/task", gid)
    assert (now["state"], now["estimate_wait_seconds"]) == ("processing", 10)
    emu.advance(9.5)
    now = await _state(http, "/luma/task", gid)
    assert (now["state"], now["estimate_wait_seconds"]) == ("processing", 1)
    emu.advance(0.5)
    now = await _state(http, "/luma/task", gid)
    assert now["state"] == "completed"
    assert now["estimate_wait_seconds"] is None
    assert now["failure_reason"] is None
    assert now["video"] == {
        "url": f"{emu.base_url}/files/{gid}.mp4",
        "width": 1360,
        "height": 752,
        "thumbnail": None,
    }
    assert "thumbnail" not in now  # only the raw luma flavour adds it


@pytest.mark.anyio
async def test_luma_lifecycle_says_dreaming_and_adds_raw_fields(
    emu: Emulator, http: aiohttp.ClientSession, anon: aiohttp.ClientSession
) -> None:
    _, created, _ = await call(http, "POST", "/luma/v1/generations", json={"user_prompt": "x"})
    gid = created["id"]
    emu.advance(5)
    assert (await _state(http, "/luma/v1/task", gid))["state"] == "dreaming"
    emu.advance(7)
    done = await _state(http, "/luma/v1/task", gid)
    video_url = f"{emu.base_url}/files/{gid}.mp4"
    assert done["state"] == "completed"
    assert done["video"]["url"] == video_url
    assert done["video"]["download_url"] == video_url
    assert done["thumbnail"] == {
        "url": f"{emu.base_url}/files/{gid}.jpg",
        "width": 1360,
        "height": 752,
    }
    status, data, response = await call(anon, "GET", done["video"]["url"])
    assert status == 200
    assert response.content_type == "video/mp4"
    assert data == mp4_bytes()


@pytest.mark.anyio
async def test_luma_duration_sets_the_time_to_completion(http: aiohttp.ClientSession) -> None:
    async with (
        Emulator(time_scale=0, luma_duration=30) as emu,
        aiohttp.ClientSession(emu.base_url, headers={"Authorization": "Bearer sk-emulator"}) as s,
    ):
        _, created, _ = await call(s, "POST", "/luma/generations", json={"user_prompt": "x"})
        assert created["data"]["estimate_wait_seconds"] == 30
        emu.advance(29.9)
        assert (await _state(s, "/luma/task", created["data"]["id"]))["state"] == "processing"
        emu.advance(0.1)
        assert (await _state(s, "/luma/task", created["data"]["id"]))["state"] == "completed"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "options",
    [
        {"durations": {"luma": 30}},
        {"luma_duration": 30},
        {"durations": {"luma": 5}, "luma_duration": 30},
    ],
)
async def test_durations_luma_times_both_flavours(options: dict[str, Any]) -> None:
    async with (
        Emulator(time_scale=0, **options) as emu,
        aiohttp.ClientSession(emu.base_url, headers={"Authorization": "Bearer sk-emulator"}) as s,
    ):
        assert emu.luma_duration == emu.durations["luma"] == 30
        ids = []
        for path in ("/luma/generations", "/luma/v1/generations"):
            _, created, _ = await call(s, "POST", path, json={"user_prompt": "x"})
            ids.append(created["data"]["id"] if "data" in created else created["id"])
        emu.advance(29.9)
        assert (await _state(s, "/luma/v1/task", ids[1]))["state"] == "dreaming"
        emu.luma_duration = 29  # the alias changes the duration while jobs run
        assert emu.durations["luma"] == 29
        assert (await _state(s, "/luma/task", ids[0]))["state"] == "completed"
        assert (await _state(s, "/luma/v1/task", ids[1]))["state"] == "completed"


def test_other_families_take_the_default_duration() -> None:
    emu = Emulator(durations={"suno": 40})
    assert (emu.duration("suno"), emu.duration("luma"), emu.duration("zhipu")) == (40, 12, 12)
    with pytest.raises(ValueError, match="durations\\['suno'\\]"):
        Emulator(durations={"suno": -1})


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "task"),
    [("/luma/generations", "/luma/task"), ("/luma/v1/generations", "/luma/v1/task")],
)
async def test_a_fail_prompt_ends_failed(
    emu: Emulator, http: aiohttp.ClientSession, path: str, task: str
) -> None:
    _, created, _ = await call(http, "POST", path, json={"user_prompt": "Please [fail] this one"})
    gid = created["data"]["id"] if "data" in created else created["id"]
    emu.advance(12)
    now = await _state(http, task, gid)
    assert now["state"] == "failed"
    assert now["failure_reason"] == "emulated failure: prompt asked for it"
    assert now["video"] is None
    assert now["estimate_wait_seconds"] is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "user_prompt is required"),
        ({"user_prompt": "  "}, "user_prompt must not be empty"),
        ({"user_prompt": 3}, "user_prompt must be a string"),
        ({"user_prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio must be one of 16:9, 9:16"),
        ({"user_prompt": "x", "expand_prompt": "yes"}, "expand_prompt must be a boolean"),
        ({"user_prompt": "x", "loop": 1}, "loop must be a boolean"),
        ({"user_prompt": "x", "image_url": 5}, "image_url must be a string"),
        ({"user_prompt": "x", "duration": [5]}, "duration must be"),
        (["user_prompt"], "request body must be a JSON object"),
    ],
)
async def test_generate_validates_its_body(
    http: aiohttp.ClientSession, body: Any, message: str
) -> None:
    for path in ("/luma/generations", "/luma/v1/generations"):
        status, answer, _ = await call(http, "POST", path, json=body)
        assert status == 400
        assert answer["code"] == "invalid_request"
        assert answer["message"].startswith(message)
        assert answer["data"] is None


@pytest.mark.anyio
async def test_generate_accepts_every_documented_field(http: aiohttp.ClientSession) -> None:
    body = {
        "user_prompt": "x",
        "expand_prompt": True,
        "aspect_ratio": "21:9",
        "loop": False,
        "image_url": "https://example.com/a.png",
        "image_end_url": "https://example.com/b.png",
        "notify_hook": "https://example.com/hook",
        "model_name": "ray-v2",
        "resolution": "720p",
        "duration": "5s",
    }
    status, answer, _ = await call(http, "POST", "/luma/generations", json=body)
    assert status == 200
    assert answer["data"]["aspect_ratio"] == "21:9"


@pytest.mark.anyio
async def test_a_body_that_is_not_json_is_rejected(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await call(http, "POST", "/luma/generations", data=b"{not json")
    assert (status, answer["code"]) == (400, "invalid_request")


@pytest.mark.anyio
async def test_extend_needs_a_completed_video_of_the_same_flavour(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    _, parent, _ = await call(
        http, "POST", "/luma/generations", json={"user_prompt": "a", "aspect_ratio": "1:1"}
    )
    _, failing, _ = await call(http, "POST", "/luma/generations", json={"user_prompt": "[fail]"})
    parent_url = emu.file_url(f"{parent['data']['id']}.mp4")
    rejected = {
        "code": "invalid_request",
        "message": "video_url must be a completed generation's video",
        "data": None,
    }

    for url in (parent_url, "https://cdn.example/other.mp4"):  # pending; unknown
        status, answer, _ = await call(http, "POST", "/luma/extend", json={"video_url": url})
        assert (status, answer) == (400, rejected)
    status, answer, _ = await call(http, "POST", "/luma/extend", json={})
    assert (status, answer["message"]) == (400, "video_url is required")

    emu.advance(12)
    failed_url = emu.file_url(f"{failing['data']['id']}.mp4")
    status, answer, _ = await call(http, "POST", "/luma/extend", json={"video_url": failed_url})
    assert (status, answer) == (400, rejected)
    status, answer, _ = await call(http, "POST", "/luma/v1/extend", json={"video_url": parent_url})
    assert (status, answer) == (400, rejected)  # a lumvip video is unknown to luma

    status, answer, _ = await call(http, "POST", "/luma/extend", json={"video_url": parent_url})
    assert status == 200
    child = answer["data"]
    assert child["id"] != parent["data"]["id"]
    assert (child["prompt"], child["state"], child["aspect_ratio"]) == ("", "pending", "1:1")
    assert child["created_at"] == "2024-07-05T14:28:38.000000Z"

    status, answer, _ = await call(
        http,
        "POST",
        "/luma/extend",
        json={"video_url": parent_url, "user_prompt": "then it rains", "aspect_ratio": "4:3"},
    )
    assert status == 200
    assert (answer["data"]["prompt"], answer["data"]["aspect_ratio"]) == ("then it rains", "4:3")
    assert (await _state(http, "/luma/task", answer["data"]["id"]))["state"] == "pending"


@pytest.mark.anyio
async def test_unknown_ids_are_task_not_exist(http: aiohttp.ClientSession) -> None:
    _, created, _ = await call(http, "POST", "/luma/generations", json={"user_prompt": "x"})
    not_exist = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    for path, gid in [
        ("/luma/task", "no-such-id"),
        ("/luma/v1/task", created["data"]["id"]),  # ids are per flavour
    ]:
        status, answer, _ = await call(http, "GET", path, params={"id": gid})
        assert (status, answer) == (400, not_exist)
    status, answer, _ = await call(http, "GET", "/luma/task")
    assert (status, answer) == (400, not_exist)
