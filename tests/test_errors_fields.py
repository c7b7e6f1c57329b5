"""What an error carries and how it reads: message, code, request id, body, status, class."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from api4gpt_async import errors
from api4gpt_async.errors import error_from_envelope, error_from_event, error_from_response


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({}, "boom"),
        ({"code": "c"}, "boom (code='c')"),
        ({"code": 0}, "boom (code=0)"),
        ({"code": ""}, "boom"),
        ({"request_id": "r1"}, "boom (request_id=r1)"),
        ({"code": 24, "request_id": "r1"}, "boom (code=24, request_id=r1)"),
    ],
)
def test_api_error_text(kw: dict[str, Any], text: str) -> None:
    assert str(errors.APIError("boom", **kw)) == text
    assert str(errors.APIStatusError("boom", status=400, **kw)) == f"HTTP 400: {text}"


def test_a_request_id_already_in_the_message_is_not_repeated() -> None:
    err = errors.APIError("boom (request id: r1)", request_id="r1")
    assert str(err) == "boom (request id: r1)"


def test_rate_limit_error_defaults_to_429() -> None:
    err = errors.RateLimitError("slow down")
    assert (err.status, err.retry_after) == (429, None)


def test_task_errors_read_as_their_message() -> None:
    assert str(errors.TaskFailedError("it failed", reason=None, snapshot=None)) == "it failed"  # type: ignore[arg-type]
    assert str(errors.TaskTimeoutError("too slow", snapshot=None)) == "too slow"
    assert str(errors.TaskCancelledError("gone")) == "gone"
    batch = errors.TaskBatchError("2 of 3 failed", outcomes=[])
    assert (str(batch), batch.outcomes, batch.errors) == ("2 of 3 failed", [], [])
    action = errors.TaskNeedsActionError("pick one", snapshot=None, suggested_prompt="p")  # type: ignore[arg-type]
    assert (str(action), action.suggested_prompt) == ("pick one", "p")


def test_response_too_large_keeps_the_api_error_fields() -> None:
    err = errors.ResponseTooLargeError("too big", limit=10, request_id="r1", code="c", body="b")
    assert (err.limit, err.request_id, err.code, err.body) == (10, "r1", "c", "b")
    assert str(err) == "too big (code='c', request_id=r1)"


# -- error_from_response keeps a body it cannot parse, as text --------------------------------


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (b"<html><title>502</title></html>", "<html><title>502</title></html>"),
        (b"upstream timeout", "upstream timeout"),
        (b"\xc3\xff not utf-8", "\ufffd\ufffd not utf-8"),  # (\xff\xfe would be a BOM)
        (b"", None),  # no body at all
        # Too deeply nested to read: kept as text, not a RecursionError.
        pytest.param(b"[" * 100_000, "[" * 100_000, id="too-deep-to-read"),
    ],
)
def test_an_unparsable_error_body_is_kept_as_text(raw: bytes, body: str | None) -> None:
    err = error_from_response(502, {}, raw)
    assert err.body == body


def test_a_json_error_body_is_kept_parsed() -> None:
    err = error_from_response(400, {}, b'{"error": {"message": "m"}}')
    assert err.body == {"error": {"message": "m"}}


# -- error_from_envelope -----------------------------------------------------------------------


def test_a_failed_envelope_without_a_message_names_its_code() -> None:
    body = {"code": "quota_not_enough", "data": None}
    err = error_from_envelope(body, None)
    assert "'quota_not_enough'" in err.message
    assert err.body == body


def test_a_failed_envelope_takes_its_request_id_from_the_message() -> None:
    err = error_from_envelope({"code": "x", "message": "no (request id: rid-9)"}, None)
    assert err.request_id == "rid-9"
    assert err.message == "no (request id: rid-9)"


# -- error_from_event: typed by the status it carries -------------------------------------------


@pytest.mark.parametrize(
    ("payload", "cls", "status"),
    [
        ({"error": {"message": "m", "status": 400}}, errors.BadRequestError, 400),
        ({"error": {"message": "m", "status": 429}}, errors.RateLimitError, 429),
        ({"error": {"message": "m", "status": 418}}, errors.APIStatusError, 418),
        ({"error": {"message": "m", "status": 500}}, errors.ServerError, 500),
        ({"error": {"message": "m", "status": 501}}, errors.ServerError, 501),
        ({"error": {"message": "m", "status": 599}}, errors.ServerError, 599),
        ({"error": {"message": "m", "status_code": 503}}, errors.ServerError, 503),
        ({"message": "m", "status": 401}, errors.AuthenticationError, 401),
        ({"message": "m", "status_code": 404}, errors.NotFoundError, 404),
        # the outer status wins over the inner one
        ({"status": 503, "error": {"message": "m", "status": 400}}, errors.ServerError, 503),
    ],
)
def test_an_error_event_with_a_status_is_typed(
    payload: dict[str, Any], cls: type[errors.APIStatusError], status: int
) -> None:
    err = error_from_event(payload, "rid-1")
    assert type(err) is cls
    assert isinstance(err, errors.APIStatusError)
    assert (err.status, err.message, err.request_id, err.body) == (status, "m", "rid-1", payload)


def test_an_error_event_keeps_code_and_type() -> None:
    payload = {"error": {"message": "m", "type": "upstream_error", "code": "c", "status": 502}}
    err = error_from_event(payload, None)
    assert isinstance(err, errors.ServerError)
    assert (err.code, err.type) == ("c", "upstream_error")


@pytest.mark.parametrize("status", [None, 200, 399, 600, 1000])
def test_an_error_event_without_an_error_status_is_a_plain_api_error(status: int | None) -> None:
    payload = {"error": {"message": "m", "type": "t", "code": "c", "status": status}}
    err = error_from_event(payload, "rid-2")
    assert type(err) is errors.APIError
    assert (err.message, err.code, err.request_id, err.body) == ("m", "c", "rid-2", payload)


def test_an_error_event_takes_its_request_id_from_the_message() -> None:
    err = error_from_event({"error": {"message": "m (request id: rid-3)"}}, None)
    assert err.request_id == "rid-3"
    assert error_from_event({"error": {"message": "m (request id: x)"}}, "given").request_id == (
        "given"
    )


@pytest.mark.parametrize("payload", ["boom", ["a", "b"], 7, {}])
def test_an_error_event_of_any_shape_is_an_api_error(payload: Any) -> None:
    err = error_from_event(payload, None)
    assert isinstance(err, errors.APIError)
    assert err.message  # never empty
    assert "XXXX" not in err.message
    assert err.body == payload


def test_errors_keep_their_arguments() -> None:
    err = errors.APIConnectionError("cut", request_sent=True, request_id="r", code="c", body="b")
    assert err.args == ("cut",)
    assert (err.request_sent, err.request_id, err.code, err.body) == (True, "r", "c", "b")
    assert errors.APIError("boom").args == ("boom",)


def test_a_message_object_that_is_not_json_reads_as_text() -> None:
    """``client.tasks.read`` hands a user's object (parsed by their web framework, which may
    give ``Decimal`` numbers) to the envelope check: its failure message still reads."""
    body = {"code": "fail", "message": {"cost": Decimal("1.5")}, "data": None}
    assert error_from_envelope(body, None).message == '{"cost": "1.5"}'


def test_an_uncertain_submission_says_the_request_was_sent() -> None:
    err = errors.SubmissionUncertainError("maybe billed", status=502)
    assert (err.request_sent, err.status) == (True, 502)
    assert errors.SubmissionUncertainError("x", request_sent=None).request_sent is None


# -- every body shape the gateway family sends: message, code, type ---------------------------


@pytest.mark.parametrize(
    ("body", "message", "code", "type_"),
    [
        ({"error": "plain string", "code": "c", "type": "t"}, "plain string", "c", "t"),
        ({"error": "", "message": "the real one", "code": 7}, "the real one", 7, None),
        ({"description": "d", "type": "upstream_error", "code": 4}, "d", 4, "upstream_error"),
        ({"msg": "from msg", "code": 7}, "from msg", 7, None),
        ({"message": "", "msg": "from msg"}, "from msg", None, None),
        ({"detail": "not found"}, "not found", None, None),
        ({"detail": {"detail": "inner detail"}}, "inner detail", None, None),
        ({"detail": {"description": "quota used up", "code": "q"}}, "quota used up", "q", None),
        ({"detail": [{"description": "a"}, {"detail": "b"}]}, "a; b", None, None),
        ({"detail": {"error": "inner error"}}, "inner error", None, None),
        ({"detail": [{"loc": "body", "msg": "bad"}]}, "bad", None, None),  # loc not a list
        ({"detail": [{"loc": [], "msg": "bad"}]}, "bad", None, None),
        ({"detail": {"reason": "été"}}, '{"reason": "été"}', None, None),  # no known key
        ({"error": {"message": 42, "type": "", "code": "c"}}, "42", "c", None),
        ({"error": {"message": "m", "type": 3}}, "m", None, "3"),
    ],
)
def test_body_shapes(body: Any, message: str, code: Any, type_: str | None) -> None:
    err = error_from_response(400, {}, json.dumps(body).encode())
    assert (err.message, err.code, err.type) == (message, code, type_)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (b"<!DOCTYPE html><html><head><TITLE>502 Bad Gateway</TITLE></head></html>",
         "502 Bad Gateway"),
        (b"  <html><title>\n  504 Gateway\nTime-out\n</title></html>", "504 Gateway\nTime-out"),
        (b"<html><body>nginx</body></html>", "HTML error page"),
        (b"<!doctype html><p>no title</p>", "HTML error page"),
    ],
)  # fmt: skip
def test_html_pages_read_as_their_title(page: bytes, message: str) -> None:
    err = error_from_response(502, {"Content-Type": "text/html"}, page)
    assert err.message == message


def test_a_plain_text_body_is_the_message_cut_at_500_characters() -> None:
    assert error_from_response(502, {}, b"  upstream timeout \n").message == "upstream timeout"
    assert error_from_response(502, {}, b"x" * 600).message == "x" * 500
