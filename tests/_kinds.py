"""Small in-memory task families the scheduler tests share: the contract is the TaskKind."""

from __future__ import annotations

from api4gpt_async import TaskState
from api4gpt_async.tasks import TaskKind, TaskSnapshot


class DoneOrRunning(TaskKind[str, str]):
    """Statuses that read "done" (the job succeeded) or anything else (still running)."""

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        state = TaskState.SUCCEEDED if status == "done" else TaskState.RUNNING
        return TaskSnapshot(id=task_id, kind=self.name, state=state, raw=status)

    def result(self, status: str) -> str:
        return status
