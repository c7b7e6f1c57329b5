"""Status requests per Midjourney task: polling folded into list-by-condition, against one fetch
per task, over HTTP against the emulator.

N imagine tasks are submitted while the emulator's clock stands still, then the clock runs
(``--time-scale`` emulated seconds per real second; a task takes 20 emulated seconds) and the
client waits for all of them with ``client.tasks.gather``, two ways:

- ``batched``: as shipped. The client's one ``PollScheduler`` folds waiting tasks into
  ``POST /mj/task/list-by-condition`` requests of up to 50 ids.
- ``one by one``: the same client and policy, but the emulator refuses list-by-condition (a
  404, as a gateway that does not serve it would), so the scheduler falls back to
  ``GET /mj/task/{id}/fetch`` per task — what polling without a batch query costs. The one
  refused batch request is counted.

Status requests are counted from the emulator's request log. Prints a table; writes JSON.

    python benchmarks/mj_coalescing.py                 # N = 1,000
    python benchmarks/mj_coalescing.py --quick         # N = 200, for CI
    python benchmarks/mj_coalescing.py --json out.json --tasks 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api4gpt_async import PollPolicy
from api4gpt_async.testing import Emulator

#: The client's default policy, in a tenth of the time (the emulator runs faster than life).
POLICY = PollPolicy(initial_delay=0.2, multiplier=1.5, max_delay=1.5, jitter=0.2, timeout=300)
TASK_SECONDS = 20.0
STATUS_ROUTES = ("midjourney.fetch", "midjourney.list_by_condition")
TARGET = 20.0


async def measure(n: int, *, batched: bool, time_scale: float) -> dict[str, Any]:
    async with Emulator(time_scale=0, durations={"midjourney": TASK_SECONDS}) as emu:
        if not batched:
            emu.fail("midjourney.list_by_condition", status=404, body="404 page not found",
                     times=None)  # fmt: skip
        async with emu.client(poll=POLICY, max_connections=100) as client:
            handles = await asyncio.gather(
                *(client.midjourney.imagine(f"a red fox, take {i}") for i in range(n))
            )
            emu.clear_requests()
            started = time.perf_counter()
            emu.time_scale = time_scale
            results = await client.tasks.gather(handles)
            seconds = time.perf_counter() - started
    assert all(r.status == "SUCCESS" for r in results)
    counts = {route: sum(1 for r in emu.requests if r.route == route) for route in STATUS_ROUTES}
    status_requests = sum(counts.values())
    return {
        "approach": "batched" if batched else "one by one",
        "tasks": n,
        "status_requests": status_requests,
        "fetch_requests": counts["midjourney.fetch"],
        "batch_requests": counts["midjourney.list_by_condition"],
        "requests_per_task": status_requests / n,
        "seconds": seconds,
    }


async def run(n: int, time_scale: float) -> list[dict[str, Any]]:
    return [
        await measure(n, batched=True, time_scale=time_scale),
        await measure(n, batched=False, time_scale=time_scale),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 tasks, for CI")
    parser.add_argument("--tasks", type=int, default=None, help="how many tasks (default 1000)")
    parser.add_argument("--time-scale", type=float, default=10.0,
                        help="emulated seconds per real second while waiting")  # fmt: skip
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/mj_coalescing.json"))
    args = parser.parse_args()
    n = args.tasks or (200 if args.quick else 1_000)
    rows = asyncio.run(run(n, args.time_scale))

    print(f"{'approach':<11} {'tasks':>6} {'status requests':>16} {'per task':>9} {'seconds':>8}")
    for row in rows:
        print(
            f"{row['approach']:<11} {row['tasks']:>6,} {row['status_requests']:>16,}"
            f" {row['requests_per_task']:>9.2f} {row['seconds']:>8.1f}"
        )
    batched, single = rows
    ratio = single["requests_per_task"] / batched["requests_per_task"]
    # A quick run is a smoke test: too few tasks for the figure to mean much, so no verdict.
    verdict = (
        "" if args.quick else f" (target {TARGET:g}x): {'PASS' if ratio >= TARGET else 'FAIL'}"
    )
    print(f"batched polling sends {ratio:.1f}x fewer status requests per task{verdict}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "benchmark": "midjourney status requests per task, batched vs one by one",
                "python": platform.python_version(),
                "task_seconds": TASK_SECONDS,
                "time_scale": args.time_scale,
                "poll_policy": {
                    "initial_delay": POLICY.initial_delay,
                    "multiplier": POLICY.multiplier,
                    "max_delay": POLICY.max_delay,
                    "jitter": POLICY.jitter,
                },
                "rows": rows,
                "ratio": ratio,
                "target": TARGET,
                "passed": None if args.quick else ratio >= TARGET,
            },
            indent=2,
        )
    )
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
