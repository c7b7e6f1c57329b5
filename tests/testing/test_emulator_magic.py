"""The emulator's magic words are public, bracketed, and ordinary words never trigger them;
its ETAs follow ``time_scale`` so that a fast clock makes clients fast."""

from __future__ import annotations

import math

import aiohttp
import pytest

from api4gpt_async import PollPolicy, TaskFailedError, TaskState
from api4gpt_async.testing import Emulator

FAIL = Emulator.FAIL

pytestmark = pytest.mark.anyio


def test_magic_words_are_public_and_documented_on_the_emulator() -> None:
    words = {
        "FAIL": "[fail]",
        "REFUSE": "[refuse]",
        "STREAM_ERROR": "[stream-error]",
        "STREAM_CUT": "[stream-cut]",
        "HUGE": "[huge]",
    }
    for name, value in words.items():
        assert getattr(Emulator, name) == value
        assert name in (Emulator.__doc__ or "")


@pytest.mark.parametrize(
    "prompt",
    ["failing gracefully", "a FAIL-safe lock", "fail", "Fail whale", "[Fail]", "fail]", "[ fail ]"],
)
@pytest.mark.parametrize("flavour", ["luma", "lumvip"])
async def test_ordinary_words_do_not_make_a_job_fail(
    emulator: Emulator, make_client: object, prompt: str, flavour: str
) -> None:
    emulator.luma_duration = 0
    async with emulator.client() as client:
        handle = await getattr(client, flavour).generate(prompt)
        snap = await handle.refresh()
    assert snap.state is TaskState.SUCCEEDED


@pytest.mark.parametrize("prompt", [f"{FAIL} a cat", f"a cat {FAIL}", f"x{FAIL}y"])
@pytest.mark.parametrize("flavour", ["luma", "lumvip"])
async def test_the_fail_marker_makes_a_job_fail(
    emulator: Emulator, prompt: str, flavour: str
) -> None:
    emulator.luma_duration = 0
    async with emulator.client() as client:
        handle = await getattr(client, flavour).generate(prompt)
        with pytest.raises(TaskFailedError, match="emulated failure"):
            await handle.wait(timeout=5)


@pytest.mark.parametrize("word", ["refusing", "a huge cat", "stream errors", "[REFUSE]"])
async def test_ordinary_words_do_not_change_a_chat_reply(emulator: Emulator, word: str) -> None:
    async with emulator.client() as client:
        reply = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": word}]
        )
    message = reply.choices[0].message
    assert message.refusal is None and message.content is not None
    assert len(message.content) < 1000


@pytest.mark.parametrize(
    ("time_scale", "duration", "real_eta"), [(6.0, 12.0, 2), (100.0, 600.0, 6), (0.5, 3.0, 6)]
)
@pytest.mark.parametrize(
    ("submit", "query"),
    [("/luma/generations", "/luma/task"), ("/luma/v1/generations", "/luma/v1/task")],
)
async def test_etas_are_in_real_seconds_when_the_clock_runs(
    time_scale: float, duration: float, real_eta: int, submit: str, query: str
) -> None:
    async with Emulator(time_scale=time_scale, luma_duration=duration) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with aiohttp.ClientSession(emu.base_url, headers=headers) as http:
            async with http.post(submit, json={"user_prompt": "x"}) as resp:
                created = await resp.json()
            gid = created.get("data", created)["id"]
            async with http.get(query, params={"id": gid}) as resp:
                answer = await resp.json()
    eta = answer.get("data", answer)["estimate_wait_seconds"]
    assert eta in (real_eta, real_eta - 1)  # a moment of real time may have passed


@pytest.mark.parametrize(
    ("time_scale", "seconds", "expected"),
    [
        (6.0, 12.0, 2),
        (100.0, 600.0, 6),
        (0.5, 10.0, 20),
        (1.0, 7.2, 8),
        (0.0, 12.0, 12),
        (1000.0, 0.5, 1),
        (4.0, 0.0, 0),
    ],
)
def test_client_seconds_scales_by_the_clock(
    time_scale: float, seconds: float, expected: int
) -> None:
    emu = Emulator(time_scale=time_scale)
    assert emu.client_seconds(seconds) == expected


@pytest.mark.parametrize("time_scale", [50.0, 200.0])
async def test_a_fast_clock_makes_a_client_with_default_polling_fast(time_scale: float) -> None:
    # 600 emulated seconds; at this scale a few real seconds. Were the ETA reported in
    # emulator seconds, default polling would wait its 15 s cap and miss the 6 s deadline.
    async with (
        Emulator(time_scale=time_scale, luma_duration=600) as emu,
        emu.client(poll=PollPolicy()) as client,
    ):
        handle = await client.luma.generate("a slow cat")
        snap = await handle.refresh()
        assert snap.eta_seconds is not None
        assert snap.eta_seconds <= math.ceil(600 / time_scale)
        video = await handle.wait(timeout=600 / time_scale + 3)
    assert video.video_url is not None
