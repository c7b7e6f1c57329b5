"""The emulator's Suno routes (v4.0 task relay and v3.x GoAPI style), over raw HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._suno import clip_status
from api4gpt_async.testing._task_record import unix_time

from ._wire import call, hook_server

pytestmark = pytest.mark.anyio

DURATION = 12.0  # the emulator's default job duration (``emu.duration("suno")``)


async def submit_music(http: aiohttp.ClientSession, **body: Any) -> str:
    status, answer, _ = await call(http, "POST", "/suno/submit/music", json=body)
    assert status == 200, answer
    assert answer["code"] == "success" and answer["message"] == ""
    assert isinstance(answer["data"], str)
    return str(answer["data"])


async def fetch(http: aiohttp.ClientSession, task_id: str) -> dict[str, Any]:
    status, answer, _ = await call(http, "GET", f"/suno/fetch/{task_id}")
    assert status == 200, answer
    assert answer["code"] == "success"
    record: dict[str, Any] = answer["data"]
    return record


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    ("elapsed", "done_at", "fails", "expected"),
    [
        (0, 16, False, "submitted"),
        (1.99, 16, False, "submitted"),
        (2, 16, False, "queued"),
        (4, 16, False, "streaming"),
        (15.9, 16, False, "streaming"),
        (16, 16, False, "complete"),
        (16, 16, True, "error"),
        (1, 1, False, "complete"),
    ],
)
def test_clip_lifecycle(elapsed: float, done_at: float, fails: bool, expected: str) -> None:
    assert clip_status(elapsed, done_at, fails=fails) == expected


async def test_music_task_streams_then_completes_clip_by_clip(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    task_id = await submit_music(
        http, gpt_description_prompt="a song about harbour lights", mv="chirp-v4"
    )
    assert task_id.startswith("task_")
    record = await fetch(http, task_id)
    assert record["task_id"] == task_id and isinstance(record["id"], int)  # a row number too
    assert (record["action"], record["status"], record["progress"]) == ("MUSIC", "SUBMITTED", "0%")
    assert record["submit_time"] == unix_time(0) and record["finish_time"] == 0
    assert [c["status"] for c in record["data"]] == ["submitted", "submitted"]

    emu.advance(2)
    assert (await fetch(http, task_id))["status"] == "QUEUED"
    emu.advance(3)
    record = await fetch(http, task_id)
    assert record["status"] == "IN_PROGRESS" and record["start_time"] == unix_time(2)
    first, _ = record["data"]
    assert first["status"] == "streaming" and first["audio_url"].endswith("-stream.mp3")
    assert first["metadata"]["duration"] is None and first["video_url"] == ""

    emu.advance(DURATION * 0.8 - 5)
    record = await fetch(http, task_id)
    assert [c["status"] for c in record["data"]] == ["complete", "streaming"]
    assert record["status"] == "IN_PROGRESS"  # follows the clip that is not done yet

    emu.advance(DURATION)
    record = await fetch(http, task_id)
    assert (record["status"], record["progress"], record["fail_reason"]) == ("SUCCESS", "100%", "")
    assert record["finish_time"] == unix_time(DURATION)
    for clip in record["data"]:
        assert clip["status"] == "complete" and clip["model_name"] == "chirp-v4"
        assert clip["audio_url"] == emu.file_url(f"{clip['id']}.mp3")
        assert clip["video_url"] == emu.file_url(f"{clip['id']}.mp4")
        assert clip["image_url"] == emu.file_url(f"{clip['id']}.jpeg")
        assert clip["metadata"]["duration"] > 0
        assert clip["metadata"]["gpt_description_prompt"] == "a song about harbour lights"


async def test_a_fail_prompt_ends_in_failure_with_the_clip_reason(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    task_id = await submit_music(http, prompt="[Verse] [fail]", title="Doomed", tags="pop")
    emu.advance(DURATION)
    record = await fetch(http, task_id)
    assert record["status"] == "FAILURE" and record["progress"] == "100%"
    reasons = {c["metadata"]["error_message"] for c in record["data"]}
    assert [c["status"] for c in record["data"]] == ["error", "error"]
    assert reasons == {record["fail_reason"]} and record["fail_reason"]


async def test_lyrics_are_finished_at_once(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await call(http, "POST", "/suno/submit/lyrics", json={"prompt": "tides"})
    assert status == 200
    record = await fetch(http, answer["data"])
    assert (record["action"], record["status"], record["progress"]) == ("LYRICS", "SUCCESS", "100%")
    assert "tides" in record["data"]["text"] and record["data"]["status"] == "complete"


@pytest.mark.parametrize("prompt", ["", "   ", None])
async def test_lyrics_need_a_prompt(http: aiohttp.ClientSession, prompt: str | None) -> None:
    status, answer, _ = await call(http, "POST", "/suno/submit/lyrics", json={"prompt": prompt})
    assert (status, answer["code"], answer["data"]) == (400, "prompt_empty", None)


# --------------------------------------------------------------------------- batch and errors


async def test_batch_fetch_answers_the_known_ids(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    first = await submit_music(http, gpt_description_prompt="one")
    second = await submit_music(http, gpt_description_prompt="two")
    body = {"ids": [second, "task_unknown", first], "action": "MUSIC"}
    status, answer, _ = await call(http, "POST", "/suno/fetch", json=body)
    assert status == 200 and answer["code"] == "success"
    assert [r["task_id"] for r in answer["data"]] == [second, first]
    _, empty, _ = await call(http, "POST", "/suno/fetch", json={})
    assert empty["data"] == []
    assert emu.count("suno.fetch_many") == 2


@pytest.mark.parametrize("body", [{"ids": "task_1"}, {"ids": [1, 2]}])
async def test_batch_fetch_validates(http: aiohttp.ClientSession, body: Any) -> None:
    status, answer, _ = await call(http, "POST", "/suno/fetch", json=body)
    assert (status, answer["code"]) == (400, "invalid_request")


async def test_unknown_id_is_task_not_exist(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await call(http, "GET", "/suno/fetch/task_nope")
    assert (status, answer) == (
        400,
        {"code": "task_not_exist", "message": "task_not_exist", "data": None},
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"gpt_description_prompt": 5},
        {"prompt": "x", "mv": "chirp-v9"},
        {"prompt": "x", "make_instrumental": "yes"},
        {"prompt": "x", "continue_at": -1},
    ],
)
async def test_music_validates_its_body(http: aiohttp.ClientSession, body: Any) -> None:
    status, answer, _ = await call(http, "POST", "/suno/submit/music", json=body)
    assert (status, answer["code"]) == (400, "invalid_request")


async def test_continuation_needs_its_task_id(emu: Emulator, http: aiohttp.ClientSession) -> None:
    parent = await submit_music(http, prompt="[Verse] a", title="A", tags="pop")
    emu.advance(DURATION)
    clip_id = (await fetch(http, parent))["data"][0]["id"]
    extend = {"prompt": "[Verse] b", "continue_clip_id": clip_id, "continue_at": 30}
    status, answer, _ = await call(http, "POST", "/suno/submit/music", json=extend)
    assert (status, answer["code"], answer["message"]) == (
        400,
        "invalid_request",
        "task id is empty",
    )
    wrong = {**extend, "task_id": "task_other"}
    status, answer, _ = await call(http, "POST", "/suno/submit/music", json=wrong)
    assert (status, answer["code"]) == (400, "task_not_exist")
    assert await submit_music(http, **extend, task_id=parent)


# --------------------------------------------------------------------------- v3.x


@pytest.mark.parametrize(
    ("prefix", "model"),
    [
        ("/suno/v1/v3.0", "chirp-v3-0"),
        ("/suno/v1", "chirp-v3-0"),
        ("/api/suno/v1", "chirp-v3-0"),
        ("/suno/v1/v3.5", "chirp-v3-5"),
        ("/suno/v1/mv-3.5", "chirp-v3-5"),
    ],
)
async def test_v3_every_candidate_path_serves_the_goapi_shape(
    emu: Emulator, http: aiohttp.ClientSession, prefix: str, model: str
) -> None:
    body = {"custom_mode": False, "input": {"gpt_description_prompt": "rainy city"}}
    status, answer, _ = await call(http, "POST", f"{prefix}/music", json=body)
    assert status == 200 and answer["code"] == 200 and answer["message"] == "success"
    task_id = answer["data"]["task_id"]
    status, answer, _ = await call(http, "GET", f"{prefix}/music/{task_id}")
    assert answer["data"]["status"] == "pending"
    emu.advance(5)
    _, answer, _ = await call(http, "GET", f"{prefix}/music/{task_id}")
    assert answer["data"]["status"] == "processing"
    emu.advance(DURATION)
    _, answer, _ = await call(http, "GET", f"{prefix}/music/{task_id}")
    task = answer["data"]
    assert task["status"] == "completed"
    assert json.loads(task["input"])["gpt_description_prompt"] == "rainy city"
    assert isinstance(task["clips"], dict) and len(task["clips"]) == 2
    for clip_id, clip in task["clips"].items():
        assert clip["id"] == clip_id and clip["model_name"] == model


async def test_v3_mv_is_read_inside_input_too(http: aiohttp.ClientSession) -> None:
    body = {"custom_mode": True, "input": {"prompt": "[Verse] x", "title": "X", "mv": "chirp-v3-5"}}
    _, answer, _ = await call(http, "POST", "/suno/v1/v3.0/music", json=body)
    _, answer, _ = await call(http, "GET", f"/suno/v1/v3.0/music/{answer['data']['task_id']}")
    assert {c["model_name"] for c in answer["data"]["clips"].values()} == {"chirp-v3-5"}


@pytest.mark.parametrize(
    "body",
    [{}, {"input": "x"}, {"custom_mode": False, "input": {}}, {"custom_mode": 1, "input": {}}],
)
async def test_v3_validates(http: aiohttp.ClientSession, body: Any) -> None:
    status, answer, _ = await call(http, "POST", "/suno/v1/v3.0/music", json=body)
    assert status == 400 and answer["code"] == 400 and answer["error_message"]


async def test_v3_unknown_task_is_404(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await call(http, "GET", "/suno/v1/v3.0/music/nope")
    assert status == 404 and answer["code"] == 404


async def test_v3_concat_joins_an_extension(emu: Emulator, http: aiohttp.ClientSession) -> None:
    generate = {"custom_mode": True, "input": {"prompt": "[Verse] a", "title": "A", "tags": "x"}}
    _, answer, _ = await call(http, "POST", "/suno/v1/v3.0/music", json=generate)
    parent = answer["data"]["task_id"]
    emu.advance(DURATION)
    _, answer, _ = await call(http, "GET", f"/suno/v1/v3.0/music/{parent}")
    clip_id = next(iter(answer["data"]["clips"]))
    status, answer, _ = await call(
        http, "POST", "/suno/v1/v3.0/music/concat", json={"clip_id": clip_id}
    )
    assert status == 400  # not an extension
    extend = {
        "custom_mode": True,
        "input": {"prompt": "[Verse] b", "continue_clip_id": clip_id, "continue_at": 20},
    }
    _, answer, _ = await call(http, "POST", "/suno/v1/v3.0/music", json=extend)
    child = answer["data"]["task_id"]
    _, answer, _ = await call(http, "GET", f"/suno/v1/v3.0/music/{child}")
    extension = next(iter(answer["data"]["clips"]))
    status, _, _ = await call(
        http, "POST", "/suno/v1/v3.0/music/concat", json={"clip_id": extension}
    )
    assert status == 400  # not complete yet
    emu.advance(DURATION)
    status, answer, _ = await call(
        http, "POST", "/suno/v1/music/concat", json={"clip_id": extension}
    )
    assert status == 200
    emu.advance(DURATION)
    _, answer, _ = await call(http, "GET", f"/suno/v1/music/{answer['data']['task_id']}")
    (clip,) = answer["data"]["clips"].values()
    assert clip["metadata"]["type"] == "concat" and answer["data"]["status"] == "completed"


async def test_v4_and_v3_ids_are_separate(http: aiohttp.ClientSession) -> None:
    v4 = await submit_music(http, gpt_description_prompt="x")
    status, _, _ = await call(http, "GET", f"/suno/v1/music/{v4}")
    assert status == 404


# --------------------------------------------------------------------------- notify_hook


async def test_notify_hook_receives_the_finished_record(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with hook_server() as (url, received):
        task_id = await submit_music(http, gpt_description_prompt="x", notify_hook=url)
        assert received.empty()
        emu.advance(DURATION)
        record = await asyncio.wait_for(received.get(), 5)
        assert (record["task_id"], record["status"]) == (task_id, "SUCCESS")
        assert record["notify_hook"] == url
        lyrics = {"prompt": "y", "notify_hook": url}
        _, answer, _ = await call(http, "POST", "/suno/submit/lyrics", json=lyrics)
        record = await asyncio.wait_for(received.get(), 5)  # lyrics: at once
        assert record["task_id"] == answer["data"] and record["action"] == "LYRICS"
        v3 = {"input": {"gpt_description_prompt": "x"}, "notify_hook": url}
        _, answer, _ = await call(http, "POST", "/suno/v1/v3.5/music", json=v3)
        emu.advance(DURATION)
        record = await asyncio.wait_for(received.get(), 5)  # the v3.x shape
        assert record["task_id"] == answer["data"]["task_id"] and record["status"] == "completed"
        assert isinstance(record["clips"], dict)
