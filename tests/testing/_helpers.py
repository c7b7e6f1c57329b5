"""Helpers for the emulator's family tests: a JSON call, and a server that receives callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """Send a request; return the status and the JSON body."""
    async with session.request(method, path, **kwargs) as response:
        return response.status, await response.json()


@asynccontextmanager
async def hook_server() -> AsyncIterator[tuple[str, asyncio.Queue[Any]]]:
    """A loopback server whose URL queues every JSON body POSTed to it."""
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    finally:
        await runner.cleanup()
