"""A FastAPI app that submits Luma videos and learns they ended from API4GPT's callbacks.

Routes:

- ``POST /videos`` ``{"prompt": "...", "kind": "luma" | "lumvip"}`` submits and answers the job's
  ``ref`` (``{"kind", "id"}``) at once;
- ``GET /videos/{kind}/{id}[?wait=SECONDS]`` answers the job's state (waiting up to ``wait``
  seconds for it to end first);
- ``POST /hooks/{kind}?token=...`` takes the service's ``notify_hook`` callbacks (a
  ``WebhookReceiver``, mounted as a plain ASGI app): a job's waiters learn it ended at once;
  polling (every 30 s here) stays the fallback, so a lost callback only costs time.

Serve it for real (``PUBLIC_URL`` is where the service can reach this app)::

    API4GPT_API_KEY=sk-... PUBLIC_URL=https://me.example HOOK_TOKEN=$(openssl rand -hex 16) \\
        uvicorn --factory fastapi_app:from_env

``python examples/fastapi_app.py`` runs a self-contained demo instead: the built-in emulator,
this app on a random loopback port, one video submitted through it and its callback received.
Needs the ``webhooks`` extra (``pip install 'api4gpt-async[webhooks]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from api4gpt_async import APIStatusError, AsyncAPI4GPT, PollPolicy, TaskHandle
from api4gpt_async.testing import Emulator
from api4gpt_async.webhooks import WebhookReceiver

#: Callbacks do the work; polling is the slow fallback.
FALLBACK_POLL = PollPolicy(initial_delay=30, max_delay=30, timeout=3600)


class VideoRequest(BaseModel):
    prompt: str
    kind: Literal["luma", "lumvip"] = "luma"


def create_app(
    client: AsyncAPI4GPT, *, public_url: str, token: str, close_client: bool = False
) -> FastAPI:
    """The app for ``client``; callbacks come to ``<public_url>/hooks/<kind>?token=<token>``."""
    receiver = WebhookReceiver(client, url=f"{public_url.rstrip('/')}/hooks", token=token)
    jobs: dict[tuple[str, str], TaskHandle[Any]] = {}
    waits: set[asyncio.Task[Any]] = set()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
        if close_client:
            await client.aclose()

    app = FastAPI(lifespan=lifespan)
    app.mount("/hooks", receiver)

    @app.post("/videos")
    async def submit(video: VideoRequest) -> dict[str, str]:
        service = client.luma if video.kind == "luma" else client.lumvip
        job = await service.generate(video.prompt, notify_hook=receiver.url_for(video.kind))
        jobs[job.kind, job.id] = job
        # Someone waits on every job, so that its callback resolves it (and polling backs it up).
        wait = asyncio.create_task(job.wait(poll=FALLBACK_POLL))
        waits.add(wait)
        wait.add_done_callback(lambda w: (waits.discard(w), w.cancelled() or w.exception()))
        return job.ref

    @app.get("/videos/{kind}/{task_id}")
    async def status(kind: str, task_id: str, wait: float = 0) -> dict[str, Any]:
        job = jobs.get((kind, task_id))
        if job is None:
            try:
                job = client.tasks.resume({"kind": kind, "id": task_id})
                await job.refresh()
            except (ValueError, APIStatusError):  # unknown kind; task_not_exist
                raise HTTPException(404, "no such job") from None
        if wait > 0:
            with contextlib.suppress(Exception):  # failed / timed out: the state says so
                await job.wait(timeout=wait, poll=FALLBACK_POLL)
        snap = job.last
        assert snap is not None
        return {
            **job.ref,
            "state": snap.state.value,
            "progress": snap.progress,
            "failure_reason": snap.failure_reason,
        }

    return app


def from_env() -> FastAPI:
    """The app for ``uvicorn --factory``: the key from ``API4GPT_API_KEY``."""
    client = AsyncAPI4GPT(poll=FALLBACK_POLL)
    return create_app(
        client,
        public_url=os.environ["PUBLIC_URL"],
        token=os.environ["HOOK_TOKEN"],
        close_client=True,
    )


def loopback_socket() -> socket.socket:
    """A socket bound to a random loopback port, for :func:`serving`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on ``sock`` while the block runs; yields its URL."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn has no start event
            if task.done():
                await task  # it failed to start: say why
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def main() -> int:
    # The emulator's clock runs 10x fast: a twelve-second video takes about a second.
    async with Emulator(time_scale=10) as emu, emu.client(poll=FALLBACK_POLL) as client:
        sock = loopback_socket()
        public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(client, public_url=public_url, token=secrets.token_urlsafe(16))
        async with serving(app, sock) as base, aiohttp.ClientSession(base) as http:
            async with http.post("/videos", json={"prompt": "a paper boat"}) as resp:
                ref = await resp.json()
            print("submitted", ref)
            async with http.get(
                f"/videos/{ref['kind']}/{ref['id']}", params={"wait": "30"}
            ) as resp:
                state = await resp.json()
            print("finished", state)
        polls = emu.count(f"{ref['kind']}.task")
        print(f"status queries sent: {polls} (the callback told us it ended)")
    return 0 if state["state"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
