"""submit_many: a bound on jobs running on the service, no accepted job ever lost, and with a
journal each job submitted once across runs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import anyio
import pytest

from api4gpt_async import (
    AsyncAPI4GPT,
    BadRequestError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    TaskFailedError,
    TaskHandle,
    TaskTimeoutError,
)
from api4gpt_async.batch import Job, SubmitOutcome
from api4gpt_async.journal import JournalEntry, SQLiteJournal
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


def _prompts(outcomes: list[SubmitOutcome[Any]]) -> dict[str, SubmitOutcome[Any]]:
    return {o.key: o for o in outcomes}


def _submitted_prompts(emu: Emulator) -> list[str]:
    return [r.json["user_prompt"] for r in emu.requests if r.route == "luma.generate"]


async def test_refused_submits_never_lose_the_accepted_jobs(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.luma_duration = 0  # every accepted job is done at its first poll
    # Refused submits (nothing billed): a 429 past the retries, and a 400.
    emulator.rate_limit("luma.generate", retry_after=0, times=3)
    jobs = [
        Job(key=f"p{i}", submit=lambda i=i: client.luma.generate(f"video {i}")) for i in range(6)
    ]
    jobs.insert(3, Job(key="bad", submit=lambda: client.luma.generate("x", aspect_ratio="2:1")))
    outcomes = [o async for o in client.tasks.submit_many(jobs, max_running=1)]
    by_key = _prompts(outcomes)
    assert set(by_key) == {"p0", "p1", "p2", "bad", "p3", "p4", "p5"}
    assert isinstance(by_key["p0"].error, RateLimitError)  # refused after its retries
    assert isinstance(by_key["bad"].error, BadRequestError)
    for outcome in (by_key["p0"], by_key["bad"]):
        assert outcome.status == "refused" and not outcome.submitted and outcome.handle is None
    accepted = [by_key[k] for k in ("p1", "p2", "p3", "p4", "p5")]
    for outcome in accepted:
        assert outcome.ok and outcome.status == "succeeded"
        assert isinstance(outcome.handle, TaskHandle)
        assert outcome.result is not None and outcome.result.id == outcome.handle.id


async def test_server_errors_and_lost_answers_are_outcomes_too(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.luma_duration = 0
    emulator.fail("luma.generate", status=502, times=1)  # the gateway's own JSON: a refusal
    outcomes = [o async for o in client.tasks.submit_many([lambda: client.luma.generate("a")])]
    assert isinstance(outcomes[0].error, ServerError) and outcomes[0].status == "refused"
    emulator.fail("luma.generate", drop=True, times=1)  # sent, answer lost: maybe billed
    outcomes = [o async for o in client.tasks.submit_many([lambda: client.luma.generate("b")])]
    assert isinstance(outcomes[0].error, SubmissionUncertainError)
    assert outcomes[0].status == "uncertain" and outcomes[0].handle is None


async def test_at_most_max_running_jobs_run_on_the_service(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    finished = 0
    peak = 0

    def on_update(key: str, status: str, handle: TaskHandle[Any] | None) -> None:
        nonlocal finished, peak
        if status == "accepted":
            running = emulator.count("luma.generate") - finished
            peak = max(peak, running)
            # The clock stands still: jobs end only when it moves, after the bound is reached.
            if running == 3 or emulator.count("luma.generate") == 10:
                emulator.advance(60)
        elif status in ("succeeded", "failed"):
            finished += 1

    jobs = [lambda i=i: client.luma.generate(f"video {i}") for i in range(10)]
    outcomes = [o async for o in client.tasks.submit_many(jobs, max_running=3, on_update=on_update)]
    assert peak == 3
    assert sorted(o.index for o in outcomes) == list(range(10))
    assert all(o.ok for o in outcomes)
    assert emulator.count("luma.generate") == 10


async def test_failed_and_timed_out_jobs_keep_their_handles(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.luma_duration = 0
    jobs = [
        Job(key="fails", submit=lambda: client.luma.generate("please [fail]")),
        Job(key="ok", submit=lambda: client.luma.generate("fine")),
    ]
    by_key = _prompts([o async for o in client.tasks.submit_many(jobs)])
    assert isinstance(by_key["fails"].error, TaskFailedError)
    assert by_key["fails"].status == "failed" and by_key["fails"].handle is not None
    assert by_key["ok"].ok

    emulator.luma_duration = 1e6
    jobs = [Job(key="slow", submit=lambda: client.luma.generate("slow"))]
    (slow,) = [o async for o in client.tasks.submit_many(jobs, timeout=0.05)]
    assert isinstance(slow.error, TaskTimeoutError)
    assert slow.status == "accepted" and slow.handle is not None  # it may still finish


async def test_a_rerun_resumes_accepted_jobs_instead_of_submitting_again(
    make_client: Any, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite3"
    prompts = [f"video {i}" for i in range(6)]

    def jobs(client: AsyncAPI4GPT) -> list[Job]:
        return [
            Job(key=p, submit=lambda p=p: client.luma.generate(p), meta={"prompt": p})
            for p in prompts
        ]

    # First run: the clock stands still; stopped once every job was accepted (none finished),
    # as a process that dies while waiting.
    async with make_client() as client, SQLiteJournal(path) as journal:
        accepted: list[str] = []
        all_accepted = anyio.Event()

        def on_update(key: str, status: str, handle: TaskHandle[Any] | None) -> None:
            if status == "accepted":
                accepted.append(key)
                if len(accepted) == len(prompts):
                    all_accepted.set()

        async def consume() -> None:
            stream = client.tasks.submit_many(jobs(client), journal=journal, on_update=on_update)
            async with contextlib.aclosing(stream):
                async for _ in stream:
                    pytest.fail("no job can end while the clock stands still")

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await all_accepted.wait()
            tg.cancel_scope.cancel()
        assert {e.status for e in await journal.entries()} == {"accepted"}

    emulator.advance(60)
    async with make_client() as client, SQLiteJournal(path) as journal:
        outcomes = [o async for o in client.tasks.submit_many(jobs(client), journal=journal)]
        assert all(o.ok and o.attempts == 1 for o in outcomes)
        entries = await journal.entries()
        assert {e.status for e in entries} == {"succeeded"}
        assert [e.meta for e in entries] == [{"prompt": p} for p in prompts]
    assert sorted(_submitted_prompts(emulator)) == sorted(prompts)  # each exactly once


async def test_uncertain_jobs_are_resent_only_when_asked(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.luma_duration = 0
    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        # As a process killed mid-submit leaves it, and as a lost answer leaves it; a refused
        # submit (nothing billed) is simply sent again.
        await journal.update(JournalEntry(key="cut", status="submitting", attempts=1))
        await journal.update(JournalEntry(key="lost", status="uncertain", attempts=1))
        await journal.update(JournalEntry(key="refused", status="refused", attempts=1))

        def jobs() -> list[Job]:
            return [Job(key=k, submit=lambda k=k: client.luma.generate(k)) for k in
                    ("cut", "lost", "refused")]  # fmt: skip

        by_key = _prompts([o async for o in client.tasks.submit_many(jobs(), journal=journal)])
        for key in ("cut", "lost"):
            assert by_key[key].status == "uncertain"
            assert isinstance(by_key[key].error, SubmissionUncertainError)
        assert by_key["refused"].ok and by_key["refused"].attempts == 2
        assert _submitted_prompts(emulator) == ["refused"]

        outcomes = client.tasks.submit_many(jobs(), journal=journal, resubmit_uncertain=True)
        by_key = _prompts([o async for o in outcomes])
        assert all(o.ok for o in by_key.values())
        assert by_key["cut"].attempts == by_key["lost"].attempts == 2
        assert by_key["refused"].attempts == 2  # accepted before: resumed, not sent again
        assert sorted(_submitted_prompts(emulator)) == ["cut", "lost", "refused"]


async def test_on_result_runs_before_success_is_journalled(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.luma_duration = 0
    calls = 0

    async def on_result(handle: TaskHandle[Any], result: Any) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return {"saved": str(await handle.download(tmp_path))}

    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        jobs = [Job(key="a", submit=lambda: client.luma.generate("a"))]
        (first,) = [
            o async for o in client.tasks.submit_many(jobs, journal=journal, on_result=on_result)
        ]
        assert isinstance(first.error, OSError) and first.status == "accepted"
        (again,) = [
            o async for o in client.tasks.submit_many(jobs, journal=journal, on_result=on_result)
        ]
        assert again.ok and again.outcome is not None and Path(again.outcome["saved"]).exists()
        entry = await journal.get("a")
        assert entry is not None and entry.status == "succeeded"
        assert entry.outcome == again.outcome
        # Ended in an earlier run: its result is read again, its on_result is not redone.
        (third,) = [
            o async for o in client.tasks.submit_many(jobs, journal=journal, on_result=on_result)
        ]
        assert third.ok and third.outcome == again.outcome and third.result is not None
        assert calls == 2
    assert emulator.count("luma.generate") == 1


async def test_bad_arguments_are_refused_before_any_submit(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    def submit() -> Any:
        return client.luma.generate("x")

    with pytest.raises(ValueError, match="max_running"):
        [o async for o in client.tasks.submit_many([submit], max_running=0)]
    with pytest.raises(ValueError, match="repeats the key"):
        [o async for o in client.tasks.submit_many([Job(key="a", submit=submit)] * 2)]
    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        with pytest.raises(ValueError, match="no key"):
            [o async for o in client.tasks.submit_many([submit], journal=journal)]
    assert emulator.count("luma.generate") == 0


async def test_a_failing_progress_callback_stops_nothing(
    client: AsyncAPI4GPT, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.luma_duration = 0

    def on_update(key: str, status: str, handle: TaskHandle[Any] | None) -> None:
        raise RuntimeError("display broke")

    jobs = [lambda: client.luma.generate("a"), lambda: client.luma.generate("b")]
    outcomes = [o async for o in client.tasks.submit_many(jobs, on_update=on_update)]
    assert [o.ok for o in outcomes] == [True, True]
    assert "on_update failed" in caplog.text


async def test_a_journalled_job_of_an_unknown_kind_is_reported_not_resubmitted(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        ref = {"kind": "retired-family", "id": "x1"}
        await journal.update(JournalEntry(key="old", status="accepted", ref=ref, attempts=1))
        jobs = [Job(key="old", submit=lambda: client.luma.generate("old"))]
        (outcome,) = [o async for o in client.tasks.submit_many(jobs, journal=journal)]
    assert isinstance(outcome.error, ValueError) and "retired-family" in str(outcome.error)
    assert outcome.status == "accepted" and outcome.handle is None
    assert emulator.count("luma.generate") == 0
