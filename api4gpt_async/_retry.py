"""When to try a request again, and how long to wait first.

The decisions live here as plain functions so that the transport's loop stays short and
the rules can be read (and tested) in one place.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

import attrs

from .errors import APIConnectionError, APIStatusError, NotFoundError, ResponseDecodeError

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "is_retryable_status",
    "is_transient",
    "parse_retry_after",
]

#: Statuses that say "try again later" for requests that are safe to repeat.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def is_retryable_status(error: BaseException) -> bool:
    """An error status that says "try again later" (429, 5xx…), however it arrived: as the
    HTTP status or as the numeric code of an error inside a 200. A ``NotFoundError`` never is
    (``model_not_found`` comes as a 503 but asking again cannot help)."""
    return (
        isinstance(error, APIStatusError)
        and error.status in RETRYABLE_STATUSES
        and not isinstance(error, NotFoundError)
    )


def is_transient(error: BaseException) -> bool:
    """Whether a failed *status query* only delays the next poll.

    A status query is idempotent, so any failure to read its answer is transient: no
    connection or a cut one, a timeout, an unreadable or unexpected body, or a retryable
    status (also as the code of an error object inside a 200). Anything else (404,
    ``task_not_exist``, 401…) ends the wait.
    """
    if isinstance(error, (APIConnectionError, ResponseDecodeError)):
        return True
    return is_retryable_status(error)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a failed request is retried.

    ``max_retries`` counts retries, not attempts. Waits are full-jitter exponential between
    ``initial_delay`` and ``max_delay``; a server's ``Retry-After`` replaces the computed wait
    unless it asks for more than ``max_retry_after`` seconds, in which case the error is raised.
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_delay: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """No retries at all: every failure is raised at once."""
        return cls(max_retries=0)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential wait before retry ``retry_number`` (1-based)."""
        ceiling = min(self.max_delay, self.initial_delay * (2 ** (retry_number - 1)))
        return random.uniform(0, ceiling)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, else ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date. Unreadable values count as absent.
    """
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
