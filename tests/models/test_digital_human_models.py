"""Digital-human jobs decode from the gateway-wrapped detail and the raw upstream work."""

from __future__ import annotations

import datetime as dt

import pytest

from api4gpt_async._convert import structure
from api4gpt_async.models.digital_human import DigitalHumanTask

WORK = {
    "id": "57b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4",
    "work_name": "hello",
    "work_video_path": "https://cdn.example/out.mp4",
    "wm_work_video_path": "https://cdn.example/wm.mp4",
    "no_wm_work_video_path": "https://cdn.example/nowm.mp4",
    "work_webp_path": "https://cdn.example/preview.webp",
    "web_work_status": 200,
    "create_time": 1736000000000,
    "ext": {"sing_title": "", "animate_channel": 1},
    "play_types": ["talk"],
}
WRAPPED = {
    "task_id": "57b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4",
    "notify_hook": "",
    "action": "avatar-generate",
    "status": "SUCCESS",
    "fail_reason": "",
    "submit_time": 1736000000,
    "start_time": 0,
    "finish_time": 1736000300,
    "progress": "100%",
    "data": WORK,
}


def test_wrapped_detail() -> None:
    task = structure(WRAPPED, DigitalHumanTask)
    assert task.task_id == WRAPPED["task_id"]
    assert (task.action, task.status, task.progress) == ("avatar-generate", "SUCCESS", "100%")
    assert task.start_time is None
    assert task.video is not None
    assert task.video.create_time == dt.datetime.fromtimestamp(1736000000, dt.timezone.utc)
    assert task.video_url == "https://cdn.example/out.mp4"
    assert task.video.work_webp_path == "https://cdn.example/preview.webp"
    assert task.video.raw["play_types"] == ["talk"]


def test_raw_upstream_work() -> None:
    task = structure(WORK, DigitalHumanTask)
    assert task.task_id == WORK["id"]
    assert task.status == "SUCCESS"
    assert task.video is not None and task.video.web_work_status == 200
    assert task.raw == WORK


def test_raw_work_still_running() -> None:
    task = structure({"id": "ab", "web_work_status": 1, "work_video_path": ""}, DigitalHumanTask)
    assert task.status == "IN_PROGRESS" and task.video_url is None


def test_video_url_from_whichever_field_is_filled() -> None:
    only_nowm = {**WORK, "work_video_path": "", "wm_work_video_path": None}
    assert structure(only_nowm, DigitalHumanTask).video_url == "https://cdn.example/nowm.mp4"
    only_wm = {**only_nowm, "no_wm_work_video_path": "", "wm_work_video_path": "https://w/x.mp4"}
    assert structure(only_wm, DigitalHumanTask).video_url == "https://w/x.mp4"


def test_pending_record_has_no_video() -> None:
    record = {"task_id": "ab", "action": "avatar-generate", "status": "QUEUED", "data": None}
    task = structure(record, DigitalHumanTask)
    assert task.video is None and task.video_url is None


@pytest.mark.parametrize(
    ("progress", "fraction"),
    [("45%", 0.45), ("0%", 0.0), (" 90 % ", 0.9), ("30", 0.3), (30, 0.3), ("100%", None),
     ("", None), ("soon", None), (None, None)],
)  # fmt: skip
def test_running_progress(progress: object, fraction: float | None) -> None:
    record = {"task_id": "ab", "status": "IN_PROGRESS", "progress": progress}
    task = structure(record, DigitalHumanTask)
    assert task.running_progress == (pytest.approx(fraction) if fraction is not None else None)
