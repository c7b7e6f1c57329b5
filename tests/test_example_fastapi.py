"""examples/fastapi_app.py served by uvicorn on loopback: the emulator's callbacks reach it
through the mounted ASGI receiver and end the job's wait without a status query."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from _examples import load_example

from api4gpt_async import AsyncAPI4GPT, PollPolicy
from api4gpt_async.testing import Emulator

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

pytestmark = pytest.mark.anyio

NEVER_POLL = PollPolicy(initial_delay=3600, max_delay=3600, jitter=0, timeout=20)


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("fastapi_app")


@pytest.fixture
async def app_url(
    example: ModuleType, make_client: Callable[..., AsyncAPI4GPT]
) -> AsyncIterator[str]:
    async with make_client(poll=NEVER_POLL) as client:
        sock = example.loopback_socket()
        public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = example.create_app(client, public_url=public_url, token="t0ken")
        async with example.serving(app, sock) as url:
            yield url


async def call(url: str, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(url) as http,
        http.request(method, path, **kwargs) as resp,
    ):
        return resp.status, await resp.json()


@pytest.mark.parametrize("kind", ["luma", "lumvip"])
async def test_submit_then_the_callback_ends_the_job(
    app_url: str, emulator: Emulator, kind: str
) -> None:
    status, ref = await call(app_url, "POST", "/videos", json={"prompt": "a boat", "kind": kind})
    assert status == 200
    assert ref["kind"] == kind
    (submit,) = [r for r in emulator.requests if r.route == f"{kind}.generate"]
    assert submit.json is not None
    assert submit.json["notify_hook"] == f"{app_url}/hooks/{kind}?token=t0ken"
    status, now = await call(app_url, "GET", f"/videos/{kind}/{ref['id']}")
    assert (status, now["state"]) == (200, "pending")
    emulator.advance(600)
    status, done = await call(app_url, "GET", f"/videos/{kind}/{ref['id']}", params={"wait": 10})
    assert (status, done["state"], done["progress"]) == (200, "succeeded", 1.0)
    assert emulator.count(f"{kind}.task") == 0  # the callback told it, not a poll


async def test_an_unknown_job_is_looked_up_once(app_url: str, emulator: Emulator) -> None:
    status, _ = await call(app_url, "GET", "/videos/luma/no-such-id")
    assert status == 404
    assert emulator.count("luma.task") == 1
    status, _ = await call(app_url, "GET", "/videos/nope/1")
    assert status == 404


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/hooks/luma?token=wrong", {"id": "1", "state": "completed"}, 403),
        ("/hooks/luma", {"id": "1", "state": "completed"}, 403),
        ("/hooks/luma?token=t0ken", {"id": "1", "pad": "x" * (1 << 20)}, 413),
        ("/hooks/luma?token=t0ken", ["not", "an", "object"], 422),
        ("/hooks/other?token=t0ken", {"hello": 1}, 422),
        ("/hooks/luma?token=t0ken", {"id": "1", "state": "completed"}, 200),
    ],
)
async def test_the_mounted_receiver_checks_what_it_takes(
    app_url: str, path: str, body: Any, status: int
) -> None:
    got, answer = await call(app_url, "POST", path, data=io.BytesIO(json.dumps(body).encode()))
    assert got == status
    assert answer["ok"] is (status == 200)


async def test_the_receiver_answers_only_post(app_url: str) -> None:
    got, _ = await call(app_url, "GET", "/hooks/luma?token=t0ken")
    assert got == 405
