"""``client.models.list``: the models a key may call."""

from __future__ import annotations

import pytest

from api4gpt_async import AsyncAPI4GPT, ServerError
from api4gpt_async.models.model_list import ModelInfo, ModelList
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._openai_text import MODELS

pytestmark = pytest.mark.anyio


async def test_list(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    models = await client.models.list()
    request = emulator.requests[-1]
    assert (request.method, request.path, request.body) == ("GET", "/v1/models", b"")
    assert isinstance(models, ModelList)
    assert models.ids() == [m[0] for m in MODELS]
    assert len(models) == len(MODELS)
    assert all(isinstance(m, ModelInfo) for m in models)
    first = next(iter(models))
    assert (first.id, first.object, first.owned_by) == ("gpt-4o-mini", "model", "openai")
    assert isinstance(first.created, int)
    assert first.raw["supported_endpoint_types"] == ["openai"]  # new-api's extra, kept
    assert models.raw["success"] is True
    assert models.request_id


async def test_extra_query_and_headers(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    await client.models.list(extra_query={"group": "default"}, extra_headers={"X-A": "b"})
    request = emulator.requests[-1]
    assert request.query == {"group": "default"}
    assert request.headers["X-A"] == "b"


async def test_a_status_query_is_retried_on_5xx(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("models", status=502, times=2)
    models = await client.models.list()
    assert "gemini-pro" in models.ids()
    assert emulator.count("models") == 3
    emulator.fail("models", status=500, times=3)
    with pytest.raises(ServerError):
        await client.models.list()


async def test_the_list_can_be_iterated_directly_like_openai(client: AsyncAPI4GPT) -> None:
    listed = await client.models.list()
    ids = [model.id async for model in client.models.list()]
    assert ids == listed.ids()
    assert ids


async def test_nothing_is_sent_until_awaited(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    request = client.models.list()
    assert emulator.requests == []
    await request
    assert emulator.count("models") == 1
