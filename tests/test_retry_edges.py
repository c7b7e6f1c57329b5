"""The retry rules at their edges: clamping, fall-backs between headers, and which errors
count as "try again" (each case pins one decision of ``_retry``)."""

from __future__ import annotations

import email.utils
import time

import pytest

from api4gpt_async import RetryPolicy
from api4gpt_async._retry import is_retryable_status, is_transient, parse_retry_after
from api4gpt_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "0.25"}, 0.25),  # under a second is kept, not rounded up
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-3"}, 0.0),  # a negative wait is no wait
        ({"retry-after-ms": "-100"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),  # unreadable ms: the other one
        ({"retry-after-ms": "", "retry-after": "2"}, 2.0),
        ({"retry-after": ""}, None),
        ({"retry-after": "Mon, 99 Foo 2026 99:99:99 GMT"}, None),
    ],
)
def test_parse_retry_after_edges(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_a_date_in_the_past_is_no_wait() -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now - 60, usegmt=True)
    assert parse_retry_after({"retry-after": header}, now=now) == 0.0


def test_a_date_is_measured_from_the_clock_without_now() -> None:
    header = email.utils.formatdate(time.time() + 100, usegmt=True)
    wait = parse_retry_after({"retry-after": header})
    assert wait is not None and 95 <= wait <= 101


def test_disabled_policy_never_retries() -> None:
    assert RetryPolicy.disabled().max_retries == 0
    assert RetryPolicy.disabled() == RetryPolicy(max_retries=0)


def test_backoff_first_retry_reaches_its_ceiling() -> None:
    policy = RetryPolicy(initial_delay=4.0, max_delay=100.0)
    samples = [policy.backoff(1) for _ in range(300)]
    assert all(0 <= s <= 4.0 for s in samples)
    assert min(samples) < 1.0 and max(samples) > 3.0


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RateLimitError("slow down", status=429), True),
        (ServerError("busy", status=503), True),
        (APIStatusError("conflict", status=409), True),
        (APIStatusError("cloudflare", status=524), True),
        (APIStatusError("bad", status=400), False),
        (AuthenticationError("who", status=401), False),
        (NotFoundError("model_not_found", status=503), False),  # a 503 that asking again can't fix
        (NotFoundError("gone", status=404), False),
        (APIConnectionError("reset"), False),  # not a status at all
        (ValueError("x"), False),
    ],
)
def test_is_retryable_status(error: BaseException, retryable: bool) -> None:
    assert is_retryable_status(error) is retryable


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (APIConnectionError("reset"), True),
        (APITimeoutError("slow"), True),
        (ResponseDecodeError("not json"), True),
        (ServerError("busy", status=502), True),
        (NotFoundError("task_not_exist", status=404), False),
        (AuthenticationError("who", status=401), False),
        (NotFoundError("model_not_found", status=503), False),
        (ValueError("x"), False),
    ],
)
def test_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_backoff_doubles_per_retry_up_to_max_delay() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=100.0)
    third = [policy.backoff(3) for _ in range(300)]  # ceiling 1 * 2**2 = 4
    assert all(0 <= s <= 4.0 for s in third) and max(third) > 3.0
    capped = RetryPolicy(initial_delay=1.0, max_delay=2.0)
    tenth = [capped.backoff(10) for _ in range(300)]  # 512, capped at 2
    assert all(0 <= s <= 2.0 for s in tenth) and max(tenth) > 1.5
