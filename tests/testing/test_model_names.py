"""The emulator refuses model names it does not serve with the gateway's ``model_not_found``,
and the SDK reads that as ``NotFoundError``, never retried (issue 7 item 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from api4gpt_async import AsyncAPI4GPT, NotFoundError
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp3_bytes, png_bytes
from api4gpt_async.testing._model_names import DEFAULT_MODELS

pytestmark = pytest.mark.anyio

HI = [{"role": "user", "content": "Hello"}]


async def _stream(client: AsyncAPI4GPT, model: str) -> Any:
    stream = await client.chat.completions.create(model=model, messages=HI, stream=True)
    async with stream:
        return [chunk async for chunk in stream]


CALLS: list[tuple[str, Callable[[AsyncAPI4GPT, str], Awaitable[Any]]]] = [
    ("chat.completions", lambda c, m: c.chat.completions.create(model=m, messages=HI)),
    ("chat.completions", _stream),
    ("completions", lambda c, m: c.completions.create(model=m, prompt="hi")),
    ("embeddings", lambda c, m: c.embeddings.create(model=m, input="hi")),
    ("images.generate", lambda c, m: c.images.generate("a cat", model=m)),
    ("images.edit", lambda c, m: c.images.edit(png_bytes(8, 8), "a cat", model=m)),
    ("audio.speech", lambda c, m: c.audio.speech.create(model=m, input="hi", voice="alloy")),
    (
        "audio.transcriptions",
        lambda c, m: c.audio.transcriptions.create(mp3_bytes(1.0), model=m),
    ),
]
IDS = [
    "chat",
    "chat-stream",
    "completions",
    "embeddings",
    "images",
    "image-edit",
    "speech",
    "transcription",
]


@pytest.mark.parametrize(("route", "call"), CALLS, ids=IDS)
async def test_an_unknown_model_is_not_found_and_not_retried(
    client: AsyncAPI4GPT, emulator: Emulator, route: str, call: Any
) -> None:
    with pytest.raises(NotFoundError) as info:
        await call(client, "gpt-9-ultra")
    assert info.value.code == "model_not_found"
    assert info.value.status == 503  # what the gateway sends; the class says "fix the name"
    assert "gpt-9-ultra" in info.value.message
    assert "not served by this key" in info.value.message
    assert info.value.request_id
    assert emulator.count(route) == 1
    assert [r.status for r in emulator.requests if r.route == route] == [503]


async def test_the_refusal_is_the_gateways_body(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            emulator.base_url + "/v1/chat/completions",
            json={"model": "foo-1", "messages": HI},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        ) as response,
    ):
        body = await response.json()
        rid = response.headers["X-Oneapi-Request-Id"]
    assert response.status == 503
    assert body == {
        "error": {
            "message": f"当前分组 default 下对于模型 foo-1 无可用渠道 (request id: {rid})",
            "type": "new_api_error",
            "param": "",
            "code": "model_not_found",
        }
    }


async def test_the_list_is_extendable() -> None:
    async with (
        Emulator(time_scale=0, models=["my-model", "team-*"]) as emu,
        emu.client() as client,
    ):
        for model in ("my-model", "team-a", "team-b-2", "gpt-4o-mini"):
            await client.chat.completions.create(model=model, messages=HI)
        with pytest.raises(NotFoundError):
            await client.chat.completions.create(model="my-model-2", messages=HI)
        emu.accept_models("my-model-2")
        await client.chat.completions.create(model="my-model-2", messages=HI)


@pytest.mark.parametrize("bad", ["", "*", None])
def test_accepting_a_non_name_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="not a model name"):
        Emulator(models=[bad])


async def test_default_models_and_patterns_are_served(client: AsyncAPI4GPT) -> None:
    assert "gpt-4-gizmo-*" in DEFAULT_MODELS
    for model in ("gpt-4o-mini", "gpt-4-gizmo-g-abc123XYZ", "deepseek-reasoner"):
        await client.chat.completions.create(model=model, messages=HI)


async def test_a_request_without_a_model_is_left_to_the_route(emulator: Emulator) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            emulator.base_url + "/v1/chat/completions",
            json={"messages": HI},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        ) as response,
    ):
        assert response.status == 400  # the route's own validation
