"""Zhipu CogVideoX: what is sent (images from a URL, a path or bytes), states, failures."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from api4gpt_async import APIError, AsyncAPI4GPT, TaskFailedError, TaskState
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import jpeg_bytes, mp4_bytes

pytestmark = pytest.mark.anyio

DONE = 60.0


def bodies(emu: Emulator) -> list[object]:
    return [r.json for r in emu.requests if r.route == "zhipu_video.generate"]


async def test_text_to_video_from_submit_to_files(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.zhipu_video.generate(
        prompt="a lighthouse at dusk", quality="quality", with_audio=True, fps=60, duration=10
    )
    assert bodies(emulator) == [
        {
            "model": "cogvideox",
            "prompt": "a lighthouse at dusk",
            "quality": "quality",
            "with_audio": True,
            "fps": 60,
            "duration": 10,
        }
    ]
    assert handle.kind == "zhipu_video" and handle.id.isdigit()
    assert handle.last is not None and handle.last.state is TaskState.RUNNING  # PROCESSING
    emulator.advance(DONE)
    video = await handle.wait()
    assert video.task_status == "SUCCESS" and video.video_url and video.cover_image_url
    paths = await handle.download_all(tmp_path)
    assert [p.name for p in paths] == [f"{handle.id}-video.mp4", f"{handle.id}-video-cover.jpeg"]
    assert paths[0].read_bytes() == mp4_bytes()
    assert paths[1].read_bytes().startswith(b"\xff\xd8")


async def test_polled_by_id_never_request_id(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.zhipu_video.generate(prompt="x", request_id="my-own-id", user_id="u1")
    assert bodies(emulator)[0] == {
        "model": "cogvideox",
        "prompt": "x",
        "request_id": "my-own-id",
        "user_id": "u1",
    }
    snap = await handle.refresh()
    assert snap.raw.client_request_id == "my-own-id"
    (query,) = [r for r in emulator.requests if r.route == "zhipu_video.result"]
    assert query.path == f"/cogvideox/v4/async-result/{handle.id}"


@pytest.mark.parametrize("kind", ["path", "str-path", "bytes", "file"])
async def test_first_frame_from_a_path_or_bytes_goes_as_base64(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, kind: str
) -> None:
    image = jpeg_bytes(32, 32)
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(image)
    source = {"path": frame, "str-path": str(frame), "bytes": image, "file": io.BytesIO(image)}
    await client.zhipu_video.generate(image_url=source[kind], model="cogvideox-2")
    (body,) = bodies(emulator)
    assert isinstance(body, dict) and base64.b64decode(body["image_url"]) == image


@pytest.mark.parametrize(
    "url", ["https://cdn.example/frame.png", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="]
)
async def test_an_image_url_is_sent_as_is(
    client: AsyncAPI4GPT, emulator: Emulator, url: str
) -> None:
    await client.zhipu_video.generate(prompt="move", image_url=url)
    (body,) = bodies(emulator)
    assert isinstance(body, dict) and body["image_url"] == url


async def test_a_failed_job_is_the_jobs_outcome_not_a_request_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.zhipu_video.generate(prompt="this will [fail]")
    emulator.advance(DONE)
    status = await client.zhipu_video.get(handle.id)  # a 200 with an error object: read, not raised
    assert status.task_status == "FAIL" and status.error is not None
    with pytest.raises(TaskFailedError) as caught:
        await handle.wait()
    assert caught.value.reason == "emulated failure: the prompt asked for it (code 1301)"


async def test_a_200_error_object_without_a_job_still_raises(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.zhipu_video.generate(prompt="x")
    error = {"error": {"message": "upstream broke", "type": "upstream_error", "code": "x"}}
    emulator.fail("zhipu_video.result", status=200, body=error)
    with pytest.raises(APIError, match="upstream broke"):
        await client.zhipu_video.get(handle.id)


async def test_needs_a_prompt_or_an_image(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="prompt"):
        await client.zhipu_video.generate()
    assert emulator.requests == []
