"""The task record of new-api's task relays (``TaskDto``), shared by Suno v4 and digital human.

Source: new-api ``dto/suno.go`` / ``dto/task.go`` (``TaskDto``) and ``model/task.go`` (status
list ``NOT_START``, ``SUBMITTED``, ``QUEUED``, ``IN_PROGRESS``, ``SUCCESS``, ``FAILURE``,
``UNKNOWN``). Times are unix seconds with ``0`` for "not yet"; ``progress`` is text such as
``"0%"``. Newer gateways add an integer ``id`` (a database row number, never the task id) and
more bookkeeping fields: they stay in ``raw``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from .._convert import fraction_from_percent
from ._base import Model

__all__ = ["RelayTask", "without_unset_times"]

_TIME_FIELDS = ("submit_time", "start_time", "finish_time")


def without_unset_times(value: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a task record where a ``0`` time (not yet) reads as absent."""
    out = dict(value)
    for name in _TIME_FIELDS:
        if out.get(name) in (0, "0"):
            out[name] = None
    return out


@attrs.frozen(kw_only=True)
class RelayTask(Model):
    """Fields every new-api task record has; families add their payload."""

    task_id: str
    action: str | None = None
    status: str | None = None
    fail_reason: str | None = None
    progress: str | None = None
    submit_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    finish_time: dt.datetime | None = None
    notify_hook: str | None = None

    @property
    def running_progress(self) -> float | None:
        """``progress`` as 0.0–1.0 while the task runs; None when unknown or at "100%" (which
        a record that has not succeeded yet does not mean)."""
        fraction = fraction_from_percent(self.progress)
        return fraction if fraction is not None and fraction < 1.0 else None
