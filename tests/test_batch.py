"""The batch runner as a library: job files, the data-driven family check, results."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

from api4gpt_async import AsyncAPI4GPT, TaskHandle
from api4gpt_async.batch import BatchJob, read_jobs, run_batch, run_job, submit_ops
from api4gpt_async.journal import SQLiteJournal
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


async def test_submit_ops_are_found_from_the_services(client: AsyncAPI4GPT) -> None:
    ops = submit_ops(client)
    # Every coroutine method returning a TaskHandle, in every family; nothing else.
    assert set(ops["luma"]) == set(ops["lumvip"]) >= {"generate", "extend"}
    assert "task" not in ops["luma"] and "get" not in ops["luma"]
    assert "chat" not in ops and "images" not in ops


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"family": "lumaa", "op": "generate"}, "unknown family 'lumaa' (did you mean 'luma'?"),
        ({"family": "luma", "op": "generat"}, "no submit 'generat' (did you mean 'generate'?"),
        ({"family": "luma", "op": "imagine"}, "luma has no submit 'imagine' (known: extend, gen"),
        ({"family": "luma", "op": "task"}, "luma has no submit 'task'"),
        ({"family": "luma", "op": "generate", "params": {"promt": "x"}}, "did you mean 'prompt'"),
        ({"family": "luma", "op": "generate", "params": {}}, "missing a required argument"),
    ],
)
async def test_a_job_the_client_cannot_submit_is_refused_before_any_submit(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, line: dict[str, Any], message: str
) -> None:
    good = BatchJob(family="luma", op="generate", params={"prompt": "fine"}, line=1)
    bad = BatchJob(line=2, **line)
    with pytest.raises(ValueError, match="line 2: ") as caught:
        await run_batch(client, [good, bad], out=tmp_path)
    assert message in str(caught.value)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "line 2: a job must be a JSON object"),
        ("{not json", "line 2: not JSON"),
        pytest.param(
            "[" * 100_000 + "]" * 100_000,
            "line 2: not JSON (nested too deeply to read)",
            id="too-deep-to-read",
        ),
        ('{"family": "luma", "op": "generate", "params": [1]}', "'params' must be an object"),
        ('{"family": "luma", "op": "generate", "extra": 1}', "unknown field(s) extra"),
        ('{"family": 3, "op": "generate"}', "'family' must be"),
        ('{"family": "luma", "op": "generate", "key": 5}', "'key' must be a string"),
        ('{"family": "luma", "op": "generate", "params": {"prompt": "a"}}', "repeats line 1"),
        (
            '{"family": "luma", "op": "generate", "params": {"extra_body": {"x": NaN}}}',
            "line 2: 'params' cannot be sent: a request body cannot hold NaN or an infinity"
            " (not JSON)"
            " (at extra_body.x)",
        ),
        (
            '{"family": "luma", "op": "generate", "params": {"prompt": "\\ud800"}}',
            "lone surrogate (not UTF-8) (at prompt)",
        ),
    ],
)
def test_job_files_are_read_strictly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text('{"family": "luma", "op": "generate", "params": {"prompt": "a"}}\n' + text)
    with pytest.raises(ValueError, match="line 2") as caught:
        read_jobs(path)
    assert message in str(caught.value)


def test_a_job_file_saved_with_a_bom_reads_as_without(tmp_path: Path) -> None:
    # Windows editors start UTF-8 files with a BOM; it is no part of the first line's JSON.
    line = '{"family": "luma", "op": "generate", "params": {"prompt": "a"}}\n'
    with_bom, without = tmp_path / "bom.jsonl", tmp_path / "plain.jsonl"
    with_bom.write_text("\ufeff" + line, encoding="utf-8")
    without.write_text(line, encoding="utf-8")
    assert read_jobs(with_bom) == read_jobs(without)
    assert [job.params for job in read_jobs(with_bom)] == [{"prompt": "a"}]


def test_the_default_key_is_a_hash_of_the_job(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(
        '{"family": "luma", "op": "generate", "params": {"prompt": "a", "loop": true}}\n\n'
        '{"params": {"loop": true, "prompt": "a"}, "op": "generate", "family": "luma"}\n'
    )
    with pytest.raises(ValueError, match="repeats line 1"):  # same job, however spelled
        read_jobs(path)
    path.write_text('{"family": "luma", "op": "generate", "params": {"prompt": "a"}}\n')
    (job,) = read_jobs(path)
    assert len(job.key) == 24 and job.line == 1
    assert job.key != BatchJob(family="lumvip", op="generate", params={"prompt": "a"}).key


async def test_results_have_one_line_per_job_in_input_order(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.luma_duration = 0
    jobs = [
        BatchJob(family="lumvip", op="generate", params={"prompt": "one"}, key="a"),
        BatchJob(family="luma", op="generate", params={"prompt": "two [fail]"}, key="b"),
        BatchJob(family="luma", op="generate", params={"prompt": "3", "aspect_ratio": "x"}),
    ]
    seen: list[tuple[str, str]] = []
    report = await run_batch(
        client, jobs, out=tmp_path, on_update=lambda job, step, h: seen.append((job.key, step))
    )
    assert [r["status"] for r in report.rows] == ["succeeded", "failed", "refused"]
    assert not report.ok and report.counts["succeeded"] == 1
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert lines == report.rows
    (video,) = [f for f in lines[0]["files"] if f.endswith(".mp4")]
    assert (tmp_path / video).read_bytes()[4:8] == b"ftyp"
    assert ("a", "accepted") in seen and ("b", "failed") in seen

    # Run again: finished jobs are read from the journal, only the refused one is sent again.
    emulator.clear_requests()
    async with SQLiteJournal(tmp_path / "journal.sqlite3") as journal:
        again = await run_batch(client, jobs, out=tmp_path, journal=journal)
    assert again.rows[:2] == report.rows[:2]
    assert [r.route for r in emulator.requests] == ["luma.generate"]


async def test_a_crash_between_download_and_journal_is_finished_by_the_rerun(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.luma_duration = 0
    jobs = [BatchJob(family="luma", op="generate", params={"prompt": "one"}, key="a")]
    first = await run_batch(client, jobs, out=tmp_path)
    files = first.rows[0]["files"]
    assert files and all((tmp_path / f).exists() for f in files)
    # As a kill right after the download leaves it: media on disk, the journal still accepted.
    async with SQLiteJournal(tmp_path / "journal.sqlite3") as journal:
        entry = await journal.get("a")
        assert entry is not None
        await journal.update(attrs.evolve(entry, status="accepted", outcome=None))
    again = await run_batch(client, jobs, out=tmp_path)
    assert again.ok and again.rows[0]["files"] == files  # the job's own files, replaced
    assert emulator.count("luma.generate") == 1


async def test_run_job_answers_a_redelivered_job_without_submitting_again(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.luma_duration = 0
    job = {"family": "lumvip", "op": "generate", "params": {"prompt": "queued"}, "key": "q1"}
    async with SQLiteJournal(tmp_path / "journal.sqlite3") as journal:
        row = await run_job(client, job, journal=journal, media=tmp_path / "media")
        assert row["status"] == "succeeded" and row["key"] == "q1"
        assert all((tmp_path / "media" / f).exists() for f in row["files"])
        assert await run_job(client, job, journal=journal) == row  # delivered again
        with pytest.raises(ValueError, match="unknown parameter 'promt'"):
            await run_job(client, {**job, "params": {"promt": "x"}}, journal=journal)
    assert emulator.count("lumvip.generate") == 1


class _ToyHandle(TaskHandle[str]):
    """A family's own handle type still marks a submit method."""


class _ToyService:
    async def make(self, *, size: int) -> _ToyHandle:
        raise NotImplementedError

    async def remix(self, source: str) -> TaskHandle[str]:
        raise NotImplementedError

    async def get(self, task_id: str) -> str:  # a query, not a submit
        raise NotImplementedError

    def task(self, task_id: str) -> TaskHandle[str]:  # no request: not a submit
        raise NotImplementedError


def test_any_family_with_handle_returning_methods_is_found() -> None:
    toy_client: Any = types.SimpleNamespace(toy=_ToyService(), _private=_ToyService())
    assert {family: sorted(ops) for family, ops in submit_ops(toy_client).items()} == {
        "toy": ["make", "remix"]
    }
