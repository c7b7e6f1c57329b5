"""Midjourney tasks decode from every shape midjourney-proxy and new-api send, losing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.midjourney import (
    MidjourneyButton,
    MidjourneyPage,
    MidjourneySubmitResult,
    MidjourneyTask,
    parse_progress,
)

#: A finished imagine as new-api serves it from its database (imageUrl rewritten, properties
#: stripped to finalPrompt / finalZhPrompt, the empty customId / botType / maskBase64 kept).
FINISHED = {
    "id": "1730000000123456",
    "action": "IMAGINE",
    "status": "SUCCESS",
    "progress": "100%",
    "prompt": "red fox in snow --ar 3:2",
    "promptEn": "red fox in snow --ar 3:2",
    "description": "/imagine red fox in snow --ar 3:2",
    "state": "job-42",
    "submitTime": 1730000000123,
    "startTime": 1730000003000,
    "finishTime": 1730000051000,
    "imageUrl": "https://one.api4gpt.com/mj/image/1730000000123456",
    "failReason": "",
    "buttons": [
        {
            "customId": "MJ::JOB::upsample::1::0d9c",
            "emoji": "",
            "label": "U1",
            "type": 2,
            "style": 2,
        },
        {
            "customId": "MJ::JOB::variation::1::0d9c",
            "emoji": "",
            "label": "V1",
            "type": 2,
            "style": 2,
        },
        {
            "customId": "MJ::JOB::reroll::0::0d9c::SOLO",
            "emoji": "🔄",
            "label": "",
            "type": 2,
            "style": 2,
        },
    ],
    "properties": {"finalPrompt": "red fox in snow --ar 3:2 --v 6.1", "finalZhPrompt": ""},
    "customId": "",
    "botType": "",
    "maskBase64": "",
}

#: A progress callback as the proxy POSTs it (raw CDN preview, nulls for unset fields).
CALLBACK = {
    "id": "1730000000123457",
    "action": "UPSCALE",
    "status": "IN_PROGRESS",
    "progress": "46%",
    "state": "job-42",
    "imageUrl": "https://cdn.discordapp.com/attachments/1/2/preview.webp",
    "submitTime": 1730000100000,
    "startTime": 1730000102000,
    "finishTime": None,
    "failReason": None,
    "prompt": "red fox",
    "promptEn": "red fox",
    "description": "/up 1730000000123456 U2",
    "properties": {"finalPrompt": "red fox --v 6.1"},
    "buttons": [],
}


def test_finished_task_decodes_with_snake_case_names() -> None:
    task = structure(FINISHED, MidjourneyTask, request_id="rid-1")
    assert task.id == "1730000000123456"
    assert (task.action, task.status, task.progress) == ("IMAGINE", "SUCCESS", "100%")
    assert task.prompt_en == "red fox in snow --ar 3:2"
    assert task.image_url == FINISHED["imageUrl"]
    assert task.fail_reason is None  # "" reads as absent
    assert task.custom_id is None and task.bot_type is None
    assert task.final_prompt == "red fox in snow --ar 3:2 --v 6.1"
    assert task.submitted_at == dt.datetime(2024, 10, 27, 3, 33, 20, 123000, tzinfo=dt.timezone.utc)
    assert task.finished_at is not None and task.started_at is not None
    assert task.progress_fraction == 1.0
    assert task.raw == FINISHED and task.request_id == "rid-1"
    assert task.raw["maskBase64"] == ""  # unknown fields are kept


def test_buttons_are_typed_and_found_by_label_emoji_or_kind() -> None:
    task = structure(FINISHED, MidjourneyTask)
    u1, v1, reroll = task.buttons
    assert u1 == MidjourneyButton(
        custom_id="MJ::JOB::upsample::1::0d9c", label="U1", emoji=None, style=2, type=2
    )
    assert (u1.action, u1.index) == ("upsample", 1)
    assert (v1.action, v1.index) == ("variation", 1)
    assert (reroll.action, reroll.index, reroll.label, reroll.emoji) == ("reroll", None, None, "🔄")
    assert task.button("u1") is u1
    assert task.button("🔄") is reroll
    assert task.button("reroll") is reroll
    assert task.button("U4") is None


def test_other_button_kinds() -> None:
    zoom = MidjourneyButton(custom_id="MJ::Outpaint::50::1::abc::SOLO", label="Zoom Out 2x")
    custom = MidjourneyButton(custom_id="MJ::CustomZoom::abc", label="Custom Zoom")
    region = MidjourneyButton(custom_id="MJ::Inpaint::1::abc::SOLO", label="Vary (Region)")
    pan = MidjourneyButton(custom_id="MJ::JOB::pan_left::1::abc::SOLO", emoji="⬅️")
    assert [b.action for b in (zoom, custom, region, pan)] == [
        "Outpaint",
        "CustomZoom",
        "Inpaint",
        "pan_left",
    ]
    assert pan.index == 1 and zoom.index is None


def test_callback_body_with_nulls() -> None:
    task = structure(CALLBACK, MidjourneyTask)
    assert task.finish_time is None and task.finished_at is None
    assert task.progress_fraction == 0.46
    assert task.buttons == []


@pytest.mark.parametrize(
    "variant",
    [
        {"id": 1730000000123456, "status": "", "progress": "", "buttons": None, "properties": None},
        {"id": "1730000000123456", "status": None, "progress": None, "submitTime": 0},
        {"id": "1730000000123456"},
    ],
)
def test_new_api_before_its_first_sync(variant: dict[str, object]) -> None:
    """new-api stores the task with empty fields until its background sync (every ~15 s)."""
    task = structure(variant, MidjourneyTask)
    assert task.id == "1730000000123456"
    assert task.status is None
    assert task.progress_fraction is None
    assert task.buttons == []
    assert task.final_prompt is None
    assert task.submitted_at is None


def test_snake_case_keys_are_read_too() -> None:
    task = structure({"id": "a", "image_url": "u", "fail_reason": "x"}, MidjourneyTask)
    assert (task.image_url, task.fail_reason) == ("u", "x")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("37%", 0.37),
        ("0%", 0.0),
        ("100%", 1.0),
        (" 12.5 % ", 0.125),
        ("55", 0.55),
        (46, 0.46),
        (100.0, 1.0),
        ("", None),
        (None, None),
        ("almost", None),
        (True, None),
        ("250%", 1.0),
    ],
)
def test_progress_strings(wire: object, expected: float | None) -> None:
    assert parse_progress(wire) == expected


def test_numeric_progress_on_the_wire() -> None:
    task = structure({"id": "a", "progress": 37}, MidjourneyTask)
    assert task.progress == "37" and task.progress_fraction == 0.37


@pytest.mark.parametrize(
    ("answer", "task_id"),
    [
        (
            {"code": 1, "description": "Submit success", "result": "1730000000123456"},
            "1730000000123456",
        ),
        ({"code": 1, "description": "提交成功", "result": 1730000000123456}, "1730000000123456"),
        (
            {
                "code": 21,
                "description": "Waiting for window confirm",
                "result": "17",
                "properties": {"finalPrompt": "fox --zoom 2", "remix": True},
            },
            "17",
        ),
        (
            {
                "code": 22,
                "description": "排队中",
                "result": "18",
                "properties": {"numberOfQueues": 3},
            },
            "18",
        ),
    ],
)
def test_submit_answers(answer: dict[str, object], task_id: str) -> None:
    result = structure(answer, MidjourneySubmitResult)
    assert result.task_id == task_id
    assert result.code == answer["code"]


def test_submit_answer_without_an_id() -> None:
    result = structure({"code": 1, "description": "ok", "result": ["https://cdn/a.png"]},
                       MidjourneySubmitResult)  # fmt: skip
    assert result.result == ["https://cdn/a.png"]
    with pytest.raises(ValueError, match="no task id"):
        _ = result.task_id


def test_page_of_tasks() -> None:
    page = structure(
        {
            "content": [FINISHED, {"id": "2", "status": "FAILURE", "failReason": "任务超时"}],
            "totalElements": 37,
            "totalPages": 4,
            "number": 0,
            "size": 10,
            "first": True,
            "last": False,
            "numberOfElements": 2,
        },
        MidjourneyPage,
    )
    assert [t.id for t in page.content] == ["1730000000123456", "2"]
    assert page.content[1].fail_reason == "任务超时"
    assert (page.total_elements, page.total_pages, page.first, page.last) == (37, 4, True, False)
    assert page.raw["numberOfElements"] == 2


@pytest.mark.parametrize(
    "bad", [{"status": "SUCCESS"}, ["not", "an", "object"], {"id": "a", "buttons": "U1"}]
)
def test_malformed_answers_raise_decode_error(bad: object) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        structure(bad, MidjourneyTask)
    assert info.value.body == bad


@given(st.integers(min_value=0, max_value=100), st.sampled_from(["{}%", "{}", " {} % "]))
def test_any_percentage_reads_as_a_fraction(percent: int, shape: str) -> None:
    assert parse_progress(shape.format(percent)) == pytest.approx(percent / 100)
    assert parse_progress(percent) == pytest.approx(percent / 100)


@given(st.text(max_size=8).filter(lambda t: not any(c.isdigit() for c in t)))
def test_text_without_a_number_is_no_progress(text: str) -> None:
    assert parse_progress(text) is None
