"""The emulator in a child process, its clock and request log driven over a pipe.

A benchmark that measures the client's memory or CPU must not count the server's, so it runs
the emulator here (``time_scale=0``: only ``advance`` moves its clock). :class:`EmulatorChild`
starts it and sends one JSON command per line on its stdin; the child answers one JSON line:

- ``{"op": "advance", "seconds": s}`` → ``{"now": t}`` (also ``{"op": "now"}``);
- ``{"op": "durations", "durations": {"luma": 30}}``;
- ``{"op": "clear"}``: empty the request log;
- ``{"op": "statuses", "routes": [[single, batch or null, ids_field, method], …]}`` →
  ``{"counts": [[single requests, batch requests, ids in batches], …]}``.

The child exits when its stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _ids(request: Any, ids_field: str, method: str) -> int:
    if method == "GET":
        value = request.query.get(ids_field, "")
        return len(value.split(",")) if value else 0
    body = request.json
    return len(body.get(ids_field, [])) if isinstance(body, dict) else 0


def _command(emu: Any, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "advance":
        emu.advance(command["seconds"])
    elif op == "durations":
        emu.durations.update(command["durations"])
    elif op == "clear":
        emu.clear_requests()
    elif op == "statuses":
        counts = []
        for single, batch, ids_field, method in command["routes"]:
            singles = batches = ids = 0
            for request in emu.requests:
                if request.route == single:
                    singles += 1
                elif batch is not None and request.route == batch:
                    batches += 1
                    ids += _ids(request, ids_field, method)
            counts.append([singles, batches, ids])
        return {"counts": counts}
    return {"now": emu.now}


async def _serve() -> None:
    from api4gpt_async.testing import Emulator

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with Emulator(time_scale=0) as emu:
        print(json.dumps({"base_url": emu.base_url, "api_key": emu.api_key}), flush=True)
        while line := await reader.readline():
            print(json.dumps(_command(emu, json.loads(line))), flush=True)


class EmulatorChild:
    """Starts the child, sends it commands (``await call({...})``), stops it."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self.base_url = ""
        self.api_key = ""

    async def __aenter__(self) -> EmulatorChild:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        hello = await self._read()
        self.base_url, self.api_key = hello["base_url"], hello["api_key"]
        return self

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator child process exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def call(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self._proc.stdin.drain()
        return await self._read()

    async def __aexit__(self, *exc_info: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        asyncio.run(_serve())
