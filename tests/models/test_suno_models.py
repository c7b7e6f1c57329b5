"""Suno jobs decode from every documented shape: v4 records, flattened clips, lyrics as an
object or a list, and the v3.x id-keyed clip map."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.suno import SunoClip, SunoTask

#: ``GET /suno/fetch/{id}`` ``data`` of a finished music task (new-api TaskDto, nested clips).
V4_MUSIC = {
    "task_id": "5f0c2b7e-1d3a-4e8b-9a11-2c4d6e8f0a13",
    "notify_hook": "",
    "action": "MUSIC",
    "status": "SUCCESS",
    "fail_reason": "",
    "submit_time": 1718000000,
    "start_time": 1718000004,
    "finish_time": 1718000090,
    "progress": "100%",
    "data": [
        {
            "id": "a1b2",
            "title": "Night Drive",
            "status": "complete",
            "audio_url": "https://cdn.example/a1b2.mp3",
            "image_url": "https://cdn.example/a1b2.jpg",
            "image_large_url": "https://cdn.example/a1b2-large.jpg",
            "video_url": "https://cdn.example/a1b2.mp4",
            "model_name": "chirp-v4",
            "major_model_version": "v4",
            "is_liked": False,
            "created_at": "2024-06-10T06:13:24.000Z",
            "metadata": {
                "tags": "synthwave",
                "prompt": "[Verse] neon",
                "duration": 152.4,
                "type": "gen",
                "error_type": None,
                "error_message": None,
            },
        },
        {"id": "c3d4", "status": "complete", "audio_url": "https://cdn.example/c3d4.mp3"},
    ],
}

#: A newer gateway's record: ``task_…`` id, an integer row ``id``, bookkeeping fields.
V4_NEWER = {
    "id": 8812,
    "task_id": "task_Zq3k9TnB0xJm2vWcR7yLpA4sDf6Gh1Ke",
    "platform": "suno",
    "user_id": 3,
    "quota": 100000,
    "result_url": "",
    "properties": {"input": "", "upstream_model_name": "chirp-v4"},
    "action": "MUSIC",
    "status": "IN_PROGRESS",
    "submit_time": 1718000000,
    "start_time": 0,
    "finish_time": 0,
    "progress": "0%",
    "data": [{"id": "e5", "status": "streaming", "audio_url": "https://cdn.example/e5"}],
}

#: The flattened clip variant (``clip_id``, ``state``, top-level inputs).
FLAT_CLIP = {
    "clip_id": "f6a7",
    "task_id": "tid_1",
    "mv": "chirp-v3-5",
    "state": "succeeded",
    "status": "",
    "title": "Rain",
    "tags": "lofi",
    "prompt": "[Verse] rain",
    "duration": 118.2,
    "audio_url": "https://cdn.example/f6a7.mp3",
    "image_url": "https://cdn.example/f6a7.png",
    "continue_at": 0,
    "create_time": 1718000000,
}

#: v3.x fetch ``data``: ``input`` as JSON text, clips keyed by id.
V3_TASK = {
    "task_id": "7d1e",
    "status": "completed",
    "input": '{"custom_mode":false,"gpt_description_prompt":"rainy city","mv":"chirp-v3-5"}',
    "clips": {
        "c9f0": {
            "id": "c9f0",
            "status": "complete",
            "audio_url": "https://cdn.example/c9f0.mp3",
            "video_url": "https://cdn.example/c9f0.mp4",
            "image_url": "https://cdn.example/c9f0.png",
            "metadata": {"tags": "lofi", "duration": 118.2},
        },
        "d1e2": {"status": "complete", "audio_url": "https://cdn.example/d1e2.mp3"},
    },
}


def test_v4_music_task() -> None:
    task = structure(V4_MUSIC, SunoTask, request_id="rid-1")
    assert task.task_id == V4_MUSIC["task_id"]
    assert (task.action, task.status, task.progress) == ("MUSIC", "SUCCESS", "100%")
    assert task.fail_reason is None and task.notify_hook is None  # "" reads as absent
    assert task.submit_time == dt.datetime.fromtimestamp(1718000000, dt.timezone.utc)
    assert [c.id for c in task.clips] == ["a1b2", "c3d4"]
    clip = task.clips[0]
    assert (clip.tags, clip.prompt, clip.duration, clip.type) == (
        "synthwave",
        "[Verse] neon",
        152.4,
        "gen",
    )
    assert clip.image_large_url == "https://cdn.example/a1b2-large.jpg"
    assert clip.model_name == "chirp-v4"
    assert clip.raw["metadata"]["duration"] == 152.4  # raw is the clip as sent
    assert task.audio_urls == ["https://cdn.example/a1b2.mp3", "https://cdn.example/c3d4.mp3"]
    assert task.lyrics is None
    assert task.raw == V4_MUSIC and task.request_id == "rid-1"


def test_newer_gateway_task_id_is_never_the_row_number() -> None:
    task = structure(V4_NEWER, SunoTask)
    assert task.task_id == "task_Zq3k9TnB0xJm2vWcR7yLpA4sDf6Gh1Ke"
    assert task.start_time is None and task.finish_time is None  # 0 means "not yet"
    assert task.raw["id"] == 8812 and task.raw["quota"] == 100000
    assert task.clips[0].status == "streaming"


def test_flattened_clip() -> None:
    clip = structure(FLAT_CLIP, SunoClip)
    assert clip.id == "f6a7"
    assert clip.status == "succeeded"  # the clip's state word when status is empty
    assert (clip.tags, clip.prompt, clip.duration) == ("lofi", "[Verse] rain", 118.2)
    assert clip.raw["mv"] == "chirp-v3-5"


def test_failed_clip_reason_from_metadata() -> None:
    clip = structure(
        {
            "id": "x",
            "status": "error",
            "metadata": {"error_type": "moderation", "error_message": "Unable to generate"},
        },
        SunoClip,
    )
    assert (clip.error_type, clip.error_message) == ("moderation", "Unable to generate")


@pytest.mark.parametrize(
    "data",
    [
        {"id": "lyr-1", "title": "Harbour", "text": "[Verse]\nboats", "status": "complete"},
        [{"id": "lyr-1", "title": "Harbour", "text": "[Verse]\nboats", "state": "succeeded"}],
        {"title": "Harbour", "text": "[Verse]\nboats", "tags": ["folk"], "error_message": ""},
    ],
    ids=["object", "list", "eronmind-object"],
)
def test_lyrics_as_object_or_list(data: Any) -> None:
    record = {"task_id": "lyrics-1a9c", "action": "LYRICS", "status": "SUCCESS", "data": data}
    task = structure(record, SunoTask)
    assert task.lyrics is not None
    assert (task.lyrics.title, task.lyrics.text) == ("Harbour", "[Verse]\nboats")
    assert task.lyrics.status in (None, "complete", "succeeded")
    assert task.clips == []


def test_lyrics_without_action() -> None:
    task = structure({"task_id": "l2", "data": {"text": "la la", "title": "T"}}, SunoTask)
    assert task.lyrics is not None and task.lyrics.text == "la la"


def test_v3_clip_map_and_input() -> None:
    task = structure(V3_TASK, SunoTask)
    assert task.status == "completed"
    assert [c.id for c in task.clips] == ["c9f0", "d1e2"]  # a clip without id takes its key
    assert task.clips[0].duration == 118.2 and task.clips[0].tags == "lofi"
    assert task.input == {
        "custom_mode": False,
        "gpt_description_prompt": "rainy city",
        "mv": "chirp-v3-5",
    }


def test_task_not_started_has_no_payload() -> None:
    task = structure(
        {"task_id": 42, "action": "MUSIC", "status": "NOT_START", "data": None}, SunoTask
    )
    assert task.task_id == "42" and task.clips == [] and task.lyrics is None


def test_unreadable_answer_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError):
        structure({"status": "SUCCESS"}, SunoTask)  # no task id
    with pytest.raises(ResponseDecodeError):
        structure(["not", "a", "task"], SunoTask)


#: Keys the reader gives a meaning to: an unknown field is any other.
KNOWN_KEYS = set(V4_MUSIC) | {f.name for f in attrs.fields(SunoTask)}


@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in KNOWN_KEYS),
        st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans()),
        max_size=4,
    ),
    task_id=st.one_of(st.integers(min_value=1), st.text(min_size=1, max_size=40)),
)
def test_liberal_reading_keeps_unknown_fields(extra: dict[str, Any], task_id: int | str) -> None:
    record = {**V4_MUSIC, **extra, "task_id": task_id, "fail_reason": "", "notify_hook": ""}
    task = structure(record, SunoTask)
    assert task.task_id == str(task_id)
    assert task.fail_reason is None and task.notify_hook is None
    assert all(task.raw[key] == value for key, value in extra.items())
    assert len(task.clips) == 2


def test_empty_strings_read_as_absent_in_clips() -> None:
    blank = dict.fromkeys(("title", "audio_url", "video_url", "image_url", "model_name"), "")
    clip = structure({"id": 7, **blank, "metadata": {"duration": "", "tags": ""}}, SunoClip)
    assert clip.id == "7"
    assert (clip.title, clip.audio_url, clip.duration, clip.tags) == (None, None, None, None)
