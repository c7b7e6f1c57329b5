"""Suno v4.0 and v3.x: what is sent, how every answer is read, batch polling, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from api4gpt_async import (
    AsyncAPI4GPT,
    AuthenticationError,
    BadRequestError,
    Hooks,
    NotFoundError,
    PermissionDeniedError,
    RequestEvent,
    TaskFailedError,
    TaskState,
    UnsupportedOperation,
)
from api4gpt_async._convert import structure
from api4gpt_async.models.suno import SunoTask
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import MP3_FRAME_HEADER

pytestmark = pytest.mark.anyio

DONE = 60.0  # emulator seconds after which every emulated Suno job has ended


def bodies(emu: Emulator, route: str) -> list[object]:
    return [r.json for r in emu.requests if r.route == route]


async def test_inspiration_mode_sends_exactly_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.suno.generate(
        gpt_description_prompt="a song about harbour lights", mv="chirp-v4", make_instrumental=False
    )
    assert bodies(emulator, "suno.generate") == [
        {
            "gpt_description_prompt": "a song about harbour lights",
            "mv": "chirp-v4",
            "make_instrumental": False,
        }
    ]
    assert handle.kind == "suno" and handle.ref == {"kind": "suno", "id": handle.id}
    assert handle.id.startswith("task_")  # the id the gateway gave, opaque


async def test_a_music_job_ends_with_two_clips_and_downloads_all(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.suno.generate(
        prompt="[Verse] neon rain", title="Night Drive", tags="synthwave", negative_tags="metal"
    )
    emulator.advance(5)
    snap = await handle.refresh()
    assert snap.state is TaskState.RUNNING and snap.raw.clips[0].status == "streaming"
    emulator.advance(DONE)
    song = await handle.wait()
    assert song.status == "SUCCESS" and len(song.clips) == 2
    assert {c.title for c in song.clips} == {"Night Drive"}
    assert all(c.duration and c.tags == "synthwave" for c in song.clips)
    paths = await handle.download_all(tmp_path)
    assert [p.name for p in paths] == [
        f"{handle.id}-clip1.mp3",
        f"{handle.id}-clip1-cover.jpeg",
        f"{handle.id}-clip2.mp3",
        f"{handle.id}-clip2-cover.jpeg",
    ]
    assert paths[0].read_bytes().startswith(MP3_FRAME_HEADER)
    assert paths[1].read_bytes().startswith(b"\xff\xd8\xff")  # a JPEG
    main = await handle.download(tmp_path / "main.mp3")
    assert main.read_bytes() == paths[0].read_bytes()


@pytest.mark.parametrize(
    ("clips", "state", "reason"),
    [
        ([{"id": "a", "status": "complete", "audio_url": "u"}], TaskState.SUCCEEDED, None),
        ([{"id": "a", "status": "streaming", "audio_url": "u"}], TaskState.RUNNING, None),
        ([{"id": "a", "status": "complete", "audio_url": ""}], TaskState.RUNNING, None),
        (
            [{"id": "a", "status": "error", "metadata": {"error_message": "moderated"}}],
            TaskState.FAILED,
            "moderated",
        ),
    ],
)
async def test_a_success_record_waits_for_complete_clips(
    client: AsyncAPI4GPT, clips: list[dict[str, object]], state: TaskState, reason: str | None
) -> None:
    record = {"task_id": "t", "action": "MUSIC", "status": "SUCCESS", "data": clips}
    snap = client.suno.read(structure(record, SunoTask))
    assert (snap.state, snap.failure_reason) == (state, reason)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("NOT_START", TaskState.PENDING),
        ("SUBMITTED", TaskState.PENDING),
        ("QUEUED", TaskState.PENDING),
        ("IN_PROGRESS", TaskState.RUNNING),
        ("UNKNOWN", TaskState.RUNNING),  # new-api keeps polling it
        ("FAILURE", TaskState.FAILED),
        ("pending", TaskState.PENDING),  # v3.x words
        ("processing", TaskState.RUNNING),
        ("completed", TaskState.SUCCEEDED),
        ("failed", TaskState.FAILED),
    ],
)
async def test_every_status_word(client: AsyncAPI4GPT, status: str, state: TaskState) -> None:
    snap = client.suno.read(structure({"task_id": "t", "status": status}, SunoTask))
    assert snap.state is state


async def test_continuation_always_sends_task_id(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    first = await client.suno.generate(gpt_description_prompt="x")
    emulator.advance(DONE)
    clip = (await first.wait()).clips[0]
    with pytest.raises(ValueError, match="task_id"):
        await client.suno.generate(prompt="[Verse] more", continue_clip_id=clip.id, continue_at=30)
    assert len(bodies(emulator, "suno.generate")) == 1  # nothing was sent (or billed)
    more = await client.suno.generate(
        prompt="[Verse] more", continue_clip_id=clip.id, continue_at=30.5, task_id=first.id
    )
    assert bodies(emulator, "suno.generate")[-1] == {
        "prompt": "[Verse] more",
        "continue_clip_id": clip.id,
        "continue_at": 30.5,
        "task_id": first.id,
    }
    emulator.advance(DONE)
    assert (await more.wait()).status == "SUCCESS"


async def test_generate_needs_a_mode(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="gpt_description_prompt"):
        await client.suno.generate(title="only a title")
    assert emulator.requests == []


async def test_lyrics_are_ready_at_the_first_poll(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.suno.lyrics("tides and harbours", notify_hook="https://me/hook")
    assert bodies(emulator, "suno.lyrics") == [
        {"prompt": "tides and harbours", "notify_hook": "https://me/hook"}
    ]
    result = await handle.wait()
    assert result.lyrics is not None and "tides and harbours" in (result.lyrics.text or "")
    assert result.clips == []
    with pytest.raises(ValueError, match="empty"):
        await client.suno.lyrics("  ")


async def test_a_failed_song_gives_the_clip_reason(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.suno.generate(gpt_description_prompt="songs that [fail]")
    emulator.advance(DONE)
    with pytest.raises(TaskFailedError) as caught:
        await handle.wait()
    assert caught.value.reason == "emulated failure: the prompt asked for it"
    assert caught.value.snapshot.raw.clips[0].status == "error"


async def test_get_get_many_and_task(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    one = await client.suno.generate(gpt_description_prompt="one")
    two = await client.suno.lyrics("two")
    status = await client.suno.get(one.id)
    assert status.task_id == one.id and status.request_id
    many = await client.suno.get_many([two.id, "task_unknown", one.id])
    assert [t.task_id for t in many] == [two.id, one.id]
    assert bodies(emulator, "suno.fetch_many") == [{"ids": [two.id, "task_unknown", one.id]}]
    again = client.suno.task(one.id)
    emulator.advance(DONE)
    assert (await again.wait()).task_id == one.id
    resumed = client.tasks.resume(one.ref)
    assert (await resumed.refresh()).state is TaskState.SUCCEEDED


async def test_an_unknown_id_is_not_found(client: AsyncAPI4GPT) -> None:
    with pytest.raises(NotFoundError) as caught:  # HTTP 400 task_not_exist
        await client.suno.get("task_nope")
    assert caught.value.code == "task_not_exist" and caught.value.status == 400
    with pytest.raises(NotFoundError):  # a wait ends with it, not a poll loop
        await client.suno.task("task_nope").wait()
    with pytest.raises(NotFoundError):
        await client.suno.v3_0.get("no-such-task")
    with pytest.raises(NotFoundError):
        await client.zhipu_video.get("8000000000000000000")
    with pytest.raises(NotFoundError):
        await client.digital_human.task("f" * 32).wait()


async def test_waiting_jobs_are_polled_in_batches(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    rounds = asyncio.Event()

    def seen(_: RequestEvent) -> None:
        if emulator.count("suno.fetch_many") >= 3:
            rounds.set()

    async with make_client(hooks=Hooks(on_request=seen)) as client:
        handles = [await client.suno.generate(gpt_description_prompt=f"s{n}") for n in range(12)]
        emulator.clear_requests()
        waiters = [asyncio.ensure_future(h.wait()) for h in handles]
        await asyncio.wait_for(rounds.wait(), 5)  # some rounds polled, the clock standing still
        emulator.advance(DONE)
        results = await asyncio.gather(*waiters)
    assert {r.task_id for r in results} == {h.id for h in handles}
    batches = [r.json for r in emulator.requests if r.route == "suno.fetch_many"]
    assert emulator.count("suno.fetch") == 0  # never one by one
    assert all(isinstance(b, dict) and len(b["ids"]) > 1 for b in batches)
    assert set().union(*(set(b["ids"]) for b in batches)) == {h.id for h in handles}
    assert len(batches) < 3 * len(handles)  # far fewer requests than one per job per round


async def test_suno_cannot_be_cancelled(client: AsyncAPI4GPT) -> None:
    handle = await client.suno.lyrics("x")
    with pytest.raises(UnsupportedOperation):
        await handle.cancel()


# --------------------------------------------------------------------------- v3.x


async def test_v3_generate_sends_mv_in_both_places(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.suno.v3_5.generate(gpt_description_prompt="rainy city")
    (body,) = bodies(emulator, "suno.v3_5.generate")
    assert body == {
        "custom_mode": False,
        "mv": "chirp-v3-5",
        "input": {"gpt_description_prompt": "rainy city", "mv": "chirp-v3-5"},
    }
    assert handle.kind == "suno.v3_5"
    emulator.advance(DONE)
    song = await handle.wait()
    assert song.status == "completed" and len(song.clips) == 2
    assert {c.model_name for c in song.clips} == {"chirp-v3-5"}
    assert song.input is not None and song.input["gpt_description_prompt"] == "rainy city"


async def test_v3_0_custom_mode_extend_and_concat(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    first = await client.suno.v3_0.generate(prompt="[Verse] a", title="A", tags="folk")
    assert bodies(emulator, "suno.v3_0.generate")[0] == {
        "custom_mode": True,
        "mv": "chirp-v3-0",
        "input": {"prompt": "[Verse] a", "title": "A", "tags": "folk", "mv": "chirp-v3-0"},
    }
    emulator.advance(DONE)
    clip = (await first.wait()).clips[0]
    extension = await client.suno.v3_0.generate(
        prompt="[Verse] b", continue_clip_id=clip.id, continue_at=20
    )
    emulator.advance(DONE)
    extended = (await extension.wait()).clips[0]
    joined = await client.suno.v3_0.concat(extended.id)
    assert bodies(emulator, "suno.v3_0.concat") == [{"clip_id": extended.id}]
    emulator.advance(DONE)
    (whole,) = (await joined.wait()).clips
    assert whole.type == "concat"
    assert not hasattr(client.suno.v3_5, "concat")


# --------------------------------------------------------------------------- task-relay errors


def task_error(code: str, message: str | None = None) -> dict[str, object]:
    return {"code": code, "message": message or code, "data": None}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, task_error("quota_not_enough"), PermissionDeniedError),
        (400, task_error("invalid_request", "invalid_action"), BadRequestError),
        (400, task_error("task_channel_disable"), BadRequestError),
        (401, None, AuthenticationError),
    ],
)
async def test_submit_refusals_are_typed_and_sent_once(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    status: int,
    body: dict[str, object] | None,
    error: type[Exception],
) -> None:
    emulator.fail("suno.generate", status=status, body=body)
    with pytest.raises(error) as caught:
        await client.suno.generate(gpt_description_prompt="x")
    if body is not None:
        assert caught.value.code == body["code"]  # type: ignore[attr-defined]
    assert emulator.count("suno.generate") == 1


@pytest.mark.parametrize(
    "body",
    [task_error("fail_to_fetch_task"), task_error("do_request_failed", "请求上游地址失败"), None],
)
async def test_a_failing_status_query_only_delays_the_wait(
    client: AsyncAPI4GPT, emulator: Emulator, body: dict[str, object] | None
) -> None:
    handle = await client.suno.generate(gpt_description_prompt="x")
    emulator.advance(DONE)
    emulator.fail("suno.fetch", status=500, body=body, times=2)
    assert (await handle.wait()).status == "SUCCESS"
    assert emulator.count("suno.fetch") == 3  # two failures absorbed, then the answer


async def test_a_quota_error_while_polling_ends_the_wait(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handle = await client.suno.generate(gpt_description_prompt="x")
    emulator.fail("suno.fetch", status=403, body=task_error("quota_not_enough"))
    with pytest.raises(PermissionDeniedError):
        await handle.wait()
