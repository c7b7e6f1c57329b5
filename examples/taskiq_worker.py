"""Workers on several machines with taskiq and Redis: each job is submitted once, even when the
worker that took it dies (its job is handed to another worker, which resumes it by ref).

Needs ``pip install 'api4gpt-async[taskiq]'``. With Redis (``API4GPT_REDIS_URL``):

    cd examples && taskiq worker taskiq_worker:broker     # as many workers as you like
    python examples/taskiq_worker.py                      # sends the jobs, prints each result

Without ``API4GPT_REDIS_URL`` it runs the same task on taskiq's in-memory broker with a SQLite
journal, offline against the built-in emulator (or the real service when API4GPT_API_KEY is
set, billed there).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker

from api4gpt_async import AsyncAPI4GPT, PollPolicy
from api4gpt_async.integrations.taskiq import api4gpt_tasks

REDIS_URL = os.environ.get("API4GPT_REDIS_URL")
MEDIA = Path("taskiq-media")

JOBS = [
    {"family": "luma", "op": "generate", "params": {"prompt": p}, "key": f"demo-{i}"}
    for i, p in enumerate(
        ["a lighthouse in a storm", "a fox in fresh snow", "a kite over the dunes"]
    )
]

if REDIS_URL:
    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    # A message whose worker died is handed to another after one idle minute.
    broker: AsyncBroker = RedisStreamBroker(REDIS_URL, idle_timeout=60_000).with_result_backend(
        RedisAsyncResultBackend(REDIS_URL)
    )
    run_job = api4gpt_tasks(broker, journal=REDIS_URL, media=MEDIA)


async def send(broker: AsyncBroker, task: Any) -> int:
    """Send every job, then print each one's result row as it comes."""
    await broker.startup()
    try:
        sent = [await task.kiq(job) for job in JOBS]
        failures = 0
        for job, waiting in zip(JOBS, sent, strict=True):
            result = await waiting.wait_result(timeout=600)
            row = result.return_value
            print(f"{job['key']}: {row['status']} {row['files'] or row['error'] or ''}")
            failures += row["status"] != "succeeded"
        return failures
    finally:
        await broker.shutdown()


async def offline() -> int:
    """The same task on the in-memory broker, against the emulator unless a key is set."""
    from api4gpt_async.testing import Emulator

    async with Emulator(time_scale=10) as emu:
        poll = PollPolicy(initial_delay=0.1, max_delay=0.3, timeout=60)

        def client() -> AsyncAPI4GPT:
            return AsyncAPI4GPT() if os.environ.get("API4GPT_API_KEY") else emu.client(poll=poll)

        with tempfile.TemporaryDirectory() as folder:
            memory = InMemoryBroker()
            journal = Path(folder) / "journal.sqlite3"
            task = api4gpt_tasks(memory, journal=journal, client=client, media=MEDIA)
            failures = await send(memory, task)
            # Sent again: every job is answered from the journal, nothing is submitted twice.
            await send(memory, task)
            print(f"submits received: {emu.count('luma.generate')} for {len(JOBS)} jobs")
    return failures


async def main() -> int:
    failures = await send(broker, run_job) if REDIS_URL else await offline()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
