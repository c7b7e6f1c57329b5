"""``api4gpt suno | zhipu | avatar``, run as a user runs them: a separate process."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest

from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

KEY = "sk-cli-media-0123456789"
INSTANT = {"suno": 0.0, "zhipu_video": 0.0, "digital_human": 0.0}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """Jobs that are finished when submitted, so the commands never have to poll long."""
    async with Emulator(api_key=KEY, time_scale=0, durations=INSTANT) as emu:
        yield emu


async def api4gpt(emu: Emulator, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env.update(API4GPT_BASE_URL=emu.base_url, API4GPT_API_KEY=KEY, COLUMNS="200")
    result = await anyio.run_process(
        [sys.executable, "-m", "api4gpt_async", *args], env=env, check=False
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert KEY not in output
    return result.returncode, output


def ref_of(output: str) -> dict[str, str]:
    line = next(line for line in output.splitlines() if line.startswith("ref: "))
    ref: dict[str, str] = json.loads(line.removeprefix("ref: "))
    return ref


async def test_suno_generate_saves_both_songs_and_covers(emu: Emulator, tmp_path: Path) -> None:
    code, output = await api4gpt(
        emu, "suno", "generate", "harbour lights", "--mv", "chirp-v4", "--out", str(tmp_path)
    )
    assert code == 0, output
    ref = ref_of(output)
    assert ref["kind"] == "suno"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        f"{ref['id']}-{role}"
        for role in ("clip1.mp3", "clip1-cover.jpeg", "clip2.mp3", "clip2-cover.jpeg")
    )
    (submit,) = [r.json for r in emu.requests if r.route == "suno.generate"]
    assert submit == {"gpt_description_prompt": "harbour lights", "mv": "chirp-v4"}


async def test_suno_v3_with_lyrics(emu: Emulator) -> None:
    code, output = await api4gpt(
        emu,
        "suno",
        "generate",
        "--lyrics",
        "[Verse] la",
        "--title",
        "La",
        "--version",
        "v3.5",
        "--wait",
    )
    assert code == 0, output
    assert ref_of(output)["kind"] == "suno.v3_5"
    assert output.count(".mp3") == 2  # both clips described


async def test_suno_generate_needs_exactly_one_mode(emu: Emulator) -> None:
    code, output = await api4gpt(emu, "suno", "generate")
    assert code == 2 and "DESCRIPTION or --lyrics" in output
    assert emu.requests == []


async def test_suno_lyrics_prints_them(emu: Emulator) -> None:
    code, output = await api4gpt(emu, "suno", "lyrics", "tides")
    assert code == 0, output
    assert "[Verse]" in output and "tides" in output


async def test_zhipu_generate_from_a_local_frame(emu: Emulator, tmp_path: Path) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    out = tmp_path / "out"
    code, output = await api4gpt(
        emu, "zhipu", "generate", "it moves", "--image", str(frame), "--out", str(out)
    )
    assert code == 0, output
    job_id = ref_of(output)["id"]
    assert sorted(p.name for p in out.iterdir()) == [
        f"{job_id}-video-cover.jpeg",
        f"{job_id}-video.mp4",
    ]
    (submit,) = [r.json for r in emu.requests if r.route == "zhipu_video.generate"]
    assert submit["prompt"] == "it moves" and submit["image_url"].startswith("iVBORw0KGgo")


async def test_avatar_create_waits(emu: Emulator) -> None:
    code, output = await api4gpt(
        emu, "avatar", "create", "https://x/face.png", "--text", "hi", "--voice-id", "nina",
        "--audio-id", "a" * 32, "--wait",
    )  # fmt: skip
    assert code == 0, output
    assert "video: " + emu.file_url(ref_of(output)["id"] + ".mp4") in output
    (submit,) = [r.json for r in emu.requests if r.route == "digital_human.create"]
    assert submit["use_voice"] == {
        "voice_engine_id": "nina", "audio_id": "a" * 32, "language": "en", "text": "hi"
    }  # fmt: skip


async def test_avatar_create_needs_one_voice(emu: Emulator) -> None:
    code, output = await api4gpt(emu, "avatar", "create", "https://x/face.png")
    assert code == 2 and "exactly one voice" in output


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        ("suno", "/suno/submit/lyrics", {"prompt": "x"}),
        ("zhipu_video", "/cogvideox/v4/videos/generations", {"model": "cogvideox", "prompt": "x"}),
        (
            "digital_human",
            "/avatar/generation",
            {"avatar_url": "https://x/face.png", "audio_url": "https://x/a.mp3"},
        ),
    ],
)
async def test_task_get_knows_every_new_kind(
    emu: Emulator, kind: str, path: str, body: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession(emu.base_url, headers=headers) as http,
        http.post(path, json=body) as response,
    ):
        answer = await response.json()
    job_id = answer["id"] if kind == "zhipu_video" else answer["data"]
    code, output = await api4gpt(emu, "task", "get", kind, job_id)
    assert code == 0, output
    assert f"{kind} {job_id}: succeeded" in output
