"""taskiq workers that submit each job once and wait for it (``pip install
'api4gpt-async[taskiq]'``: taskiq and taskiq-redis).

```python
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker
from api4gpt_async.integrations.taskiq import api4gpt_tasks

broker = RedisStreamBroker(REDIS_URL, idle_timeout=60_000).with_result_backend(
    RedisAsyncResultBackend(REDIS_URL)
)
run_job = api4gpt_tasks(broker, journal=REDIS_URL, media="media/")

# anywhere: one job, in the batch runner's job format; the result is its result row
task = await run_job.kiq({"family": "luma", "op": "generate", "params": {"prompt": "..."}})
row = (await task.wait_result()).return_value  # {"status": "succeeded", "ref": ..., ...}
```

Run workers with ``taskiq worker yourmodule:broker``. Each job goes through the Redis journal
(:class:`~api4gpt_async.journal.RedisJournal`) shared by every worker: its intent is written
before the submit and its ref after. A job delivered again after its worker died (taskiq-redis's
``RedisStreamBroker`` hands unacknowledged messages to another worker once they have been idle
``idle_timeout`` ms; note that it looks for them when it fetches new messages) is resumed
through its ref, never submitted again; a job whose submit was cut off ends ``uncertain``
unless ``resubmit_uncertain=True``. Give jobs a ``key`` (default: a hash of the job).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, TaskiqEvents, TaskiqState

from .._batch import run_job as _run_job
from .._client import AsyncAPI4GPT
from .._journal import Journal, open_journal
from ..tasks import PollPolicy

__all__ = ["api4gpt_tasks"]

#: The registered task: ``await run_job.kiq(job)``; its result is the job's result row.
JobTask = AsyncTaskiqDecoratedTask[[dict[str, Any]], Any]


def api4gpt_tasks(
    broker: AsyncBroker,
    *,
    journal: str | os.PathLike[str] | Callable[[], Journal],
    client: Callable[[], AsyncAPI4GPT] = AsyncAPI4GPT,
    media: str | os.PathLike[str] | None = None,
    resubmit_uncertain: bool = False,
    timeout: float | None = None,
    poll: PollPolicy | None = None,
    task_name: str = "api4gpt_async.run_job",
) -> JobTask:
    """Register the ``run_job`` task on ``broker`` and return it.

    ``journal``: a ``redis://`` URL (or, for a single worker, a SQLite path), or a factory of
    a :class:`~api4gpt_async.journal.Journal`. ``client``: a factory of the worker's client
    (default ``AsyncAPI4GPT()``, configured from ``API4GPT_API_KEY`` / ``API4GPT_BASE_URL``).
    Each worker process makes one client and one journal on its first job and closes them at
    shutdown. ``media``: a folder for each finished job's media. ``timeout`` bounds each
    job's wait; ``poll`` overrides the client's polling.

    The task takes one job object ``{"family", "op", "params", "key"}`` and returns its
    result row (``status``, ``ref``, ``files``, ``error``...); an invalid job raises
    ``ValueError`` before anything is sent.
    """
    worker = _Worker(journal=journal, client=client)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, worker.shutdown)

    @broker.task(task_name=task_name)
    async def run_job(job: dict[str, Any]) -> dict[str, Any]:
        api, store = worker.open()
        return await _run_job(
            api,
            job,
            journal=store,
            media=media,
            resubmit_uncertain=resubmit_uncertain,
            timeout=timeout,
            poll=poll,
        )

    return run_job


class _Worker:
    """The client and journal of one worker process, made on first use."""

    def __init__(
        self,
        *,
        journal: str | os.PathLike[str] | Callable[[], Journal],
        client: Callable[[], AsyncAPI4GPT],
    ) -> None:
        self._make_journal = journal
        self._make_client = client
        self._client: AsyncAPI4GPT | None = None
        self._journal: Journal | None = None

    def open(self) -> tuple[AsyncAPI4GPT, Journal]:
        if self._client is None:
            self._client = self._make_client()
        if self._journal is None:
            make = self._make_journal
            self._journal = make() if callable(make) else open_journal(make)
        return self._client, self._journal

    async def shutdown(self, state: TaskiqState) -> None:
        client, self._client = self._client, None
        journal, self._journal = self._journal, None
        if client is not None:
            await client.aclose()
        if journal is not None:
            await journal.aclose()
