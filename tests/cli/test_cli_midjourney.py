"""``api4gpt mj ...``, run as a user runs it: a separate process against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_cli import SECRET, _api4gpt

from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def instant() -> AsyncIterator[Emulator]:
    """Midjourney tasks that are finished as soon as they are submitted."""
    async with Emulator(api_key=SECRET, time_scale=0, durations={"midjourney": 0}) as emu:
        yield emu


async def test_imagine_waits_saves_and_splits(instant: Emulator, tmp_path: Path) -> None:
    code, output = await _api4gpt(
        "mj", "imagine", "a red fox", "--split", "--out", str(tmp_path), emu=instant
    )
    assert code == 0, output
    task_id = next(r for r in instant.requests if r.route == "midjourney.fetch").path.split("/")[3]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert f"{task_id}.png" in names
    assert [f"{task_id}-{n}.png" in names for n in range(1, 5)] == [True] * 4
    assert "buttons: U1 U2 U3 U4 🔄 V1 V2 V3 V4" in output
    assert '"kind": "midjourney"' in output


async def test_imagine_action_and_task(instant: Emulator) -> None:
    code, output = await _api4gpt("mj", "imagine", "a fox", "--speed", "relax", emu=instant)
    assert code == 0, output
    assert [r.path for r in instant.requests] == ["/mj-relax/mj/submit/imagine"]
    task_id = output.split("task ")[1].split()[0]
    code, output = await _api4gpt("mj", "action", task_id, "U3", "--wait", emu=instant)
    assert code == 0, output
    child = output.split("task ")[1].split()[0]
    assert child != task_id and "Vary (Strong)" in output
    code, output = await _api4gpt("mj", "task", child, emu=instant)
    assert code == 0, output
    assert f"midjourney {child}: SUCCESS 100%" in output and '"action": "UPSCALE"' in output
    code, output = await _api4gpt("mj", "action", task_id, "Zoom Out 2x", emu=instant)
    assert code == 2 and "no 'Zoom Out 2x' button" in output


async def test_refusals_are_one_line(instant: Emulator) -> None:
    code, output = await _api4gpt("mj", "imagine", "gore", emu=instant)
    assert code == 1
    assert "ContentPolicyError" in output and "Traceback" not in output
    code, output = await _api4gpt("mj", "imagine", "a fox", "--speed", "warp", emu=instant)
    assert code == 2 and "--speed" in output
    assert instant.count("midjourney.imagine") == 1  # the bad --speed sent nothing
