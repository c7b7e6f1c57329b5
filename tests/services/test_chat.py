"""``client.chat.completions.create``: exact requests, every answer shape, streams that end
well or badly, and the billing-safe retry rules.

Request bodies are read back from the emulator's log and checked against OpenAI's spec.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest
from openapi_conformance import openapi_spec, validate_request

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncAPI4GPT,
    AuthenticationError,
    BadRequestError,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async._convert import structure
from api4gpt_async._streaming import Stream
from api4gpt_async.models.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    accumulate_chat,
)
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._openai_text import HUGE_SIZE

__all__ = ["openapi_spec"]  # the fixture, re-exported so pytest finds it here

pytestmark = pytest.mark.anyio

HI = [{"role": "user", "content": "Hello there"}]
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
            },
            "required": ["city", "unit"],
        },
    },
}


def last_body(emulator: Emulator) -> Any:
    """The JSON body of the last request, after checking it against the spec."""
    request = emulator.requests[-1]
    assert request.route == "chat.completions"
    validate_request("POST", request.path, request.json)
    return request.json


async def drain(stream: Stream[Any], into: list[Any]) -> None:
    async with stream:
        async for chunk in stream:
            into.append(chunk)


def acquired_connections(client: AsyncAPI4GPT) -> int:
    session = client._transport._session
    assert session is not None and session.connector is not None
    return len(session.connector._acquired)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- requests


async def test_sends_only_what_was_set(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    reply = await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert last_body(emulator) == {"model": "gpt-4o-mini", "messages": HI}
    request = emulator.requests[-1]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].endswith("***")  # masked in the log
    assert isinstance(reply, ChatCompletion)
    assert reply.choices[0].message.content == "You said: Hello there"
    assert reply.request_id  # the gateway's X-Oneapi-Request-Id, for support requests


async def test_every_option_is_sent_as_given(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    options: dict[str, Any] = {
        "temperature": 0.2,
        "top_p": 0.9,
        "n": 2,
        "stop": ["END"],
        "max_tokens": 50,
        "max_completion_tokens": 40,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "logit_bias": {"50256": -100},
        "logprobs": True,
        "top_logprobs": 3,
        "seed": 7,
        "user": "user-1",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "a", "schema": schema, "strict": True},
        },
        "tools": [WEATHER_TOOL],
        "tool_choice": "none",
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "metadata": {"k": "v"},
        "store": False,
        "service_tier": "auto",
        "modalities": ["text"],
        "prediction": {"type": "content", "content": "You said"},
        "verbosity": "low",
        "safety_identifier": "h-1",
        "prompt_cache_key": "ck",
        "web_search_options": {"search_context_size": "low"},
    }
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=HI, stream=False, **options
    )
    assert last_body(emulator) == {
        "model": "gpt-4o-mini",
        "messages": HI,
        "stream": False,
        **options,
    }
    assert len(reply.choices) == 2
    assert json.loads(reply.choices[0].message.content or "") == {"a": "You said: Hello there"}
    assert reply.choices[0].logprobs is not None


async def test_audio_output_and_legacy_functions_are_sent(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    await client.chat.completions.create(
        model="gpt-4o-audio-preview",
        messages=HI,
        modalities=("text", "audio"),  # any sequence is sent as a list
        audio={"voice": "alloy", "format": "wav"},
        functions=iter([WEATHER_TOOL["function"]]),
        function_call={"name": "get_weather"},
    )
    body = last_body(emulator)
    assert body["modalities"] == ["text", "audio"]
    assert body["audio"] == {"voice": "alloy", "format": "wav"}
    assert body["functions"] == [WEATHER_TOOL["function"]]
    assert body["function_call"] == {"name": "get_weather"}


async def test_extra_body_headers_and_query(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=HI,
        temperature=1.0,
        extra_body={"temperature": 0.5, "top_k": 40, "enable_thinking": False},
        extra_headers={"X-Trace": "t-1"},
        extra_query={"debug": True, "shard": 3},
    )
    request = emulator.requests[-1]
    assert request.json == {
        "model": "gpt-4o-mini",
        "messages": HI,
        "temperature": 0.5,
        "top_k": 40,
        "enable_thinking": False,
    }
    assert request.headers["X-Trace"] == "t-1"
    assert request.query == {"debug": "true", "shard": "3"}
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=HI,
        stream=True,
        extra_headers={"X-Trace": "t-2"},
        extra_query={"debug": False},
    )
    async with stream:
        assert [c async for c in stream]
    request = emulator.requests[-1]
    assert (request.headers["X-Trace"], request.query) == ("t-2", {"debug": "false"})
    assert request.headers["Accept"] == "text/event-stream"
    assert request.json["stream"] is True


async def test_timeout_bounds_the_call(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.delay("chat.completions", 5)
    with anyio.fail_after(3):  # the SDK must give up first
        # sent, then timed out: it may be billed, so not a plain (retry-me) timeout
        with pytest.raises(SubmissionUncertainError) as info:
            await client.chat.completions.create(model="m", messages=HI, timeout=0.2)
    assert not isinstance(info.value, APITimeoutError)


async def test_messages_must_be_a_list(client: AsyncAPI4GPT) -> None:
    with pytest.raises(TypeError, match="list of messages"):
        await client.chat.completions.create(model="m", messages={"role": "user"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- model variants


async def test_vision_parts_with_urls_data_urls_audio_and_files(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    parts = [
        {"type": "text", "text": "Describe these"},
        {"type": "image_url", "image_url": {"url": "https://ex.com/cat.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {
            "type": "file",
            "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
        },
    ]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": parts}]
    reply = await client.chat.completions.create(
        model="gpt-4-vision-preview", messages=messages, max_tokens=300
    )
    assert last_body(emulator)["messages"] == messages
    assert reply.choices[0].message.content == (
        "I looked at 2 image(s): https://ex.com/cat.png, an inline image/png. "
        "You asked: Describe these"
    )


async def test_gpt_4_all_reads_the_url_inside_string_content(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    content = "https://ex.com/cat.png这张图里有什么?"
    reply = await client.chat.completions.create(
        model="gpt-4-all", messages=[{"role": "user", "content": content}]
    )
    assert last_body(emulator)["messages"][0]["content"] == content
    assert reply.choices[0].message.content == (
        "I looked at 1 image(s): https://ex.com/cat.png. You asked: 这张图里有什么?"
    )


@pytest.mark.parametrize(
    ("model", "answered_as"),
    [("gpt-4-gizmo-g-abc123XYZ", "gpt-4-gizmo"), ("gemini-pro", "gemini-pro")],
)
async def test_special_models_go_through_the_same_call(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object, model: str, answered_as: str
) -> None:
    reply = await client.chat.completions.create(model=model, messages=HI)
    assert last_body(emulator)["model"] == model
    assert reply.model == answered_as
    assert reply.choices[0].message.content == "You said: Hello there"


@pytest.mark.parametrize(
    ("model", "prompt"), [("gpt-4-all", "画一只猫 (draw a cat)"), ("stable-diffusion", "a cat")]
)
async def test_image_generation_links_are_extracted_and_downloadable(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, model: str, prompt: str
) -> None:
    reply = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}]
    )
    (url,) = reply.image_urls()
    assert url.startswith(emulator.file_url("")) and url.endswith(".png")
    path = await client.download(url, tmp_path)
    assert path.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- tools & formats


async def test_tool_round_trip(
    client: AsyncAPI4GPT, emulator: Emulator, openapi_spec: object
) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = await client.chat.completions.create(
        model="gpt-4-0613", messages=messages, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    assert first.choices[0].finish_reason == "tool_calls"
    message = first.choices[0].message
    assert message.tool_calls is not None
    (call,) = message.tool_calls
    assert call.function.name == "get_weather"
    assert call.function.parse_arguments() == {"city": "Paris", "unit": "celsius"}
    messages.append(message)  # the reply model itself, as with openai-python
    messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'})
    second = await client.chat.completions.create(
        model="gpt-4-0613", messages=messages, tools=[WEATHER_TOOL]
    )
    sent = last_body(emulator)["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": call.function.arguments},
            }
        ],
    }
    assert second.choices[0].message.content == 'Here is what the tools returned: {"temp_c": 21}'


async def test_json_object_mode(client: AsyncAPI4GPT) -> None:
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=HI, response_format={"type": "json_object"}
    )
    assert json.loads(reply.choices[0].message.content or "") == {"reply": "You said: Hello there"}


async def test_length_refusal_and_reasoning(client: AsyncAPI4GPT) -> None:
    reply = await client.chat.completions.create(model="m", messages=HI, max_tokens=2)
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == (
        "You said:",
        "length",
    )
    reply = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "[refuse]"}]
    )
    assert reply.choices[0].message.content is None
    assert reply.choices[0].message.refusal == "I'm sorry, but I can't help with that."
    reply = await client.chat.completions.create(model="deepseek-reasoner", messages=HI)
    assert reply.choices[0].message.reasoning_content
    assert reply.usage is not None and reply.usage.completion_tokens_details is not None
    assert reply.usage.completion_tokens_details.reasoning_tokens


# --------------------------------------------------------------------------- errors & retries


async def test_invalid_request_is_a_bad_request_error(client: AsyncAPI4GPT) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.chat.completions.create(model="m", messages=HI, temperature=5)
    error = info.value
    assert error.status == 400
    assert error.type == "invalid_request_error"
    assert error.body["error"]["param"] == "temperature"
    assert error.request_id


async def test_wrong_key(emulator: Emulator) -> None:
    async with AsyncAPI4GPT(api_key="sk-wrong", base_url=emulator.base_url) as client:
        with pytest.raises(AuthenticationError):
            await client.chat.completions.create(model="m", messages=HI)
        with pytest.raises(AuthenticationError):
            await client.chat.completions.create(model="m", messages=HI, stream=True)


async def test_error_object_in_a_200_answer_raises(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = {
        "error": {
            "message": "upstream said no (request id: abc)",
            "type": "upstream_error",
            "code": "bad_response",
        }
    }
    emulator.fail("chat.completions", status=200, body=body)
    with pytest.raises(APIError, match="upstream said no") as info:
        await client.chat.completions.create(model="m", messages=HI)
    assert info.value.code == "bad_response"


async def test_5xx_is_not_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("chat.completions", status=500, times=3)
    with pytest.raises(ServerError):
        await client.chat.completions.create(model="m", messages=HI)
    assert emulator.count("chat.completions") == 1  # billable: may have been charged


async def test_429_is_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.rate_limit("chat.completions", retry_after=0)
    reply = await client.chat.completions.create(model="m", messages=HI)
    assert reply.choices[0].message.content == "You said: Hello there"
    assert emulator.count("chat.completions") == 2


async def test_dropped_connection_is_uncertain_and_not_retried(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", drop=True, times=3)
    with pytest.raises(SubmissionUncertainError):
        await client.chat.completions.create(model="m", messages=HI)
    assert emulator.count("chat.completions") == 1


async def test_stream_status_errors_follow_the_same_rules(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", status=502, times=3)
    with pytest.raises(ServerError):
        await client.chat.completions.create(model="m", messages=HI, stream=True)
    assert emulator.count("chat.completions") == 1
    emulator.clear_faults()
    emulator.rate_limit("chat.completions", retry_after=0)
    stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
    reply = await accumulate_chat(stream)
    assert reply.choices[0].message.content == "You said: Hello there"
    assert emulator.count("chat.completions") == 3
    assert acquired_connections(client) == 0


# --------------------------------------------------------------------------- streaming


async def test_stream_yields_typed_chunks(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)
    assert isinstance(stream, Stream)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    pieces = [c.choices[0].delta.content for c in chunks]
    assert pieces == [None, "You", " said:", " Hello", " there", None]  # "" reads as absent
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.request_id == stream.request_id for c in chunks)
    assert stream.request_id is not None
    assert acquired_connections(client) == 0


async def test_stream_accumulates_into_the_plain_answer(client: AsyncAPI4GPT) -> None:
    calls: list[dict[str, Any]] = [
        {"model": "gpt-4o-mini", "messages": HI, "n": 2},
        {
            "model": "gpt-4-0613",
            "messages": [{"role": "user", "content": "weather in Rome"}],
            "tools": [WEATHER_TOOL],
        },
        {"model": "o3-mini", "messages": HI, "logprobs": True, "top_logprobs": 1},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "[refuse]"}]},
        {"model": "gpt-4o-mini", "messages": HI, "functions": [WEATHER_TOOL["function"]]},
    ]
    for call in calls:
        plain = await client.chat.completions.create(**call)
        stream = await client.chat.completions.create(
            **call, stream=True, stream_options={"include_usage": True}
        )
        streamed = await accumulate_chat(stream)
        assert streamed.usage == plain.usage
        assert streamed.model == plain.model
        for got, want in zip(streamed.choices, plain.choices, strict=True):
            assert got.message.to_param() == want.message.to_param()
            assert got.message.reasoning_content == want.message.reasoning_content
            assert got.finish_reason == want.finish_reason
            assert got.logprobs == want.logprobs


async def test_huge_event_arrives_whole(client: AsyncAPI4GPT) -> None:
    messages = [{"role": "user", "content": "[huge]"}]
    stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
    async with stream:
        sizes = [len(c.choices[0].delta.content or "") async for c in stream if c.choices]
    assert max(sizes) == HUGE_SIZE  # ~3 MB in one SSE line: no line-length cap


async def test_error_event_mid_stream_raises_after_the_chunks_before_it(
    client: AsyncAPI4GPT,
) -> None:
    messages = [{"role": "user", "content": "go on [stream-error] please"}]
    stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
    received: list[ChatCompletionChunk] = []
    with pytest.raises(APIError) as info:
        await drain(stream, received)
    assert len(received) == 4
    assert info.value.code == "stream_interrupted"
    assert "emulated upstream failure" in str(info.value)
    assert info.value.request_id == stream.request_id
    assert acquired_connections(client) == 0


async def test_stream_cut_before_done_is_a_connection_error(client: AsyncAPI4GPT) -> None:
    messages = [{"role": "user", "content": "[stream-cut]"}]
    stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
    with pytest.raises(APIConnectionError, match=r"\[DONE\]"):
        await accumulate_chat(stream)
    assert acquired_connections(client) == 0


async def test_break_inside_async_with_releases_the_connection(client: AsyncAPI4GPT) -> None:
    messages = [{"role": "user", "content": " ".join(["word"] * 2000)}]
    stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
    async with stream:
        async for _ in stream:
            break
        assert acquired_connections(client) == 1  # still open while inside the block
    assert acquired_connections(client) == 0
    reply = await client.chat.completions.create(model="m", messages=HI)  # the client still works
    assert reply.choices


async def test_aclose_without_async_with(client: AsyncAPI4GPT) -> None:
    stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
    first = await stream.__anext__()
    assert first.choices[0].delta.role == "assistant"
    await stream.aclose()
    await stream.aclose()  # twice is fine
    assert acquired_connections(client) == 0


async def test_closing_an_unread_stream(client: AsyncAPI4GPT) -> None:
    stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
    await stream.aclose()
    assert acquired_connections(client) == 0


async def test_cancellation_mid_stream_releases_everything(client: AsyncAPI4GPT) -> None:
    messages = [{"role": "user", "content": " ".join(["word"] * 2000)}]
    got: list[ChatCompletionChunk] = []
    with anyio.CancelScope() as scope:
        stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
        async with stream:
            async for chunk in stream:
                got.append(chunk)
                if len(got) == 3:
                    scope.cancel()
                    await anyio.lowlevel.checkpoint()  # the cancellation lands here
    assert scope.cancelled_caught
    assert len(got) == 3
    assert acquired_connections(client) == 0


async def test_task_cancelled_while_waiting_for_chunks(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    started = asyncio.Event()

    async def read() -> None:
        stream = await client.chat.completions.create(model="m", messages=HI, stream=True)
        async with stream:
            started.set()
            async for _ in stream:
                await asyncio.Event().wait()  # a consumer that never finishes

    task = asyncio.create_task(read())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired_connections(client) == 0


# ------------------------------------------------------------------ the SSE path, byte by byte


class RecordedBody:
    """Stands in for the transport's ``ByteStream``: replays recorded bytes in given pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces
        self.request_id = "rid-recorded"
        self.headers: dict[str, str] = {}
        self.timeout = 60.0
        self.closed = 0

    async def read(self, deadline: float | None = None) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    async def aclose(self) -> None:
        self.closed += 1


def decode_chunk(data: Any) -> ChatCompletionChunk:
    return structure(data, ChatCompletionChunk, request_id="rid-recorded")


async def read_recorded(pieces: list[bytes]) -> tuple[ChatCompletion, RecordedBody]:
    body = RecordedBody(pieces)
    reply = await accumulate_chat(Stream(body, decode_chunk))  # type: ignore[arg-type]
    return reply, body


async def record(emulator: Emulator, body: dict[str, Any]) -> bytes:
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = emulator.base_url + "/v1/chat/completions"
        async with session.post(url, json={**body, "stream": True}) as response:
            return await response.read()


async def test_a_stream_split_at_every_byte_boundary_decodes_the_same(
    emulator: Emulator,
) -> None:
    raw = await record(
        emulator,
        {
            "model": "gpt-4-0613",
            "n": 2,
            "tools": [WEATHER_TOOL],
            "messages": [{"role": "user", "content": "Wetter in Zürich? 🌍"}],
            "stream_options": {"include_usage": True},
        },
    )
    assert raw.count(b": PING") >= 3
    whole, _ = await read_recorded([raw])
    calls = whole.choices[1].message.tool_calls
    assert calls is not None
    assert calls[0].function.parse_arguments() == {"city": "Zürich", "unit": "celsius"}
    assert whole.usage is not None
    for cut in range(1, len(raw)):
        reply, body = await read_recorded([raw[:cut], raw[cut:]])
        assert reply == whole, f"split at byte {cut}"
        assert body.closed >= 1
    one_by_one, _ = await read_recorded([raw[i : i + 1] for i in range(len(raw))])
    assert one_by_one == whole


async def test_multibyte_text_split_anywhere(emulator: Emulator) -> None:
    text = "héllo wörld 🌍 日本語"
    raw = await record(emulator, {"model": "m", "messages": [{"role": "user", "content": text}]})
    for cut in range(1, len(raw)):
        reply, _ = await read_recorded([raw[:cut], raw[cut:]])
        assert reply.choices[0].message.content == f"You said: {text}"


async def test_recorded_stream_without_done_or_with_error(emulator: Emulator) -> None:
    raw = await record(emulator, {"model": "m", "messages": HI})
    with pytest.raises(APIConnectionError):
        await read_recorded([raw.replace(b"data: [DONE]\n\n", b"")])
    error = b'data: {"error": {"message": "boom", "type": "x", "param": null, "code": 500}}\n\n'
    with pytest.raises(APIError, match="boom"):
        await read_recorded([raw[: raw.index(b"data: ", 20)], error])


# --------------------------------------------------------------------------- the CLI


async def _cli(emulator: Emulator, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env.update(API4GPT_BASE_URL=emulator.base_url, API4GPT_API_KEY=emulator.api_key)
    env["COLUMNS"] = "200"
    result = await anyio.run_process(
        [sys.executable, "-m", "api4gpt_async", "chat", *args], env=env, check=False
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert emulator.api_key not in output
    return result.returncode, output


async def test_cli_chat_plain_and_streamed(emulator: Emulator, openapi_spec: object) -> None:
    code, output = await _cli(emulator, "Hello [there]", "--model", "gemini-pro")
    assert code == 0, output
    assert output.strip() == "You said: Hello [there]"  # printed as is, no markup
    assert last_body(emulator) == {
        "model": "gemini-pro",
        "messages": [{"role": "user", "content": "Hello [there]"}],
    }
    code, output = await _cli(emulator, "Hi", "--stream", "--system", "Be brief.")
    assert code == 0, output
    assert output.strip() == "You said: Hi"
    assert last_body(emulator) == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "stream": True,
    }


async def test_cli_chat_error_is_one_line(emulator: Emulator) -> None:
    emulator.fail("chat.completions", status=503)
    code, output = await _cli(emulator, "Hi")
    assert code == 1
    assert "ServerError" in output
    assert "Traceback" not in output
