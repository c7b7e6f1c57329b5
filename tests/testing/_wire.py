"""Raw HTTP calls to the emulator, shared by the emulator's route tests."""

from __future__ import annotations

from typing import Any

import aiohttp


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
