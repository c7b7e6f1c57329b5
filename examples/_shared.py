"""How every example gets its client: the real service when a key is set, else the emulator.

API4GPT_API_KEY=sk-... python examples/luma_batch.py   # real service (billed)
python examples/luma_batch.py                          # built-in emulator, offline
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api4gpt_async import AsyncAPI4GPT, Hooks, PollPolicy
from api4gpt_async.testing import Emulator


@asynccontextmanager
async def open_client() -> AsyncIterator[AsyncAPI4GPT]:
    if os.environ.get("API4GPT_API_KEY"):
        async with AsyncAPI4GPT() as client:
            yield client
        return
    # The emulator's clock runs 10x fast here, so a twelve-second job takes about one second.
    async with Emulator(time_scale=10) as emu:
        poll = PollPolicy(initial_delay=0.1, max_delay=0.3, timeout=60)
        async with emu.client(poll=poll) as client:
            yield client


async def observed_traffic(hooks: Hooks) -> None:
    """Some traffic for the observability recipes: a chat call whose first attempt is refused
    (429) and retried, a Luma job that succeeds and one that fails, on the emulator."""
    async with Emulator(time_scale=0) as emu, emu.client(hooks=hooks) as client:
        emu.fail("chat.completions", status=429, times=1)  # refused: retried
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
        )
        jobs = [
            await client.luma.generate(p) for p in ("a calm sea", f"a stormy sea {Emulator.FAIL}")
        ]
        emu.advance(600)
        await client.tasks.gather(jobs, return_exceptions=True)
