"""Every expected failure of the ``api4gpt`` command is one line, ``error: ...``; new commands."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from typer.testing import CliRunner

from api4gpt_async import __version__
from api4gpt_async.cli._app import app
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def instant() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0, luma_duration=0) as emu:
        yield emu


async def _run(
    *args: str, emu: Emulator | None = None, key: str | None = None, process: bool = False
) -> tuple[int, str, str]:
    """Run ``api4gpt *args``: in a thread of this process (fast), or as a user does
    (``process=True``: a new interpreter, a narrow terminal, so any wrapping would show)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("API4GPT_")}
    if emu is not None:
        env.update(API4GPT_BASE_URL=emu.base_url, API4GPT_API_KEY=key or emu.api_key)
    if process:
        full = {k: v for k, v in {**os.environ, **env, "COLUMNS": "40"}.items() if v is not None}
        done = await anyio.run_process(
            [sys.executable, "-m", "api4gpt_async", *args], env=full, check=False
        )
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    )
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("one.api4gpt.com", "needs a scheme"),
        ("https://", "has no host"),
        ("http://127.0.0.1:99999", "not a valid URL"),
    ],
)
async def test_a_bad_base_url_is_one_line_and_exit_2(base_url: str, expected: str) -> None:
    code, _, err = await _run("chat", "hi", "--base-url", base_url, "--api-key", "sk-x")
    assert code == 2
    assert expected in _one_error_line(err)


@pytest.mark.parametrize("key", ["sk-a sk-b", " \n"])
async def test_a_bad_key_is_one_line_and_exit_2(instant: Emulator, key: str) -> None:
    code, _, err = await _run("models", emu=instant, key=key)
    assert code == 2, err
    assert "api_key" in _one_error_line(err)


async def test_a_key_with_a_trailing_newline_works(instant: Emulator) -> None:
    code, out, err = await _run("models", emu=instant, key=instant.api_key + "\n")
    assert code == 0, err
    assert "gpt-4o-mini" in out.split()


async def test_a_long_api_error_is_not_wrapped(instant: Emulator) -> None:
    code, _, err = await _run(
        "models", emu=instant, key="sk-wrong-key-of-some-length", process=True
    )
    assert code == 1
    assert "AuthenticationError" in _one_error_line(err)


@pytest.mark.parametrize("out", ["/proc/no-such-dir/x.png", "/proc/version/x.png"])
async def test_an_unwritable_out_is_one_line(instant: Emulator, out: str) -> None:
    code, _, err = await _run("image", "a cat", "--out", out, emu=instant)
    assert code == 1
    _one_error_line(err)
    assert "Traceback" not in err


async def test_a_busy_emulator_port_is_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code, _, err = await _run("emulator", "--port", str(port))
    assert code == 1
    assert "address already in use" in _one_error_line(err)


@pytest.mark.parametrize("port", ["70000", "-1"])
async def test_a_port_out_of_range_is_one_line_and_exit_2(port: str) -> None:
    code, _, err = await _run("emulator", "--port", port)
    assert code == 2
    assert "between 0 and 65535" in _one_error_line(err)


async def test_version() -> None:
    code, out, _ = await _run("--version")
    assert code == 0
    assert out.strip() == f"api4gpt-async {__version__}"


async def test_models_lists_one_id_per_line(instant: Emulator) -> None:
    code, out, err = await _run("models", emu=instant)
    assert code == 0, err
    ids = out.split()
    assert "gpt-4o-mini" in ids and all(" " not in line for line in out.splitlines())


async def _submit(emu: Emulator, *extra: str) -> dict[str, str]:
    code, out, err = await _run("luma", "generate", "a cat", *extra, emu=emu, process=True)
    assert code == 0, err
    printed = next(line for line in out.splitlines() if line.startswith("ref: "))
    ref: dict[str, str] = json.loads(printed.removeprefix("ref: "))
    return ref


@pytest.mark.parametrize("form", ["json", "short"])
async def test_task_wait_and_download_accept_a_printed_ref(
    instant: Emulator, tmp_path: Path, form: str
) -> None:
    ref = await _submit(instant, "--vip")
    text = json.dumps(ref) if form == "json" else f"{ref['kind']}:{ref['id']}"
    code, out, err = await _run("task", "wait", text, emu=instant)
    assert code == 0, err
    assert "succeeded" in out and ref["id"] in out
    (tmp_path / "videos").mkdir()
    code, out, err = await _run(
        "task", "download", text, "--out", str(tmp_path / "videos"), emu=instant
    )
    assert code == 0, err
    (video,) = (tmp_path / "videos").glob("*.mp4")
    assert video.read_bytes()[4:8] == b"ftyp"


async def test_task_download_out_ending_in_a_separator_is_a_new_folder(
    instant: Emulator, tmp_path: Path
) -> None:
    # As with every other --out: "clips/" names a folder (made), not a file called "clips".
    ref = await _submit(instant, "--vip")
    out = str(tmp_path / "clips") + "/"
    code, _, err = await _run(
        "task", "download", f"{ref['kind']}:{ref['id']}", "--out", out, emu=instant
    )
    assert code == 0, err
    # A folder gets every media file of the job (this one has its video only).
    saved = sorted(path.name for path in (tmp_path / "clips").iterdir())
    assert saved == [f"{ref['id']}-video.mp4"]


async def test_task_download_into_a_folder_saves_every_song_of_a_suno_job(
    instant: Emulator, tmp_path: Path
) -> None:
    async with instant.client() as client:
        handle = await client.suno.generate(gpt_description_prompt="harbour lights")
    instant.advance(24 * 3600)  # the songs are done
    songs = tmp_path / "songs"
    code, out, err = await _run(
        "task", "download", f"suno:{handle.id}", "--out", f"{songs}/", emu=instant
    )
    assert code == 0, err
    saved = sorted(path.suffix for path in songs.iterdir())
    assert saved == [".jpeg", ".jpeg", ".mp3", ".mp3"]  # both songs, each with its cover
    assert out.count("saved ") == 4


async def test_task_wait_of_a_failed_job_is_one_line_and_exit_1(instant: Emulator) -> None:
    code, out, err = await _run("luma", "generate", f"{Emulator.FAIL} a cat", emu=instant)
    ref = json.loads(next(x for x in out.splitlines() if x.startswith("ref: "))[5:])
    code, _, err = await _run("task", "wait", f"luma:{ref['id']}", emu=instant)
    assert code == 1
    assert "TaskFailedError" in _one_error_line(err)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("luma", "JSON or kind:id"),
        ('{"kind": "luma"', "invalid JSON"),
        ("nope:1", "unknown task kind"),
    ],
)
async def test_a_malformed_ref_is_one_line_and_exit_2(
    instant: Emulator, ref: str, expected: str
) -> None:
    code, _, err = await _run("task", "wait", ref, emu=instant)
    assert code == 2
    assert expected in _one_error_line(err)


def test_the_printed_export_line_works_in_a_shell(tmp_path: Path) -> None:
    key = "sk-it's a $key; with `spaces`"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api4gpt_async", "emulator", "--port", "0", "--api-key", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "30"},
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "API4GPT emulator on ..."
        export = proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert export.startswith("export ")
    shown = subprocess.run(
        ["sh", "-c", f'{export}\nprintf "%s\\n%s" "$API4GPT_BASE_URL" "$API4GPT_API_KEY"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    base_url, shown_key = shown.split("\n")
    assert shown_key == key
    assert base_url.startswith("http://127.0.0.1:")
    assert shlex.split(export)[0] == "export"


async def test_task_download_to_an_existing_file_needs_overwrite(
    instant: Emulator, tmp_path: Path
) -> None:
    ref = await _submit(instant, "--vip")
    text, out = f"{ref['kind']}:{ref['id']}", tmp_path / "video.mp4"
    out.write_bytes(b"mine")
    code, _, err = await _run("task", "download", text, "--out", str(out), emu=instant)
    assert code != 0 and "--overwrite" in _one_error_line(err)
    assert out.read_bytes() == b"mine"  # refused before anything was fetched
    code, _, err = await _run(
        "task", "download", text, "--out", str(out), "--overwrite", emu=instant
    )
    assert code == 0, err
    assert out.read_bytes()[4:8] == b"ftyp"
