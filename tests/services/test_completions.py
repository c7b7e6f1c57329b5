"""``client.completions.create``: the legacy text completions, plain and streamed."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_conformance import openapi_spec, validate_request

from api4gpt_async import APIConnectionError, AsyncAPI4GPT, BadRequestError, ServerError
from api4gpt_async._streaming import Stream
from api4gpt_async.models.completions import Completion
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._openai_text import HUGE_SIZE

__all__ = ["openapi_spec"]  # the fixture, re-exported so pytest finds it here

pytestmark = pytest.mark.anyio

MODEL = "gpt-3.5-turbo-instruct"


def last_body(emulator: Emulator) -> Any:
    request = emulator.requests[-1]
    assert request.route == "completions"
    validate_request("POST", request.path, request.json)
    return request.json


async def read_all(stream: Stream[Completion]) -> list[Completion]:
    async with stream:
        return [chunk async for chunk in stream]


async def test_sends_only_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    completion = await client.completions.create(model=MODEL, prompt="Say this is a test")
    assert last_body(emulator) == {"model": MODEL, "prompt": "Say this is a test"}
    assert isinstance(completion, Completion)
    assert completion.object == "text_completion"
    (choice,) = completion.choices
    assert choice.text == " You said: Say this is a test"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 5
    assert completion.request_id


async def test_every_option_is_sent_as_given(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    options: dict[str, Any] = {
        "best_of": 3,
        "echo": True,
        "frequency_penalty": 0.1,
        "logit_bias": {"50256": -100},
        "logprobs": 2,
        "max_tokens": 2,
        "n": 2,
        "presence_penalty": 0.2,
        "seed": 1,
        "stop": "\n",
        "suffix": "!",
        "temperature": 0.3,
        "top_p": 0.5,
        "user": "u",
    }
    completion = await client.completions.create(
        model=MODEL, prompt=("one", "two"), extra_body={"top_k": 3}, **options
    )
    assert last_body(emulator) == {"model": MODEL, "prompt": ["one", "two"], **options, "top_k": 3}
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    first = completion.choices[0]
    assert first.text == "one You said:"  # the prompt echoed, then 2 words
    assert first.finish_reason == "length"
    assert first.logprobs is not None and first.logprobs.tokens is not None
    assert "".join(first.logprobs.tokens) == first.text


@pytest.mark.parametrize("prompt", [[1, 2, 3], [[1, 2], [3]]])
async def test_token_prompts(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object, prompt: Any
) -> None:
    completion = await client.completions.create(model=MODEL, prompt=prompt, max_tokens=5)
    assert last_body(emulator)["prompt"] == prompt
    assert completion.usage is not None and completion.usage.prompt_tokens == 3


async def test_stream(client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object) -> None:
    stream = await client.completions.create(
        model=MODEL, prompt="a b", stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, Stream)
    async with stream:
        chunks = [c async for c in stream]
    assert last_body(emulator)["stream"] is True
    assert all(isinstance(c, Completion) for c in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == " You said: a b"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


async def test_stream_huge_and_cut(client: AsyncAPI4GPT) -> None:
    stream = await client.completions.create(model=MODEL, prompt="[huge]", stream=True)
    async with stream:
        sizes = [len(c.choices[0].text) async for c in stream if c.choices]
    assert max(sizes) == HUGE_SIZE
    stream = await client.completions.create(model=MODEL, prompt="x [stream-cut]", stream=True)
    with pytest.raises(APIConnectionError):
        await read_all(stream)


async def test_errors(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.completions.create(model=MODEL, prompt="x", n=3, best_of=2)
    assert info.value.body["error"]["param"] == "best_of"
    emulator.fail("completions", status=500, times=2)
    with pytest.raises(ServerError):
        await client.completions.create(model=MODEL, prompt="x")
    assert emulator.count("completions") == 2  # the 400, then one 500 not retried
