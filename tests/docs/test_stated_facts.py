"""Facts the README and the docs state, checked against the code: how long a Luma job takes
on ``Emulator()`` and how to make it instant, where ``lumvip`` differs from ``luma``, the
emulator's route names, and that a billable call that times out raises
``SubmissionUncertainError``, not ``APITimeoutError``. A change to either side fails here until
the text follows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from api4gpt_async import (
    APIConnectionError,
    APITimeoutError,
    SubmissionUncertainError,
    TaskState,
)
from api4gpt_async._paths import DEFAULT_PATHS
from api4gpt_async.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TESTING = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
LUMA = (ROOT / "docs" / "families" / "luma.md").read_text(encoding="utf-8")
ERRORS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.anyio


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def test_a_luma_job_takes_what_the_text_says() -> None:
    seconds = Emulator().duration("luma")
    assert Emulator().time_scale == 1.0  # real time: an emulator second is a second
    stated = f"runs its clock in real time (`time_scale=1.0`) and a Luma job takes {seconds:g} s"
    assert stated in _flat(README)
    assert f"`emu.advance({seconds:g})`" in README and 'durations={"luma": 0}' in README
    assert f"a Luma job takes {seconds:g} s of real time" in _flat(TESTING)
    assert f"`emu.advance({seconds:g})`" in TESTING
    async with Emulator(time_scale=0) as emu, emu.client() as client:
        job = await client.luma.generate("a cat")
        emu.advance(seconds - 0.1)
        assert (await job.refresh()).state is TaskState.RUNNING
        emu.advance(0.1)
        assert (await job.refresh()).state is TaskState.SUCCEEDED
    async with Emulator(time_scale=0, durations={"luma": 0}) as emu, emu.client() as client:
        job = await client.luma.generate("a cat")
        assert (await job.refresh()).state is TaskState.SUCCEEDED


def test_lumvip_is_luma_under_another_prefix() -> None:
    for op in ("generate", "extend", "task"):
        luma, lumvip = DEFAULT_PATHS[f"luma.{op}"], DEFAULT_PATHS[f"lumvip.{op}"]
        assert isinstance(luma, str) and isinstance(lumvip, str)
        assert luma.replace("/luma/v1/", "/luma/") == lumvip
    assert "sent under `/luma/` instead of `/luma/v1/`" in _flat(README)
    assert "`client.luma` (prefix `/luma/v1`) and `client.lumvip` (prefix `/luma`)" in _flat(LUMA)
    assert "relay/channel/task/luma" not in LUMA  # stock new-api has no Luma relay


def _route_rows(routes: Mapping[str, str]) -> list[str]:
    rows = ["| route name | method | path |", "|---|---|---|"]
    for name, route in routes.items():
        method, path = route.split(" ", 1)
        rows.append(f"| `{name}` | {method} | `{path}` |")
    return rows


def test_the_route_names_table_is_the_emulators_own() -> None:
    # The table of docs/testing.md, from its header row to the first line that is no row.
    lines = TESTING.splitlines()
    start = lines.index("| route name | method | path |")
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    expected = _route_rows(Emulator().routes)
    assert lines[start:end] == expected, (
        "docs/testing.md, 'Route names': replace the table with\n" + "\n".join(expected)
    )


async def test_a_billable_call_that_times_out_is_uncertain_not_a_timeout() -> None:
    # The porting section (README, included by docs/porting.md) lists APITimeoutError as
    # porting as is, and says where it does not; the errors page says the same.
    rule = (
        "`SubmissionUncertainError`, which is an `APIConnectionError` and deliberately not an "
        "`APITimeoutError`"
    )
    porting = README[README.index("## Porting from openai-python") :]
    porting = porting[: porting.index("\n## ")]
    assert rule in _flat(porting) and "Check your `except APITimeoutError`" in porting
    assert rule in _flat(ERRORS)
    assert issubclass(SubmissionUncertainError, APIConnectionError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert not issubclass(SubmissionUncertainError, APITimeoutError)
    async with Emulator(time_scale=0) as emu, emu.client() as client:
        late = emu.delay("chat.completions", 5, times=None)  # answered after the deadline
        with pytest.raises(SubmissionUncertainError) as info:
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], timeout=0.2
            )
        assert not isinstance(info.value, APITimeoutError)
        assert late.hits == 1  # sent once, never again
