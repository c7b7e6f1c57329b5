"""Nothing lost under faults: N jobs across every family through a fault-injecting proxy.

The emulator serves; ``ChaosProxy`` sits in front of it and spoils a seeded share of every
request (``--rate``, 5 % by default): HTML 5xx pages before and after forwarding, 429 with
``Retry-After``, drops before and after forwarding, truncated and malformed bodies, invalid
HTTP, answers past the timeout, ``: PING`` stalls on streams, downloads cut short. One client
runs N *intents* spread evenly over every workload (each task family, chats, streams): submit,
wait, download (task families), or read the answer / the whole stream.

Each intent carries a marker in its prompt and is matched against the emulator's request log
(``api4gpt_async.testing._workloads``): it ends *done*, *failed* (typed, after acceptance),
*refused* (typed, never accepted), *uncertain* (``SubmissionUncertainError``), or *lost* (the
server accepted it, the client has nothing for it). Prints::

    N jobs, L lost, D double-submits, X leaked tasks, W warnings, K key-leaks

and exits non-zero unless L = D = X = W = K = 0 (and no error escaped untyped).
D counts intents the log shows accepted twice; X asyncio tasks of the SDK still alive after
the client closed; W warnings (``warnings`` and the loop's exception handler); K errors or log
records where the API key can be read (repr, str, args, ``__dict__``, cause chain, traceback).

    python benchmarks/chaos.py                  # 2,000 jobs
    python benchmarks/chaos.py --jobs 200       # the CI smoke size
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import platform
import secrets
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api4gpt_async import (
    API4GPTError,
    AsyncAPI4GPT,
    PollPolicy,
    RetryPolicy,
    TaskFailedError,
)
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._chaos import ALL_FAULTS, ChaosProxy
from api4gpt_async.testing._workloads import (
    WORKLOADS,
    Attempt,
    Workload,
    accepted_by_marker,
    key_leaks,
    marker_of,
    perform,
)

TIMEOUT = 2.0  # a call's deadline; the proxy's slow answers and stalls outlast it
WAIT = 120.0  # a job's wait timeout
FAIL_EVERY = 20  # one intent in this many asks its job to fail


class Intent:
    """One piece of work, its marker, and (once run) its ``Attempt``."""

    __slots__ = ("attempt", "expected_failure", "number", "workload")

    def __init__(self, number: int, workload: Workload, round_: int) -> None:
        self.number = number
        self.workload = workload
        self.expected_failure = workload.can_fail and round_ % FAIL_EVERY == FAIL_EVERY - 1
        self.attempt = Attempt(workload=workload)

    @property
    def marker(self) -> str:
        return marker_of(self.number)

    @property
    def prompt(self) -> str:
        words = f"{Emulator.FAIL} please" if self.expected_failure else "a calm sea at dawn"
        return f"{self.marker} {words}"


async def run_intent(client: AsyncAPI4GPT, intent: Intent, folder: Path) -> None:
    intent.attempt = await perform(
        client,
        intent.workload,
        intent.prompt,
        folder=folder / intent.marker,
        wait_timeout=WAIT,
        download_timeout=30,
    )


# -- leak checks -----------------------------------------------------------------------------


class RecordingHandler(logging.Handler):
    """Keeps every log record's formatted text (exception text included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Live asyncio tasks running SDK code (the emulator and the proxy excluded)."""
    alive = []
    for task in asyncio.all_tasks():
        if task.done() or task is asyncio.current_task():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        filename = code.co_filename if code is not None else ""
        sdk_code = "api4gpt_async" in filename and "testing" not in filename
        if sdk_code or task.get_name().startswith("api4gpt_async"):
            alive.append(task)
    return alive


# -- the run ---------------------------------------------------------------------------------


async def chaos(
    *, jobs: int, rate: float, seed: int, concurrency: int, workloads: tuple[Workload, ...]
) -> dict[str, Any]:
    key = "sk-chaos-" + secrets.token_hex(12)
    loop = asyncio.get_running_loop()
    complaints: list[str] = []
    loop.set_exception_handler(
        lambda _loop, context: complaints.append(str(context.get("message") or context))
    )
    records = RecordingHandler()
    root = logging.getLogger()
    root.addHandler(records)
    sdk_logger = logging.getLogger("api4gpt_async")
    old_level = sdk_logger.level
    sdk_logger.setLevel(logging.DEBUG)
    intents = [Intent(n, workloads[n % len(workloads)], n // len(workloads)) for n in range(jobs)]
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with (
                Emulator(api_key=key, time_scale=40) as emu,
                ChaosProxy(emu.base_url, rate=rate, seed=seed, slow=TIMEOUT + 1.0) as proxy,
            ):
                client = AsyncAPI4GPT(
                    api_key=key,
                    base_url=proxy.base_url,
                    timeout=TIMEOUT,
                    retry=RetryPolicy(max_retries=3, initial_delay=0.02, max_delay=0.2),
                    poll=PollPolicy(
                        initial_delay=0.05, multiplier=1.5, max_delay=0.3, jitter=0.2, timeout=WAIT
                    ),
                    max_connections=concurrency,
                )
                limit = asyncio.Semaphore(concurrency)

                async def bounded(intent: Intent, folder: Path) -> None:
                    async with limit:
                        await run_intent(client, intent, folder)

                with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
                    try:
                        async with asyncio.TaskGroup() as group:
                            for intent in intents:
                                group.create_task(bounded(intent, Path(tmp)))
                    finally:
                        await client.aclose()
                for _ in range(3):
                    await asyncio.sleep(0)
                leaked = [repr(task) for task in sdk_tasks()]
                accepted = accepted_by_marker(emu.requests, workloads)
                injected = dict(proxy.injected)
                proxied = proxy.requests
            gc.collect()
            warning_texts = [f"{w.category.__name__}: {w.message}" for w in caught]
    finally:
        root.removeHandler(records)
        sdk_logger.setLevel(old_level)
        loop.set_exception_handler(None)
    elapsed = time.perf_counter() - started

    outcomes: Counter[str] = Counter()
    by_family: dict[str, Counter[str]] = {}
    lost: list[dict[str, Any]] = []
    doubles: list[str] = []
    untyped: list[str] = []
    leaks: list[str] = []
    unexpected_failures: Counter[str] = Counter()
    for intent in intents:
        count = accepted.get(intent.marker, 0)
        outcome = intent.attempt.outcome(count)
        outcomes[outcome] += 1
        by_family.setdefault(intent.workload.name, Counter())[outcome] += 1
        if count > 1:
            doubles.append(intent.marker)
        error = intent.attempt.error
        if outcome == "lost":
            lost.append(
                {
                    "marker": intent.marker,
                    "family": intent.workload.name,
                    "error": f"{type(error).__name__}: {error}" if error else None,
                }
            )
        if (
            outcome == "failed"
            and error is not None
            and not (intent.expected_failure and isinstance(error, TaskFailedError))
        ):
            unexpected_failures[f"{intent.workload.name}: {type(error).__name__}"] += 1
        if error is not None and not isinstance(error, API4GPTError):
            untyped.append(f"{intent.marker}: {type(error).__name__}: {error}")
        if error is not None:
            leaks += [f"{intent.marker}: {where}" for where in key_leaks(error, key)]
    leaks += [f"log record: {text[:200]}" for text in records.texts if key in text]
    warning_list = warning_texts + complaints

    return {
        "jobs": jobs,
        "lost": len(lost),
        "double_submits": len(doubles),
        "leaked_tasks": len(leaked),
        "warnings": len(warning_list),
        "key_leaks": len(leaks),
        "untyped_errors": len(untyped),
        "outcomes": dict(outcomes),
        "by_family": {name: dict(counts) for name, counts in by_family.items()},
        "unexpected_failures": dict(unexpected_failures),
        "faults_injected": injected,
        "requests_proxied": proxied,
        "rate": rate,
        "seed": seed,
        "concurrency": concurrency,
        "elapsed_seconds": round(elapsed, 2),
        "details": {
            "lost": lost[:50],
            "double_submits": doubles[:50],
            "leaked_tasks": leaked[:20],
            "warnings": warning_list[:20],
            "key_leaks": leaks[:20],
            "untyped_errors": untyped[:20],
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }


def report(result: dict[str, Any]) -> str:
    o = result["outcomes"]
    lines = [
        f"{result['jobs']} jobs, {result['lost']} lost, {result['double_submits']} "
        f"double-submits, {result['leaked_tasks']} leaked tasks, {result['warnings']} "
        f"warnings, {result['key_leaks']} key-leaks",
        f"outcomes: {o.get('done', 0)} done, {o.get('failed', 0)} failed, "
        f"{o.get('refused', 0)} refused, {o.get('uncertain', 0)} uncertain, "
        f"{o.get('lost', 0)} lost; {result['untyped_errors']} untyped errors",
        f"{result['requests_proxied']} requests through the proxy at "
        f"{result['rate']:.0%} faults in {result['elapsed_seconds']} s: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result["faults_injected"].items())),
    ]
    for family, counts in result["by_family"].items():
        lines.append(f"  {family:<14} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if result["unexpected_failures"]:
        lines.append(
            "failed after acceptance: "
            + ", ".join(f"{k} {v}" for k, v in sorted(result["unexpected_failures"].items()))
        )
    for name, items in result["details"].items():
        for item in items[:5]:
            lines.append(f"  {name}: {item}")
    return "\n".join(lines)


def passed(result: dict[str, Any]) -> bool:
    return not any(
        result[name]
        for name in (
            "lost",
            "double_submits",
            "leaked_tasks",
            "warnings",
            "key_leaks",
            "untyped_errors",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="intents to run (default 2000)")
    parser.add_argument("--rate", type=float, default=0.05, help="share of requests faulted")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument(
        "--family",
        action="append",
        choices=[w.name for w in WORKLOADS],
        help="run only these workloads (repeatable; default: every one)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(__file__).parent / "results" / "chaos.json",
        help="results file (default benchmarks/results/chaos.json)",
    )
    args = parser.parse_args(argv)
    workloads = tuple(w for w in WORKLOADS if not args.family or w.name in args.family)
    result = asyncio.run(
        chaos(
            jobs=args.jobs,
            rate=args.rate,
            seed=args.seed,
            concurrency=args.concurrency,
            workloads=workloads,
        )
    )
    result["faults"] = list(ALL_FAULTS)
    print(report(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    ok = passed(result)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
