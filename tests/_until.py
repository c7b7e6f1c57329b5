"""Waiting in tests for something the code under test does, without fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio


async def until(condition: Callable[[], bool], *, limit: float = 5.0) -> None:
    """Yield to the loop until ``condition()`` holds; fail after ``limit`` seconds."""
    with anyio.fail_after(limit):
        while not condition():
            await asyncio.sleep(0.001)
