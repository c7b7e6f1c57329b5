"""The ``api4gpt`` command, run as a user runs it: a separate process."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

SECRET = "sk-cli-secret-0123456789"


@pytest.fixture
async def instant_emulator() -> AsyncIterator[Emulator]:
    """Jobs that are finished when submitted, so the CLI never has to poll."""
    async with Emulator(api_key=SECRET, time_scale=0, luma_duration=0) as emu:
        yield emu


async def _api4gpt(*args: str, emu: Emulator | None = None, key: str = SECRET) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    if emu is not None:
        env.update(API4GPT_BASE_URL=emu.base_url, API4GPT_API_KEY=key)
    env["COLUMNS"] = "200"
    result = await anyio.run_process(
        [sys.executable, "-m", "api4gpt_async", *args], env=env, check=False
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert SECRET not in output  # the key is never printed, whatever happens
    return result.returncode, output


async def test_demo_runs_offline_and_saves_videos(tmp_path: Path) -> None:
    code, output = await _api4gpt("demo", "--out", str(tmp_path), "--jobs", "3")
    assert code == 0, output
    videos = sorted(tmp_path.glob("*.mp4"))
    assert len(videos) == 2  # the third job is asked to fail, and is reported, not fatal
    assert all(v.read_bytes()[4:8] == b"ftyp" for v in videos)
    assert "2 of 3 videos saved" in output
    assert "emulated failure" in output


async def test_luma_generate_waits_and_downloads(
    instant_emulator: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "video.mp4"
    code, output = await _api4gpt(
        "luma", "generate", "a cat surfing", "--out", str(out), emu=instant_emulator
    )
    assert code == 0, output
    assert out.read_bytes()[4:8] == b"ftyp"
    assert instant_emulator.count("luma.generate") == 1
    assert '"kind": "luma"' in output  # the ref, to resume later


async def test_task_get_prints_state_and_status(instant_emulator: Emulator) -> None:
    code, output = await _api4gpt("luma", "generate", "a cat", "--vip", emu=instant_emulator)
    assert code == 0, output
    submit = next(r for r in instant_emulator.requests if r.route == "lumvip.generate")
    assert submit.json == {"user_prompt": "a cat"}
    generation_id = output.split("job ")[1].split()[0]
    # Every task command takes a job as KIND ID, as kind:id, or as the printed JSON ref.
    ref = f'{{"kind": "lumvip", "id": "{generation_id}"}}'
    forms = [["lumvip", generation_id], [f"lumvip:{generation_id}"], [ref]]
    for form in forms:
        code, output = await _api4gpt("task", "get", *form, emu=instant_emulator)
        assert code == 0, output
        assert "succeeded" in output
        assert generation_id in output
    for form in forms:
        code, output = await _api4gpt("task", "wait", *form, emu=instant_emulator)
        assert (code, output.splitlines()[0]) == (0, f"lumvip {generation_id}: succeeded")


async def test_errors_are_one_line_and_exit_1(instant_emulator: Emulator) -> None:
    code, output = await _api4gpt("luma", "generate", "x", emu=instant_emulator, key="sk-wrong")
    assert code == 1
    assert "AuthenticationError" in output
    assert "Traceback" not in output


async def test_unknown_task_kind_exits_2(instant_emulator: Emulator) -> None:
    code, output = await _api4gpt("task", "get", "nope", "1", emu=instant_emulator)
    assert code == 2
    assert "unknown task kind" in output


async def test_chat_prints_the_reply(instant_emulator: Emulator) -> None:
    code, output = await _api4gpt("chat", "hello there", emu=instant_emulator)
    assert code == 0, output
    (request,) = instant_emulator.requests
    assert request.json["messages"][-1] == {"role": "user", "content": "hello there"}
    assert "stream" not in request.json
    assert "hello there" in output  # the emulator's reply echoes the prompt


async def test_chat_streams_when_asked(instant_emulator: Emulator) -> None:
    code, output = await _api4gpt(
        "chat", "hello there", "--stream", "--system", "be brief", emu=instant_emulator
    )
    assert code == 0, output
    (request,) = instant_emulator.requests
    assert request.json["stream"] is True
    assert request.json["messages"][0] == {"role": "system", "content": "be brief"}
    assert "hello there" in output


async def test_a_broken_stream_ends_the_reply_line_before_the_error(
    instant_emulator: Emulator,
) -> None:
    piece = '{"choices": [{"index": 0, "delta": {"content": "half a reply"}}]}'
    instant_emulator.fail(
        "chat.completions", status=200, body=f"data: {piece}\n\ndata: not json\n\n".encode(),
        headers={"Content-Type": "text/event-stream"},
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env.update(API4GPT_BASE_URL=instant_emulator.base_url, API4GPT_API_KEY=SECRET)
    result = await anyio.run_process(
        [sys.executable, "-m", "api4gpt_async", "chat", "hi", "--stream"], env=env, check=False
    )
    assert result.returncode == 1
    assert result.stdout.decode() == "half a reply\n"  # the error starts on a line of its own
    assert result.stderr.decode().startswith("error: ResponseDecodeError: a stream event")


async def test_image_saves_a_png(instant_emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "cat.png"
    code, output = await _api4gpt(
        "image", "a cat", "--model", "dall-e-3", "--out", str(out), emu=instant_emulator
    )
    assert code == 0, output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    request = next(r for r in instant_emulator.requests if r.route == "images.generate")
    assert request.json["model"] == "dall-e-3"


async def test_speak_then_transcribe(instant_emulator: Emulator, tmp_path: Path) -> None:
    audio = tmp_path / "hello.mp3"
    code, output = await _api4gpt("speak", "hello world", "--out", str(audio), emu=instant_emulator)
    assert code == 0, output
    assert audio.read_bytes()[:2] in (b"\xff\xfb", b"ID")  # an MP3 frame or ID3 tag
    code, output = await _api4gpt("transcribe", str(audio), emu=instant_emulator)
    assert code == 0, output
    request = next(r for r in instant_emulator.requests if r.route == "audio.transcriptions")
    assert request.form()["file"].filename == "hello.mp3"  # type: ignore[union-attr]
    assert output.strip()


async def test_emulator_command_serves_until_stopped() -> None:
    import json as _json
    import signal

    import aiohttp

    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    async with await anyio.open_process(
        [sys.executable, "-m", "api4gpt_async", "emulator", "--port", "0", "--api-key", SECRET],
        env={**env, "COLUMNS": "200"},
    ) as process:
        assert process.stdout is not None
        buffered = b""
        with anyio.fail_after(20):
            while b"\n" not in buffered.partition(b"API4GPT_API_KEY")[2]:
                buffered += await process.stdout.receive()
        url = "http://" + buffered.split(b"http://")[1].split()[0].decode()
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {SECRET}"}
            async with session.post(
                f"{url}/luma/generations", json={"user_prompt": "x"}, headers=headers
            ) as resp:
                assert resp.status == 200
                assert _json.loads(await resp.read())["code"] == "success"
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(20):
            assert await process.wait() == 0  # Ctrl-C is how it ends: no error
            assert process.stderr is not None
            assert b"error" not in b"".join([chunk async for chunk in process.stderr])
    # The export line works when pasted into a shell (the emulator's own key is no secret).
    export = next(line for line in buffered.decode().splitlines() if "export " in line)
    shell = await anyio.run_process(
        ["sh", "-c", f'{export.strip()}; printf "%s %s" "$API4GPT_BASE_URL" "$API4GPT_API_KEY"']
    )
    assert shell.stdout.decode() == f"{url} {SECRET}"


@pytest.mark.parametrize(
    ("command", "route"),
    [
        (["luma", "generate", "a cat"], "luma.generate"),
        (["image", "a cat"], "images.generate"),
        (["speak", "hello"], "audio.speech"),
    ],
)
@pytest.mark.parametrize("taken_by", ["file", "link", "dangling-link"])
async def test_out_never_overwrites_unless_asked(
    instant_emulator: Emulator, tmp_path: Path, command: list[str], route: str, taken_by: str
) -> None:
    precious = tmp_path / "precious"
    precious.write_bytes(b"precious")
    out = tmp_path / "taken"
    if taken_by == "file":
        out.write_bytes(b"precious")
    else:  # a link is replaced by a save as a file would be: refused the same, before paying
        out.symlink_to(precious if taken_by == "link" else tmp_path / "gone")
    code, output = await _api4gpt(*command, "--out", str(out), emu=instant_emulator)
    assert code == 1
    assert output.strip().splitlines() == [f"error: {out} exists (use --overwrite to replace it)"]
    assert precious.read_bytes() == b"precious"
    assert os.path.lexists(out)
    assert instant_emulator.count(route) == 0  # refused before anything billable was sent


async def test_a_taken_out_is_named_absolutely(
    instant_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("taken.png").write_bytes(b"precious")
    code, output = await _api4gpt("image", "a cat", "--out", "taken.png", emu=instant_emulator)
    assert code == 1
    assert (
        output.strip() == f"error: {tmp_path / 'taken.png'} exists (use --overwrite to replace it)"
    )


async def test_overwrite_replaces_the_out_file(instant_emulator: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "cat.png"
    out.write_bytes(b"precious")
    code, output = await _api4gpt(
        "image", "a cat", "--out", str(out), "--overwrite", emu=instant_emulator
    )
    assert code == 0, output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_out_ending_in_a_separator_is_a_folder(
    instant_emulator: Emulator, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    code, output = await _api4gpt(
        "luma", "generate", "a cat", "--out", f"{folder}/", emu=instant_emulator
    )
    assert code == 0, output
    (video,) = folder.iterdir()
    assert video.suffix == ".mp4"
    assert video.read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize(
    "command",
    [["luma", "generate", "a cat", "--wait"], ["suno", "generate", "rain on a tin roof", "--wait"]],
    ids=["luma", "suno"],
)
async def test_ctrl_c_while_waiting_says_how_to_rejoin_the_job_and_exits_130(
    command: list[str],
) -> None:
    import json
    import signal

    async with Emulator(api_key=SECRET, time_scale=0) as emu:  # jobs run until advanced
        env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
        # Narrow, as in a pipe or a small window: the command to copy still comes in one line.
        env.update(API4GPT_BASE_URL=emu.base_url, API4GPT_API_KEY=SECRET, COLUMNS="40")
        argv = [sys.executable, "-m", "api4gpt_async", *command]
        async with await anyio.open_process(argv, env=env) as process:
            assert process.stdout is not None and process.stderr is not None
            seen = b""
            with anyio.fail_after(20):
                while b"ref:" not in seen or not seen.endswith(b"\n"):
                    seen += await process.stdout.receive()
                while len(emu.requests) < 2:  # submitted, and polled: waiting now
                    await anyio.sleep(0.01)
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(20):
                assert await process.wait() == 130
                rest = b"".join([chunk async for chunk in process.stdout])
                errors = b"".join([chunk async for chunk in process.stderr])
        ref = json.loads(seen.decode().split("ref: ", 1)[1].splitlines()[0])
        rejoin = f"api4gpt task wait {ref['kind']}:{ref['id']}"
        assert any(line.endswith(rejoin) for line in (seen + rest).decode().splitlines())
        assert errors.decode().strip() == "error: interrupted"
        # And that command does wait for it, once it ends.
        emu.advance(3600)
        code, output = await _api4gpt(*rejoin.split()[1:], emu=emu)
        assert code == 0, output


@pytest.mark.parametrize(
    "command",
    [
        ["task", "get", "suno", ".."],
        ["task", "wait", "suno:."],
        ["task", "download", "midjourney:..", "--out", "x/"],
        ["mj", "task", ".."],
    ],
)
async def test_an_id_that_names_another_path_is_a_one_line_usage_error(
    instant_emulator: Emulator, command: list[str]
) -> None:
    code, output = await _api4gpt(*command, emu=instant_emulator)
    assert (code, output.strip()) == (2, output.strip().splitlines()[-1])  # one line, exit 2
    assert output.startswith("error: id cannot be") and "Traceback" not in output
    assert instant_emulator.requests == []


@pytest.mark.parametrize(
    "command",
    [["luma", "generate", "a cat", "--out", ""], ["image", "a cat", "--out", ""]],
    ids=["luma", "image"],
)
async def test_an_empty_out_is_a_usage_error_before_anything_billable(
    instant_emulator: Emulator, command: list[str]
) -> None:
    code, output = await _api4gpt(*command, emu=instant_emulator)
    assert (code, output.strip()) == (
        2,
        'error: --out is empty: name a file, or a folder ("." for this one)',
    )
    assert instant_emulator.requests == []


async def test_task_wait_prints_the_result_once_without_its_raw_answer(
    instant_emulator: Emulator,
) -> None:
    code, output = await _api4gpt("luma", "generate", "a cat", emu=instant_emulator)
    job = output.split("job ")[1].split()[0]
    code, output = await _api4gpt("task", "wait", f"luma:{job}", emu=instant_emulator)
    assert code == 0, output
    assert f"files/{job}.mp4" in output and '"video"' in output
    assert '"raw"' not in output and "null" not in output  # the fields that hold something
    assert output.count(f"{job}.mp4") == 2  # the video's url and download_url, not repeated raw


@pytest.mark.parametrize(
    "command",
    [
        ["doctor"],
        ["image", "a cat", "--out", "cat.png"],
        ["luma", "generate", "a cat"],
        ["batch", "run", "jobs.jsonl", "--out", "out"],
    ],
    ids=["doctor", "image", "luma", "batch"],
)
async def test_every_command_says_the_same_when_no_key_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    line = {"family": "luma", "op": "generate", "params": {"prompt": "a"}}
    Path("jobs.jsonl").write_text(json.dumps(line) + "\n")
    code, output = await _api4gpt(*command)  # no API4GPT_* variable in its environment
    assert code == 1
    assert output.strip() == "error: no API key: pass --api-key or set API4GPT_API_KEY"
    assert not Path("cat.png").exists() and not Path("out").exists()
