"""The emulator's OpenAI-compatible text routes, driven with raw HTTP (no SDK involved).

Every answer is checked against OpenAI's own OpenAPI description: the emulator must speak the
real protocol, or tests that pass against it prove nothing.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import aiohttp
import pytest
from openapi_conformance import (
    openapi_spec,
    validate_response,
    validate_schema,
    validate_stream_chunk,
)

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._openai_text import HUGE_SIZE, MODELS

__all__ = ["openapi_spec"]  # the fixture, re-exported so pytest finds it here

pytestmark = pytest.mark.anyio

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
EMBEDDINGS = "/v1/embeddings"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}


def user(text: str) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    async with http.post(path, json=body) as response:
        return response.status, await response.json()


async def chat(http: aiohttp.ClientSession, body: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed chat answer, checked against the spec."""
    status, answer = await post(http, CHAT, body)
    assert status == 200, answer
    validate_response("POST", CHAT, 200, answer)
    return answer  # type: ignore[no-any-return]


async def raw_stream(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> bytes:
    async with http.post(path, json={**body, "stream": True}) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        return await response.read()


def events(raw: bytes) -> list[str]:
    """The ``data:`` payloads of a stream, in order (comments and blank lines dropped)."""
    return [line[6:] for line in raw.decode().split("\n") if line.startswith("data: ")]


async def chat_chunks(http: aiohttp.ClientSession, body: dict[str, Any]) -> list[dict[str, Any]]:
    """A streamed chat answer's chunks, each checked against the spec; it must end in [DONE]."""
    payloads = events(await raw_stream(http, CHAT, body))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        validate_stream_chunk(CHAT, chunk)
    return chunks


def text_of(chunks: list[dict[str, Any]], index: int = 0) -> str:
    return "".join(
        c["delta"].get("content") or ""
        for chunk in chunks
        for c in chunk["choices"]
        if c["index"] == index
    )


# --------------------------------------------------------------------------- chat


async def test_chat_echoes_the_last_user_message(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "world"}],
            },
        ],
    }
    answer = await chat(http, body)
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "gpt-4o-mini"
    (choice,) = answer["choices"]
    assert choice["message"] == {
        "role": "assistant",
        "content": "You said: Hello world",
        "refusal": None,
        "annotations": [],
    }
    assert (choice["finish_reason"], choice["logprobs"]) == ("stop", None)
    usage = answer["usage"]
    assert usage["completion_tokens"] == 4
    assert usage["total_tokens"] == usage["prompt_tokens"] + 4


async def test_chat_is_deterministic_but_ids_are_unique(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    first, second = await chat(http, user("same")), await chat(http, user("same"))
    assert first["id"] != second["id"]
    assert {**first, "id": None} == {**second, "id": None}


async def test_chat_n_choices_differ(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    answer = await chat(http, {**user("hi"), "n": 3})
    assert [c["index"] for c in answer["choices"]] == [0, 1, 2]
    assert [c["message"]["content"] for c in answer["choices"]] == [
        "You said: hi",
        "You said: hi (2)",
        "You said: hi (3)",
    ]


async def test_chat_tool_call_arguments_follow_the_schema(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    answer = await chat(http, {**user("What's the weather in Paris?"), "tools": [WEATHER_TOOL]})
    (choice,) = answer["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    (call,) = message["tool_calls"]
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {
        "city": "Paris",
        "unit": "celsius",
        "days": 1,
    }


async def test_chat_calls_every_tool_mentioned_unless_parallel_is_off(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {**user("Use get_weather and get_time for Tokyo"), "tools": [WEATHER_TOOL, TIME_TOOL]}
    answer = await chat(http, body)
    calls = answer["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert len({c["id"] for c in calls}) == 2
    answer = await chat(http, {**body, "parallel_tool_calls": False})
    assert len(answer["choices"][0]["message"]["tool_calls"]) == 1


async def test_chat_tool_choice_none_and_named(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    tools = [WEATHER_TOOL, TIME_TOOL]
    answer = await chat(http, {**user("hi"), "tools": tools, "tool_choice": "none"})
    assert answer["choices"][0]["message"]["content"] == "You said: hi"
    named = {"type": "function", "function": {"name": "get_time"}}
    answer = await chat(http, {**user("hi"), "tools": tools, "tool_choice": named})
    (call,) = answer["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "get_time"


async def test_chat_answers_tool_results(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    body = {
        "model": "gpt-4-0613",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        ],
        "tools": [WEATHER_TOOL],
    }
    answer = await chat(http, body)
    assert answer["choices"][0]["message"]["content"] == (
        'Here is what the tools returned: {"temp": 21}'
    )
    assert answer["choices"][0]["finish_reason"] == "stop"


async def test_chat_legacy_function_call(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    body = {**user("weather in Oslo"), "functions": [WEATHER_TOOL["function"]]}
    answer = await chat(http, body)
    (choice,) = answer["choices"]
    assert choice["finish_reason"] == "function_call"
    assert choice["message"]["function_call"]["name"] == "get_weather"
    assert json.loads(choice["message"]["function_call"]["arguments"])["city"] == "Oslo"


async def test_chat_json_modes(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    answer = await chat(http, {**user("hi"), "response_format": {"type": "json_object"}})
    assert json.loads(answer["choices"][0]["message"]["content"]) == {"reply": "You said: hi"}
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    answer = await chat(http, {**user("hi"), "response_format": response_format})
    assert json.loads(answer["choices"][0]["message"]["content"]) == {
        "answer": "You said: hi",
        "confidence": 1.5,
    }


async def test_chat_limits_and_stop(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    answer = await chat(http, {**user("one two three four"), "max_tokens": 3})
    assert answer["choices"][0]["message"]["content"] == "You said: one"
    assert answer["choices"][0]["finish_reason"] == "length"
    answer = await chat(http, {**user("one two three four"), "max_completion_tokens": 2})
    assert answer["choices"][0]["message"]["content"] == "You said:"
    answer = await chat(http, {**user("one two three"), "stop": ["three", "zzz"]})
    assert answer["choices"][0]["message"]["content"] == "You said: one two "
    assert answer["choices"][0]["finish_reason"] == "stop"


async def test_chat_logprobs(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    answer = await chat(http, {**user("hi there"), "logprobs": True, "top_logprobs": 2})
    logprobs = answer["choices"][0]["logprobs"]
    assert [t["token"] for t in logprobs["content"]] == ["You", " said:", " hi", " there"]
    assert all(len(t["top_logprobs"]) == 2 for t in logprobs["content"])


async def test_chat_refusal(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    answer = await chat(http, user("please [refuse]"))
    message = answer["choices"][0]["message"]
    assert message["content"] is None
    assert message["refusal"].startswith("I'm sorry")


async def test_reasoning_models_add_reasoning_content(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    answer = await chat(http, {**user("why"), "model": "deepseek-reasoner"})
    message = answer["choices"][0]["message"]
    assert message["reasoning_content"]
    details = answer["usage"]["completion_tokens_details"]
    assert details["reasoning_tokens"] == len(message["reasoning_content"].split())
    answer = await chat(http, {**user("why"), "reasoning_effort": "low"})
    assert "reasoning_content" in answer["choices"][0]["message"]
    assert "reasoning_content" not in (await chat(http, user("why")))["choices"][0]["message"]


async def test_gizmo_models_answer_as_gpt_4_gizmo(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    answer = await chat(http, {**user("hi"), "model": "gpt-4-gizmo-g-abc123XYZ"})
    assert answer["model"] == "gpt-4-gizmo"


async def test_vision_parts_and_gpt_4_all_urls_in_text(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://ex.com/cat.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
    ]
    body = {
        "model": "gpt-4-vision-preview",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": parts}],
    }
    answer = await chat(http, body)
    assert answer["choices"][0]["message"]["content"] == (
        "I looked at 2 image(s): https://ex.com/cat.png, an inline image/jpeg. "
        "You asked: What is this?"
    )
    body = {
        "model": "gpt-4-all",
        "messages": [{"role": "user", "content": "https://ex.com/cat.png这张图里有什么?"}],
    }
    answer = await chat(http, body)
    assert answer["choices"][0]["message"]["content"] == (
        "I looked at 1 image(s): https://ex.com/cat.png. You asked: 这张图里有什么?"
    )


async def test_image_generation_links_can_be_downloaded(
    emu: Emulator, http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    answer = await chat(http, {**user("draw a cat"), "model": "gpt-4-all"})
    content = answer["choices"][0]["message"]["content"]
    assert f"]({emu.file_url('')}" in content
    answer = await chat(http, {**user("a cat in the snow"), "model": "stable-diffusion"})
    content = answer["choices"][0]["message"]["content"]
    assert content.startswith("![a cat in the snow](") and content.endswith(".png)")
    url = content[content.index("(") + 1 : -1]
    async with http.get(url) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"\x89PNG")
    plain = await chat(http, {**user("hello"), "model": "gpt-4-all"})
    assert plain["choices"][0]["message"]["content"] == "You said: hello"


# --------------------------------------------------------------------------- chat streams


async def test_stream_sends_words_pings_and_done(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    raw = await raw_stream(http, CHAT, user("hello big world"))
    assert raw.startswith(b": PING\n\n")
    assert raw.count(b": PING") >= 2
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = [json.loads(p) for p in events(raw)[:-1]]
    for chunk in chunks:
        validate_stream_chunk(CHAT, chunk)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks[1:-1]]
    assert pieces == ["You", " said:", " hello", " big", " world"]
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert all("usage" not in c for c in chunks)
    assert len({c["id"] for c in chunks}) == 1


async def test_stream_usage_chunk_when_asked(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {**user("hi"), "stream_options": {"include_usage": True}}
    chunks = await chat_chunks(http, body)
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    plain = await chat(http, user("hi"))
    assert chunks[-1]["usage"] == plain["usage"]


async def test_stream_interleaves_n_choices(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    chunks = await chat_chunks(http, {**user("hi"), "n": 2})
    indexes = [c["choices"][0]["index"] for c in chunks]
    assert indexes[:4] == [0, 1, 0, 1]
    assert (text_of(chunks, 0), text_of(chunks, 1)) == ("You said: hi", "You said: hi (2)")


async def test_stream_tool_call_fragments(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {**user("get_weather and get_time in Rome"), "tools": [WEATHER_TOOL, TIME_TOOL]}
    chunks = await chat_chunks(http, body)
    fragments = [t for c in chunks for t in c["choices"][0]["delta"].get("tool_calls", [])]
    assert fragments[0]["id"].startswith("call_")
    assert fragments[0]["function"] == {"name": "get_weather", "arguments": ""}
    assert all(set(f) == {"index", "function"} for f in fragments if "id" not in f)
    arguments: dict[int, str] = {}
    for fragment in fragments:
        arguments[fragment["index"]] = (
            arguments.get(fragment["index"], "") + fragment["function"]["arguments"]
        )
    assert json.loads(arguments[0]) == {"city": "Rome", "unit": "celsius", "days": 1}
    assert json.loads(arguments[1]) == {"zone": "Rome"}
    assert len(fragments) > 4  # the arguments really come in pieces
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_stream_reasoning_and_refusal_deltas(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    chunks = await chat_chunks(http, {**user("hm"), "model": "o3-mini"})
    assert "".join(
        c["choices"][0]["delta"].get("reasoning_content", "") for c in chunks
    ).startswith("The user wrote")
    chunks = await chat_chunks(http, user("[refuse]"))
    assert "".join(c["choices"][0]["delta"].get("refusal") or "" for c in chunks).startswith(
        "I'm sorry"
    )


async def test_stream_error_magic_word(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    payloads = events(await raw_stream(http, CHAT, user("break it [stream-error] please")))
    assert "[DONE]" not in payloads
    *chunks, last = (json.loads(p) for p in payloads)
    assert len(chunks) == 4  # role chunk + 3 content chunks
    validate_schema("ErrorResponse", last)
    assert last["error"]["code"] == "stream_interrupted"


async def test_stream_cut_magic_word(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    payloads = events(await raw_stream(http, CHAT, user("cut [stream-cut] here")))
    assert "[DONE]" not in payloads
    assert len(payloads) == 4
    for payload in payloads:
        validate_stream_chunk(CHAT, json.loads(payload))


async def test_huge_magic_word_is_one_event(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    chunks = await chat_chunks(http, user("[huge]"))
    contents = [c["choices"][0]["delta"].get("content") for c in chunks]
    big = [text for text in contents if text and len(text) > 1000]
    assert len(big) == 1
    assert len(big[0]) == HUGE_SIZE
    answer = await chat(http, user("[huge]"))
    assert len(answer["choices"][0]["message"]["content"]) == HUGE_SIZE


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"model": ""}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "bot", "content": "x"}]}, "messages.[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages.[0].content"),
        ({"messages": [{"role": "user", "content": None}]}, "messages.[0].content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages.[0].content.[0].image_url.url",
        ),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.[0].tool_call_id"),
        ({"temperature": 3}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"n": 0}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"top_logprobs": 2}, "logprobs"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        (
            {"tools": [{"type": "function", "function": {"name": "bad name"}}]},
            "tools[0].function.name",
        ),
        (
            {
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "function", "function": {"name": "nope"}},
            },
            "tool_choice",
        ),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema.name"),
    ],
)
async def test_chat_rejects_invalid_requests(
    http: aiohttp.ClientSession, openapi_spec: object, change: dict[str, Any], param: str
) -> None:
    status, answer = await post(http, CHAT, {**user("x"), **change})
    assert status == 400
    validate_schema("ErrorResponse", answer)
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"] == param


async def test_non_json_bodies_are_rejected(http: aiohttp.ClientSession) -> None:
    for path in (CHAT, COMPLETIONS, EMBEDDINGS):
        async with http.post(path, data=b"not json") as response:
            assert response.status == 400
            assert (await response.json())["error"]["param"] is None


async def test_text_routes_need_the_key(emu: Emulator) -> None:
    async with aiohttp.ClientSession(emu.base_url) as anon:
        for method, path in (("POST", CHAT), ("GET", "/v1/models")):
            async with anon.request(method, path, json=user("x")) as response:
                assert response.status == 401
    assert emu.count("chat.completions") == 1
    assert emu.count("models") == 1


# --------------------------------------------------------------------------- completions


async def test_completions_answers(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    body = {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["Say hi", "Say bye"],
        "n": 2,
        "max_tokens": 10,
        "logprobs": 2,
        "echo": True,
    }
    status, answer = await post(http, COMPLETIONS, body)
    assert status == 200, answer
    validate_response("POST", COMPLETIONS, 200, answer)
    assert answer["object"] == "text_completion"
    assert [c["index"] for c in answer["choices"]] == [0, 1, 2, 3]
    assert answer["choices"][0]["text"] == "Say hi You said: Say hi"
    assert answer["choices"][3]["text"] == "Say bye You said: Say bye (2)"
    logprobs = answer["choices"][0]["logprobs"]
    assert "".join(logprobs["tokens"]) == answer["choices"][0]["text"]
    assert logprobs["text_offset"][:3] == [0, 3, 6]


async def test_completions_default_to_16_tokens(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    prompt = " ".join(f"w{i}" for i in range(30))
    status, answer = await post(http, COMPLETIONS, {"model": "m", "prompt": prompt})
    assert status == 200
    validate_response("POST", COMPLETIONS, 200, answer)
    assert len(answer["choices"][0]["text"].split()) == 16
    assert answer["choices"][0]["finish_reason"] == "length"


async def test_completions_token_prompts(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    status, answer = await post(http, COMPLETIONS, {"model": "m", "prompt": [[1, 2], [3]]})
    assert status == 200
    validate_response("POST", COMPLETIONS, 200, answer)
    assert answer["usage"]["prompt_tokens"] == 3
    assert len(answer["choices"]) == 2


async def test_completions_stream(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    body = {"model": "m", "prompt": "a b", "stream_options": {"include_usage": True}}
    payloads = events(await raw_stream(http, COMPLETIONS, body))
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    # The legacy stream has no schema of its own: the spec checks its chunks as
    # CreateCompletionResponse, whose finish_reason may not be null, which intermediate chunks
    # always are. So only the last chunk is checked (the final answers are checked above).
    validate_stream_chunk(COMPLETIONS, chunks[-1])
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks[:-1]) == " You said: a b"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 2


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": None},
        {"prompt": []},
        {"prompt": [1, "a"]},
        {"best_of": 1, "n": 2},
        {"logprobs": 6},
        {"model": None},
    ],
)
async def test_completions_reject_invalid_requests(
    http: aiohttp.ClientSession, openapi_spec: object, change: dict[str, Any]
) -> None:
    body = {"model": "m", "prompt": "x", **change}
    status, answer = await post(http, COMPLETIONS, {k: v for k, v in body.items() if v is not None})
    assert status == 400
    validate_schema("ErrorResponse", answer)


# --------------------------------------------------------------------------- embeddings


async def test_embeddings_are_deterministic_unit_vectors(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a cat", "a dog"]}
    status, answer = await post(http, EMBEDDINGS, body)
    assert status == 200
    validate_response("POST", EMBEDDINGS, 200, answer)
    first, second = (item["embedding"] for item in answer["data"])
    assert len(first) == 1536
    assert first != second
    assert abs(sum(v * v for v in first) - 1) < 1e-5
    assert answer["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    _, again = await post(http, EMBEDDINGS, {**body, "input": "a dog"})
    assert again["data"][0]["embedding"] == second  # same input, same vector


async def test_embeddings_base64_is_little_endian_float32_of_the_same_vector(
    http: aiohttp.ClientSession, openapi_spec: object
) -> None:
    body = {"model": "text-embedding-3-large", "input": [[1, 2, 3]]}
    _, floats = await post(http, EMBEDDINGS, body)
    status, packed = await post(http, EMBEDDINGS, {**body, "encoding_format": "base64"})
    assert status == 200
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert len(raw) == 3072 * 4
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == floats["data"][0]["embedding"]
    assert packed["usage"]["prompt_tokens"] == 3


async def test_embeddings_dimensions(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    body = {"model": "text-embedding-3-small", "input": "x", "dimensions": 8}
    status, answer = await post(http, EMBEDDINGS, body)
    assert status == 200
    validate_response("POST", EMBEDDINGS, 200, answer)
    assert len(answer["data"][0]["embedding"]) == 8
    status, answer = await post(http, EMBEDDINGS, {**body, "model": "text-embedding-ada-002"})
    assert status == 400
    assert answer["error"]["message"] == "This model does not support specifying dimensions."


@pytest.mark.parametrize(
    "change",
    [
        {"input": ""},
        {"input": []},
        {"input": ["a", ""]},
        {"input": [[]]},
        {"input": [-1]},
        {"input": ["a"] * 2049},
        {"encoding_format": "hex"},
        {"dimensions": 0},
        {"model": ""},
    ],
)
async def test_embeddings_reject_invalid_requests(
    http: aiohttp.ClientSession, openapi_spec: object, change: dict[str, Any]
) -> None:
    status, answer = await post(http, EMBEDDINGS, {"model": "text-embedding-3-small", **change})
    assert status == 400
    validate_schema("ErrorResponse", answer)


# --------------------------------------------------------------------------- models


async def test_models_list(http: aiohttp.ClientSession, openapi_spec: object) -> None:
    async with http.get("/v1/models") as response:
        assert response.status == 200
        answer = await response.json()
    validate_response("GET", "/v1/models", 200, answer)
    ids = [m["id"] for m in answer["data"]]
    assert ids == [m[0] for m in MODELS]
    for needed in (
        "gpt-4-all",
        "gpt-4-gizmo-*",
        "gemini-pro",
        "gpt-4-vision-preview",
        "stable-diffusion",
        "text-embedding-3-small",
        "gpt-3.5-turbo-instruct",
    ):
        assert needed in ids
