"""Edges of the transport that the family tests pass by: the Midjourney envelope's refusals
read field by field, task objects that carry a ``code`` of their own, odd characters, the
ways a 200 shows it is a web page and not the API."""

from __future__ import annotations

from typing import Any

import pytest

from api4gpt_async import (
    APIError,
    AsyncAPI4GPT,
    ContentPolicyError,
    ResponseDecodeError,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


# -- the Midjourney envelope ---------------------------------------------------------------------


async def _refusal(client: AsyncAPI4GPT, emulator: Emulator, answer: Any) -> APIError:
    emulator.fail(
        "midjourney.imagine", status=200, body=answer, headers={"X-Oneapi-Request-Id": "rid-mj"}
    )
    with pytest.raises(APIError) as info:
        await client.midjourney.imagine("fox")
    return info.value


@pytest.mark.parametrize(
    ("answer", "message", "banned_word", "prompt_en"),
    [
        (
            {"code": 24, "description": "可能包含敏感词",
             "properties": {"promptEn": "a gore scene", "bannedWord": "gore"}},
            "可能包含敏感词: gore", "gore", "a gore scene",
        ),
        ({"code": 24, "description": "Banned prompt words"}, "Banned prompt words", None, None),
        (
            {"code": 24, "description": "banned", "properties": {"bannedWord": ""}},
            "banned", None, None,
        ),
        ({"code": 24, "properties": {"bannedWord": "gore"}}, "banned prompt: gore", "gore", None),
        ({"code": 24, "description": "", "properties": "?"}, "banned prompt", None, None),
    ],
)  # fmt: skip
async def test_a_banned_prompt_reads_each_field_of_the_answer(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    answer: dict[str, Any],
    message: str,
    banned_word: str | None,
    prompt_en: str | None,
) -> None:
    error = await _refusal(client, emulator, answer)
    assert type(error) is ContentPolicyError
    assert (error.message, error.banned_word, error.prompt_en) == (message, banned_word, prompt_en)
    assert (error.code, error.request_id, error.body) == (24, "rid-mj", answer)


async def test_an_unknown_midjourney_code_keeps_the_request_id(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    error = await _refusal(client, emulator, {"code": 99, "description": "something new"})
    assert type(error) is APIError
    assert (error.message, error.code, error.request_id) == ("something new", 99, "rid-mj")


async def test_a_midjourney_failure_with_a_lone_surrogate_is_still_typed(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # JSON may escape half a UTF-16 pair; Python reads it as a lone surrogate, which no
    # UTF-8 encoder accepts. The answer must still become its error, not a UnicodeError.
    raw = b'{"code": 9, "description": "upstream \\ud83d failure"}'
    error = await _refusal(client, emulator, raw)
    assert type(error) is ServerError
    assert (error.status, error.code, error.message) == (500, 9, "upstream \ud83d failure")
    assert error.request_id == "rid-mj"


async def test_a_task_object_with_a_code_of_its_own_is_a_task(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # new-api's stored Midjourney record carries the submit's ``code`` next to the task's
    # ``id``: a task object, not a failed answer, whatever that code is.
    handle = await client.midjourney.imagine("fox")
    task = {"id": handle.id, "code": 4, "action": "IMAGINE", "status": "IN_PROGRESS",
            "progress": "10%", "description": "Submit success"}  # fmt: skip
    emulator.fail("midjourney.fetch", status=200, body=task)
    fetched = await client.midjourney.get(handle.id)
    assert (fetched.id, fetched.status, fetched.progress) == (handle.id, "IN_PROGRESS", "10%")


# -- a 2xx that is not JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("Site under maintenance", {"Content-Type": "text/html; charset=utf-8"}),
        ("\n  <!DOCTYPE html><title>Dashboard</title>", {}),
        ("\r\n<html><body>login</body></html>", {"Content-Type": "text/plain"}),
        ("<HTML><BODY>Welcome</BODY></HTML>", {"Content-Type": "application/octet-stream"}),
    ],
)
async def test_a_web_page_answering_a_submit_is_a_wrong_base_url(
    client: AsyncAPI4GPT, emulator: Emulator, body: str, headers: dict[str, str]
) -> None:
    # Told by its Content-Type or by how its text starts (any case, after any blank space): a
    # web page proves the request never reached the API, so it is no uncertain submission.
    emulator.fail("luma.generate", status=200, body=body, headers=headers)
    with pytest.raises(ResponseDecodeError) as info:
        await client.luma.generate("a fox")
    assert type(info.value) is ResponseDecodeError
    assert info.value.message.startswith("expected a JSON answer, got an HTML page (check the")


@pytest.mark.parametrize(
    "body", ["Service temporarily unavailable", "<?xml version='1.0'?><html/>", " <htm>"]
)
async def test_text_that_is_no_web_page_answering_a_submit_is_uncertain(
    client: AsyncAPI4GPT, emulator: Emulator, body: str
) -> None:
    emulator.fail("luma.generate", status=200, body=body)
    with pytest.raises(SubmissionUncertainError, match="not valid JSON sent as text/plain"):
        await client.luma.generate("a fox")
    assert emulator.count("luma.generate") == 1
