"""``client.embeddings.create``: always ``list[float]``, however the vectors travel."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_conformance import openapi_spec, validate_request

from api4gpt_async import AsyncAPI4GPT, BadRequestError, RateLimitError, ServerError
from api4gpt_async.models.embeddings import CreateEmbeddingResponse
from api4gpt_async.testing import Emulator

__all__ = ["openapi_spec"]  # the fixture, re-exported so pytest finds it here

pytestmark = pytest.mark.anyio

MODEL = "text-embedding-3-small"


def last_body(emulator: Emulator) -> Any:
    request = emulator.requests[-1]
    assert request.route == "embeddings"
    validate_request("POST", request.path, request.json)
    return request.json


async def test_sends_only_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    response = await client.embeddings.create(model=MODEL, input="The food was delicious")
    assert last_body(emulator) == {"model": MODEL, "input": "The food was delicious"}
    assert isinstance(response, CreateEmbeddingResponse)
    assert response.model == MODEL
    (item,) = response.data
    assert (item.index, item.object, len(item.embedding)) == (0, "embedding", 1536)
    assert all(isinstance(v, float) for v in item.embedding)
    assert response.usage is not None and response.usage.total_tokens == 4
    assert response.request_id


async def test_base64_is_decoded_to_the_same_floats(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    texts = ["a cat", "a dog", "a bird"]
    floats = await client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    assert last_body(emulator)["encoding_format"] == "float"
    packed = await client.embeddings.create(
        model=MODEL, input=texts, encoding_format="base64", dimensions=256, user="u-1"
    )
    assert last_body(emulator) == {
        "model": MODEL,
        "input": texts,
        "encoding_format": "base64",
        "dimensions": 256,
        "user": "u-1",
    }
    assert isinstance(emulator.requests[-1].body, bytes)
    assert [len(v) for v in packed.embeddings] == [256, 256, 256]
    again = await client.embeddings.create(model=MODEL, input=texts, dimensions=256)
    assert packed.embeddings == again.embeddings  # bit for bit, whatever the encoding
    assert floats.embeddings != packed.embeddings


@pytest.mark.parametrize(("tokens", "count"), [([1, 2, 3], 3), ([[1, 2], [3, 4, 5]], 5)])
async def test_token_inputs(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object, tokens: Any, count: int
) -> None:
    response = await client.embeddings.create(model=MODEL, input=tokens)
    assert last_body(emulator)["input"] == tokens
    assert len(response.data) == (len(tokens) if isinstance(tokens[0], list) else 1)
    assert response.usage is not None and response.usage.prompt_tokens == count


async def test_vectors_in_input_order(client: AsyncAPI4GPT) -> None:
    texts = [f"text {i}" for i in range(20)]
    together = await client.embeddings.create(model=MODEL, input=texts, encoding_format="base64")
    one = await client.embeddings.create(model=MODEL, input=texts[7])
    assert [item.index for item in together.data] == list(range(20))
    assert together.embeddings[7] == one.data[0].embedding


async def test_errors_and_retries(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    with pytest.raises(BadRequestError, match="does not support specifying dimensions"):
        await client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=8)
    emulator.fail("embeddings", status=500, times=3)
    with pytest.raises(ServerError):
        await client.embeddings.create(model=MODEL, input="x")
    assert emulator.count("embeddings") == 2  # billable: the 500 is not repeated
    emulator.clear_faults()
    emulator.rate_limit("embeddings", retry_after=0, times=3)
    with pytest.raises(RateLimitError):
        await client.embeddings.create(model=MODEL, input="x")
    assert emulator.count("embeddings") == 5  # a 429 is retried (max_retries=2)
