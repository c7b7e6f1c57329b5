"""structlog events from the client's hooks: one line per HTTP attempt, retry and job update.

``structlog_hooks(log)`` gives a ``Hooks`` for ``AsyncAPI4GPT(hooks=...)`` that logs, with
structured fields:

- ``api4gpt.request`` (info; warning when the attempt failed): ``method``, ``url``,
  ``attempt``, ``status``, ``request_id``, ``elapsed_ms`` and ``error``;
- ``api4gpt.retry`` (warning): ``url``, ``retry``, ``delay_s``, ``error``;
- ``api4gpt.task`` (info; error for a job that failed or was cancelled): ``kind``, ``task_id``,
  ``state``, ``progress``, ``eta_s``, ``failure_reason``.

The key is never logged. Needs ``structlog``. ``python examples/structlog_hooks.py`` logs a
chat call with one refused (429) attempt and two Luma jobs against the emulator.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import structlog

from api4gpt_async import Hooks, RequestEvent, RetryEvent, TaskSnapshot, TaskState

try:  # the demo's traffic (examples/_shared.py): not needed when this file is copied alone
    from _shared import observed_traffic
except ImportError:  # pragma: no cover
    observed_traffic = None


def structlog_hooks(log: Any = None) -> Hooks:
    """Hooks that send every event to ``log`` (default: ``structlog.get_logger("api4gpt")``)."""
    logger = log if log is not None else structlog.get_logger("api4gpt")

    def on_request(event: RequestEvent) -> None:
        emit = logger.warning if event.error is not None else logger.info
        emit(
            "api4gpt.request",
            method=event.method,
            url=event.url,
            attempt=event.attempt,
            status=event.status,
            request_id=event.request_id,
            elapsed_ms=round(event.elapsed * 1000, 1),
            error=None if event.error is None else f"{type(event.error).__name__}: {event.error}",
        )

    def on_retry(event: RetryEvent) -> None:
        logger.warning(
            "api4gpt.retry",
            url=event.url,
            retry=event.retry,
            delay_s=round(event.delay, 3),
            error=f"{type(event.error).__name__}: {event.error}",
        )

    def on_task_update(snap: TaskSnapshot[Any]) -> None:
        failed = snap.state in (TaskState.FAILED, TaskState.CANCELLED)
        (logger.error if failed else logger.info)(
            "api4gpt.task",
            kind=snap.kind,
            task_id=snap.id,
            state=snap.state.value,
            progress=snap.progress,
            eta_s=snap.eta_seconds,
            failure_reason=snap.failure_reason,
        )

    return Hooks(on_request=on_request, on_retry=on_retry, on_task_update=on_task_update)


run = observed_traffic  # the tests run it too


async def main() -> int:
    await run(structlog_hooks())
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
