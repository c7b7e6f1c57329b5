"""The task record new-api's task relays answer with (``TaskDto``), for the emulator's families.

Source: new-api ``dto/suno.go`` / ``dto/task.go`` (``TaskDto``) and ``relay/relay_task.go``
(``TaskModel2Dto``): times are unix seconds with ``0`` for "not yet", ``progress`` is text
(``"0%"``…``"100%"``), ``fail_reason`` is ``""`` unless the task failed. The fork API4GPT's
examples match also echoes ``notify_hook``; newer new-api adds the integer row ``id``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

__all__ = [
    "CLOCK_EPOCH",
    "QUEUED_SECONDS",
    "SUBMITTED_SECONDS",
    "TERMINAL",
    "task_record",
    "unix_time",
]

#: The statuses after which a task never changes.
TERMINAL: Final = frozenset({"SUCCESS", "FAILURE"})
#: A new task is ``SUBMITTED`` this long, then ``QUEUED`` until :data:`QUEUED_SECONDS`, then
#: it runs (``IN_PROGRESS``) until its family says it is done.
SUBMITTED_SECONDS: Final = 2.0
QUEUED_SECONDS: Final = 4.0

#: The instant the emulator's clock reads 0: a fixed date, so every run answers the same times.
CLOCK_EPOCH: Final = dt.datetime(2024, 7, 5, 14, 28, 26, tzinfo=dt.timezone.utc)
_EPOCH: Final = CLOCK_EPOCH.timestamp()


def unix_time(at: float | None) -> int:
    """Unix seconds of the emulator instant ``at``; 0 for None (not yet)."""
    return 0 if at is None else int(_EPOCH + at)


def task_record(
    *,
    task_id: str,
    action: str,
    status: str,
    submitted: float,
    started: float | None,
    finished: float | None,
    progress: int,
    data: Any,
    notify_hook: str | None = None,
    fail_reason: str | None = None,
    row: int | None = None,
) -> dict[str, Any]:
    """One task record; instants are emulator-clock seconds (None: not yet)."""
    record: dict[str, Any] = {} if row is None else {"id": row}
    record.update(
        {
            "task_id": task_id,
            "notify_hook": notify_hook or "",
            "action": action,
            "status": status,
            "fail_reason": fail_reason or "",
            "submit_time": unix_time(submitted),
            "start_time": unix_time(started),
            "finish_time": unix_time(finished),
            "progress": f"{progress}%",
            "data": data,
        }
    )
    return record
