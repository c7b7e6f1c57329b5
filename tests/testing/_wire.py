"""Raw HTTP calls to the emulator, shared by the emulator's route tests, and a server that
receives its callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web


async def call(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """Send a request; return the status, the decoded body (JSON if possible) and the response."""
    async with session.request(method, path, **kwargs) as response:
        raw = await response.read()
        body: Any = raw
        if response.content_type == "application/json":
            body = await response.json()
        elif response.content_type.startswith("text/"):
            body = raw.decode()
        return response.status, body, response


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
