"""Request cost: client CPU per request of the SDK, raw aiohttp and openai-python.

What is measured
    The CPU time *this* process spends per request, for each client talking to the same
    fixed-answer server (another process: nginx when on PATH, else a minimal asyncio server),
    in the same run, for every scenario:

    * ``chat``: ``POST /v1/chat/completions``, one JSON answer;
    * ``stream``: the same with ``stream=True``, an event stream of 17 chunks and ``[DONE]``;
    * ``<family> query``: one status query of each task family the SDK and the emulator have
      (Luma VIP, Midjourney, Suno, Zhipu video, digital human as they land).

    The answers are the emulator's own (captured once at start-up through the SDK, so they are
    what the SDK really reads). Clients:

    * ``raw aiohttp``: one ``ClientSession``; ``json.dumps`` the body, ``json.loads`` the
      answer (and unwrap ``data`` of an envelope), or read the stream line by line and
      ``json.loads`` each ``data:`` line. The least an aiohttp-based client can do.
    * ``sdk``: the public call (``client.chat.completions.create``, ``client.<family>.get``):
      retries armed, errors mapped, typed models. Target: at most 1.2x raw aiohttp CPU.
    * ``openai-python``: ``AsyncOpenAI(max_retries=0)`` (chat: its typed call; queries: its
      generic ``get``), with the same connection limit.

    Each cell runs N requests at concurrency 1, 64 and 512 (N calibrated to about
    ``--target-seconds`` of wall time) per client and repeat, the clients taking turns in
    ``--slices`` slices of N/S requests (a machine whose speed drifts from second to second
    slows each of them alike); the figure is the median over repeats, and "x raw" the median
    of per-repeat ratios to raw aiohttp's run of the same repeat.

Why CPU time, not wall time
    On 127.0.0.1 wall time is mostly the server's and the kernel's. ``time.process_time()``
    counts only the CPU this process burns (user + system) and excludes the server: exactly the
    client's cost, and what limits how many requests one event loop can drive.

    python benchmarks/overhead.py                 # full run, a few minutes
    python benchmarks/overhead.py --quick         # CI smoke, seconds, no verdict
    python benchmarks/overhead.py --check         # exit 1 when the SDK misses the target
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import RESULTS_DIR, SUBMITTERS, environment, table, user_system, write_json
from _server import Answer, Server

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.testing import Emulator

TARGET_RATIO = 1.2
CONCURRENCIES = (1, 64, 512)
MAX_CONNECTIONS = 100  # the SDK's default; every client gets the same limit
API_KEY = "sk-bench"
MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "user", "content": "Write two sentences about a red fox running through snow."}
]


class Scenario:
    """One kind of request: what is sent, the fixed answer, and how each client makes it."""

    def __init__(
        self,
        name: str,
        *,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: Any,
        answer: Answer,
        stream: bool = False,
        sdk: Callable[[AsyncAPI4GPT], Awaitable[Any]],
        sdk_check: Callable[[Any], bool],
        openai: Callable[[Any], Awaitable[Any]],
    ) -> None:
        self.name = name
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.answer = answer
        self.stream = stream
        self.sdk = sdk
        self.sdk_check = sdk_check
        self.openai = openai
        self.expected: Any = None  # the decoded answer, as raw aiohttp reads it
        self.task_id: str | None = None  # a status query's job (for instructions.py)
        # The server answers by path: a stream lives under its own prefix (base URL).
        self.prefix = "/stream" if stream else ""


# -- capturing the scenarios from the emulator ---------------------------------------------------


def sdk_chat(client: AsyncAPI4GPT) -> Awaitable[Any]:
    return client.chat.completions.create(model=MODEL, messages=MESSAGES)


async def sdk_stream(client: AsyncAPI4GPT) -> list[Any]:
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    async with stream:
        return [chunk async for chunk in stream]


async def _replay(emu: Emulator, method: str, path: str, params: Any, body: bytes) -> Answer:
    headers = {"Authorization": f"Bearer {emu.api_key}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, emu.base_url + path, params=params or None, data=body or None, headers=headers
        ) as resp,
    ):
        if resp.status != 200:
            raise RuntimeError(f"emulator answered {resp.status} to {method} {path}")
        return Answer(resp.headers["Content-Type"].split(";")[0], await resp.read())


async def capture() -> tuple[list[Scenario], dict[str, str]]:
    """Every scenario, with the emulator's answer; and the families skipped (with why)."""
    from api4gpt_async.models.chat import ChatCompletion
    from api4gpt_async.services._task_family import TaskFamily

    scenarios: list[Scenario] = []
    skipped: dict[str, str] = {}
    async with Emulator(time_scale=0) as emu, emu.client() as client:
        chat_body = {"model": MODEL, "messages": MESSAGES}
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        chat = await _replay(
            emu, "POST", "/v1/chat/completions", None, json.dumps(chat_body).encode()
        )
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async with stream:
            n_chunks = len([c async for c in stream])
        stream_body = {**chat_body, "stream": True}
        sse = await _replay(
            emu, "POST", "/v1/chat/completions", None, json.dumps(stream_body).encode()
        )

        async def openai_stream(oa: Any) -> list[Any]:
            s = await oa.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            return [chunk async for chunk in s]

        scenarios.append(Scenario(
            "chat", method="POST", path="/v1/chat/completions", params=None, body=chat_body,
            answer=chat,
            sdk=sdk_chat,
            sdk_check=lambda r: isinstance(r, ChatCompletion) and bool(r.choices),
            openai=lambda oa: oa.chat.completions.create(model=MODEL, messages=MESSAGES),
        ))  # fmt: skip
        scenarios.append(Scenario(
            "stream", method="POST", path="/v1/chat/completions", params=None, body=stream_body,
            answer=sse, stream=True, sdk=sdk_stream,
            sdk_check=lambda r: len(r) == n_chunks, openai=openai_stream,
        ))  # fmt: skip

        families = [(n, s) for n, s in vars(client).items() if isinstance(s, TaskFamily)]
        for attr, svc in families:
            if attr == "luma":
                continue  # the same service as lumvip, without the envelope
            submit = SUBMITTERS.get(attr)
            if submit is None:
                skipped[attr] = "no submitter in benchmarks/_bench.py SUBMITTERS"
                continue
            handle = await submit(svc)
            emu.advance(24 * 3600)
            status = await svc.get(handle.id)
            req = emu.requests[-1]
            answer = await _replay(emu, req.method, req.path, req.query, req.body)
            params = dict(req.query) or None
            body = req.json
            if req.method == "GET":
                openai_call = (lambda p, q: lambda oa: oa.get(
                    p, cast_to=object, options={"params": q} if q else {}
                ))(req.path, params)  # fmt: skip
            else:
                openai_call = (lambda p, b: lambda oa: oa.post(p, cast_to=object, body=b))(
                    req.path, body
                )
            scenarios.append(Scenario(
                f"{attr} query", method=req.method, path=req.path, params=params, body=body,
                answer=answer,
                sdk=(lambda a, i: lambda c: getattr(c, a).get(i))(attr, handle.id),
                sdk_check=(lambda t: lambda r: type(r) is t)(type(status)),
                openai=openai_call,
            ))  # fmt: skip
            scenarios[-1].task_id = handle.id
    return scenarios, skipped


# -- the clients ---------------------------------------------------------------------------------


class Unavailable(Exception):
    """A client that cannot run here; its cells are reported as n/a with this reason."""


class RawAiohttp:
    name = "raw aiohttp"

    async def start(self, base_url: str) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=0)
        )
        self._base = base_url
        self._headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    def caller(self, scenario: Scenario) -> Callable[[], Awaitable[Any]]:
        session, params = self._session, scenario.params
        url = self._base + scenario.prefix + scenario.path
        method, body = scenario.method, scenario.body
        headers = self._headers if body is None else self._json_headers

        async def call() -> Any:
            data = None if body is None else json.dumps(body).encode()
            async with session.request(
                method, url, params=params, data=data, headers=headers
            ) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")
                answer = json.loads(await resp.read())
            if type(answer) is dict and "data" in answer and "code" in answer:
                return answer["data"]
            return answer

        async def stream() -> Any:
            data = json.dumps(body).encode()
            chunks = []
            async with session.request(method, url, data=data, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")
                async for line in resp.content:
                    if line.startswith(b"data:"):
                        payload = line[5:].strip()
                        if payload == b"[DONE]":
                            break
                        chunks.append(json.loads(payload))
            return chunks

        return stream if scenario.stream else call

    def check(self, scenario: Scenario, result: Any) -> bool:
        if scenario.expected is None:
            scenario.expected = result
        return bool(result) and result == scenario.expected

    async def aclose(self) -> None:
        await self._session.close()


class Sdk:
    name = "sdk"

    async def start(self, base_url: str) -> None:
        self._base = base_url
        self._clients: dict[str, AsyncAPI4GPT] = {}

    def caller(self, scenario: Scenario) -> Callable[[], Awaitable[Any]]:
        client = self._clients.get(scenario.prefix)
        if client is None:
            client = self._clients[scenario.prefix] = AsyncAPI4GPT(
                api_key=API_KEY,
                base_url=self._base + scenario.prefix,
                max_connections=MAX_CONNECTIONS,
            )
        call = scenario.sdk
        return lambda: call(client)

    def check(self, scenario: Scenario, result: Any) -> bool:
        return scenario.sdk_check(result)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


class OpenAIPython:
    name = "openai-python"

    async def start(self, base_url: str) -> None:
        try:
            import openai
        except ImportError as exc:
            raise Unavailable(f"openai is not installed ({exc})") from None
        try:  # openai-python's HTTP library: httpx2 in recent releases, httpx before
            import httpx2 as httpx
        except ImportError:
            import httpx
        self._openai, self._httpx = openai, httpx
        self._base = base_url
        self._clients: dict[str, Any] = {}

    def caller(self, scenario: Scenario) -> Callable[[], Awaitable[Any]]:
        # Chat calls add /chat/completions to a base ending in /v1; queries give a full path.
        base = self._base + scenario.prefix + ("/" if scenario.name.endswith("query") else "/v1")
        client = self._clients.get(base)
        if client is None:
            limits = self._httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            )
            client = self._clients[base] = self._openai.AsyncOpenAI(
                api_key=API_KEY,
                base_url=base,
                max_retries=0,
                timeout=600,  # a busy machine must not fail the run
                http_client=self._openai.DefaultAsyncHttpxClient(limits=limits),
            )
        call = scenario.openai
        return lambda: call(client)

    def check(self, scenario: Scenario, result: Any) -> bool:
        return bool(result)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()


# -- measuring -----------------------------------------------------------------------------------


async def drive(call: Callable[[], Awaitable[Any]], requests: int, concurrency: int) -> None:
    """``requests`` calls, by ``concurrency`` workers sharing one counter."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    if concurrency == 1:
        await worker()
    else:
        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    call: Callable[[], Awaitable[Any]], server: Server, requests: int, concurrency: int
) -> dict[str, float]:
    """One slice: ``requests`` calls, and the seconds they cost (summed by ``per_request``)."""
    gc.collect()
    srv0 = server.cpu_seconds()
    user0, sys0 = user_system()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await drive(call, requests, concurrency)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    user1, sys1 = user_system()
    srv1 = server.cpu_seconds()
    return {
        "requests": requests,
        "cpu": cpu1 - cpu0,
        "user": user1 - user0,
        "system": sys1 - sys0,
        "wall": wall1 - wall0,
        "server": (srv1 - srv0) if srv0 is not None and srv1 is not None else -1.0,
    }


def per_request(slices: Sequence[dict[str, float]]) -> dict[str, float]:
    """One sample of a client: its slices of a repeat summed, then per request."""
    total = {key: sum(s[key] for s in slices) for key in slices[0]}
    requests, wall = total["requests"], total["wall"]
    return {
        "requests": requests,
        "cpu_us_per_request": total["cpu"] / requests * 1e6,
        "user_us_per_request": total["user"] / requests * 1e6,
        "system_us_per_request": total["system"] / requests * 1e6,
        "requests_per_s": requests / wall,
        "client_cpu_pct": 100 * total["cpu"] / wall,
        "server_cpu_pct": 100 * total["server"] / wall if total["server"] >= 0 else -1,
    }


def _round_requests(n: float, floor: int) -> int:
    """Two significant figures, at least ``floor``."""
    n = max(float(floor), n)
    scale = 10 ** (len(str(int(n))) - 2)
    return int(round(n / scale) * scale)


async def calibrate(
    call: Callable[[], Awaitable[Any]], concurrency: int, args: argparse.Namespace
) -> int:
    """Warm the client up and pick N so that one measurement takes about ``target_seconds``."""
    warmup = max(args.warmup, 2 * concurrency)
    await drive(call, warmup, concurrency)
    start = time.perf_counter()
    await drive(call, warmup, concurrency)
    per_request = (time.perf_counter() - start) / warmup
    return _round_requests(args.target_seconds / per_request, floor=2 * concurrency)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scenarios, skipped = await capture()
    if args.only:
        scenarios = [s for s in scenarios if any(o in s.name for o in args.only)]
    answers = {s.prefix + s.path: s.answer for s in scenarios}
    server = Server(answers, prefer_nginx=not args.no_nginx)
    server.start()
    print(f"server: {server.kind} at {server.base_url}", file=sys.stderr, flush=True)
    clients: list[Any] = [RawAiohttp(), Sdk(), OpenAIPython()]
    unavailable: dict[str, str] = {}
    live: list[Any] = []
    try:
        for client in clients:
            try:
                await client.start(server.base_url)
            except Unavailable as exc:
                unavailable[client.name] = str(exc)
                continue
            live.append(client)
        callers = {}
        for scenario in scenarios:
            for client in live:
                call = client.caller(scenario)
                result = await call()
                if not client.check(scenario, result):
                    raise AssertionError(f"{client.name} {scenario.name}: unexpected {result!r}")
                callers[scenario.name, client.name] = call
        counts: dict[tuple[str, str, int], int] = {}
        for concurrency in sorted(CONCURRENCIES, reverse=True):  # pools fill first
            for scenario in scenarios:
                for client in live:
                    call = callers[scenario.name, client.name]
                    n = args.requests or await calibrate(call, concurrency, args)
                    counts[scenario.name, client.name, concurrency] = max(n, concurrency)
        samples: dict[tuple[str, str, int], list[dict[str, float]]] = {k: [] for k in counts}
        cells = sorted({(name, c) for name, _, c in counts}, key=lambda k: -k[1])
        for repeat in range(args.repeats):
            for name, concurrency in cells:
                # The clients of a cell take turns, slice by slice, so that the machine's
                # drift (another tenant, the clock) falls on each of them alike.
                keys = [(name, client.name, concurrency) for client in live]
                slices: dict[tuple[str, str, int], list[dict[str, float]]] = {k: [] for k in keys}
                for _ in range(args.slices):
                    for key in keys:
                        n = max(counts[key] // args.slices, 2 * concurrency)
                        call = callers[name, key[1]]
                        slices[key].append(await measure(call, server, n, concurrency))
                for key in keys:
                    samples[key].append(per_request(slices[key]))
            print(f"  repeat {repeat + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    finally:
        for client in live:
            await client.aclose()
        server.stop()
    return summarize(args, scenarios, skipped, clients, unavailable, samples, server.kind)


def summarize(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    skipped: dict[str, str],
    clients: Sequence[Any],
    unavailable: dict[str, str],
    samples: dict[tuple[str, str, int], list[dict[str, float]]],
    server_kind: str,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    worst = 0.0
    for scenario in scenarios:
        per_scenario: dict[str, Any] = {}
        results[scenario.name] = per_scenario
        for concurrency in CONCURRENCIES:
            cell: dict[str, Any] = {}
            per_scenario[str(concurrency)] = cell
            raw = samples[scenario.name, RawAiohttp.name, concurrency]
            for client in clients:
                if client.name in unavailable:
                    cell[client.name] = {"available": False, "reason": unavailable[client.name]}
                    continue
                runs = samples[scenario.name, client.name, concurrency]
                ratio = statistics.median(
                    s["cpu_us_per_request"] / r["cpu_us_per_request"]
                    for s, r in zip(runs, raw, strict=True)
                )
                cell[client.name] = {
                    "available": True,
                    "requests_per_run": runs[0]["requests"],
                    "cpu_us_per_request": statistics.median(s["cpu_us_per_request"] for s in runs),
                    "ratio_vs_raw": ratio,
                    "requests_per_s": statistics.median(s["requests_per_s"] for s in runs),
                    "server_cpu_pct": statistics.median(s["server_cpu_pct"] for s in runs),
                    "samples": runs,
                }
                if client.name == Sdk.name:
                    worst = max(worst, ratio)
    return {
        "benchmark": "overhead",
        "title": "client CPU per request against raw aiohttp and openai-python",
        "environment": environment(),
        "config": {
            "concurrencies": list(CONCURRENCIES),
            "repeats": args.repeats,
            "target_seconds_per_run": args.target_seconds,
            "slices_per_run": args.slices,
            "requests": args.requests,
            "warmup": args.warmup,
            "quick": args.quick,
            "max_connections": MAX_CONNECTIONS,
            "server": server_kind,
            "answers": {
                s.name: f"{s.answer.content_type}, {len(s.answer.body)} bytes" for s in scenarios
            },
            "skipped_families": skipped,
            "statistic": "median over repeats (each the sum of its slices, the clients of a "
            "cell taking turns slice by slice); x raw = median of per-repeat ratios to raw "
            "aiohttp",
        },
        "target": {
            "max_ratio": TARGET_RATIO,
            "worst_ratio": worst,
            "passed": worst <= TARGET_RATIO,
        },
        "results": results,
    }


def render(report: dict[str, Any]) -> str:
    header = ["scenario", "client"]
    for c in CONCURRENCIES:
        header += [f"c={c} µs/req", "x raw"]
    rows = []
    for scenario, per_scenario in report["results"].items():
        for client in (RawAiohttp.name, Sdk.name, OpenAIPython.name):
            row = [scenario, client]
            for c in CONCURRENCIES:
                cell = per_scenario[str(c)][client]
                if not cell["available"]:
                    row += ["n/a", ""]
                else:
                    row += [f"{cell['cpu_us_per_request']:.0f}", f"{cell['ratio_vs_raw']:.2f}"]
            rows.append(row)
    cfg, env, target = report["config"], report["environment"], report["target"]
    lines = [table(header, rows), ""]
    for family, why in cfg["skipped_families"].items():
        lines.append(f"skipped {family}: {why}")
    verdict = "quick run, no verdict" if cfg["quick"] else (
        "PASS" if target["passed"] else "FAIL")  # fmt: skip
    lines.append(
        f"{verdict}: sdk ≤ {target['max_ratio']}x raw aiohttp CPU everywhere "
        f"(worst {target['worst_ratio']:.2f}x)"
    )
    lines.append(
        f"server: {cfg['server']}; python {env['python']}, aiohttp {env['aiohttp']}, openai "
        f"{env['openai']}; median of {cfg['repeats']} runs, CPU time of the client process"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=None, metavar="N", help="requests per run (default: "
        "calibrated to --target-seconds)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, metavar="K")
    parser.add_argument(
        "--slices", type=int, default=5, metavar="S", help="turns the clients of a cell take "
        "within each repeat (each runs about N/S requests a turn)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--target-seconds", type=float, default=0.5)
    parser.add_argument("--only", nargs="*", help="scenarios whose name contains one of these")
    parser.add_argument("--no-nginx", action="store_true", help="use the Python server")
    parser.add_argument("--quick", action="store_true", help="CI smoke: seconds, no verdict")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "overhead.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = args.requests or 20
        args.repeats = 1
        args.slices = 1
        args.warmup = 20
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    print(render(report))
    write_json(args.json, report)
    return 1 if args.check and not args.quick and not report["target"]["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
