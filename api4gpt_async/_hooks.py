"""Hooks: plain callbacks for metrics and tracing, called inline by the client.

They see every HTTP attempt, every retry and every change of a job's state or progress.
Keep them quick (they run on the event loop); an exception in a hook is logged and
swallowed, so observing can never break a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from .errors import APIError
    from .tasks import TaskSnapshot

__all__ = ["Hooks", "RequestEvent", "RetryEvent", "call_hook"]

logger = logging.getLogger("api4gpt_async")

E = TypeVar("E")


@attrs.frozen(kw_only=True)
class RequestEvent:
    """One HTTP attempt, as it ended: with a status, or with the error that stopped it."""

    method: str
    url: str
    attempt: int
    status: int | None
    request_id: str | None
    elapsed: float
    error: APIError | None = None


@attrs.frozen(kw_only=True)
class RetryEvent:
    """A retry about to happen, ``delay`` seconds from now, because of ``error``."""

    method: str
    url: str
    retry: int
    delay: float
    error: APIError


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks for ``AsyncAPI4GPT(hooks=Hooks(...))``; any of them may be left out."""

    on_request: Callable[[RequestEvent], None] | None = None
    on_retry: Callable[[RetryEvent], None] | None = None
    on_task_update: Callable[[TaskSnapshot[Any]], None] | None = None


def call_hook(hook: Callable[[E], None], event: E) -> None:
    """Call one hook; its failure is logged, never raised."""
    try:
        hook(event)
    except Exception:
        logger.exception("an api4gpt_async hook failed (%r); continuing", hook)
