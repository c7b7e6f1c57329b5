"""Long-running jobs: one handle type, one poller, for every task family.

A family contributes a small ``TaskKind`` (how to query one id, optionally many ids at once, how
to read state and progress from its status, how to cancel). Everything else is shared, once:
back-off with jitter, deadlines, cancellation, and the client's scheduler
(``client.tasks.scheduler``), which polls every waiting handle from a single driver task and
folds handles of a family into batch queries where the API has one. A waiting handle costs a
future and a heap entry, not a coroutine.
"""

from __future__ import annotations

from ._exports import publish
from ._task_handle import TaskHandle, TaskNotSucceeded, TaskOutcome, Tasks, TaskSucceeded
from ._task_kind import MediaFile, PollPolicy, TaskKind, TaskSnapshot, TaskState, state_from_text

__all__ = [
    "MediaFile",
    "PollPolicy",
    "TaskHandle",
    "TaskKind",
    "TaskNotSucceeded",
    "TaskOutcome",
    "TaskSnapshot",
    "TaskState",
    "TaskSucceeded",
    "Tasks",
    "state_from_text",
]

publish(__name__, globals(), __all__)
