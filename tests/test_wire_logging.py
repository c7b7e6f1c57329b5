"""``API4GPT_LOG=debug``: one line per HTTP attempt (issue 7 item 13), never the key."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from api4gpt_async import AsyncAPI4GPT, ServerError
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>/\S*) -> (?P<status>\d+|-) request_id=(?P<rid>\S+) "
    r"(?P<ms>\d+) ms \(attempt (?P<attempt>\d+)\)"
)


def _attempts(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    lines = [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"]
    return [m for m in map(LINE.match, lines) if m]


async def test_one_line_per_attempt_for_requests_streams_and_downloads(
    client: AsyncAPI4GPT, emulator: Emulator, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    job = await client.luma.generate("a fox")  # a request
    emulator.advance(60)
    emulator.fail("luma.task", status=503)  # a failed attempt, then its retry
    await job.wait()
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        [chunk async for chunk in stream]
    await job.download(tmp_path / "fox.mp4")  # a download
    attempts = _attempts(caplog)
    logged = [(m["method"], m["path"], m["status"]) for m in attempts]
    answered = [(r.method, r.path, str(r.status)) for r in emulator.requests]
    assert logged == answered  # exactly one line per attempt, in order
    assert all(m["rid"] != "-" for m in attempts)
    assert ("GET", "/luma/v1/task", "503") in logged
    assert any(m["path"].startswith("/files/") for m in attempts)
    assert emulator.api_key.removeprefix("sk-") not in caplog.text


async def test_failed_attempts_are_logged_too(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    emulator.fail("luma.task", status=502, times=3)
    async with emulator.client() as client:
        with pytest.raises(ServerError):
            await client.luma.get("x")
    attempts = _attempts(caplog)
    assert [(m["status"], m["attempt"]) for m in attempts] == [
        ("502", "1"),
        ("502", "2"),
        ("502", "3"),
    ]
    assert emulator.api_key.removeprefix("sk-") not in caplog.text


async def test_nothing_is_logged_below_debug(
    client: AsyncAPI4GPT, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api4gpt_async")
    await client.luma.generate("a fox")
    assert not _attempts(caplog)
