"""Luma and lumvip: what is sent, how answers of both flavours are read, extend."""

from __future__ import annotations

from pathlib import Path

import pytest

from api4gpt_async import AsyncAPI4GPT, BadRequestError, NotFoundError, TaskState
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp4_bytes

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("flavour", ["luma", "lumvip"])
async def test_generate_sends_exactly_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator, flavour: str
) -> None:
    service = getattr(client, flavour)
    handle = await service.generate(
        "a paper boat", aspect_ratio="1:1", expand_prompt=True, image_url="https://x/first.png"
    )
    (request,) = [r for r in emulator.requests if r.route == f"{flavour}.generate"]
    assert request.method == "POST"
    assert request.json == {
        "user_prompt": "a paper boat",
        "aspect_ratio": "1:1",
        "expand_prompt": True,
        "image_url": "https://x/first.png",
    }
    assert handle.kind == flavour
    assert handle.ref == {"kind": flavour, "id": handle.id}


@pytest.mark.parametrize(
    ("flavour", "running_word"), [("luma", "dreaming"), ("lumvip", "processing")]
)
async def test_both_flavours_read_alike(
    client: AsyncAPI4GPT, emulator: Emulator, flavour: str, running_word: str
) -> None:
    service = getattr(client, flavour)
    handle = await service.generate("a paper boat")
    emulator.advance(5)
    running = await service.get(handle.id)
    assert running.state == running_word
    assert running.estimate_wait_seconds == 7
    snap = await handle.refresh()
    assert snap.state is TaskState.RUNNING
    assert snap.eta_seconds == 7
    emulator.advance(10)
    done = await service.get(handle.id)
    assert done.video is not None
    assert (done.video.width, done.video.height) == (1360, 752)
    assert done.request_id  # every model carries the gateway's request id


async def test_extend_a_finished_generation(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    first = await client.lumvip.generate("a paper boat")
    emulator.advance(60)
    video = await first.wait()
    more = await client.lumvip.extend(video, prompt="it sails away", aspect_ratio="16:9")
    assert more.id != first.id
    (request,) = [r for r in emulator.requests if r.route == "lumvip.extend"]
    assert request.json == {
        "video_url": video.video_url,
        "user_prompt": "it sails away",
        "aspect_ratio": "16:9",
    }
    emulator.advance(60)
    assert (await more.wait()).state == "completed"


async def test_extend_by_id_looks_the_generation_up(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    first = await client.luma.generate("a paper boat")
    emulator.advance(60)
    more = await client.luma.extend(first.id)
    assert more.id != first.id
    assert emulator.count("luma.task") == 1  # the look-up
    assert emulator.count("luma.extend") == 1


async def test_extend_refuses_an_unfinished_generation(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    first = await client.luma.generate("a paper boat")
    with pytest.raises(ValueError, match="no video yet"):
        await client.luma.extend(first.id)
    assert emulator.count("luma.extend") == 0


async def test_service_validation_errors_are_bad_requests(client: AsyncAPI4GPT) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.luma.generate("")
    assert info.value.code == "invalid_request"


async def test_flavours_keep_their_own_ids(client: AsyncAPI4GPT) -> None:
    handle = await client.lumvip.generate("a paper boat")
    with pytest.raises(NotFoundError) as info:
        await client.luma.get(handle.id)
    assert info.value.code == "task_not_exist"


@pytest.mark.parametrize(
    ("flavour", "roles"),
    [("luma", ["video.mp4", "thumbnail.jpg"]), ("lumvip", ["video.mp4"])],
)
async def test_download_all_saves_every_file_named_by_job_and_role(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, flavour: str, roles: list[str]
) -> None:
    service = getattr(client, flavour)
    first, second = await service.generate("a paper boat"), await service.generate("a kite")
    emulator.advance(60)
    folder = tmp_path / "out"  # created on demand
    saved = [await job.download_all(folder) for job in (first, second)]
    for job, paths in zip((first, second), saved, strict=True):
        assert [p.name for p in paths] == [f"{job.id}-{role}" for role in roles]
        assert paths[0].read_bytes() == mp4_bytes()
        assert all(p.parent == folder for p in paths)
    assert len(list(folder.iterdir())) == 2 * len(roles)  # two jobs never collide


async def test_get_many_without_a_batch_query_asks_one_by_one(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    one = await client.luma.generate("one")
    two = await client.lumvip.generate("two")
    many = await client.luma.get_many([one.id, "no-such-id", one.id])
    assert [g.id for g in many] == [one.id]  # asked order, each once, unknown left out
    assert [g.id for g in await client.lumvip.get_many([two.id])] == [two.id]
    assert await client.luma.get_many([]) == []
