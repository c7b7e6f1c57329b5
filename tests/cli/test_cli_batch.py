"""``api4gpt batch``: run as a user runs it, killed with SIGKILL mid-batch, run again.

The emulator runs in a process of its own, so its request log (read through its
``GET /_emulator/requests`` route) outlives every run of the batch.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.abc
import pytest

from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

SECRET = "sk-batch-secret-0123456789"


def _env(base_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env["COLUMNS"] = "200"
    if base_url is not None:
        env.update(API4GPT_BASE_URL=base_url, API4GPT_API_KEY=SECRET)
    return env


@pytest.fixture
async def emulator_process(spawn_emulator: Callable[..., Awaitable[str]]) -> str:
    """An emulator in its own process, on a fast clock (a Luma job takes 0.12 s)."""
    return await spawn_emulator("--api-key", SECRET, "--time-scale", "100")


#: The submit route of each family in the batch, and the body field holding the prompt.
SUBMIT_ROUTES = {
    "luma.generate": "user_prompt",
    "lumvip.generate": "user_prompt",
    "midjourney.imagine": "prompt",
    "suno.generate": "gpt_description_prompt",
}


async def _submits(base_url: str) -> list[str]:
    """The prompt of every submit the emulator has received (refused ones included)."""
    headers = {"Authorization": f"Bearer {SECRET}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        found = []
        for route, field in SUBMIT_ROUTES.items():
            url = f"{base_url}/_emulator/requests"
            async with session.get(url, params={"route": route}) as response:
                assert response.status == 200
                found += [request["json"][field] for request in await response.json()]
        return found


def _batch_command(jobs: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "api4gpt_async", "batch", "run", str(jobs), "--out", str(out),
        "--concurrency", "25", "--poll-every", "0.02", *extra,
    ]  # fmt: skip


async def _run_until(command: list[str], base_url: str, log: Path, *, kill_at: int) -> None:
    """Run the batch and SIGKILL it once the emulator has seen ``kill_at`` submits."""
    with log.open("ab") as output:
        process = await anyio.open_process(
            command, env=_env(base_url), stdout=output, stderr=output
        )
        async with process:
            with anyio.fail_after(30):
                while len(await _submits(base_url)) < kill_at:
                    assert process.returncode is None, "the batch ended before it was killed"
                    await anyio.sleep(0.01)  # polling the emulator's log, not synchronising
            process.kill()
            await process.wait()
        assert process.returncode == -9


def _write_jobs(path: Path) -> dict[str, str]:
    """200 mixed jobs: four families, some asked to fail, some refused; key → expected end."""
    expected = {}
    families = {  # family: (op, the parameter holding the prompt)
        "luma": ("generate", "prompt"),
        "lumvip": ("generate", "prompt"),
        "midjourney": ("imagine", "prompt"),
        "suno": ("generate", "gpt_description_prompt"),
    }
    with path.open("w") as file:
        for i in range(200):
            family = list(families)[i % 4]
            op, field = families[family]
            params: dict[str, Any] = {field: f"clip {i}"}
            outcome = "succeeded"
            if i % 9 == 4:
                params[field] += " that should [fail]"
                outcome = "failed"
            elif i % 25 == 7 and family != "suno":  # the service refuses these: nothing billed
                if family == "midjourney":
                    params[field] += " gore"  # a banned word: code 24
                else:
                    params["aspect_ratio"] = "5:4"
                outcome = "refused"
            key = f"job-{i:03d}"
            expected[key] = outcome
            line = {"family": family, "op": op, "params": params, "key": key}
            if i % 3 == 0:
                del line["key"]  # the default key: a hash of the line
            file.write(json.dumps(line) + "\n")
    return expected


@pytest.mark.slow
@pytest.mark.timeout(150)  # five processes; about 20 s on a busy machine
async def test_sigkilled_twice_then_finished_with_no_duplicate_submit(
    emulator_process: str, tmp_path: Path
) -> None:
    jobs, out, log = tmp_path / "jobs.jsonl", tmp_path / "out", tmp_path / "runs.log"
    expected = _write_jobs(jobs)
    command = _batch_command(jobs, out)

    await _run_until(command, emulator_process, log, kill_at=50)
    await _run_until(command, emulator_process, log, kill_at=120)
    with log.open("ab") as output:
        final = await anyio.run_process(
            command, env=_env(emulator_process), stdout=output, stderr=output, check=False
        )
    text = log.read_text(errors="replace")
    assert final.returncode == 1, text  # some jobs fail or are refused, by design
    assert SECRET not in text

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 200 and len({r["key"] for r in rows}) == 200  # every job, once
    by_prompt: dict[str, dict[str, Any]] = {}
    for row, line in zip(rows, jobs.read_text().splitlines(), strict=True):
        job = json.loads(line)
        assert row["line"] == rows.index(row) + 1
        params = job["params"]
        by_prompt[params.get("prompt") or params["gpt_description_prompt"]] = row
        if "key" in job:
            assert row["key"] == job["key"]
            want = expected[job["key"]]
        else:
            want = expected[f"job-{row['line'] - 1:03d}"]
        # A job whose submit was cut off by a kill is reported, never silently re-sent.
        assert row["status"] in (want, "uncertain"), row

    submits = Counter(await _submits(emulator_process))
    for prompt, row in by_prompt.items():
        if row["status"] in ("succeeded", "failed"):
            assert submits[prompt] == 1, f"{prompt!r} was submitted {submits[prompt]} times"
            assert row["ref"] is not None
        elif row["status"] == "uncertain":  # cut off by a kill: sent once, or not at all
            assert submits[prompt] <= 1
        else:  # refused on every run: never accepted, nothing billed
            assert row["status"] == "refused" and row["ref"] is None
        if row["status"] == "succeeded":  # every media file of the job
            assert row["files"] and all((out / f).stat().st_size > 0 for f in row["files"])
            if row["family"] in ("luma", "lumvip"):
                (video,) = [f for f in row["files"] if f.endswith(".mp4")]
                assert (out / video).read_bytes()[4:8] == b"ftyp"
    assert {r["family"] for r in rows if r["status"] == "succeeded"} == {
        "luma", "lumvip", "midjourney", "suno"
    }  # fmt: skip

    status = await anyio.run_process(
        [sys.executable, "-m", "api4gpt_async", "batch", "status", str(out / "journal.sqlite3")],
        env=_env(),
        check=False,
    )
    shown = status.stdout.decode()
    assert status.returncode == 0, shown + status.stderr.decode()
    succeeded = sum(1 for r in rows if r["status"] == "succeeded")
    (tally,) = [line for line in shown.splitlines() if line.startswith("200 jobs: ")]
    assert f" {succeeded} succeeded" in tally


async def test_exit_code_is_zero_only_when_every_job_succeeded(tmp_path: Path) -> None:
    async with Emulator(api_key=SECRET, time_scale=0, luma_duration=0) as emu:
        jobs = tmp_path / "jobs.jsonl"
        lines = [
            {"family": "luma", "op": "generate", "params": {"prompt": "a"}},
            {"family": "lumvip", "op": "generate", "params": {"prompt": "b"}, "key": "b"},
        ]
        jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
        command = _batch_command(jobs, tmp_path / "out")
        done = await anyio.run_process(command, env=_env(emu.base_url), check=False)
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        # Not a terminal: the last live view ends its line before the summary begins.
        assert any(line.startswith("batch summary") for line in done.stdout.decode().splitlines())
        assert emu.count("luma.generate") == emu.count("lumvip.generate") == 1
        again = await anyio.run_process(command, env=_env(emu.base_url), check=False)
        assert again.returncode == 0
        assert emu.count("luma.generate") == emu.count("lumvip.generate") == 1  # all done
        status = await anyio.run_process(  # the --out folder stands for its journal
            [sys.executable, "-m", "api4gpt_async", "batch", "status", str(tmp_path / "out")],
            env=_env(),
            check=False,
        )
        assert status.returncode == 0 and "2 jobs: 2 succeeded" in status.stdout.decode()


async def test_an_invalid_line_is_one_clear_error_before_any_submit(tmp_path: Path) -> None:
    async with Emulator(api_key=SECRET, time_scale=0, luma_duration=0) as emu:
        jobs = tmp_path / "jobs.jsonl"
        good = {"family": "luma", "op": "generate", "params": {"prompt": "fine"}}
        typo = {"family": "luma", "op": "generate", "params": {"promt": "x"}}
        other = {"family": "lumaa", "op": "generate", "params": {"prompt": "x"}}
        jobs.write_text("".join(json.dumps(line) + "\n" for line in (good, typo, other)))
        done = await anyio.run_process(
            _batch_command(jobs, tmp_path / "out"), env=_env(emu.base_url), check=False
        )
        output = done.stdout.decode() + done.stderr.decode()
        assert done.returncode == 2, output
        # Every bad line named, on the one error line, each kept apart from the next.
        assert (
            "invalid jobs: line 2: luma.generate: unknown parameter 'promt' (did you mean "
            "'prompt'?); line 3: unknown family 'lumaa'"
        ) in output
        assert "Traceback" not in output and "[red]" not in output
        assert emu.requests == []  # nothing was sent, not even the good line


async def test_cut_off_submits_are_re_sent_only_with_resubmit_uncertain(tmp_path: Path) -> None:
    async with Emulator(api_key=SECRET, time_scale=0, luma_duration=0) as emu:
        jobs = tmp_path / "jobs.jsonl"
        line = {"family": "luma", "op": "generate", "params": {"prompt": "a"}, "key": "a"}
        jobs.write_text(json.dumps(line) + "\n")
        command = _batch_command(jobs, tmp_path / "out")
        emu.fail("luma.generate", drop=True)  # the submit arrives, its answer is lost
        cut = await anyio.run_process(command, env=_env(emu.base_url), check=False)
        output = cut.stdout.decode()
        assert cut.returncode == 1, output
        assert "1 job: 1 uncertain" in output and "--resubmit-uncertain" in output
        resent = await anyio.run_process(
            [*command, "--resubmit-uncertain"], env=_env(emu.base_url), check=False
        )
        assert resent.returncode == 0, resent.stdout.decode() + resent.stderr.decode()
        assert emu.count("luma.generate") == 2  # sent again because it was asked for


async def test_ctrl_c_says_how_to_resume_and_running_again_resumes(tmp_path: Path) -> None:
    import signal

    jobs, out = tmp_path / "jobs.jsonl", tmp_path / "out"
    jobs.write_text(
        "".join(
            json.dumps({"family": "luma", "op": "generate", "params": {"prompt": f"clip {i}"}})
            + "\n"
            for i in range(3)
        )
    )
    async with Emulator(api_key=SECRET, time_scale=0) as emu:  # jobs run until advanced
        command = _batch_command(jobs, out)
        async with await anyio.open_process(command, env=_env(emu.base_url)) as process:
            assert process.stderr is not None
            with anyio.fail_after(30):
                while emu.count("luma.task") < 3:  # all submitted, and being polled
                    assert process.returncode is None, "the batch ended before Ctrl-C"
                    await anyio.sleep(0.01)  # polling the emulator's log, not synchronising
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(30):
                assert await process.wait() == 130
                errors = b"".join([chunk async for chunk in process.stderr]).decode()
        assert errors.strip().splitlines()[-1] == (
            "error: interrupted: run the same command again to resume the batch"
        )
        # Running it again waits for the same three jobs: none is submitted twice.
        emu.advance(3600)
        async with await anyio.open_process(command, env=_env(emu.base_url)) as again:
            with anyio.fail_after(30):
                assert await again.wait() == 0
        assert emu.count("luma.generate") == 3
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        assert [row["status"] for row in rows] == ["succeeded"] * 3
        assert all((out / f).stat().st_size > 0 for row in rows for f in row["files"])
