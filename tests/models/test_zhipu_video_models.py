"""Zhipu CogVideoX jobs decode from the submit answer, the result and a failure."""

from __future__ import annotations

from api4gpt_async._convert import structure
from api4gpt_async.models.zhipu_video import ZhipuVideoTask

SUBMIT = {
    "model": "cogvideox",
    "id": 8431920001234567890,
    "request_id": "my-own-id",
    "task_status": "PROCESSING",
}
RESULT = {
    "model": "cogvideox",
    "request_id": "my-own-id",
    "task_status": "SUCCESS",
    "video_result": [
        {
            "url": "https://cdn.example/video_0.mp4",
            "cover_image_url": "https://cdn.example/cover_0.png",
        }
    ],
}


def test_submit_answer() -> None:
    task = structure(SUBMIT, ZhipuVideoTask, request_id="gateway-rid")
    assert task.id == "8431920001234567890"  # a long number reads as its exact text
    assert task.task_status == "PROCESSING"
    assert task.client_request_id == "my-own-id"  # Zhipu's field, not a job id
    assert task.request_id == "gateway-rid"  # the gateway's id, as on every model
    assert task.video_url is None and task.video_result == []


def test_result_with_video_and_cover() -> None:
    task = structure(RESULT, ZhipuVideoTask)
    assert task.id is None  # the result answer may omit it
    assert task.video_url == "https://cdn.example/video_0.mp4"
    assert task.cover_image_url == "https://cdn.example/cover_0.png"
    assert task.raw == RESULT


def test_failure_error_object_or_text() -> None:
    failed = structure(
        {"task_status": "FAIL", "error": {"code": 1301, "message": "unsafe content"}},
        ZhipuVideoTask,
    )
    assert failed.error is not None
    assert (failed.error.code, failed.error.message) == ("1301", "unsafe content")
    text = structure({"task_status": "FAIL", "error": "quota"}, ZhipuVideoTask)
    assert text.error is not None and text.error.message == "quota"
