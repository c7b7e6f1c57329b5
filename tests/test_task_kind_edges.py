"""The shared task vocabulary at its edges: state words, the poll delay arithmetic, media files
and ``TaskKind``'s defaults (each case pins one decision of ``_task_kind``)."""

from __future__ import annotations

import logging
import uuid

import pytest

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async._task_kind import (
    MediaFile,
    PollPolicy,
    TaskKind,
    TaskSnapshot,
    TaskState,
    main_file,
    state_from_text,
)
from api4gpt_async.errors import UnsupportedOperation


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("  In Progress ", TaskState.RUNNING),
        ("NOT-STARTED", TaskState.PENDING),
        ("not start", TaskState.PENDING),
        ("Succeed", TaskState.SUCCEEDED),
        ("Errored", TaskState.FAILED),
        ("canceled", TaskState.CANCELLED),
        ("UNKNOWN", TaskState.RUNNING),
    ],
)
def test_state_words_are_normalised(word: str, state: TaskState) -> None:
    assert state_from_text(word, kind="edge") is state


def test_an_unknown_word_is_running_and_logged_once_per_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Kinds named afresh: "once" is for the life of the process, which may have run this before.
    a, b = f"edge-a-{uuid.uuid4().hex[:8]}", f"edge-b-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
        assert state_from_text("Teleporting", kind=a) is TaskState.RUNNING
        assert state_from_text("teleporting", kind=a) is TaskState.RUNNING
        assert state_from_text("teleporting", kind=b) is TaskState.RUNNING
        assert state_from_text(None, kind=a) is TaskState.RUNNING
    messages = [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"]
    assert messages == [
        f"unknown {a} task state 'Teleporting', treated as running",
        f"unknown {b} task state 'teleporting', treated as running",
        f"unknown {a} task state None, treated as running",
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_state_str_and_terminal() -> None:
    assert f"{TaskState.PENDING}" == "pending" and str(TaskState.FAILED) == "failed"
    assert [s for s in TaskState if s.terminal] == [
        TaskState.SUCCEEDED,
        TaskState.FAILED,
        TaskState.CANCELLED,
    ]


def test_change_key() -> None:
    snap = TaskSnapshot(
        id="1", kind="k", state=TaskState.RUNNING, raw=None, progress=0.5, needs_action=True
    )
    assert snap._change_key == (TaskState.RUNNING, 0.5, True)


@pytest.mark.parametrize(
    ("previous", "eta", "expected"),
    [
        (None, None, 2.0),  # first poll: initial_delay
        (2.0, None, 3.0),  # grows by the multiplier
        (1.0, None, 3.0),  # a shorter previous wait counts as initial_delay
        (12.0, None, 15.0),  # capped at max_delay
        (None, 5.0, 5.0),  # the job's own estimate
        (10.0, 0.5, 2.0),  # an estimate under initial_delay waits initial_delay
        (None, 100.0, 15.0),  # an estimate over max_delay waits max_delay
        (4.0, 0.0, 6.0),  # a zero estimate is no estimate
        (4.0, -3.0, 6.0),
    ],
)
def test_next_delay_without_jitter(
    previous: float | None, eta: float | None, expected: float
) -> None:
    policy = PollPolicy(initial_delay=2.0, multiplier=1.5, max_delay=15.0, jitter=0)
    assert policy.next_delay(previous, eta) == expected


def test_next_delay_jitter_spreads_both_ways() -> None:
    policy = PollPolicy(initial_delay=10.0, max_delay=100.0, jitter=0.5)
    samples = [policy.next_delay(None) for _ in range(400)]
    assert all(5.0 <= s <= 15.0 for s in samples)
    assert min(samples) < 7.0 and max(samples) > 13.0


def test_main_file() -> None:
    assert main_file(None) == [] and main_file("") == []
    (only,) = main_file("https://cdn.example/v.mp4")
    assert only == MediaFile(url="https://cdn.example/v.mp4", role="media", suffix="")


@pytest.mark.anyio
async def test_task_kind_defaults() -> None:
    class Bare(TaskKind[object, object]):
        name = "bare"

    kind = Bare(None)  # type: ignore[arg-type]
    assert (TaskKind.name, TaskKind.batch_size) == ("", 1)
    assert kind.media_url(object()) is None
    assert kind.media_urls(object()) == []
    assert kind.suggested_input(object()) is None
    with pytest.raises(UnsupportedOperation, match=r"^bare jobs cannot be cancelled"):
        await kind.cancel("1")

    class WithFile(TaskKind[object, str]):
        def media_url(self, result: str) -> str | None:
            return result

    assert WithFile(None).media_urls("u") == [MediaFile(url="u")]  # type: ignore[arg-type]


def test_a_kind_without_parse_refuses_out_of_band_statuses() -> None:
    """A custom kind that does not implement ``parse`` says so, also through
    ``client.tasks.read``."""
    from api4gpt_async import AsyncAPI4GPT

    class Bare(TaskKind[object, object]):
        name = "bare"

    client = AsyncAPI4GPT(api_key="k")
    client.tasks.register(Bare(None))  # type: ignore[arg-type]
    message = r"^bare statuses cannot be delivered out of band$"
    with pytest.raises(UnsupportedOperation, match=message):
        Bare(None).parse({"id": "1"})  # type: ignore[arg-type]
    with pytest.raises(UnsupportedOperation, match=message):
        client.tasks.read("bare", {"id": "1"})


def test_a_missing_state_is_not_mistaken_for_a_word(caplog: pytest.LogCaptureFixture) -> None:
    """No state at all and an unknown word are two things, each logged once."""
    kind = f"edge-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="api4gpt_async"):
        assert state_from_text(None, kind=kind) is TaskState.RUNNING
        assert state_from_text("xxxx", kind=kind) is TaskState.RUNNING
    assert [r.getMessage() for r in caplog.records if r.name == "api4gpt_async"] == [
        f"unknown {kind} task state None, treated as running",
        f"unknown {kind} task state 'xxxx', treated as running",
    ]


@pytest.mark.anyio
async def test_a_kind_keeps_the_client_s_transport() -> None:
    """``TaskKind(transport)`` keeps it as ``.transport``, for a kind's own queries: a family's
    kind holds its client's transport."""
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
        transport = client.luma._transport
        assert client.luma._kind.transport is transport
        assert TaskKind[str, str](transport).transport is transport
