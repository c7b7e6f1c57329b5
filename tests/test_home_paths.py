"""A leading ``~`` in any path a user gives the SDK or the CLI is the home folder.

A shell expands ``~`` only at the start of a word of its own: written in Python, quoted, or
after ``=`` (``--out=~/videos/``) it arrives as typed, and no file system call expands it. Taken
literally it made a folder named ``~`` in the working directory. Each test runs with ``HOME``
pointing at a folder of its own and checks that the file landed there and that nothing named
``~`` appeared in the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio.to_thread
import pytest
from typer.testing import CliRunner

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async._files import user_path
from api4gpt_async.batch import run_batch, run_job
from api4gpt_async.cli import _batch  # noqa: F401  (adds `api4gpt batch` to the app)
from api4gpt_async.cli._app import app
from api4gpt_async.journal import SQLiteJournal, open_journal
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp3_bytes

pytestmark = pytest.mark.anyio

JOB_LINE = '{"family": "luma", "op": "generate", "params": {"prompt": "a cat"}, "key": "cat"}\n'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home folder of the test's own; the working directory is another folder."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))  # where Windows looks
    monkeypatch.chdir(work)
    yield home
    assert list(work.iterdir()) == []  # no folder named "~", nothing else either


def test_the_rule(home: Path) -> None:
    assert user_path("~/videos/") == f"{home}{os.sep}videos/"  # still a folder
    assert user_path(Path("~") / "a.mp4") == str(home / "a.mp4")
    assert user_path("~") == str(home)
    assert user_path("videos/~x") == "videos/~x"  # only a leading ~ is the home folder


async def test_task_downloads(client: AsyncAPI4GPT, emulator: Emulator, home: Path) -> None:
    job = await client.luma.generate("a cat surfing")
    emulator.advance(60)
    video = await job.download("~/videos/")
    assert video.parent == home / "videos" and video.is_file()
    assert {p.parent for p in await job.download_all("~/all")} == {home / "all"}
    url = (await job.wait()).video_url
    assert url is not None
    assert await client.download(url, "~/direct.mp4") == home / "direct.mp4"


async def test_images_speech_and_grids(
    client: AsyncAPI4GPT, emulator: Emulator, home: Path
) -> None:
    image = (await client.images.generate("a red fox", model="dall-e-3")).data[0]
    assert (await image.save("~/images/")).parent == home / "images"
    speech = await client.audio.speech.create(model="tts-1", input="hi", voice="alloy")
    assert (await speech.save("~/speech/")).parent == home / "speech"
    speech.write_to_file("~/written.mp3")
    assert (home / "written.mp3").read_bytes() == speech.content
    streamed = await client.audio.speech.stream_to_file(
        "~/streamed.mp3", model="tts-1", input="hi", voice="alloy"
    )
    assert streamed == home / "streamed.mp3"
    grid = await client.midjourney.imagine("a red fox")
    emulator.advance(60)
    parts = await client.midjourney.split_grid(await grid.wait(), "~/grid")
    assert {p.parent for p in parts} == {home / "grid"}


async def test_uploads_read_from_the_home_folder(client: AsyncAPI4GPT, home: Path) -> None:
    (home / "hello.mp3").write_bytes(mp3_bytes(3.0))
    text = await client.audio.transcriptions.create(
        "~/hello.mp3", model="whisper-1", response_format="text"
    )
    assert isinstance(text, str) and text


async def test_journals_and_batches(client: AsyncAPI4GPT, emulator: Emulator, home: Path) -> None:
    emulator.durations["luma"] = 0
    async with SQLiteJournal("~/journals/one.sqlite3") as journal:
        assert await journal.entries() == []
    assert (home / "journals" / "one.sqlite3").is_file()
    (home / "jobs.jsonl").write_text(JOB_LINE)
    report = await run_batch(client, "~/jobs.jsonl", out="~/results")
    assert report.ok and report.results_path == home / "results" / "results.jsonl"
    assert (home / "results" / "journal.sqlite3").is_file()
    store = open_journal("~/worker.sqlite3")
    try:
        row = await run_job(client, _job("dog"), journal=store, media="~/worker-media")
    finally:
        await store.aclose()
    assert row["status"] == "succeeded" and row["files"]
    assert all((home / "worker-media" / name).is_file() for name in row["files"])


def _job(key: str) -> dict[str, object]:
    return {"family": "luma", "op": "generate", "params": {"prompt": f"a {key}"}, "key": key}


async def _api4gpt(*args: str) -> tuple[int, str]:
    """``api4gpt *args`` in a thread of this process, with the test's HOME and directory."""
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(app, list(args), catch_exceptions=False)
    )
    return result.exit_code, result.stdout + result.stderr


async def test_the_commands(
    emulator: Emulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.durations["luma"] = 0
    monkeypatch.setenv("API4GPT_BASE_URL", emulator.base_url)
    monkeypatch.setenv("API4GPT_API_KEY", emulator.api_key)
    code, output = await _api4gpt("luma", "generate", "a cat", "--out=~/videos/")
    assert code == 0, output
    assert [p.suffix for p in (home / "videos").iterdir()] == [".mp4"]
    (home / "jobs.jsonl").write_text(JOB_LINE)
    code, output = await _api4gpt("batch", "run", "~/jobs.jsonl", "--out=~/results")
    assert code == 0, output
    code, output = await _api4gpt("batch", "status", "~/results")
    assert code == 0 and "succeeded" in output, output
    (home / "hello.mp3").write_bytes(mp3_bytes(3.0))
    code, output = await _api4gpt("transcribe", "~/hello.mp3", "--model", "whisper-1")
    assert code == 0, output
    code, output = await _api4gpt("transcribe", "~/missing.mp3")
    assert code == 2 and "no file at '~/missing.mp3'" in output, output
