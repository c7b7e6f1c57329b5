"""Client CPU per request: the SDK against raw aiohttp and openai-python.

What is measured
    The CPU time *this* process spends per status query (``GET /luma/task?id=...``, answered
    with the lumvip envelope around a completed Luma generation), for three clients talking to
    the same local server in the same run:

    * ``raw aiohttp``: one ``ClientSession``, ``session.get(...)``, ``json.loads``, unwrap
      ``data``. The least work any aiohttp-based client can do for this request.
    * ``sdk lumvip.get``: ``await client.lumvip.get(id)``: request, retries armed, envelope
      unwrapped, typed ``LumaGeneration`` built. The target is SDK <= 1.3x raw aiohttp.
    * ``sdk task.refresh``: ``await client.lumvip.task(id).refresh()``: the same query through
      the task machinery (handle, state mapping, snapshot). Informative, not part of the target.
    * ``openai-python``: ``AsyncOpenAI(max_retries=0).get(path, cast_to=object, ...)``, its
      generic request path, for scale against the SDK most users know.

    Each runs N requests at concurrency 1 and at concurrency 64, repeated and interleaved (so
    drift hits every client alike); the median is reported.

Why CPU time, not wall time
    On 127.0.0.1 wall time is mostly the server's and the kernel's, and at concurrency 1 it is
    a round trip, not work. ``time.process_time()`` counts only the CPU this process burns
    (user + system, all threads) and excludes the server, which runs in a separate process:
    that is exactly the SDK's cost, and what limits how many requests one event loop can drive.
    Wall-clock requests/s is printed too, as context.

The server
    A raw ``asyncio.Protocol`` HTTP/1.1 keep-alive server in a child process that answers every
    request with the same precomputed bytes, so it does far less work per request than any
    client and is never the bottleneck; its own CPU use during each measurement is read from it
    (``GET /__cpu``) and reported. It listens on 127.0.0.1 only, exits when this process's pipe
    to it closes, and is terminated in ``finally``.

Run ``python benchmarks/overhead.py`` (``--quick`` for a few-second smoke run); see
``benchmarks/README.md``.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import contextlib
import gc
import http.client
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results" / "overhead.json"
API_KEY = "sk-bench"
TASK_ID = "d8a5c3f0-6f1e-4b8e-9c55-2b7a6f3e9d41"
TARGET_RATIO = 1.3
CONCURRENCIES = (1, 64)
SERVE_FLAG = "--_serve"

# -- the fixed-answer server (runs in a child process) -----------------------------------------

GENERATION: dict[str, Any] = {
    "id": TASK_ID,
    "prompt": "a red fox running through fresh snow at dawn, cinematic, slow motion",
    "state": "completed",
    "created_at": "2024-07-01T12:34:56.789000Z",
    "video": {
        "url": f"https://storage.cdn-luma.com/dream_machine/{TASK_ID}/watermarked_video.mp4",
        "width": 1360,
        "height": 752,
        "thumbnail": None,
    },
    "liked": None,
    "estimate_wait_seconds": None,
}
ENVELOPE: dict[str, Any] = {"code": "success", "message": "", "data": GENERATION}


def _http_response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Oneapi-Request-Id: 20240701123456789012345678901234\r\n"
        "Date: Mon, 01 Jul 2024 12:34:56 GMT\r\n"
        "Connection: keep-alive\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class _FixedAnswer(asyncio.Protocol):
    """Answers every request on the connection with the same bytes (pipelining included)."""

    answer = _http_response(json.dumps(ENVELOPE).encode())

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            # Requests here are GETs without a body: the header block is the whole request.
            if buffer.startswith(b"GET /__cpu"):
                usage = {"cpu": time.process_time(), "wall": time.perf_counter()}
                out.append(_http_response(json.dumps(usage).encode()))
            else:
                out.append(self.answer)
            buffer = buffer[end + 4 :]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out) if len(out) > 1 else out[0])


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_FixedAnswer, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    # Stop when the parent closes our stdin, however it ends: no orphan outlives it.
    parent_gone = loop.create_future()

    class _Stdin(asyncio.Protocol):
        def connection_lost(self, exc: Exception | None) -> None:
            if not parent_gone.done():
                parent_gone.set_result(None)

    await loop.connect_read_pipe(_Stdin, sys.stdin)
    async with server:
        await parent_gone


class Server:
    """The server child process: started by ``start``, always stopped by ``stop``."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._port = 0

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), SERVE_FLAG],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        self._port = int(line)
        self.base_url = f"http://127.0.0.1:{self._port}"

    def usage(self) -> tuple[float, float]:
        """The server's (CPU seconds, wall seconds) clocks, read outside the measured window."""
        conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=10)
        try:
            conn.request("GET", "/__cpu")
            data = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        return float(data["cpu"]), float(data["wall"])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the server's signal to exit
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# -- the clients ---------------------------------------------------------------------------------


class Unavailable(Exception):
    """A client that cannot run here; its column is reported as n/a with this reason."""


class BenchClient(abc.ABC):
    name: str

    @abc.abstractmethod
    async def start(self, base_url: str) -> None: ...

    @abc.abstractmethod
    async def call(self, task_id: str) -> Any: ...

    @abc.abstractmethod
    def check(self, result: Any) -> None:
        """Raise unless ``result`` is the full, correct answer (so no error path is timed)."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...


class RawAiohttp(BenchClient):
    name = "raw aiohttp"

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._url = ""
        self._headers = {"Authorization": f"Bearer {API_KEY}"}

    async def start(self, base_url: str) -> None:
        self._session = aiohttp.ClientSession()
        self._url = base_url + "/luma/task"

    async def call(self, task_id: str) -> Any:
        assert self._session is not None
        async with self._session.get(
            self._url, params={"id": task_id}, headers=self._headers
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            body = json.loads(await resp.read())
        return body["data"]

    def check(self, result: Any) -> None:
        if result != GENERATION:
            raise AssertionError(f"unexpected answer: {result!r}")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _import_sdk() -> Any:
    try:
        import api4gpt_async
    except ImportError:  # run from a checkout without installing it
        sys.path.insert(0, str(REPO_ROOT))
        import api4gpt_async
    return api4gpt_async


class SdkGet(BenchClient):
    name = "sdk lumvip.get"

    def __init__(self) -> None:
        self._client: Any = None

    async def start(self, base_url: str) -> None:
        sdk = _import_sdk()
        self._client = sdk.AsyncAPI4GPT(api_key=API_KEY, base_url=base_url)

    async def call(self, task_id: str) -> Any:
        return await self._client.lumvip.get(task_id)

    def check(self, result: Any) -> None:
        from api4gpt_async.models.luma import LumaGeneration

        ok = (
            isinstance(result, LumaGeneration)
            and result.id == TASK_ID
            and result.state == "completed"
            and result.created_at is not None
            and result.video_url == GENERATION["video"]["url"]
            and result.request_id is not None
        )
        if not ok:
            raise AssertionError(f"unexpected answer: {result!r}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class SdkRefresh(SdkGet):
    name = "sdk task.refresh"

    async def call(self, task_id: str) -> Any:
        return await self._client.lumvip.task(task_id).refresh()

    def check(self, result: Any) -> None:
        from api4gpt_async import TaskState

        if result.state is not TaskState.SUCCEEDED:
            raise AssertionError(f"unexpected snapshot: {result!r}")
        super().check(result.raw)


class OpenAIGeneric(BenchClient):
    name = "openai-python"

    def __init__(self) -> None:
        self._client: Any = None

    async def start(self, base_url: str) -> None:
        try:
            import openai
        except ImportError as exc:
            raise Unavailable(f"openai is not installed ({exc})") from None
        if not hasattr(openai.AsyncOpenAI, "get"):
            raise Unavailable(f"openai {openai.__version__} has no generic AsyncOpenAI.get")
        self._client = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{base_url}/", max_retries=0)

    async def call(self, task_id: str) -> Any:
        body = await self._client.get(
            "/luma/task", cast_to=object, options={"params": {"id": task_id}}
        )
        return body["data"]

    def check(self, result: Any) -> None:
        if result != GENERATION:
            raise AssertionError(f"unexpected answer: {result!r}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


# -- measuring -----------------------------------------------------------------------------------


async def drive(client: BenchClient, requests: int, concurrency: int) -> None:
    """``requests`` calls, by ``concurrency`` workers sharing one counter."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await client.call(TASK_ID)

    if concurrency == 1:
        await worker()
    else:
        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    client: BenchClient, server: Server, requests: int, concurrency: int
) -> dict[str, float]:
    gc.collect()
    srv_cpu0, srv_wall0 = server.usage()
    user0, sys0 = _user_system()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await drive(client, requests, concurrency)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    user1, sys1 = _user_system()
    srv_cpu1, srv_wall1 = server.usage()
    cpu, wall = cpu1 - cpu0, wall1 - wall0
    return {
        "requests": requests,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_us_per_request": cpu / requests * 1e6,
        "user_us_per_request": (user1 - user0) / requests * 1e6,
        "system_us_per_request": (sys1 - sys0) / requests * 1e6,
        "requests_per_s": requests / wall,
        "client_cpu_pct": 100 * cpu / wall,
        "server_cpu_pct": 100 * (srv_cpu1 - srv_cpu0) / (srv_wall1 - srv_wall0),
    }


def _user_system() -> tuple[float, float]:
    """This process's user and system CPU seconds (µs resolution where ``resource`` exists)."""
    if sys.platform == "win32":
        times = os.times()
        return times.user, times.system
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _round_requests(n: float) -> int:
    """Two significant figures, at least 100."""
    n = max(100.0, n)
    scale = 10 ** (len(str(int(n))) - 2)
    return int(round(n / scale) * scale)


async def calibrate(
    client: BenchClient, concurrency: int, warmup: int, target_seconds: float
) -> int:
    """Warm the client up and pick N so that one measurement takes about ``target_seconds``."""
    await drive(client, warmup, concurrency)
    start = time.perf_counter()
    await drive(client, warmup, concurrency)
    per_request = (time.perf_counter() - start) / warmup
    return _round_requests(target_seconds / per_request)


async def run(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    clients: list[BenchClient] = [RawAiohttp(), SdkGet(), SdkRefresh(), OpenAIGeneric()]
    unavailable: dict[str, str] = {}
    live: list[BenchClient] = []
    try:
        for client in clients:
            try:
                await client.start(server.base_url)
                client.check(await client.call(TASK_ID))
            except Exception as exc:
                await client.aclose()
                if not isinstance(client, OpenAIGeneric):
                    raise
                unavailable[client.name] = (
                    str(exc) if isinstance(exc, Unavailable) else f"{type(exc).__name__}: {exc}"
                )
                continue
            live.append(client)

        counts: dict[tuple[str, int], int] = {}
        # Highest concurrency first, so every pool holds its connections before anything counts.
        for concurrency in sorted(CONCURRENCIES, reverse=True):
            for client in live:
                n = await calibrate(client, concurrency, args.warmup, args.target_seconds)
                counts[client.name, concurrency] = args.requests or n

        samples: dict[tuple[str, int], list[dict[str, float]]] = {k: [] for k in counts}
        for repeat in range(args.repeats):
            for concurrency in CONCURRENCIES:
                for client in live:
                    key = (client.name, concurrency)
                    samples[key].append(await measure(client, server, counts[key], concurrency))
            print(f"  repeat {repeat + 1}/{args.repeats} done", file=sys.stderr, flush=True)
    finally:
        for client in live:
            await client.aclose()

    return summarize(args, clients, unavailable, counts, samples)


def summarize(
    args: argparse.Namespace,
    clients: Sequence[BenchClient],
    unavailable: dict[str, str],
    counts: dict[tuple[str, int], int],
    samples: dict[tuple[str, int], list[dict[str, float]]],
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for concurrency in CONCURRENCIES:
        row: dict[str, Any] = {}
        raw_runs = samples[RawAiohttp.name, concurrency]
        for client in clients:
            key = (client.name, concurrency)
            if client.name in unavailable:
                row[client.name] = {"available": False, "reason": unavailable[client.name]}
                continue
            runs = samples[key]
            cpu = statistics.median(s["cpu_us_per_request"] for s in runs)
            row[client.name] = {
                "available": True,
                "requests_per_run": counts[key],
                "cpu_us_per_request": cpu,
                "cpu_us_per_request_min": min(s["cpu_us_per_request"] for s in runs),
                "cpu_us_per_request_max": max(s["cpu_us_per_request"] for s in runs),
                # Paired: each run against the raw run of the same repeat, which ran moments
                # apart, so slow drift (other load, clock changes) cancels out; then the median.
                "ratio_vs_raw": statistics.median(
                    s["cpu_us_per_request"] / r["cpu_us_per_request"]
                    for s, r in zip(runs, raw_runs, strict=True)
                ),
                "requests_per_s": statistics.median(s["requests_per_s"] for s in runs),
                "server_cpu_pct": statistics.median(s["server_cpu_pct"] for s in runs),
                "samples": runs,
            }
        results[str(concurrency)] = row

    ratios = {c: results[str(c)][SdkGet.name]["ratio_vs_raw"] for c in CONCURRENCIES}
    passed = all(r <= TARGET_RATIO for r in ratios.values())
    return {
        "benchmark": "client CPU per request: GET /luma/task (lumvip envelope)",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": _environment(),
        "config": {
            "requests": args.requests,
            "requests_auto": args.requests is None,
            "target_seconds_per_run": args.target_seconds,
            "repeats": args.repeats,
            "warmup_requests": args.warmup,
            "concurrencies": list(CONCURRENCIES),
            "quick": args.quick,
            "response_bytes": len(_FixedAnswer.answer),
            "server": "asyncio.Protocol, precomputed HTTP/1.1 keep-alive answer, child process",
            "statistic": (
                "median over repeats, runs interleaved across clients; ratio_vs_raw is the "
                "median of per-repeat ratios to the raw aiohttp run of the same repeat"
            ),
        },
        "target": {
            "metric": "sdk lumvip.get CPU/request ÷ raw aiohttp CPU/request",
            "max_ratio": TARGET_RATIO,
            "ratios": {str(c): r for c, r in ratios.items()},
            "passed": passed,
        },
        "results": results,
    }


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _environment() -> dict[str, Any]:
    sdk = _import_sdk()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "event_loop": type(asyncio.get_event_loop_policy()).__name__,
        "api4gpt_async": sdk.__version__,
        "aiohttp": aiohttp.__version__,
        "openai": _version("openai"),
        "httpx2": _version("httpx2"),
        "httpx": _version("httpx"),
        "attrs": _version("attrs"),
        "cattrs": _version("cattrs"),
    }


# -- reporting -----------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    names = [RawAiohttp.name, SdkGet.name, SdkRefresh.name, OpenAIGeneric.name]
    header = ["client"]
    for c in CONCURRENCIES:
        header += [f"c={c} µs CPU/req", "× raw", "req/s", "srv CPU"]
    rows = [header]
    notes: list[str] = []
    for name in names:
        row = [name]
        for c in CONCURRENCIES:
            cell = report["results"][str(c)][name]
            if not cell["available"]:
                row += ["n/a", "", "", ""]
                continue
            row += [
                f"{cell['cpu_us_per_request']:.1f}",
                f"{cell['ratio_vs_raw']:.2f}",
                f"{cell['requests_per_s']:,.0f}",
                f"{cell['server_cpu_pct']:.0f}%",
            ]
        rows.append(row)
        reason = report["results"][str(CONCURRENCIES[0])][name].get("reason")
        if reason:
            notes.append(f"n/a {name}: {reason}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    target = report["target"]
    got = ", ".join(f"c={c}: {r:.3f}×" for c, r in target["ratios"].items())
    lines += ["", *notes]
    if report["config"]["quick"]:
        # One short run is a smoke test of the script, far too noisy to judge the target.
        lines.append(f"quick run, no verdict (run without --quick for one): SDK {got}")
    else:
        verdict = "PASS" if target["passed"] else "FAIL"
        lines.append(f"{verdict}: SDK lumvip.get ≤ {target['max_ratio']}× raw aiohttp CPU ({got})")
    env = report["environment"]
    cfg = report["config"]
    per_run = (
        f"calibrated to ~{cfg['target_seconds_per_run']:g}s wall"
        if cfg["requests_auto"]
        else str(cfg["requests"])
    )
    lines.append(
        f"python {env['python']}, aiohttp {env['aiohttp']}, openai {env['openai']}; "
        f"median of {cfg['repeats']} runs; requests per run {per_run}"
    )
    lines.append("× raw: median of the per-repeat ratios to the raw aiohttp run of the same repeat")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        metavar="N",
        help="requests per measurement (default: calibrated so each takes ~--target-seconds)",
    )
    parser.add_argument("--repeats", type=int, default=7, metavar="K", help="runs per cell")
    parser.add_argument("--warmup", type=int, default=500, help="warm-up requests per cell")
    parser.add_argument("--target-seconds", type=float, default=1.0, help="wall time per run")
    parser.add_argument("--quick", action="store_true", help="CI smoke: a few seconds in all")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = args.requests or 200
        args.repeats = 1
        args.warmup = 100
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.repeats < 1 or args.warmup < 1:
        parser.error("--repeats and --warmup must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    server = Server()
    try:
        server.start()
        print(f"server at {server.base_url}; measuring…", file=sys.stderr, flush=True)
        report = asyncio.run(run(args, server))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        server.stop()
    print(render(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.json}")
    return 1 if args.check and not report["target"]["passed"] else 0


if __name__ == "__main__":
    if sys.argv[1:] == [SERVE_FLAG]:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
            asyncio.run(_serve())
    else:
        sys.exit(main())
