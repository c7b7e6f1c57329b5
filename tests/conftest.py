"""Shared fixtures: an emulator per test and a client pointed at it, polling fast."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

from api4gpt_async import AsyncAPI4GPT, PollPolicy, RetryPolicy
from api4gpt_async.testing import Emulator

#: Polls quickly and without jitter: tests move the emulator's clock, never real time.
FAST_POLL = PollPolicy(initial_delay=0.001, multiplier=1.0, max_delay=0.005, jitter=0, timeout=5)
#: Retries without back-off sleeps worth waiting for.
FAST_RETRY = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiohttp is asyncio-only


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0, models=["m"]) as emu:  # "m": the tests' placeholder
        yield emu


@pytest.fixture
def make_client(emulator: Emulator) -> Callable[..., AsyncAPI4GPT]:
    """Build a client for the emulator (``Emulator.client``), polling and retrying fast."""

    def make(**overrides: Any) -> AsyncAPI4GPT:
        return emulator.client(
            **{"poll": FAST_POLL, "retry": FAST_RETRY, "timeout": 10, **overrides}
        )

    return make


@pytest.fixture
async def client(make_client: Callable[..., AsyncAPI4GPT]) -> AsyncIterator[AsyncAPI4GPT]:
    async with make_client() as client:
        yield client


@pytest.fixture
def unused_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def spawn_emulator() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Start ``api4gpt emulator`` in processes of their own (``await spawn_emulator(*args)``
    gives the base URL); each is killed at teardown. Its request log outlives any client
    process: read it with ``GET /_emulator/requests``."""
    async with contextlib.AsyncExitStack() as stack:

        async def spawn(*args: str) -> str:
            env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
            command = [sys.executable, "-m", "api4gpt_async", "emulator", "--port", "0", *args]
            process = await stack.enter_async_context(
                await anyio.open_process(command, env={**env, "COLUMNS": "200"})
            )
            stack.callback(process.kill)
            assert process.stdout is not None
            buffered = b""
            with anyio.fail_after(20):
                while b"http://" not in buffered or b"\n" not in buffered.split(b"http://")[1]:
                    buffered += await process.stdout.receive()
            return "http://" + buffered.split(b"http://")[1].split()[0].decode()

        yield spawn


# -- asyncio's own complaints fail the test ------------------------------------------------------
# A destroyed pending task, an exception nobody retrieved or an unclosed transport reach the
# loop's exception handler, not the warnings machinery, so -W error alone would miss them.

_loop_complaints: list[str] = []
_original_handler = asyncio.BaseEventLoop.call_exception_handler


def _recording_handler(self: asyncio.BaseEventLoop, context: dict[str, Any]) -> None:
    _loop_complaints.append(str(context.get("message") or context.get("exception")))
    _original_handler(self, context)


asyncio.BaseEventLoop.call_exception_handler = _recording_handler  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_loop_complaints() -> Iterator[None]:
    before = len(_loop_complaints)
    yield
    new = _loop_complaints[before:]
    assert not new, f"asyncio reported problems during this test: {new}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = len(_loop_complaints)
    gc.collect()  # tasks destroyed while pending show up when they are collected
    if len(_loop_complaints) > before:
        print(f"\nasyncio reported problems at the end: {_loop_complaints[before:]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
