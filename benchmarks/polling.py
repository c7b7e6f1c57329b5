"""Memory and requests of many waiting jobs: the PollScheduler against one task per job.

DESIGN promises that thousands of waiting handles cost "a few requests per tick and a few KB
each, not a coroutine storm". This measures it. N jobs wait at once, each way:

- ``sdk gather``: ``await client.tasks.gather(handles)``. One driver task polls every handle.
  Waiting costs a future and a heap entry, and a family with a batch query (here 50 ids per
  request, like Midjourney's list-by-condition or Suno's batch fetch) is polled in batches.
- ``naive tasks``: what people write by hand. One ``asyncio`` task per job, each sleeping and
  polling on its own, one request per job per tick.

The status query is an in-memory stand-in (a TaskKind that counts calls), so what is measured
is the waiting machinery itself, not HTTP. Memory is ``tracemalloc``'s view of the Python heap
while every job is waiting, divided by N; a round is one status per job; CPU is the process's
time over ten rounds, per status polled. Prints a table; writes JSON.

    python benchmarks/polling.py                  # N = 1,000 and 10,000
    python benchmarks/polling.py --quick          # N = 500, for CI
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
import tracemalloc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api4gpt_async import AsyncAPI4GPT, PollPolicy, TaskState
from api4gpt_async.tasks import TaskKind, TaskSnapshot

BATCH = 50
TICK = 0.02  # seconds between polls: short, so the run is quick
POLICY = PollPolicy(initial_delay=TICK, multiplier=1.0, max_delay=TICK, jitter=0, timeout=600)


class CountingKind(TaskKind[str, str]):
    """Jobs that run until ``finished`` is set; counts the status requests it answers."""

    name = "bench"
    batch_size = BATCH

    def __init__(self) -> None:
        super().__init__(transport=None)  # type: ignore[arg-type]
        self.finished = False
        self.requests = 0
        self.polls = 0  # job statuses answered: N of them make one round

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> str:
        self.requests += 1
        self.polls += 1
        return "done" if self.finished else "running"

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, str]:
        self.requests += 1
        self.polls += len(task_ids)
        status = "done" if self.finished else "running"
        return dict.fromkeys(task_ids, status)

    def snapshot(self, task_id: str, status: str) -> TaskSnapshot[str]:
        state = TaskState.SUCCEEDED if status == "done" else TaskState.RUNNING
        return TaskSnapshot(id=task_id, kind=self.name, state=state, raw=status)

    def result(self, status: str) -> str:
        return status


async def sdk_gather(n: int) -> dict[str, float]:
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9", poll=POLICY) as client:
        kind = CountingKind()
        client.tasks.register(kind)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        handles = [client.tasks.resume({"kind": "bench", "id": f"job-{i}"}) for i in range(n)]
        waiter = asyncio.ensure_future(client.tasks.gather(handles))
        while client.tasks.scheduler.waiting < n:
            await asyncio.sleep(TICK)
        await asyncio.sleep(TICK * 3)  # a few ticks with everyone waiting
        memory = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
        figures = await _window(kind, n)
        kind.finished = True
        results = await waiter
        assert len(results) == n
    return {"bytes_per_job": memory / n, **figures}


async def naive_tasks(n: int) -> dict[str, float]:
    kind = CountingKind()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]

    async def poll_one(task_id: str) -> str:
        while True:
            await asyncio.sleep(TICK)
            status = await kind.fetch(task_id)
            if status == "done":
                return status

    tasks = [asyncio.ensure_future(poll_one(f"job-{i}")) for i in range(n)]
    await asyncio.sleep(TICK * 3)
    memory = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    figures = await _window(kind, n)
    kind.finished = True
    assert len(await asyncio.gather(*tasks)) == n
    return {"bytes_per_job": memory / n, **figures}


async def _window(kind: CountingKind, n: int, rounds: int = 10) -> dict[str, float]:
    """Watch ``rounds`` poll rounds: requests per round, and client CPU per job polled."""
    requests, polls, cpu = kind.requests, kind.polls, time.process_time()
    while kind.polls - polls < rounds * n:
        await asyncio.sleep(TICK)
    done_polls = kind.polls - polls
    return {
        "requests_per_round": (kind.requests - requests) / (done_polls / n),
        "cpu_us_per_job_poll": (time.process_time() - cpu) / done_polls * 1e6,
    }


async def run(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        for name, measure in (("sdk gather", sdk_gather), ("naive tasks", naive_tasks)):
            figures = await measure(n)
            rows.append({"approach": name, "jobs": n, **figures})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small size, for CI")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/polling.json"))
    args = parser.parse_args()
    sizes = [500] if args.quick else [1_000, 10_000]
    rows = asyncio.run(run(sizes))

    print(
        f"{'approach':<12} {'jobs':>7} {'KB per waiting job':>19} {'requests per round':>19}"
        f" {'CPU µs per job poll':>20}"
    )
    for row in rows:
        print(
            f"{row['approach']:<12} {row['jobs']:>7,} {row['bytes_per_job'] / 1024:>19.2f}"
            f" {row['requests_per_round']:>19.1f} {row['cpu_us_per_job_poll']:>20.1f}"
        )
    for n in sizes:
        sdk, naive = (next(r for r in rows if r["jobs"] == n and r["approach"] == a)
                      for a in ("sdk gather", "naive tasks"))  # fmt: skip
        print(
            f"N={n:,}: against one task per job, the scheduler uses"
            f" {sdk['bytes_per_job'] / naive['bytes_per_job']:.2f}x the memory,"
            f" {sdk['requests_per_round'] / naive['requests_per_round']:.3f}x the requests and"
            f" {sdk['cpu_us_per_job_poll'] / naive['cpu_us_per_job_poll']:.2f}x the CPU"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "benchmark": "memory and requests of waiting jobs",
                "python": platform.python_version(),
                "batch_size": BATCH,
                "tick_seconds": TICK,
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
