"""Clients kept at module level, used from several ``asyncio.run``\\ s, or never closed."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import textwrap

import aiohttp
import pytest

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.testing import Emulator

_MESSAGES = [{"role": "user", "content": "hi"}]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_client_serves_a_second_asyncio_run() -> None:
    port = _free_port()
    client = AsyncAPI4GPT(api_key="sk-emulator", base_url=f"http://127.0.0.1:{port}")

    async def use() -> str | None:
        async with Emulator(port=port, time_scale=0, luma_duration=0):
            reply = await client.chat.completions.create(model="gpt-4o-mini", messages=_MESSAGES)
            job = await client.luma.generate("a cat")
            await job.wait(timeout=5)
            return reply.choices[0].message.content

    first = asyncio.run(use())
    second = asyncio.run(use())  # a new loop: the session of the old one is rebuilt
    third = asyncio.run(use())
    assert first == second == third == "You said: hi"
    asyncio.run(client.aclose())


def test_one_request_per_asyncio_run_gets_a_fresh_session_each_time() -> None:
    """The session is bound to the loop that made it on its very first request."""
    port = _free_port()
    client = AsyncAPI4GPT(api_key="sk-emulator", base_url=f"http://127.0.0.1:{port}")

    async def use() -> str | None:
        async with Emulator(port=port, time_scale=0):
            reply = await client.chat.completions.create(model="gpt-4o-mini", messages=_MESSAGES)
            return reply.choices[0].message.content

    assert asyncio.run(use()) == asyncio.run(use()) == "You said: hi"
    asyncio.run(client.aclose())


def test_an_injected_session_used_from_another_loop_raises_one_clear_error() -> None:
    port = _free_port()

    async def make() -> tuple[AsyncAPI4GPT, aiohttp.ClientSession]:
        session = aiohttp.ClientSession()
        client = AsyncAPI4GPT(
            api_key="sk-emulator", base_url=f"http://127.0.0.1:{port}", session=session
        )
        async with Emulator(port=port, time_scale=0):
            await client.models.list()
        return client, session

    client, session = asyncio.run(make())

    async def again() -> None:
        async with Emulator(port=port, time_scale=0):
            await client.models.list()

    message = (
        "the aiohttp session passed to AsyncAPI4GPT(session=...) belongs to another event "
        "loop; create the session (or let the client create its own) inside the loop that "
        "uses it"
    )
    with pytest.raises(RuntimeError, match=f"^{re.escape(message)}$"):
        asyncio.run(again())
    session.connector._close()  # type: ignore[union-attr]  # its own loop is gone


_FORGOTTEN = """
import asyncio
from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.testing import Emulator

client = AsyncAPI4GPT(api_key="sk-emulator", base_url="http://127.0.0.1:{port}")

async def main():
    async with Emulator(port={port}, time_scale=0):
        {body}

asyncio.run(main())
print("done")
"""


@pytest.mark.parametrize(
    "body",
    [
        "await client.models.list()",
        "await client.chat.completions.create(model='gpt-4o-mini', messages={messages!r})",
        "await (await client.luma.generate('a cat')).refresh()",
        "pass  # never used: no session at all",
    ],
)
def test_a_client_never_closed_ends_quietly(body: str) -> None:
    port = _free_port()
    script = _FORGOTTEN.format(port=port, body=body.format(messages=_MESSAGES))
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""  # no "Unclosed client session", no ResourceWarning


def test_a_client_collected_unclosed_inside_its_loop_is_quiet() -> None:
    port = _free_port()

    async def main() -> None:
        async with Emulator(port=port, time_scale=0):
            client = AsyncAPI4GPT(api_key="sk-emulator", base_url=f"http://127.0.0.1:{port}")
            await client.models.list()
            del client
            import gc

            gc.collect()  # warnings are errors here, and the loop's complaints fail the test

    asyncio.run(main())
