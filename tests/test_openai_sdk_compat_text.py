"""The official ``openai`` package, pointed at the emulator, reads every text answer.

This proves the emulator speaks the real protocol (and so that tests passing against it mean
something), and that code written for openai-python runs against API4GPT's shapes. The client
is created with ``_strict_response_validation=True``: openai-python then checks each answer
against its own types instead of accepting anything.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.testing import Emulator

openai = pytest.importorskip("openai")

pytestmark = pytest.mark.anyio

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
async def oai(emulator: Emulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        api_key=emulator.api_key,
        base_url=emulator.base_url + "/v1",
        max_retries=0,
        _strict_response_validation=True,
    ) as client:
        yield client


async def test_chat(oai: openai.AsyncOpenAI, emulator: Emulator) -> None:
    reply = await oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], n=2
    )
    assert [c.message.content for c in reply.choices] == ["You said: Hello", "You said: Hello (2)"]
    assert reply.usage is not None and reply.usage.total_tokens > 0
    assert emulator.requests[-1].json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hello"}],
        "n": 2,
    }


async def test_chat_stream_with_usage(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hello big world"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == "You said: Hello big world"
    assert usage is not None and usage.completion_tokens == 5


async def test_chat_stream_tool_calls_with_openai_helper(oai: openai.AsyncOpenAI) -> None:
    # openai-python's own accumulator agrees with the fragments the emulator sends.
    async with oai.chat.completions.stream(
        model="gpt-4-0613",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    ) as stream:
        final = await stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert final.choices[0].finish_reason == "tool_calls"


async def test_chat_stream_error_event_raises_in_openai_too(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "[stream-error]"}], stream=True
    )
    with pytest.raises(openai.APIError, match="emulated upstream failure"):
        async for _ in stream:
            pass


async def test_embeddings_default_base64_and_floats(
    oai: openai.AsyncOpenAI, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # openai-python asks for base64 unless told otherwise, and decodes it itself, but only
    # after its strict validation (which wants a list), so that call goes without it.
    async with openai.AsyncOpenAI(
        api_key=emulator.api_key, base_url=emulator.base_url + "/v1", max_retries=0
    ) as loose:
        default = await loose.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert emulator.requests[-1].json["encoding_format"] == "base64"
    floats = await oai.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float"
    )
    ours = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="base64"
    )
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert [d.embedding for d in floats.data] == ours.embeddings


async def test_completions_and_models(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=8
    )
    assert completion.choices[0].text == " You said: Say hi"
    ids = [model.id async for model in oai.models.list()]
    assert "gpt-4-all" in ids and "text-embedding-3-small" in ids


async def test_errors_are_openai_errors(oai: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], temperature=9
        )
    assert info.value.param == "temperature"
    assert info.value.type == "invalid_request_error"
