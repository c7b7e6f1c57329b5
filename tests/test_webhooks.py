"""Callbacks: the emulator POSTs ``notify_hook``s to a receiver on loopback, which resolves
waiting handles without a poll; tokens, size bounds, de-duplication, and polling as fallback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from api4gpt_async import AsyncAPI4GPT, Hooks, PollPolicy, TaskSnapshot, TaskState
from api4gpt_async.testing import Emulator
from api4gpt_async.webhooks import Callback, CallbackRejected, WebhookReceiver

pytestmark = pytest.mark.anyio

#: Polls once an hour: a wait that ends within a test was ended by a callback.
NEVER_POLL = PollPolicy(initial_delay=3600, max_delay=3600, jitter=0, timeout=20)
KINDS = ["luma", "lumvip", "midjourney", "suno", "digital_human"]


async def serve(receiver: WebhookReceiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hooks/{kind}", receiver.aiohttp_handler)
    app.router.add_post("/hooks", receiver.aiohttp_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
async def slow_client(make_client: Callable[..., AsyncAPI4GPT]) -> AsyncIterator[AsyncAPI4GPT]:
    async with make_client(poll=NEVER_POLL) as client:
        yield client


@pytest.fixture
async def hooks(slow_client: AsyncAPI4GPT) -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(slow_client, token="s3cret")
    runner, url = await serve(receiver)
    receiver.url = url
    yield receiver
    await runner.cleanup()


def status_queries(emulator: Emulator) -> int:
    """Every request the emulator got (after a submit, all are status queries)."""
    return len(emulator.requests)


async def submit(client: AsyncAPI4GPT, kind: str, hook: str) -> Any:
    """A new job of ``kind`` whose handle has seen it once (a Midjourney submit answers only
    an id: it is looked up, so that its first poll is not due at once)."""
    if kind == "midjourney":
        job = await client.midjourney.imagine("a lighthouse", notify_hook=hook)
    elif kind.startswith("suno"):
        service = client.suno if kind == "suno" else client.suno.v3_5
        job = await service.generate(gpt_description_prompt="a sea shanty", notify_hook=hook)
    elif kind == "digital_human":
        job = await client.digital_human.create(
            "https://example.com/face.png", audio_url="https://example.com/a.mp3", notify_hook=hook
        )
    else:
        return await getattr(client, kind).generate("a lighthouse", notify_hook=hook)
    await job.refresh()
    return job


@pytest.mark.parametrize("kind", [*KINDS, "suno.v3_5"])
async def test_a_callback_ends_the_wait_without_a_poll(
    slow_client: AsyncAPI4GPT, emulator: Emulator, hooks: WebhookReceiver, kind: str
) -> None:
    job = await submit(slow_client, kind, hooks.url_for(kind))
    before = status_queries(emulator)
    emulator.advance(600)
    await job.wait(timeout=10)
    assert job.last.state is TaskState.SUCCEEDED
    assert status_queries(emulator) == before


@pytest.mark.parametrize("kind", KINDS)
async def test_the_kind_is_told_from_the_body_when_the_url_has_none(
    slow_client: AsyncAPI4GPT, emulator: Emulator, hooks: WebhookReceiver, kind: str
) -> None:
    assert hooks.url is not None
    job = await submit(slow_client, kind, f"{hooks.url}?token=s3cret")
    before = status_queries(emulator)
    emulator.advance(600)
    await job.wait(timeout=10)
    assert status_queries(emulator) == before


async def test_watch_sees_each_change_a_callback_brings(
    slow_client: AsyncAPI4GPT, emulator: Emulator, hooks: WebhookReceiver
) -> None:
    job = await submit(slow_client, "midjourney", hooks.url_for("midjourney"))
    seen: list[tuple[TaskState, float | None]] = []
    emulator.advance(4)  # running
    async for snap in job.watch():
        seen.append((snap.state, snap.progress))
        if snap.state is TaskState.RUNNING:
            emulator.advance(600)
    assert seen[-1] == (TaskState.SUCCEEDED, 1.0)
    assert any(state is TaskState.RUNNING for state, _ in seen)
    # Every change after the first look came by callback.
    assert emulator.count("midjourney.fetch") == 1


@pytest.mark.parametrize(
    "url_suffix", ["", "?token=wrong", "?token=s3cret2", "?token=s3cre", "?tok=s3cret"]
)
async def test_a_wrong_or_missing_token_is_refused(
    slow_client: AsyncAPI4GPT, emulator: Emulator, hooks: WebhookReceiver, url_suffix: str
) -> None:
    job = await slow_client.luma.generate("x")
    body = json.dumps({"id": job.id, "state": "completed"}).encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{hooks.url}/luma{url_suffix}", data=body) as resp,
    ):
        assert resp.status == 403
    assert job.last is not None
    assert job.last.state is TaskState.PENDING


async def test_without_a_token_configured_any_url_is_taken(slow_client: AsyncAPI4GPT) -> None:
    receiver = WebhookReceiver(slow_client)
    job = await slow_client.luma.generate("x")
    body = json.dumps({"id": job.id, "state": "dreaming"}).encode()
    taken = receiver.receive(body, kind="luma")
    assert (taken.kind, taken.id, taken.snapshot.state) == ("luma", job.id, TaskState.RUNNING)


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_over_the_bound_is_refused(
    slow_client: AsyncAPI4GPT, hooks: WebhookReceiver, chunked: bool
) -> None:
    hooks.max_body = 1000
    big = json.dumps({"id": "1", "state": "completed", "pad": "x" * 2000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield big[:500]
        yield big[500:]

    async with aiohttp.ClientSession() as http:
        data: Any = chunks() if chunked else big
        async with http.post(hooks.url_for("luma"), data=data) as resp:
            assert resp.status == 413
            assert (await resp.json())["ok"] is False


@pytest.mark.parametrize(
    ("body", "kind", "status"),
    [
        (b"{not json", "luma", 400),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "luma", 400, id="too-deep-to-read"),
        (b"[1, 2]", "luma", 422),
        (b'{"hello": "world"}', None, 422),  # no family has this shape
        (b'{"id": "1", "state": "completed"}', "suno-ish", 404),
        (b'{"state": "completed"}', "luma", 422),  # no id
        (b'{"code": "task_not_exist", "message": "gone", "data": null}', "lumvip", 422),
    ],
)
async def test_bodies_that_are_not_statuses_are_refused(
    slow_client: AsyncAPI4GPT, body: bytes, kind: str | None, status: int
) -> None:
    receiver = WebhookReceiver(slow_client)
    with pytest.raises(CallbackRejected) as caught:
        receiver.receive(body, kind=kind)
    assert caught.value.status == status


async def test_a_repeated_callback_is_delivered_once(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    updates: list[TaskSnapshot[Any]] = []
    taken: list[Callback] = []
    async with make_client(poll=NEVER_POLL, hooks=Hooks(on_task_update=updates.append)) as client:
        receiver = WebhookReceiver(client, on_callback=taken.append)
        job = await client.luma.generate("x")
        waiter = asyncio.create_task(job.wait(timeout=5))
        while client.tasks.scheduler.waiting == 0:  # until the wait has started
            await asyncio.sleep(0)
        running = json.dumps({"id": job.id, "state": "dreaming"}).encode()
        done = json.dumps({"id": job.id, "state": "completed", "video": {"url": "u"}}).encode()
        first = receiver.receive(running, kind="luma")
        again = receiver.receive(running, kind="luma")
        assert (first.duplicate, again.duplicate) == (False, True)
        final = receiver.receive(done, kind="luma")
        assert not final.duplicate
        assert receiver.receive(done, kind="luma").duplicate
        assert [c.duplicate for c in taken] == [False, True, False, True]
        assert (await waiter).video_url == "u"
    states = [u.state for u in updates]
    assert states == [TaskState.PENDING, TaskState.RUNNING, TaskState.SUCCEEDED]
    assert emulator.count("luma.task") == 0


async def test_a_lost_callback_is_covered_by_polling(
    client: AsyncAPI4GPT, emulator: Emulator, unused_port_url: str
) -> None:
    job = await client.luma.generate("x", notify_hook=f"{unused_port_url}/hooks/luma")
    emulator.advance(600)
    await job.wait(timeout=5)
    assert emulator.count("luma.task") >= 1


async def test_url_for_needs_a_url_and_a_known_kind(slow_client: AsyncAPI4GPT) -> None:
    with pytest.raises(ValueError, match="url="):
        WebhookReceiver(slow_client).url_for("luma")
    receiver = WebhookReceiver(slow_client, url="https://me.example/h/", token="a b&c")
    assert receiver.url_for("lumvip") == "https://me.example/h/lumvip?token=a%20b%26c"
    with pytest.raises(ValueError, match="unknown task kind"):
        receiver.url_for("lumaa")
    assert "a b&c" not in repr(receiver)


def test_public_names() -> None:
    import api4gpt_async.webhooks as webhooks

    assert set(webhooks.__all__) == {
        "BODY_SHAPES", "Callback", "CallbackRejected", "DEFAULT_MAX_BODY", "WebhookReceiver"
    }  # fmt: skip
    assert WebhookReceiver.__module__ == "api4gpt_async.webhooks"


async def test_after_a_callback_that_does_not_end_the_job_polling_carries_on(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    receiver = WebhookReceiver(client)
    job = await client.lumvip.generate("x")
    waiter = asyncio.create_task(job.wait(timeout=5))
    while client.tasks.scheduler.waiting == 0:  # until the wait has started
        await asyncio.sleep(0)
    running = {"code": "success", "data": {"id": job.id, "state": "processing"}}
    assert receiver.receive(json.dumps(running).encode(), kind="lumvip").snapshot.state is (
        TaskState.RUNNING
    )
    emulator.advance(600)
    assert (await waiter).video_url
    assert emulator.count("lumvip.task") >= 1


async def test_a_callback_for_a_job_nobody_waits_on_changes_nothing(
    slow_client: AsyncAPI4GPT,
) -> None:
    job = await slow_client.luma.generate("x")
    snap = slow_client.tasks.deliver("luma", {"id": job.id, "state": "completed"})
    assert snap.state is TaskState.SUCCEEDED
    assert job.last is not None
    assert job.last.state is TaskState.PENDING  # only waiting handles are told
    assert slow_client.tasks.scheduler.deliver("luma", "nobody", snap) == 0
    with pytest.raises(ValueError, match="unknown task kind"):
        slow_client.tasks.deliver("lumaa", {"id": job.id, "state": "completed"})
