"""Every error body shape the gateway family sends becomes the right typed error."""

from __future__ import annotations

import json

import pytest

from api4gpt_async import errors
from api4gpt_async.errors import error_from_envelope, error_from_response

RID = {"X-Oneapi-Request-Id": "2026112312000012345"}


def _decode(status: int, body: object, headers: dict[str, str] | None = None) -> errors.APIError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(status, headers or {}, raw)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (422, errors.BadRequestError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (418, errors.APIStatusError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[errors.APIStatusError]) -> None:
    err = _decode(status, {"error": {"message": "nope", "type": "x", "code": "c"}})
    assert type(err) is cls
    assert err.status == status
    assert err.message == "nope"


def test_openai_upstream_body() -> None:
    body = {
        "error": {
            "message": "Incorrect API key provided: sk-ab***",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    err = _decode(401, body, RID)
    assert isinstance(err, errors.AuthenticationError)
    assert (err.code, err.type, err.request_id) == (
        "invalid_api_key",
        "invalid_request_error",
        "2026112312000012345",
    )
    assert err.body == body


def test_new_api_gateway_body_takes_request_id_from_message() -> None:
    body = {
        "error": {
            "message": "无效的令牌 (request id: 20250101120000123456789abcdef)",
            "type": "new_api_error",
            "code": "",
        }
    }
    err = _decode(401, body)
    assert err.request_id == "20250101120000123456789abcdef"
    assert err.code is None  # "" reads as absent
    assert err.type == "new_api_error"


def test_quota_is_permission_denied_with_code() -> None:
    body = {
        "error": {
            "message": "该令牌额度已用尽",
            "type": "new_api_error",
            "code": "pre_consume_token_quota_failed",
            "metadata": {"quota_error": True},
        }
    }
    err = _decode(403, body)
    assert isinstance(err, errors.PermissionDeniedError)
    assert err.code == "pre_consume_token_quota_failed"


def test_task_relay_body() -> None:
    err = _decode(400, {"code": "task_not_exist", "message": "task_not_exist", "data": None})
    assert isinstance(err, errors.NotFoundError)
    assert err.code == "task_not_exist"
    assert "task_not_exist" in str(err)


def test_midjourney_body_with_integer_code() -> None:
    err = _decode(
        400, {"description": "task_status_not_success ", "type": "upstream_error", "code": 4}
    )
    assert err.code == 4
    assert err.message.strip() == "task_status_not_success"


def test_fork_variant_with_message_zh_and_null_code() -> None:
    body = {"error": {"message_zh": "当前分组无可用渠道", "type": "new_api_error", "code": None}}
    err = _decode(503, body)
    assert isinstance(err, errors.ServerError)
    assert err.message == "当前分组无可用渠道"


def test_html_error_page_uses_its_title() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    err = _decode(502, page, {"Content-Type": "text/html"})
    assert isinstance(err, errors.ServerError)
    assert err.message == "502 Bad Gateway"


def test_empty_body_falls_back_to_status_phrase() -> None:
    err = _decode(504, b"")
    assert isinstance(err, errors.ServerError)
    assert err.message == "Gateway Timeout"


def test_rate_limit_carries_retry_after() -> None:
    err = error_from_response(429, {}, b"{}", retry_after=3.0)
    assert isinstance(err, errors.RateLimitError)
    assert err.retry_after == 3.0


def test_envelope_failure_is_api_error_with_code() -> None:
    err = error_from_envelope(
        {"code": "quota_not_enough", "message": "余额不足", "data": None}, RID
    )
    assert type(err) is errors.APIError
    assert err.code == "quota_not_enough"
    assert err.request_id == RID["X-Oneapi-Request-Id"]


def test_hierarchy_matches_the_design() -> None:
    assert issubclass(errors.APIStatusError, errors.APIError)
    assert issubclass(errors.APIConnectionError, errors.APIError)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.SubmissionUncertainError, errors.APIConnectionError)
    assert issubclass(errors.TaskFailedError, errors.TaskError)
    assert issubclass(errors.TaskTimeoutError, errors.TaskError)
    assert issubclass(errors.TaskError, errors.API4GPTError)
    assert issubclass(errors.UnsupportedOperation, errors.API4GPTError)
