"""What every task family shares: its states, its snapshots, its poll policy and its contract.

A family contributes a small :class:`TaskKind` (how to query one id, optionally many ids at
once, how to read state and progress from its status, how to cancel, which files a finished job
has). The scheduler (:mod:`._scheduler`) and the handle (:mod:`._task_handle`) do the rest.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from .errors import UnsupportedOperation

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "MediaFile",
    "PollPolicy",
    "TaskKind",
    "TaskSnapshot",
    "TaskState",
    "main_file",
    "state_from_text",
]

logger = logging.getLogger("api4gpt_async")

S = TypeVar("S")  # a family's status model
R = TypeVar("R")  # a family's result


class TaskState(str, enum.Enum):
    """Where a job is, the same words for every family."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:  # "pending", not "TaskState.PENDING", in f-strings and logs
        return self.value

    @property
    def terminal(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


_STATE_WORDS: Mapping[str, TaskState] = {
    **dict.fromkeys(
        ("pending", "queued", "submitted", "not_start", "not_started", "waiting", "created"),
        TaskState.PENDING,
    ),
    **dict.fromkeys(
        ("processing", "dreaming", "in_progress", "running", "streaming", "generating", "started"),
        TaskState.RUNNING,
    ),
    # new-api's UNKNOWN (upstream said something unmapped): it keeps polling, and so do we.
    "unknown": TaskState.RUNNING,
    **dict.fromkeys(
        ("completed", "complete", "success", "succeeded", "succeed", "done", "finished"),
        TaskState.SUCCEEDED,
    ),
    **dict.fromkeys(("failed", "failure", "fail", "error", "errored"), TaskState.FAILED),
    **dict.fromkeys(("cancelled", "canceled", "cancel"), TaskState.CANCELLED),
}
_unknown_states_logged: set[tuple[str, str]] = set()


def state_from_text(value: str | None, *, kind: str) -> TaskState:
    """Map a family's state word to ``TaskState``; an unknown word is logged once, RUNNING."""
    word = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    state = _STATE_WORDS.get(word)
    if state is None:
        if (kind, word) not in _unknown_states_logged:
            _unknown_states_logged.add((kind, word))
            logger.warning("unknown %s task state %r, treated as running", kind, value)
        return TaskState.RUNNING
    return state


@attrs.frozen(kw_only=True)
class TaskSnapshot(Generic[S]):
    """One observation of a job. ``raw`` is the family's typed status model."""

    id: str
    kind: str
    state: TaskState
    raw: S
    progress: float | None = None
    eta_seconds: float | None = None
    failure_reason: str | None = None
    needs_action: bool = False

    @property
    def _change_key(self) -> tuple[TaskState, float | None, bool]:
        return (self.state, self.progress, self.needs_action)


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often a waiting job is polled and how long ``wait`` lasts.

    The first poll comes ``initial_delay`` after submit; each next delay grows by ``multiplier``
    up to ``max_delay``, randomised by ±``jitter``. A job's own estimate of the time left
    (``estimate_wait_seconds``) is used instead when it has one, else an estimate from the rate
    its progress rises, kept within ``initial_delay`` and ``max_delay``. ``timeout`` bounds
    ``wait``.
    """

    initial_delay: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=1.5, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=15.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    timeout: float = attrs.field(default=1800.0, validator=attrs.validators.gt(0))

    def next_delay(self, previous: float | None, eta_seconds: float | None = None) -> float:
        """The wait before the next poll, given the previous wait (None before the first)."""
        if eta_seconds is not None and eta_seconds > 0:
            base = min(max(eta_seconds, self.initial_delay), self.max_delay)
        elif previous is None:
            base = self.initial_delay
        else:
            base = min(max(previous, self.initial_delay) * self.multiplier, self.max_delay)
        if self.jitter:
            base *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return base


@attrs.frozen(kw_only=True)
class MediaFile:
    """One file of a finished job, for ``TaskHandle.download_all``.

    ``role`` names it within its job (``"video"``, ``"thumbnail"``, ``"image-2"``…) and
    ``suffix`` is the file extension with its dot (``".mp4"``), or ``""`` to take the URL's.
    """

    url: str
    role: str = "media"
    suffix: str = ""


def main_file(url: str | None) -> list[MediaFile]:
    """The default ``media_urls``: the main media file alone, if the job has one."""
    return [MediaFile(url=url)] if url else []


class TaskKind(Generic[S, R]):
    """What a task family tells the machinery: how to query, read and cancel its jobs.

    Subclasses set ``name`` and implement ``fetch``, ``snapshot`` and ``result``; a family with
    a batch status query sets ``batch_size`` > 1 and implements ``fetch_many``. Families built
    on ``services._task_family.TaskFamily`` get all of this from data and a short ``read``.
    """

    name: str = ""
    batch_size: int = 1

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> S:
        raise NotImplementedError

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, S]:
        """Statuses of many jobs in one request; ids the service omits are left out."""
        raise NotImplementedError

    def snapshot(self, task_id: str, status: S) -> TaskSnapshot[S]:
        raise NotImplementedError

    def parse(self, data: object) -> tuple[str, S]:
        """A status received out of band (a callback's JSON): its job id and typed status.

        Unwraps the family's envelope like a status answer; raises ``APIError`` for an
        envelope that reports a failure and ``ResponseDecodeError`` for a body that is not
        a status of this family.
        """
        raise UnsupportedOperation(f"{self.name} statuses cannot be delivered out of band")

    def result(self, status: S) -> R:
        raise NotImplementedError

    def media_url(self, result: R) -> str | None:
        """The main file of a finished job, for ``TaskHandle.download``."""
        return None

    def media_urls(self, result: R) -> list[MediaFile]:
        """Every file of a finished job, for ``TaskHandle.download_all``; default: the main one."""
        return main_file(self.media_url(result))

    def suggested_input(self, status: S) -> str | None:
        """For a job that ``needs_action``: the input the service suggests, if any."""
        return None

    async def cancel(self, task_id: str) -> None:
        raise UnsupportedOperation(f"{self.name} jobs cannot be cancelled on the service")
