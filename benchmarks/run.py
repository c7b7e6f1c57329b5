"""The performance suite: every benchmark, one command, one headline table.

Runs each benchmark in its own process (so one's memory and event loop never touch
another's), each printing its own table and writing its JSON into ``--json DIR``; then prints
the headline figures of all of them and writes ``DIR/summary.json``.

    python benchmarks/run.py                    # full run (several minutes), figures in results/
    python benchmarks/run.py --quick            # seconds-long smoke pass of every benchmark (CI)
    python benchmarks/run.py --json /tmp/perf   # elsewhere
    python benchmarks/run.py --only overhead waiting

Every figure is a ratio or a count from the same run (see each benchmark's docstring); a
benchmark that fails makes the suite exit 1 after the others have run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import RESULTS_DIR, environment, table, write_json

HERE = Path(__file__).resolve().parent
#: Every benchmark of the suite, in the order they run (a missing file is skipped).
BENCHMARKS = ("overhead", "instructions", "footprint", "waiting", "polling", "mj_coalescing")


def _overhead(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for scenario, cells in report["results"].items():
        sdk = [cells[c]["sdk"]["ratio_vs_raw"] for c in ("1", "64", "512")]
        openai = cells["64"]["openai-python"]
        rows.append([
            f"request cost: {scenario}",
            " / ".join(f"{r:.2f}x" for r in sdk),
            "≤ 1.2x raw aiohttp (c=1 / 64 / 512)",
            f"openai-python {openai['ratio_vs_raw']:.1f}x" if openai["available"] else "",
        ])  # fmt: skip
    return rows


def _instructions(report: dict[str, Any]) -> list[list[str]]:
    if "skipped" in report:
        return [["request cost in instructions", "-", "", f"skipped: {report['skipped']}"]]
    return [
        [f"instructions: {scenario}", f"{cells['ratio']:.2f}x", "≤ 1.2x raw aiohttp",
         f"c={report['concurrency']}, {report['requests']:,} requests"]
        for scenario, cells in report["figures"].items()
    ]  # fmt: skip


def _footprint(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for scenario, got in report["figures"].items():
        raw, sdk = got["raw aiohttp"], got["sdk"]
        rows.append([f"in flight: {scenario}", f"{sdk['bytes'] / raw['bytes']:.2f}x",
                     "", f"{sdk['bytes']:,.0f} B, {sdk['objects']:.0f} objects per request "
                     f"(raw aiohttp {raw['bytes']:,.0f} B)"])  # fmt: skip
    return rows


def _waiting(report: dict[str, Any]) -> list[list[str]]:
    run, cpu = report["http"], report["scheduler"]
    delay = run["detection_delay_s"]
    rows = [
        ["waiting: memory per handle", f"{run['bytes_of_waiting_machinery']:,.0f} B",
         "≤ 2 KB", f"+ {run['bytes_of_last_status']:,.0f} B its last status "
         f"({run['jobs']:,} jobs)"],
        ["waiting: detection delay p95", f"{delay['p95'] / run['poll_interval_s']:.2f} P",
         "≤ 1 P", f"P = {run['poll_interval_s']:g} s"],
        ["waiting: scheduler CPU per tick", f"{cpu['cpu_ms_per_tick']:.0f} ms",
         "", f"{cpu['jobs']:,} jobs, {cpu['cpu_us_per_job_poll']:.1f} µs per job"],
    ]  # fmt: skip
    for name, r in run["requests"].items():
        target = "≥ 20x fewer" if r["batch_size"] > 1 else ""
        rows.append([f"waiting: {name} requests per job", f"{r['requests_per_job']:.3f}",
                     target, f"{r['coalescing']:.1f}x fewer than 1 fetch per job"])  # fmt: skip
    return rows


def _polling(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in report["rows"]:
        if row["approach"] == "sdk gather":
            rows.append([f"polling: {row['jobs']:,} jobs, KB per job",
                         f"{row['bytes_per_job'] / 1024:.2f}", "",
                         f"{row['requests_per_round']:.0f} requests per round"])  # fmt: skip
    return rows


def _mj_coalescing(report: dict[str, Any]) -> list[list[str]]:
    return [["midjourney: fewer status requests", f"{report['ratio']:.1f}x",
             f"≥ {report['target']:g}x", "batched vs one by one"]]  # fmt: skip


HEADLINES: dict[str, Callable[[dict[str, Any]], list[list[str]]]] = {
    "overhead": _overhead,
    "instructions": _instructions,
    "footprint": _footprint,
    "waiting": _waiting,
    "polling": _polling,
    "mj_coalescing": _mj_coalescing,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke pass (CI)")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR, metavar="DIR")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    failed: list[str] = []
    reports: dict[str, Any] = {}
    for name in args.only or BENCHMARKS:
        script = HERE / f"{name}.py"
        if not script.exists():
            continue
        out = args.json / f"{name}.json"
        command = [sys.executable, str(script), "--json", str(out)]
        if args.quick:
            command.append("--quick")
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
            continue
        reports[name] = {
            "seconds": time.perf_counter() - started,
            "report": json.loads(out.read_text(encoding="utf-8")),
        }
    rows: list[list[str]] = []
    for name, entry in reports.items():
        try:
            rows += HEADLINES[name](entry["report"])
        except (KeyError, TypeError, ZeroDivisionError) as exc:  # a changed report format
            rows.append([name, "?", "", f"no headline ({type(exc).__name__}: {exc})"])
    print("\n== headline figures" + (" (quick run: smoke only, not figures)" if args.quick else ""))
    print(table(["figure", "value", "target", "context"], rows))
    env = environment()
    print(f"python {env['python']}, aiohttp {env['aiohttp']}, {env['cpu_count']} CPUs "
          f"({env['cpu']}), load {env['load_average']}")  # fmt: skip
    write_json(
        args.json / "summary.json",
        {
            "environment": env,
            "quick": args.quick,
            "headlines": rows,
            "failed": failed,
            "seconds": {n: e["seconds"] for n, e in reports.items()},
        },
    )
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
