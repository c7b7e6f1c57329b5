"""Request cost in machine instructions: the same ratio as ``overhead.py``, without the noise.

CPU time on a shared machine moves by ±0.15x from run to run; the number of instructions a
process executes does not. This runs each client of ``overhead.py`` (raw aiohttp and the SDK)
in a child process under valgrind's callgrind, against the same fixed-answer server, once with
no measured requests and once with ``--requests`` of them (at ``--concurrency``), and reports
the difference per request, and the SDK's ratio to raw aiohttp. The same scenarios, the same
answers, the same calls. Also per scenario: the instructions ``json.loads`` and the SDK's
typed decoding spend on the answer alone, which is the floor under the SDK's figure.

Needs ``valgrind`` on PATH (else it says so and exits 0). About a minute per scenario.

    python benchmarks/instructions.py                  # every scenario, 2,000 requests at c=64
    python benchmarks/instructions.py --only suno --requests 500
    python benchmarks/instructions.py --quick          # CI smoke: the children run, no valgrind
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import RESULTS_DIR, environment, table, write_json
from _server import Server

TARGET_RATIO = 1.2
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _spec(scenario: Any) -> dict[str, Any]:
    return {
        "name": scenario.name, "method": scenario.method, "path": scenario.path,
        "params": scenario.params, "body": scenario.body, "stream": scenario.stream,
        "prefix": scenario.prefix, "task_id": scenario.task_id,
        "answer": scenario.answer.body.decode("latin-1"),
    }  # fmt: skip


# -- the child: N requests of one client, or N decodes of one answer -----------------------------


async def _child(spec: dict[str, Any], who: str, base_url: str, requests: int, c: int) -> None:
    import overhead

    scenario = types.SimpleNamespace(**spec)
    if who == "raw aiohttp":
        client: Any = overhead.RawAiohttp()
    else:
        client = overhead.Sdk()
        if spec["stream"]:
            scenario.sdk = overhead.sdk_stream
        elif spec["task_id"] is None:
            scenario.sdk = overhead.sdk_chat
        else:
            attr, task_id = spec["name"].removesuffix(" query"), spec["task_id"]
            scenario.sdk = lambda sdk_client: getattr(sdk_client, attr).get(task_id)
    await client.start(base_url)
    call = client.caller(scenario)
    await overhead.drive(call, 2 * c, c)  # connections open, code warm
    await overhead.drive(call, requests, c)
    await client.aclose()


def _decode_child(spec: dict[str, Any], what: str, n: int) -> None:
    from api4gpt_async import AsyncAPI4GPT
    from api4gpt_async._convert import structure
    from api4gpt_async._transport import unwrap_envelope
    from api4gpt_async.models.chat import ChatCompletion

    raw = spec["answer"].encode("latin-1")
    data = json.loads(raw)
    if spec["task_id"] is None:
        model: Any = ChatCompletion
    else:
        client = AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9")
        family = getattr(client, spec["name"].removesuffix(" query"))
        model, style = family.status_model, family.status_query.envelope
        if style:
            data = unwrap_envelope(data, None, "task" if style is True else style)

    def decode() -> object:
        return json.loads(raw) if what == "json.loads" else structure(data, model, request_id="r")

    decode()  # the one-time work (the model's reader is generated) in both runs
    for _ in range(n):
        decode()


# -- the parent ------------------------------------------------------------------------------


def _instructions(args: list[str]) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*command, sys.executable, __file__, *args], capture_output=True, check=False
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"child {args} failed:\n{done.stderr.decode()[-2000:]}")
    return int(found.group(1))


def _per_unit(args: list[str], n: int) -> float:
    """Instructions of ``n`` units of work, less those of none, per unit."""
    return (_instructions([*args, str(n)]) - _instructions([*args, "0"])) / n


def _smoke(args: argparse.Namespace) -> int:
    """CI: every kind of child runs (without valgrind, which would take minutes); no figures."""
    import overhead

    scenarios, _ = asyncio.run(overhead.capture())
    scenario = next(s for s in scenarios if "zhipu" in s.name)
    server = Server({scenario.prefix + scenario.path: scenario.answer}, prefer_nginx=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            spec_file = Path(scratch) / "spec.json"
            spec_file.write_text(json.dumps(_spec(scenario)))
            for child in (
                ["--child", str(spec_file), "raw aiohttp", server.base_url, "4", "8"],
                ["--child", str(spec_file), "sdk", server.base_url, "4", "8"],
                ["--decode-child", str(spec_file), "structure", "8"],
            ):
                subprocess.run([sys.executable, __file__, *child], check=True)
    finally:
        server.stop()
    print(f"instructions: smoke run of {scenario.name} (no valgrind, no figures)")
    write_json(args.json, {"environment": environment(), "quick": True, "figures": {}})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="scenarios whose name contains one of these")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="CI smoke: seconds, no verdict")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "instructions.json")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--decode-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec_file, who, base_url, c, n = args.child
        spec = json.loads(Path(spec_file).read_text())
        asyncio.run(_child(spec, who, base_url, int(n), int(c)))
        return 0
    if args.decode_child:
        spec_file, what, n = args.decode_child
        _decode_child(json.loads(Path(spec_file).read_text()), what, int(n))
        return 0
    if args.quick:
        return _smoke(args)
    if shutil.which("valgrind") is None:
        print("instructions: skipped, valgrind is not on PATH")
        write_json(args.json, {"environment": environment(), "skipped": "no valgrind"})
        return 0

    import overhead

    scenarios, _ = asyncio.run(overhead.capture())
    if args.only:
        scenarios = [s for s in scenarios if any(o in s.name for o in args.only)]
    server = Server({s.prefix + s.path: s.answer for s in scenarios}, prefer_nginx=True)
    server.start()
    rows, figures = [], {}
    try:
        with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(os.cpu_count()) as pool:
            jobs = {}
            for scenario in scenarios:
                spec_file = Path(scratch) / f"{len(jobs)}.json"
                spec_file.write_text(json.dumps(_spec(scenario)))
                for who in ("raw aiohttp", "sdk"):
                    child = ["--child", str(spec_file), who, server.base_url, str(args.concurrency)]
                    jobs[scenario.name, who] = pool.submit(_per_unit, child, args.requests)
                if not scenario.stream:
                    for what in ("json.loads", "structure"):
                        child = ["--decode-child", str(spec_file), what]
                        jobs[scenario.name, what] = pool.submit(_per_unit, child, 200)
            for scenario in scenarios:
                got = {key[1]: job.result() for key, job in jobs.items() if key[0] == scenario.name}
                ratio = got["sdk"] / got["raw aiohttp"]
                figures[scenario.name] = {**got, "ratio": ratio}
                rows.append([
                    scenario.name, f"{got['raw aiohttp']:,.0f}", f"{got['sdk']:,.0f}",
                    f"{ratio:.2f}", f"{0.2 * got['raw aiohttp']:,.0f}",
                    f"{got['sdk'] - got['raw aiohttp']:,.0f}",
                    f"{got['structure']:,.0f}" if "structure" in got else "-",
                    f"{got['json.loads']:,.0f}" if "json.loads" in got else "-",
                ])  # fmt: skip
    finally:
        server.stop()
    header = ["scenario", "raw aiohttp", "sdk", "x raw", "1.2x budget", "sdk extra",
              "typed decode", "json.loads"]  # fmt: skip
    print(f"instructions per request at c={args.concurrency} ({args.requests} requests, "
          f"server: {server.kind}); decode: per answer, outside the loop")  # fmt: skip
    print(table(header, rows))
    worst = max(f["ratio"] for f in figures.values())
    verdict = "PASS" if worst <= TARGET_RATIO else "FAIL"
    print(f"\n{verdict}: sdk ≤ {TARGET_RATIO}x raw aiohttp instructions (worst {worst:.2f}x)")
    write_json(args.json, {
        "environment": environment(), "requests": args.requests,
        "concurrency": args.concurrency, "quick": False, "figures": figures,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
