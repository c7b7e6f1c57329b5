"""The status → error table, row by row, and every source of a request id.

Each row is checked twice: the class ``error_from_response`` picks, and (in
tests/test_transport_retry.py) whether the transport retries it.
"""

from __future__ import annotations

import json

import pytest

from api4gpt_async import errors
from api4gpt_async.errors import error_from_response, request_id_from

#: status → the class it raises. Every row the table in errors.py names, plus the fallbacks.
STATUS_CLASSES = [
    (400, errors.BadRequestError),
    (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError),
    (409, errors.BadRequestError),
    (413, errors.BadRequestError),
    (415, errors.BadRequestError),
    (422, errors.BadRequestError),
    (429, errors.RateLimitError),
    (408, errors.APIStatusError),
    (418, errors.APIStatusError),
    (425, errors.APIStatusError),
    (451, errors.APIStatusError),
    (500, errors.ServerError),
    (501, errors.ServerError),
    (502, errors.ServerError),
    (503, errors.ServerError),
    (504, errors.ServerError),
    (520, errors.ServerError),
    (524, errors.ServerError),
    (599, errors.ServerError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_every_status_row_picks_its_class(status: int, cls: type[errors.APIStatusError]) -> None:
    raw = json.dumps({"error": {"message": "nope", "type": "t", "code": "c"}}).encode()
    err = error_from_response(status, {}, raw, retry_after=2.0)
    assert type(err) is cls
    assert (err.status, err.message, err.code, err.type) == (status, "nope", "c", "t")
    if cls is errors.RateLimitError:
        assert isinstance(err, errors.RateLimitError) and err.retry_after == 2.0


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_every_status_row_without_a_body(status: int, cls: type[errors.APIStatusError]) -> None:
    err = error_from_response(status, {}, b"")
    assert type(err) is cls
    assert err.status == status
    assert err.message  # the status phrase, or a generic line for unnamed statuses


# -- request ids: each source alone, then who wins ----------------------------------------------

BODY = json.dumps({"error": {"message": "boom", "type": "x"}}).encode()
BODY_WITH_ID = json.dumps({"error": {"message": "boom (request id: from-message)"}}).encode()


@pytest.mark.parametrize(
    ("headers", "raw", "expected"),
    [
        ({"X-Oneapi-Request-Id": "from-oneapi"}, BODY, "from-oneapi"),
        ({"X-Request-Id": "from-x-request-id"}, BODY, "from-x-request-id"),
        ({}, BODY_WITH_ID, "from-message"),
        ({"X-Oneapi-Request-Id": "oneapi", "X-Request-Id": "plain"}, BODY, "oneapi"),
        ({"X-Request-Id": "plain"}, BODY_WITH_ID, "plain"),  # a header beats the message
        ({"X-Oneapi-Request-Id": ""}, BODY_WITH_ID, "from-message"),  # empty header: absent
        ({}, BODY, None),
        ({}, json.dumps({"error": {"message": "x (request id:  )"}}).encode(), None),
    ],
)
def test_request_id_from_each_source(
    headers: dict[str, str], raw: bytes, expected: str | None
) -> None:
    assert error_from_response(500, headers, raw).request_id == expected


def test_request_id_helper_reads_the_message_suffix_with_spaces() -> None:
    assert request_id_from(None, "quota (request id: 2025 01 ab )") == "2025 01 ab"
    assert request_id_from({}, None) is None


def test_envelope_failure_takes_the_request_id_from_x_request_id() -> None:
    body = {"code": "quota_not_enough", "message": "余额不足", "data": None}
    err = errors.error_from_envelope(body, {"X-Request-Id": "rid-envelope"})
    assert isinstance(err, errors.APIError)
    assert err.request_id == "rid-envelope"
    assert err.code == "quota_not_enough"


# -- not-found codes, wherever they sit ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": 4, "description": "task_no_found "},  # new-api relaying midjourney-proxy
        {"code": "task_not_exist", "message": "task_not_exist"},
        {"error": {"message": "no such model", "type": "t", "code": "model_not_found"}},
    ],
)
def test_a_not_found_code_is_a_not_found_error_with_its_fields(body: dict[str, object]) -> None:
    err = errors.error_for(None, body, request_id="rq-1")
    assert type(err) is errors.NotFoundError
    assert (err.status, err.request_id) == (404, "rq-1")
    assert err.type == ("t" if "error" in body else None)
    at_400 = errors.error_for(400, body)  # a status that came with it is kept
    assert type(at_400) is errors.NotFoundError and at_400.status == 400


def test_a_code_that_is_no_string_is_kept_as_it_came() -> None:
    raw = json.dumps({"error": {"message": "m", "code": ["a", "b"]}}).encode()
    err = error_from_response(400, {}, raw)
    assert (type(err), err.message, err.code) == (errors.BadRequestError, "m", ["a", "b"])


def test_a_300_answer_is_a_status_error() -> None:
    err = error_from_response(300, {}, b"")  # Multiple Choices: aiohttp does not follow it
    assert type(err) is errors.APIStatusError and err.status == 300


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": {"message": "无效的令牌"}}, "无效的令牌"),  # "invalid token"
        (None, "Unauthorized"),
    ],
)
def test_an_invalid_key_message_keeps_its_text_and_gets_the_hint(
    body: object, message: str
) -> None:
    err = error_from_response(401, {}, json.dumps(body).encode() if body else b"")
    assert err.message == message + errors._INVALID_KEY_HINT


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": {"detail": "from the error's detail"}}, "from the error's detail"),
        ({"code": "c", "detail": "from the envelope's detail"}, "from the envelope's detail"),
    ],
)
def test_a_detail_field_is_the_message(body: object, message: str) -> None:
    assert error_from_response(400, {}, json.dumps(body).encode()).message == message
