"""Digital human: the one-voice rule, both detail shapes, progress, failure, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from api4gpt_async import AsyncAPI4GPT, TaskFailedError, TaskState
from api4gpt_async.models.digital_human import UseVoice
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._digital_human import raw_detail
from api4gpt_async.testing._media import mp4_bytes

pytestmark = pytest.mark.anyio

DONE = 60.0
FACE = "https://cdn.example/face.png"
VOICE: UseVoice = {"voice_engine_id": "nina", "audio_id": "a" * 32, "language": "en", "text": "Hi"}


async def test_create_sends_exactly_what_was_set_and_ends_with_a_video(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.digital_human.create(FACE, use_voice=VOICE, no_watermark=True)
    (request,) = [r for r in emulator.requests if r.route == "digital_human.create"]
    assert request.json == {"avatar_url": FACE, "use_voice": dict(VOICE), "no_watermark": True}
    assert handle.kind == "digital_human" and len(handle.id) == 32
    emulator.advance(10)
    snap = await handle.refresh()
    assert snap.state is TaskState.RUNNING and snap.progress is not None and 0 < snap.progress < 1
    emulator.advance(DONE)
    result = await handle.wait()
    assert result.status == "SUCCESS" and result.video_url == emulator.file_url(f"{handle.id}.mp4")
    paths = await handle.download_all(tmp_path)
    assert [p.name for p in paths] == [f"{handle.id}-video.mp4", f"{handle.id}-preview.jpeg"]
    assert paths[0].read_bytes() == mp4_bytes()


@pytest.mark.parametrize(
    "voices",
    [
        {},
        {"audio_url": "https://a/b.mp3", "use_voice": VOICE},
        {
            "create_voice": {"audio_url": "https://a/s.mp3", "language": "zh", "text": "你好"},
            "use_voice": VOICE,
        },
    ],
)
async def test_exactly_one_voice_source_checked_before_sending(
    client: AsyncAPI4GPT, emulator: Emulator, voices: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="exactly one voice source"):
        await client.digital_human.create(FACE, **voices)  # type: ignore[arg-type]
    assert emulator.requests == []


async def test_the_raw_upstream_detail_is_read_too(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.digital_human.create(FACE, audio_url="https://a/b.mp3")
    raw_detail(emulator)
    running = await client.digital_human.get(handle.id)
    assert running.status == "IN_PROGRESS" and running.video_url is None
    emulator.advance(DONE)
    result = await handle.wait()
    assert result.task_id == handle.id and result.video is not None
    assert result.video.web_work_status == 200 and result.video_url


async def test_a_failure_carries_the_reason(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.digital_human.create(
        "https://cdn.example/[fail].png",
        create_voice={"audio_url": "https://a/s.mp3", "language": "en", "text": "x"},
    )
    emulator.advance(DONE)
    with pytest.raises(TaskFailedError) as caught:
        await handle.wait()
    assert caught.value.reason == "emulated failure: no face found in avatar_url"
