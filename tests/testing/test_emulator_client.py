"""``Emulator.client()``: a client wired to the emulator, tuned so tests never wait."""

from __future__ import annotations

import pytest

from api4gpt_async import AsyncAPI4GPT, PollPolicy, SubmissionUncertainError
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


async def test_client_is_wired_and_fast() -> None:
    async with Emulator(api_key="sk-own", time_scale=0) as emu, emu.client() as client:
        assert isinstance(client, AsyncAPI4GPT)
        assert client.base_url == emu.base_url
        assert client.poll.initial_delay < 0.01
        job = await client.luma.generate("a test")
        emu.advance(60)
        assert (await job.wait()).state == "completed"
        assert emu.count("luma.generate") == 1


async def test_client_options_can_be_overridden() -> None:
    policy = PollPolicy(timeout=3)
    async with Emulator() as emu, emu.client(poll=policy, timeout=5) as client:
        assert client.poll is policy
        assert client.timeout == 5


async def test_a_submit_that_timed_out_is_counted_at_once() -> None:
    # The docs' check after a SubmissionUncertainError, with a delay instead of a drop: the
    # request is in the log while the emulator still holds its answer back.
    async with Emulator(time_scale=0) as emu, emu.client(timeout=0.2) as client:
        fault = emu.fail("luma.generate", delay=60)
        with pytest.raises(SubmissionUncertainError):
            await client.luma.generate("a cat surfing")
        assert fault.hits == 1
        assert emu.count("luma.generate") == 1  # not re-sent, and already logged
        assert emu.requests[-1].status == 0  # answered only when the delay ends (at the stop)
