"""Each fault × each family: the outcome class, the server's request counts, no leftovers, and
the key in no error and no log record.

The families come from the one workload table (``testing/_workloads.py``); the faults from the
chaos proxy (``testing/_chaos.py``), dealt to the first request of one stage of the work: its
submit, its first status query, its download. Plus the emulator restarted on the same port
while handles wait, jobs that never finish, and the gateway's own JSON 5xx (a refusal).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from api4gpt_async import (
    API4GPTError,
    APIConnectionError,
    AsyncAPI4GPT,
    Hooks,
    PollPolicy,
    RequestEvent,
    RetryPolicy,
    ServerError,
    TaskState,
    TaskTimeoutError,
)
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._chaos import ALL_FAULTS, ChaosProxy, FaultKind
from api4gpt_async.testing._workloads import (
    WORKLOADS,
    Attempt,
    Outcome,
    Stage,
    Workload,
    accepted_by_marker,
    key_leaks,
    marker_of,
    perform,
)

pytestmark = pytest.mark.anyio

TIMEOUT = 2.0  # a call's deadline: roomy, for loaded machines
SHORT = 0.3  # the deadline when the fault is a slow answer or a stall, which outlast it
SLOW = 0.5
OUTLASTING: frozenset[str] = frozenset({"slow", "ping_stall"})
POLL = PollPolicy(initial_delay=0.001, multiplier=1.0, max_delay=0.005, jitter=0, timeout=10)
RETRY = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002, max_retry_after=1)

TASKS = [w for w in WORKLOADS if w.shape == "task"]


@attrs.frozen
class Scenario:
    """A fault dealt to the first request of ``stage``, and what the work must end as."""

    fault: FaultKind
    stage: Stage
    outcome: Outcome
    accepted: int  # accepted submits in the server's log
    stream_outcome: Outcome | None = None  # when a stream ends otherwise

    @property
    def id(self) -> str:
        return f"{self.stage}-{self.fault}"


SUBMIT_SCENARIOS = (
    Scenario("html_5xx_before", "submit", "uncertain", 0),
    Scenario("html_5xx_after", "submit", "uncertain", 1),
    Scenario("rate_limit", "submit", "done", 1),
    Scenario("drop_before", "submit", "uncertain", 0),
    Scenario("drop_after", "submit", "uncertain", 1),
    Scenario("truncated", "submit", "uncertain", 1, stream_outcome="failed"),
    Scenario("malformed", "submit", "uncertain", 1, stream_outcome="failed"),
    Scenario("invalid_http", "submit", "uncertain", 1),
    Scenario("slow", "submit", "uncertain", 1),
    Scenario("ping_stall", "submit", "failed", 1),  # streams only
)
#: Status queries and downloads are idempotent: every fault is absorbed.
LATER_FAULTS = tuple(f for f in ALL_FAULTS if f not in ("ping_stall", "download_cut"))
WAIT_SCENARIOS = tuple(Scenario(f, "wait", "done", 1) for f in LATER_FAULTS)
#: A file's bytes are opaque (no malformed), and a slow answer takes from the one deadline.
DOWNLOAD_SCENARIOS = tuple(
    Scenario(f, "download", "done", 1)
    for f in (*LATER_FAULTS, "download_cut")
    if f not in ("malformed", "slow")
)


def _cases() -> list[Any]:
    cases = []
    for workload in WORKLOADS:
        scenarios: tuple[Scenario, ...] = SUBMIT_SCENARIOS
        if workload.shape == "task":
            scenarios += WAIT_SCENARIOS + DOWNLOAD_SCENARIOS
        for scenario in scenarios:
            if scenario.fault == "ping_stall" and workload.shape != "stream":
                continue
            cases.append(pytest.param(workload, scenario, id=f"{workload.name}-{scenario.id}"))
    return cases


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=1000) as emu:
        yield emu


def _client(emu: Emulator, base_url: str, **overrides: Any) -> AsyncAPI4GPT:
    options: dict[str, Any] = {"timeout": TIMEOUT, "poll": POLL, "retry": RETRY, **overrides}
    return AsyncAPI4GPT(api_key=emu.api_key, base_url=base_url, **options)


def _sdk_tasks() -> list[asyncio.Task[Any]]:
    return [
        t for t in asyncio.all_tasks() if not t.done() and t.get_name().startswith("api4gpt_async")
    ]


def _assert_typed(attempt: Attempt) -> None:
    if attempt.error is not None:
        assert isinstance(attempt.error, API4GPTError), repr(attempt.error)


@pytest.mark.parametrize(("workload", "scenario"), _cases())
async def test_fault(
    emu: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    workload: Workload,
    scenario: Scenario,
) -> None:
    caplog.set_level(logging.DEBUG, logger="api4gpt_async")
    async with ChaosProxy(emu.base_url, rate=0, slow=SLOW, ping_every=0.02) as proxy:
        client = _client(
            emu, proxy.base_url, timeout=SHORT if scenario.fault in OUTLASTING else TIMEOUT
        )

        def on_stage(stage: Stage) -> None:
            if stage == scenario.stage:
                proxy.force(scenario.fault)

        async with client:
            attempt = await perform(
                client,
                workload,
                marker_of(1),
                folder=tmp_path / "out",
                download_timeout=TIMEOUT,
                on_stage=on_stage,
            )
        assert not _sdk_tasks()
        assert client.tasks.scheduler.waiting == 0
        assert dict(proxy.injected) == {scenario.fault: 1}  # the fault was dealt, once

    expected = scenario.outcome
    if workload.shape == "stream" and scenario.stream_outcome is not None:
        expected = scenario.stream_outcome
    accepted = accepted_by_marker(emu.requests).get(marker_of(1), 0)
    assert (attempt.outcome(accepted), accepted) == (expected, scenario.accepted), attempt.error
    assert sum(emu.count(route) for route in workload.routes) == scenario.accepted
    _assert_typed(attempt)
    if attempt.error is not None:
        assert key_leaks(attempt.error, emu.api_key) == []
    assert emu.api_key not in caplog.text
    if expected == "done" and workload.shape == "task":
        saved = list((tmp_path / "out").iterdir())
        assert len(saved) == 1
        assert saved[0].stat().st_size > 0


# -- the emulator restarted while handles wait ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("workload", TASKS, ids=[w.name for w in TASKS])
async def test_emulator_restarted_on_the_same_port_while_handles_wait(
    tmp_path: Path, workload: Workload
) -> None:
    refused = asyncio.Event()

    def on_request(event: RequestEvent) -> None:
        if isinstance(event.error, APIConnectionError):
            refused.set()

    emu = Emulator(time_scale=0, port=_free_port())
    await emu.start()
    base_url = emu.base_url
    try:
        async with _client(emu, base_url, hooks=Hooks(on_request=on_request)) as client:
            handles = [await workload.submit(client, marker_of(n)) for n in range(3)]
            await emu.stop()
            waits = asyncio.gather(*(h.wait(timeout=10) for h in handles))
            await refused.wait()  # the handles polled a stopped server
            await emu.start()
            assert emu.base_url == base_url
            emu.advance(10_000)
            await waits
            assert all(h.last is not None and h.last.state is TaskState.SUCCEEDED for h in handles)
            saved = await handles[0].download(tmp_path / "out")
            assert saved.stat().st_size > 0
        assert not _sdk_tasks()
    finally:
        await emu.stop()
    assert sum(emu.count(route) for route in workload.routes) == 3
    assert accepted_by_marker(emu.requests) == {marker_of(n): 1 for n in range(3)}


# -- jobs that never finish ----------------------------------------------------------------------


@pytest.mark.parametrize("workload", TASKS, ids=[w.name for w in TASKS])
async def test_a_job_that_never_finishes_times_out_and_its_handle_stays_usable(
    tmp_path: Path, workload: Workload
) -> None:
    async with Emulator(time_scale=0) as emu, _client(emu, emu.base_url) as client:
        handle = await workload.submit(client, marker_of(1))
        for _ in range(2):  # each wait gives up; the job is still there
            with pytest.raises(TaskTimeoutError) as caught:
                await handle.wait(timeout=0.05)
            assert caught.value.snapshot is not None
            assert not caught.value.snapshot.state.terminal
            assert client.tasks.scheduler.waiting == 0
        emu.advance(10_000)
        await handle.wait(timeout=5)  # the same handle, waited again
        assert handle.last is not None and handle.last.state is TaskState.SUCCEEDED
        assert workload.status_route is not None and emu.count(workload.status_route) >= 1
        assert (await handle.download(tmp_path / "out")).stat().st_size > 0
    assert not _sdk_tasks()
    assert sum(emu.count(route) for route in workload.routes) == 1


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
async def test_a_5xx_with_the_gateways_own_json_body_is_a_refusal(
    emu: Emulator, tmp_path: Path, workload: Workload, status: int
) -> None:
    emu.fail(min(workload.routes), status=status)  # new-api's own error JSON
    async with _client(emu, emu.base_url) as client:
        attempt = await perform(client, workload, marker_of(1), folder=tmp_path)
    accepted = accepted_by_marker(emu.requests).get(marker_of(1), 0)
    assert attempt.outcome(accepted) == "refused", attempt.error
    assert isinstance(attempt.error, ServerError)
    assert sum(emu.count(route) for route in workload.routes) == 1  # sent once, not retried
    assert not _sdk_tasks()
