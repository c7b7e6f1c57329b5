"""Waiting at scale: N jobs across the task families, waited for at once, over HTTP.

N jobs (10,000 by default) are submitted to the emulator (in a child process), split evenly
across the task families the SDK and the emulator both have (Luma VIP; Midjourney and Suno as
they land), while its clock stands still; their submit instants are spread over one poll
interval. Then every job is waited for at once through ``client.tasks.as_completed`` with a
fixed poll interval P, and the emulator's clock is driven forward in steps of P/20 in step with
real time, so each job ends on the server at a known instant. Measured:

- **memory per waiting handle**: ``tracemalloc`` heap of this process (the client alone)
  with every handle waiting and polled, minus the heap before the submits, divided by N:
  the handle, its record, its last status and the scheduler's share.
  Target: at most 2 KB.
- **status requests per completed job**, per family, from the emulator's request log; and how
  many job statuses each request carried (a family with a batch query folds them). Target: a
  coalesced family sends at least 20x fewer requests than one fetch per job per poll.
- **detection delay**: from the clock step that ended a job on the server to ``as_completed``
  yielding it, as p50 / p95 / max, and as a fraction of P. Target: p95 at most one P.
- **scheduler CPU per tick**: the scheduler alone, against an in-memory status query (no HTTP,
  as in ``polling.py``): process CPU per poll round of all N jobs, and per job polled.

    python benchmarks/waiting.py                 # N = 10,000
    python benchmarks/waiting.py --quick         # N = 300, for CI
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import RESULTS_DIR, SUBMITTERS, environment, table, write_json
from _emulator_child import EmulatorChild

from api4gpt_async import AsyncAPI4GPT, PollPolicy, TaskHandle
from api4gpt_async.services._task_family import TaskFamily

MEMORY_TARGET_BYTES = 2048
COALESCE_TARGET = 20.0
#: Families waited for (the client attribute); the others are the same service twice (luma).
FAMILIES = ("lumvip", "midjourney", "suno")


def _families(client: Any) -> list[tuple[str, TaskFamily[Any, Any]]]:
    found = [(n, s) for n, s in vars(client).items() if isinstance(s, TaskFamily)]
    return [(n, s) for n, s in found if n in FAMILIES and n in SUBMITTERS]


async def measure(n: int, interval: float | None, top: int = 0) -> dict[str, Any]:
    async with (
        EmulatorChild() as emu,
        AsyncAPI4GPT(api_key=emu.api_key, base_url=emu.base_url, timeout=120) as client,
    ):
        families = _families(client)
        share = [n // len(families) + (i < n % len(families)) for i in range(len(families))]
        if interval is None:
            # P grows with N so that one client process on a small machine decodes every job's
            # status once per P, and the emulator (one process) encodes them, with room to
            # spare: 800 statuses a second. A batch query folds requests, not this work; at
            # 400 requests a second (batches counted as one) both processes were saturated
            # and the delay measured their queues. A real client polls every 2-15 s by
            # default, and a job takes minutes.
            interval = max(0.5, n / 800)
        policy = PollPolicy(
            initial_delay=interval, multiplier=1.0, max_delay=interval, jitter=0, timeout=3600
        )
        spread = interval  # submit instants spread over one poll interval
        duration = spread + 3 * interval  # every job ends after a few polls
        routes = [_status_route(svc) for _, svc in families]
        await emu.call({"op": "durations",
                        "durations": {svc.name: duration for _, svc in families}})  # fmt: skip
        # Warm up (imports, converters, the pool): a few jobs of each family, waited for.
        warm = [await SUBMITTERS[name](svc) for name, svc in families for _ in range(3)]
        await emu.call({"op": "advance", "seconds": duration})
        fast = PollPolicy(initial_delay=0.01, multiplier=1, max_delay=0.01, jitter=0)
        await client.tasks.gather(warm, poll=fast)
        del warm

        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        # Submit in waves while the clock moves through ``spread``.
        ends: list[float] = []  # the emulator instant each job ends, by position
        handles: list[TaskHandle[Any]] = []
        family_of: list[str] = []
        waves = 20
        for wave in range(waves):
            names: list[str] = []
            for (name, _), count in zip(families, share, strict=True):
                names += [name] * (count // waves + (wave < count % waves))
            now = (await emu.call({"op": "now"}))["now"]
            svcs = dict(families)
            handles += await _bounded([SUBMITTERS[name](svcs[name]) for name in names], 64)
            ends += [now + duration] * len(names)
            family_of += names
            await emu.call({"op": "advance", "seconds": spread / waves})
        await emu.call({"op": "clear"})

        # Wait for all; measure memory once every job has been polled about once.
        loop = asyncio.get_running_loop()
        done_at: dict[int, float] = {}

        async def consume() -> None:
            async for outcome in client.tasks.as_completed(handles, poll=policy):
                if outcome.error is not None:
                    raise outcome.error
                done_at[outcome.index] = loop.time()

        consumer = asyncio.ensure_future(consume())
        while sum(c[0] + c[2] for c in await _counts(emu, routes)) < n:
            await asyncio.sleep(interval / 20)
        gc.collect()
        waiting = tracemalloc.take_snapshot()
        tracemalloc.stop()
        memory = _client_bytes(waiting, before)
        # The statuses the handles hold now (running jobs), not the final ones.
        status_by_family = _status_bytes(handles, family_of)
        status_bytes = sum(status_by_family[f] for f in family_of) / n
        for stat in waiting.compare_to(before, "lineno")[:top]:
            print(f"{stat.size_diff / n:8.1f} B/handle  {stat.traceback}", file=sys.stderr)
        del waiting, before

        # Drive the clock in step with real time; note when each step happened.
        steps: list[tuple[float, float]] = []  # (loop time, emulator time after the step)
        step = interval / 20
        while not consumer.done():
            now = (await emu.call({"op": "advance", "seconds": step}))["now"]
            steps.append((loop.time(), now))
            await asyncio.sleep(step)
        await consumer
        delay_of = [done_at[i] - _crossing(steps, end) for i, end in enumerate(ends)]
        delays = sorted(delay_of)
        counts = await _counts(emu, routes)
    requests = {}
    for (name, svc), (singles, batches, ids) in zip(families, counts, strict=True):
        jobs = family_of.count(name)
        sent = singles + batches
        requests[name] = {
            "jobs": jobs,
            "status_requests": sent,
            "requests_per_job": sent / jobs,
            "statuses_polled_per_job": (singles + ids) / jobs,
            # One fetch per job per poll would send ``singles + ids`` requests.
            "coalescing": (singles + ids) / sent if sent else math.nan,
            "batch_size": svc.batch_query.size if svc.batch_query is not None else 1,
        }
    return {
        "jobs": n,
        "families": [name for name, _ in families],
        "poll_interval_s": interval,
        "job_duration_s": duration,
        "bytes_per_waiting_handle": memory / n,
        # Of which the job's last status (model, raw answer, snapshot): the job's data.
        "bytes_of_last_status": status_bytes,
        "bytes_of_last_status_by_family": status_by_family,
        "bytes_of_waiting_machinery": memory / n - status_bytes,
        "requests": requests,
        "detection_delay_s": {
            "p50": statistics.median(delays),
            "p95": _p95(delays),
            "max": delays[-1],
            "p95_by_family": {
                name: _p95(sorted(d for d, f in zip(delay_of, family_of, strict=True) if f == name))
                for name in dict.fromkeys(family_of)
            },
        },
    }


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)]


def _status_route(svc: TaskFamily[Any, Any]) -> list[Any]:
    single = f"{svc.flavour}.{svc.status_query.path}"
    batch = svc.batch_query
    if batch is None:
        return [single, None, "", "GET"]
    return [single, f"{svc.flavour}.{batch.path}", batch.ids_field, batch.method]


async def _counts(emu: EmulatorChild, routes: list[list[Any]]) -> list[list[int]]:
    """Per family: single status requests, batch requests, ids asked for in batches."""
    counts: list[list[int]] = (await emu.call({"op": "statuses", "routes": routes}))["counts"]
    return counts


async def _bounded(coros: list[Any], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


def _status_bytes(handles: list[TaskHandle[Any]], family_of: list[str]) -> dict[str, float]:
    """Heap of one job's last status as a handle holds it (its model, with the answer as
    ``raw``, in a snapshot), per family: decoded again from the same JSON for a sample."""
    from api4gpt_async._convert import structure

    out: dict[str, float] = {}
    for name in dict.fromkeys(family_of):
        sample = [h for h, f in zip(handles, family_of, strict=True) if f == name][:200]
        texts = [json.dumps(h.last.raw.raw) if h.last else "{}" for h in sample]
        tracemalloc.start()
        kept = [
            h._kind.snapshot(h.id, structure(json.loads(text), type(h.last.raw)))
            for h, text in zip(sample, texts, strict=True)
            if h.last is not None
        ]
        count = len(kept)
        gc.collect()
        with_kept = tracemalloc.get_traced_memory()[0]
        del kept  # what the snapshots held, not what decoding left in caches
        gc.collect()
        out[name] = (with_kept - tracemalloc.get_traced_memory()[0]) / max(1, count)
        tracemalloc.stop()
    return out


def _crossing(steps: list[tuple[float, float]], end: float) -> float:
    """The loop time of the first clock step at or past ``end`` (when the job ended)."""
    for at, now in steps:
        if now >= end - 1e-9:
            return at
    raise AssertionError(f"a job ending at {end} finished before the clock reached it")


def _client_bytes(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot) -> int:
    """Heap growth of the client process (the emulator runs in another), but not this
    script's own lists of handles."""
    not_emulator = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        # The benchmark's own bookkeeping (its lists and dicts of handles), not the SDK's.
        tracemalloc.Filter(False, __file__),
        tracemalloc.Filter(False, str(Path(__file__).with_name("_bench.py"))),
    ]
    diff = after.filter_traces(not_emulator).compare_to(
        before.filter_traces(not_emulator), "filename"
    )
    return sum(stat.size_diff for stat in diff)


async def scheduler_cpu(n: int) -> dict[str, float]:
    """The scheduler alone (polling.py's in-memory status query): CPU per poll round."""
    import polling

    figures = await polling.sdk_gather(n)
    return {
        "jobs": n,
        "cpu_ms_per_tick": figures["cpu_us_per_job_poll"] * n / 1000,
        "cpu_us_per_job_poll": figures["cpu_us_per_job_poll"],
        "requests_per_tick": figures["requests_per_round"],
    }


def render(report: dict[str, Any]) -> str:
    run = report["http"]
    interval = run["poll_interval_s"]
    header = ["family", "jobs", "requests/job", "statuses/job", "x fewer than 1 fetch/job"]
    rows = [
        [name, f"{r['jobs']:,}", f"{r['requests_per_job']:.3f}",
         f"{r['statuses_polled_per_job']:.2f}", f"{r['coalescing']:.1f}"]
        for name, r in run["requests"].items()
    ]  # fmt: skip
    delay = run["detection_delay_s"]
    cpu = report["scheduler"]
    t = report["targets"]
    lines = [
        table(header, rows),
        "",
        f"memory per waiting handle: {run['bytes_per_waiting_handle']:,.0f} B, of which the "
        f"job's last status {run['bytes_of_last_status']:,.0f} B and the waiting machinery "
        f"{run['bytes_of_waiting_machinery']:,.0f} B (target ≤ {MEMORY_TARGET_BYTES:,} B: "
        f"{_ok(t['memory'])})",
        f"detection delay (P = {interval:g} s): p50 {delay['p50']:.3f} s, p95 {delay['p95']:.3f} s"
        f" = {delay['p95'] / interval:.2f} P, max {delay['max']:.3f} s "
        f"(target p95 ≤ 1 P: {_ok(t['detection'])}); p95 by family: "
        + ", ".join(f"{f} {v / interval:.2f} P" for f, v in delay["p95_by_family"].items()),
        f"coalesced families ≥ {COALESCE_TARGET:g}x fewer requests: {_ok(t['coalescing'])}",
        f"scheduler CPU per tick ({cpu['jobs']:,} jobs, in-memory status query): "
        f"{cpu['cpu_ms_per_tick']:.1f} ms ({cpu['cpu_us_per_job_poll']:.1f} µs per job polled, "
        f"{cpu['requests_per_tick']:.0f} requests)",
    ]
    if report["config"]["quick"]:
        lines.append("quick run: the targets are shown, not judged")
    return "\n".join(lines)


def _ok(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=None, help="poll interval P, s")
    parser.add_argument("--quick", action="store_true", help="N = 300, for CI")
    parser.add_argument("--top", type=int, default=0, help="print the top allocation sites")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "waiting.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs = 300
    started = time.perf_counter()
    http = asyncio.run(measure(args.jobs, args.interval, args.top))
    interval = http["poll_interval_s"]
    scheduler = asyncio.run(scheduler_cpu(args.jobs))
    coalesced = [r["coalescing"] for r in http["requests"].values() if r["batch_size"] > 1]
    report = {
        "benchmark": "waiting",
        "title": "waiting at scale: memory, status requests and detection delay",
        "environment": environment(),
        "config": {
            "jobs": args.jobs,
            "poll_interval_s": interval,
            "quick": args.quick,
            "seconds": time.perf_counter() - started,
        },
        "http": http,
        "scheduler": scheduler,
        "targets": {
            # The machinery: a job's own status is what the caller asked for, not overhead.
            "memory": http["bytes_of_waiting_machinery"] <= MEMORY_TARGET_BYTES,
            "detection": http["detection_delay_s"]["p95"] <= interval,
            "coalescing": all(c >= COALESCE_TARGET for c in coalesced) if coalesced else None,
        },
    }
    print(render(report))
    write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
