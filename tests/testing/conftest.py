"""Fixtures for the emulator's own tests: an emulator with a frozen clock, raw HTTP sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from api4gpt_async.testing import Emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0, models=["m", "w"]) as emu:  # the tests' placeholders
        yield emu


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session that sends the emulator's key (no SDK in between)."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with aiohttp.ClientSession(emu.base_url, headers=headers) as session:
        yield session


@pytest.fixture
async def anon(emu: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session that sends no key."""
    async with aiohttp.ClientSession(emu.base_url) as session:
        yield session
