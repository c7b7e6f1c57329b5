"""The emulator's digital-human routes, over raw HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._digital_human import FAILURE_REASON, raw_detail
from api4gpt_async.testing._task_record import unix_time

from ._wire import call, hook_server

pytestmark = pytest.mark.anyio

AVATAR = "https://cdn.example/face.png"
USE_VOICE = {"voice_engine_id": "nina", "audio_id": "0" * 32, "language": "en", "text": "Hi"}


async def create(http: aiohttp.ClientSession, **body: Any) -> str:
    status, answer, _ = await call(http, "POST", "/avatar/generation", json=body)
    assert status == 200, answer
    assert answer["code"] == "success"
    return str(answer["data"])


async def test_job_runs_to_its_video(emu: Emulator, http: aiohttp.ClientSession) -> None:
    task_id = await create(http, avatar_url=AVATAR, audio_url="https://cdn.example/a.mp3")
    assert len(task_id) == 32 and int(task_id, 16) >= 0
    _, answer, _ = await call(http, "GET", f"/avatar/task/{task_id}")
    record = answer["data"]
    assert (record["action"], record["status"], record["data"]) == (
        "avatar-generate",
        "SUBMITTED",
        None,
    )
    seen = []
    for _ in range(8):
        emu.advance(emu.duration("digital_human") / 8)
        _, answer, _ = await call(http, "GET", f"/avatar/task/{task_id}")
        seen.append((answer["data"]["status"], answer["data"]["progress"]))
    assert seen[-1] == ("SUCCESS", "100%")
    running = [int(p[:-1]) for s, p in seen if s == "IN_PROGRESS"]
    assert running and running == sorted(running) and 0 < running[0] < 100
    record = answer["data"]
    assert record["finish_time"] == unix_time(emu.duration("digital_human"))
    work = record["data"]
    assert work["work_video_path"] == emu.file_url(f"{task_id}.mp4")
    assert work["no_wm_work_video_path"] and work["wm_work_video_path"]
    assert work["web_work_status"] == 200 and work["create_time"] == unix_time(0) * 1000


async def test_raw_detail_is_the_upstream_answer(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    task_id = await create(http, avatar_url=AVATAR, use_voice=USE_VOICE)
    raw_detail(emu)
    emu.advance(emu.duration("digital_human"))
    _, answer, _ = await call(http, "GET", f"/avatar/task/{task_id}")
    assert answer["code"] == 0 and answer["data"]["id"] == task_id
    assert answer["data"]["web_work_status"] == 200
    raw_detail(emu, False)
    _, answer, _ = await call(http, "GET", f"/avatar/task/{task_id}")
    assert answer["code"] == "success"


async def test_a_failing_avatar_ends_in_failure(emu: Emulator, http: aiohttp.ClientSession) -> None:
    voice = {"audio_url": "https://cdn.example/v.mp3", "language": "zh", "text": "你好"}
    task_id = await create(http, avatar_url="https://cdn.example/[fail].png", create_voice=voice)
    emu.advance(emu.duration("digital_human"))
    _, answer, _ = await call(http, "GET", f"/avatar/task/{task_id}")
    assert (answer["data"]["status"], answer["data"]["fail_reason"]) == ("FAILURE", FAILURE_REASON)


@pytest.mark.parametrize(
    "body",
    [
        {"audio_url": "https://a/b.mp3"},
        {"avatar_url": "face.png", "audio_url": "https://a/b.mp3"},
        {"avatar_url": AVATAR},
        {"avatar_url": AVATAR, "audio_url": "https://a/b.mp3", "use_voice": USE_VOICE},
        {"avatar_url": AVATAR, "use_voice": {**USE_VOICE, "language": "fr"}},
        {"avatar_url": AVATAR, "use_voice": {**USE_VOICE, "audio_id": ""}},
        {"avatar_url": AVATAR, "create_voice": {"language": "en", "text": "x"}},
        {"avatar_url": AVATAR, "create_voice": "voice"},
        {"avatar_url": AVATAR, "audio_url": "https://a/b.mp3", "no_watermark": "true"},
    ],
)
async def test_create_validates(http: aiohttp.ClientSession, body: Any) -> None:
    status, answer, _ = await call(http, "POST", "/avatar/generation", json=body)
    assert (status, answer["code"]) == (400, "invalid_request")


async def test_unknown_id_is_task_not_exist(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await call(http, "GET", "/avatar/task/" + "f" * 32)
    assert (status, answer["code"]) == (400, "task_not_exist")


async def test_notify_hook_gets_the_finished_record(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with hook_server() as (url, received):
        task_id = await create(
            http, avatar_url=AVATAR, audio_url="https://a/b.mp3", notify_hook=url
        )
        emu.advance(emu.duration("digital_human"))
        record = await asyncio.wait_for(received.get(), 5)
        assert (record["task_id"], record["status"]) == (task_id, "SUCCESS")
