"""taskiq workers on a real Redis: one is SIGKILLed mid-wait, every job still ends once, and
nothing is submitted twice.

Needs ``redis-server`` (``.ci/run`` installs and starts it, and sets ``API4GPT_TEST_REDIS_URL``,
a database the test empties; else the test starts its own when one is on PATH): skipped without
one, except in CI (``CI=true``), where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.abc
import pytest

pytest.importorskip("taskiq_redis", reason="needs the 'taskiq' extra")

from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

from api4gpt_async.journal import RedisJournal

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "sk-taskiq-secret-0123456789"
JOBS = 16

#: The worker app: the integration on a RedisStreamBroker, polling fast, handing the messages
#: of a dead worker to another after 1 s, one message per fetch (so both workers get jobs).
WORKER_APP = textwrap.dedent(
    """
    import os

    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    from api4gpt_async import AsyncAPI4GPT, PollPolicy
    from api4gpt_async.integrations.taskiq import api4gpt_tasks

    URL = os.environ["TEST_REDIS_URL"]
    broker = RedisStreamBroker(
        URL, idle_timeout=1000, xread_block=100, xread_count=1
    ).with_result_backend(RedisAsyncResultBackend(URL))
    poll = PollPolicy(initial_delay=0.05, multiplier=1, max_delay=0.05, jitter=0)
    run_job = api4gpt_tasks(broker, journal=URL, client=lambda: AsyncAPI4GPT(poll=poll))


    @broker.task(task_name="nudge")
    async def nudge() -> None:
        # taskiq-redis looks for a dead worker's messages when it fetches new ones.
        return None
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis_url(tmp_path: Path) -> AsyncIterator[str]:
    given = os.environ.get("API4GPT_TEST_REDIS_URL")  # a database the tests may empty
    if given:
        import redis.asyncio as aioredis

        async with aioredis.Redis.from_url(given) as redis:
            await redis.flushdb()
        yield given
        return
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing in CI: .ci/run must install it")
        pytest.skip("needs redis-server on PATH (apt-get install redis-server)")
    port = _free_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    async with await anyio.open_process(command) as process:
        url = f"redis://127.0.0.1:{port}/0"
        with anyio.fail_after(10):
            while True:
                try:
                    stream = await anyio.connect_tcp("127.0.0.1", port)
                except OSError:
                    await anyio.sleep(0.02)  # waiting for a server to listen
                else:
                    await stream.aclose()
                    break
        yield url
        process.terminate()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    return {**env, "COLUMNS": "200", **extra}


@pytest.fixture
async def emulator_url(spawn_emulator: Callable[..., Awaitable[str]]) -> str:
    """An emulator process whose Luma jobs take about 2 s of real time."""
    return await spawn_emulator("--api-key", SECRET, "--time-scale", "6")


async def _submits(base_url: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {SECRET}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = f"{base_url}/_emulator/requests"
        async with session.get(url, params={"route": "luma.generate"}) as response:
            return list(await response.json())


async def test_a_worker_killed_mid_wait_loses_nothing_and_bills_nothing_twice(
    redis_url: str, emulator_url: str, tmp_path: Path
) -> None:
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    env = _env(
        TEST_REDIS_URL=redis_url,
        API4GPT_BASE_URL=emulator_url,
        API4GPT_API_KEY=SECRET,
        PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    )
    command = [sys.executable, "-m", "taskiq", "worker", "worker_app:broker", "--workers", "1"]
    command += ["--no-configure-logging", "--shutdown-timeout", "1"]
    log = (tmp_path / "workers.log").open("ab")
    workers = [
        await anyio.open_process(
            command, env=env, cwd=tmp_path, stdout=log, stderr=log, start_new_session=True
        )
        for _ in range(2)
    ]
    broker = RedisStreamBroker(redis_url).with_result_backend(RedisAsyncResultBackend(redis_url))
    journal = RedisJournal(redis_url)
    await broker.startup()
    try:
        with anyio.fail_after(30):  # both workers listening before any job is sent
            while await _listening(redis_url) < 2:
                await anyio.sleep(0.05)  # watching Redis, not synchronising
        kicker: AsyncKicker[Any, Any] = AsyncKicker("api4gpt_async.run_job", broker, {})
        prompts = [f"clip {i}" for i in range(JOBS)]
        tasks = [
            await kicker.kiq(
                {"family": "luma", "op": "generate", "params": {"prompt": p}, "key": f"k{i}"}
            )
            for i, p in enumerate(prompts)
        ]
        # Every job accepted, and both workers holding some: kill one of them while it waits.
        with anyio.fail_after(30):
            while True:
                entries = await journal.entries(status="accepted")
                holding = [c for c in await _consumers(broker, redis_url) if c["pending"]]
                if len(entries) == JOBS and len(holding) == 2:
                    break
                await anyio.sleep(0.05)  # watching Redis, not synchronising
        os.killpg(workers[0].pid, signal.SIGKILL)
        await workers[0].wait()

        nudger = AsyncKicker("nudge", broker, {})
        rows: list[dict[str, Any]] = []
        async with anyio.create_task_group() as tg:

            async def nudge() -> None:
                while True:
                    await nudger.kiq()
                    await anyio.sleep(0.2)

            tg.start_soon(nudge)
            for task in tasks:
                result = await task.wait_result(check_interval=0.05, timeout=60)
                assert not result.is_err, result.error
                rows.append(result.return_value)
            tg.cancel_scope.cancel()
    finally:
        await journal.aclose()
        await broker.shutdown()
        for worker in workers:
            if worker.returncode is None:
                os.killpg(worker.pid, signal.SIGKILL)
                await worker.wait()
        log.close()

    assert [r["status"] for r in rows] == ["succeeded"] * JOBS, rows
    assert [r["key"] for r in rows] == [f"k{i}" for i in range(JOBS)]  # each ends once
    submits = Counter(s["json"]["user_prompt"] for s in await _submits(emulator_url))
    assert submits == Counter(prompts)  # exactly one submit per job, none twice
    async with RedisJournal(redis_url) as check:
        entries = await check.entries()
    assert {(e.status, e.attempts) for e in entries} == {("succeeded", 1)}
    assert json.dumps(rows)  # results are JSON-safe for any result backend


async def _consumers(broker: RedisStreamBroker, redis_url: str) -> list[dict[str, Any]]:
    """The workers reading the jobs stream, with their unacknowledged messages (``pending``)."""
    import redis.asyncio as aioredis

    async with aioredis.Redis.from_url(redis_url) as redis:
        try:
            return list(await redis.xinfo_consumers(broker.queue_name, "taskiq"))
        except aioredis.ResponseError:  # no stream or group yet
            return []


async def _listening(redis_url: str) -> int:
    """How many connections wait for messages (a worker creates its consumer on its first)."""
    import redis.asyncio as aioredis

    async with aioredis.Redis.from_url(redis_url) as redis:
        return sum(1 for c in await redis.client_list() if c.get("cmd") == "xreadgroup")
