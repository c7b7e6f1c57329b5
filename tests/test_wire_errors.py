"""Errors inside 200s, gateway codes with a meaning, readable details (issue 7 item 2), and
the poller's rule that an unreadable status answer is transient (issue 10 defect 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api4gpt_async import AsyncAPI4GPT, errors
from api4gpt_async._retry import is_transient
from api4gpt_async.errors import error_for, error_from_envelope, error_from_event
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

# -- one mapping, whatever carries the error ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cls", "status"),
    [
        (502, errors.ServerError, 502),
        ("503", errors.ServerError, 503),
        (500, errors.ServerError, 500),
        (429, errors.RateLimitError, 429),
        ("401", errors.AuthenticationError, 401),
        (403, errors.PermissionDeniedError, 403),
        (400, errors.BadRequestError, 400),
        (404, errors.NotFoundError, 404),
    ],
)
@pytest.mark.parametrize(
    "carrier",
    [
        lambda code: error_from_event({"error": {"message": "upstream", "code": code}}, None),
        lambda code: error_from_envelope({"code": code, "message": "upstream", "data": None}, {}),
        lambda code: error_for(None, {"description": "upstream", "code": code}),
        lambda code: error_for(200, {"error": {"message": "upstream", "code": code}}),
    ],
    ids=["openai-error-object", "task-envelope", "midjourney", "in-a-200"],
)
def test_a_numeric_code_in_a_200_types_the_error(
    carrier: Any, code: object, cls: type[errors.APIStatusError], status: int
) -> None:
    err = carrier(code)
    assert type(err) is cls
    assert err.status == status
    assert err.message == "upstream"


@pytest.mark.parametrize("code", [200, 0, 1, 24, 600, "abc", True, None, 3.5])
def test_codes_that_name_no_status_stay_plain_api_errors(code: object) -> None:
    err = error_from_event({"error": {"message": "odd", "code": code}}, None)
    assert type(err) is errors.APIError


MODEL_NOT_FOUND = {
    "error": {
        "message": "当前分组 default 下对于模型 gpt-9 无可用渠道 (request id: 2026)",
        "type": "new_api_error",
        "code": "model_not_found",
    }
}


@pytest.mark.parametrize(
    "make",
    [
        lambda: errors.error_from_response(
            503, {}, b'{"error": {"message": "x", "code": "model_not_found"}}'
        ),
        lambda: error_for(503, MODEL_NOT_FOUND),
        lambda: error_for(None, MODEL_NOT_FOUND),
        lambda: error_from_event(MODEL_NOT_FOUND, "rid"),
        lambda: error_from_envelope({"code": "model_not_found", "message": "m", "data": None}, {}),
        # a fork variant without the code
        lambda: error_for(
            503,
            {
                "error": {
                    "message": "No available channels for model X in group default",
                    "type": "new_api_error",
                }
            },
        ),
    ],
)
def test_model_not_found_is_not_found_with_a_hint_wherever_it_arrives(make: Any) -> None:
    err = make()
    assert isinstance(err, errors.NotFoundError)
    assert "not served by this key" in err.message
    assert not is_transient(err)


@pytest.mark.parametrize(
    "make",
    [
        lambda: error_for(400, {"code": "task_not_exist", "message": "task_not_exist"}),
        lambda: error_for(500, {"code": "task_not_exist", "message": "task_not_exist"}),
        lambda: error_from_envelope({"code": "task_not_exist", "message": "t", "data": None}, {}),
        lambda: error_from_event({"error": {"message": "gone", "code": "task_not_exist"}}, None),
    ],
)
def test_task_not_exist_is_not_found_wherever_it_arrives(make: Any) -> None:
    err = make()
    assert isinstance(err, errors.NotFoundError)
    assert err.code == "task_not_exist"
    assert not is_transient(err)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]},
            "body.prompt: field required",
        ),
        (
            {"detail": [{"loc": ["query", "n"], "msg": "too big"}, {"msg": "bad model"}]},
            "query.n: too big; bad model",
        ),
        ({"detail": {"message": "quota exceeded", "code": "q"}}, "quota exceeded"),
        ({"detail": "Not authenticated"}, "Not authenticated"),
        ({"error": {"message": {"msg": "nested"}, "code": 400}}, "nested"),
        ({"code": 500, "message": ["first", {"message": "second"}]}, "first; second"),
    ],
)
def test_details_become_readable_messages(body: Any, expected: str) -> None:
    err = error_for(422, body)
    assert err.message == expected
    assert "{" not in str(err) and "[" not in str(err)


# -- the client acts on the type: retries and polls -------------------------------------------


@pytest.mark.parametrize("code", [502, "503", 500])
async def test_a_5xx_code_in_a_200_is_retried_on_a_get(
    client: AsyncAPI4GPT, emulator: Emulator, code: object
) -> None:
    job = await client.luma.generate("a fox")
    emulator.fail("luma.task", status=200, body={"error": {"message": "busy", "code": code}})
    assert (await client.luma.get(job.id)).id == job.id
    assert emulator.count("luma.task") == 2


async def test_model_not_found_is_never_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    job = await client.luma.generate("a fox")
    emulator.fail("luma.task", status=503, body=MODEL_NOT_FOUND, times=3)
    with pytest.raises(errors.NotFoundError):
        await client.luma.get(job.id)
    assert emulator.count("luma.task") == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 200, "body": "{not json"},
        {
            "status": 200,
            "body": "<html><body>gateway</body></html>",
            "headers": {"Content-Type": "text/html"},
        },
        {"status": 200, "body": {"error": {"message": "upstream down", "code": 502}}},
        {"status": 200, "body": {"error": {"message": "upstream down", "code": "504"}}},
        {"status": 200, "body": {"code": 500, "message": "fail_to_fetch_task", "data": None}},
        {"status": 200, "body": {"id": 12}},  # a shape that cannot be read as the status
        {"status": 502, "body": "", "headers": {"Content-Type": "text/html"}},
        {"status": 503, "drop": True},
    ],
)
async def test_an_unreadable_status_answer_only_delays_the_next_poll(
    make_client: Any, emulator: Emulator, fault: dict[str, Any]
) -> None:
    from api4gpt_async import RetryPolicy

    async with make_client(retry=RetryPolicy.disabled()) as client:
        job = await client.luma.generate("a fox")
        emulator.advance(60)
        emulator.fail("luma.task", times=3, **fault)
        assert (await job.wait()).state == "completed"
        assert emulator.count("luma.task") == 4


async def test_a_permanent_error_in_a_200_still_ends_the_wait(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    job = await client.luma.generate("a fox")
    emulator.fail(
        "luma.task", status=200, body={"code": "task_not_exist", "message": "x", "data": None}
    )
    with pytest.raises(errors.NotFoundError):
        await job.wait()


@pytest.mark.parametrize(
    ("body", "hinted"),
    [
        ({"error": {"message": "无效的令牌", "type": "new_api_error"}}, True),
        (
            {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
            False,
        ),
        (None, True),
    ],
)
def test_a_refused_key_says_so_in_english(body: object, hinted: bool) -> None:
    raw = b"" if body is None else json.dumps(body).encode()
    error = error_for(401, body, raw=raw)
    assert isinstance(error, errors.AuthenticationError)
    assert ("API4GPT_API_KEY" in str(error)) is hinted
