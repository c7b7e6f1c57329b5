"""Footprint of a request in flight: what each one keeps alive while it waits for its answer.

Why
    At 64 or 512 requests in flight, what a request keeps alive between being sent and being
    answered decides how much memory the event loop walks: the garbage collector visits every
    tracked object of every request in flight, and the CPU caches hold less of the loop's work.
    That is why the SDK's CPU ratio to raw aiohttp (``overhead.py``) grows with concurrency
    while its instruction ratio (``instructions.py``) does not. These figures are exact
    counts, the same from run to run.

What is measured
    For each scenario of ``overhead.py`` (the same clients, the same calls), 64 requests are
    sent to a server in another process that reads them and never answers; once it has read
    all 64, the GC-tracked objects (``gc.get_objects()``) and the bytes (``tracemalloc``)
    they hold are counted, per request, for raw aiohttp and for the SDK.

    python benchmarks/footprint.py
    python benchmarks/footprint.py --quick      # CI smoke: two scenarios
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import RESULTS_DIR, environment, table, write_json

IN_FLIGHT = 64

#: A server that reads each request's head, says so on stdout, and never answers.
_SILENT_SERVER = """
import asyncio, sys
async def hold(reader, writer):
    try:
        while await reader.readuntil(b"\\r\\n\\r\\n"):
            print("r", flush=True)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def _in_flight(client: Any, scenario: Any, server: Any) -> tuple[float, float]:
    """Objects and bytes per request while ``IN_FLIGHT`` requests wait for their answers."""
    call = client.caller(scenario)
    gc.collect()
    objects, (size, _) = len(gc.get_objects()), tracemalloc.get_traced_memory()
    tasks = [asyncio.ensure_future(call()) for _ in range(IN_FLIGHT)]
    for _ in range(IN_FLIGHT):
        await server.stdout.readline()  # the server has read one more request
    await asyncio.sleep(0)
    gc.collect()
    held = (len(gc.get_objects()) - objects, tracemalloc.get_traced_memory()[0] - size)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return held[0] / IN_FLIGHT, held[1] / IN_FLIGHT


async def measure(only: list[str] | None) -> dict[str, dict[str, dict[str, float]]]:
    import overhead

    scenarios, _ = await overhead.capture()
    if only:
        scenarios = [s for s in scenarios if any(o in s.name for o in only)]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SILENT_SERVER, stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    base_url = f"http://127.0.0.1:{int(await server.stdout.readline())}"
    figures: dict[str, dict[str, dict[str, float]]] = {}
    tracemalloc.start()
    try:
        for scenario in scenarios:
            figures[scenario.name] = {}
            for client in (overhead.RawAiohttp(), overhead.Sdk()):
                await client.start(base_url)
                try:
                    objects, size = await _in_flight(client, scenario, server)
                finally:
                    await client.aclose()
                figures[scenario.name][client.name] = {"objects": objects, "bytes": size}
    finally:
        tracemalloc.stop()
        server.kill()
        await server.wait()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="scenarios whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="CI smoke: chat and one query")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "footprint.json")
    args = parser.parse_args()
    only = ["chat", "zhipu"] if args.quick else args.only
    figures = asyncio.run(measure(only))
    rows = []
    for name, got in figures.items():
        raw, sdk = got["raw aiohttp"], got["sdk"]
        rows.append([
            name, f"{raw['objects']:.1f}", f"{sdk['objects']:.1f}",
            f"{sdk['objects'] / raw['objects']:.2f}", f"{raw['bytes']:,.0f}",
            f"{sdk['bytes']:,.0f}", f"{sdk['bytes'] / raw['bytes']:.2f}",
        ])  # fmt: skip
    print(f"per request in flight ({IN_FLIGHT} in flight, the server never answers)")
    header = ["scenario", "raw objects", "sdk objects", "x raw", "raw bytes", "sdk bytes", "x raw"]
    print(table(header, rows))
    write_json(args.json, {
        "environment": environment(), "in_flight": IN_FLIGHT, "quick": args.quick,
        "figures": figures,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
