"""Chat, completion, embedding and model-list answers decode from every shape seen, losing
nothing; streamed chunks fold into the completion a plain call would give."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.chat import (
    ChatCompletion,
    ChatCompletionAccumulator,
    ChatCompletionChunk,
    ChatCompletionMessage,
    accumulate_chat,
    extract_image_urls,
)
from api4gpt_async.models.completions import Completion
from api4gpt_async.models.embeddings import CreateEmbeddingResponse, decode_embedding
from api4gpt_async.models.model_list import ModelList

#: The notes' documented example (§3.3).
NOTES_EXAMPLE: dict[str, Any] = {
    "id": "chatcmpl-9xYz",
    "object": "chat.completion",
    "created": 1731000000,
    "model": "gpt-4o-mini",
    "system_fingerprint": "fp_abc",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hi!",
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
                "reasoning_content": "…optional…",
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 5,
        "total_tokens": 17,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}


def chunk(
    delta: dict[str, Any], *, index: int = 0, finish: str | None = None, **extra: Any
) -> ChatCompletionChunk:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1731000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return structure(data, ChatCompletionChunk, request_id="rid-s")


def fold(*chunks: ChatCompletionChunk) -> ChatCompletion:
    accumulator = ChatCompletionAccumulator()
    for c in chunks:
        accumulator.add(c)
    assert accumulator.chunks == len(chunks)
    return accumulator.result()


# --------------------------------------------------------------------------- ChatCompletion


def test_notes_example_decodes() -> None:
    reply = structure(NOTES_EXAMPLE, ChatCompletion, request_id="rid-1")
    assert (reply.id, reply.object, reply.created, reply.model) == (
        "chatcmpl-9xYz",
        "chat.completion",
        1731000000,
        "gpt-4o-mini",
    )
    assert reply.system_fingerprint == "fp_abc"
    message = reply.choices[0].message
    assert (message.role, message.content, message.refusal) == ("assistant", "Hi!", None)
    assert message.reasoning_content == "…optional…"
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert (call.id, call.type, call.function.name) == ("call_1", "function", "get_weather")
    assert call.function.parse_arguments() == {"city": "Paris"}
    assert reply.usage is not None
    assert reply.usage.total_tokens == 17
    assert reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert reply.usage.completion_tokens_details is not None
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0
    assert reply.request_id == "rid-1"
    assert reply.raw == NOTES_EXAMPLE


def test_leniency_empty_strings_string_numbers_and_unknown_fields() -> None:
    data = {
        "id": 12345,
        "object": "chat.completion",
        "created": "1731000000",
        "model": "",
        "system_fingerprint": "",
        "provider": "azure",
        "choices": [
            {
                "index": "0",
                "message": {
                    "role": "assistant",
                    "content": "ok",
                    "refusal": "",
                    "x_extra": 1,
                    "annotations": [{"type": "url_citation", "url_citation": {}}],
                },
                "finish_reason": "",
                "logprobs": {"weird": True, "content": "not a list"},
            }
        ],
        "usage": None,
    }
    reply = structure(data, ChatCompletion)
    assert reply.id == "12345"
    assert reply.created == 1731000000
    assert reply.model is None and reply.system_fingerprint is None
    assert reply.raw["provider"] == "azure"
    choice = reply.choices[0]
    assert (choice.index, choice.finish_reason) == (0, None)
    assert choice.message.refusal is None
    assert choice.message.raw["x_extra"] == 1
    assert choice.message.annotations == [{"type": "url_citation", "url_citation": {}}]
    assert choice.logprobs is not None  # an unexpected shape is kept, not fatal
    assert choice.logprobs.content is None
    assert choice.logprobs.raw == {"weird": True, "content": "not a list"}
    assert reply.usage is None


def test_logprobs_decode() -> None:
    token = {
        "token": "Hi",
        "logprob": -0.1,
        "bytes": [72, 105],
        "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": None}],
    }
    data = {
        "choices": [
            {"message": {"content": "Hi"}, "logprobs": {"content": [token], "refusal": None}}
        ]
    }
    logprobs = structure(data, ChatCompletion).choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert (logprobs.content[0].token, logprobs.content[0].bytes) == ("Hi", [72, 105])
    assert logprobs.content[0].top_logprobs[0].logprob == -0.1


def test_tool_arguments_sent_as_an_object_read_as_json_text() -> None:
    data = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": {"a": [1, "é"]}},
                        }
                    ],
                }
            }
        ]
    }
    call = structure(data, ChatCompletion).choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.arguments == '{"a": [1, "é"]}'
    assert call.function.parse_arguments() == {"a": [1, "é"]}
    assert call.function.raw["arguments"] == {"a": [1, "é"]}


def test_a_wrong_type_is_a_decode_error_naming_the_class() -> None:
    with pytest.raises(ResponseDecodeError, match="ChatCompletion") as info:
        structure({"choices": "nope"}, ChatCompletion, request_id="rid-9")
    assert info.value.request_id == "rid-9"


def test_to_param_round_trips_a_tool_call_message() -> None:
    message = structure(NOTES_EXAMPLE, ChatCompletion).choices[0].message
    assert message.to_param() == {
        "role": "assistant",
        "content": "Hi!",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    legacy = ChatCompletionMessage(content=None, refusal="no")
    assert legacy.to_param() == {"role": "assistant", "content": None, "refusal": "no"}


# --------------------------------------------------------------------------- image links


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        (None, []),
        ("no links here", []),
        ("![cat](https://cdn.x/a.png)", ["https://cdn.x/a.png"]),
        # gpt-4-all: progress text, the picture, then a download link to the same file.
        (
            "> 正在生成…\n\n![猫](https://f.site/cdn/1/abc)\n\n[下载](https://f.site/cdn/1/abc)",
            ["https://f.site/cdn/1/abc"],
        ),
        ('![a](https://x/1.webp "title") and ![b](http://x/2)', ["https://x/1.webp", "http://x/2"]),
        ("see https://x.io/pic.JPG, or https://x.io/page.html.", ["https://x.io/pic.JPG"]),
        (
            "bare https://x.io/img.jpeg?sig=1&t=2 then ![m](https://x.io/m.gif)",
            ["https://x.io/img.jpeg?sig=1&t=2", "https://x.io/m.gif"],
        ),
        ("[link](https://x.io/doc.pdf) <https://x.io/a.bmp>", ["https://x.io/a.bmp"]),
    ],
)
def test_extract_image_urls(text: str | None, urls: list[str]) -> None:
    assert extract_image_urls(text) == urls


def test_image_urls_across_choices_without_duplicates() -> None:
    data = {
        "choices": [
            {"index": 0, "message": {"content": "![a](https://x/1.png) ![b](https://x/2.png)"}},
            {"index": 1, "message": {"content": "https://x/2.png https://x/3.png"}},
        ]
    }
    reply = structure(data, ChatCompletion)
    assert reply.image_urls() == ["https://x/1.png", "https://x/2.png", "https://x/3.png"]
    assert reply.choices[1].message.image_urls() == ["https://x/2.png", "https://x/3.png"]


# --------------------------------------------------------------------------- chunks & folding


def test_chunk_decodes_usage_only_chunk() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    c = structure({"id": "x", "choices": [], "usage": usage}, ChatCompletionChunk)
    assert c.choices == [] and c.usage is not None and c.usage.total_tokens == 3


def test_accumulates_content_role_finish_and_usage() -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    reply = fold(
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, finish="stop"),
        structure({"id": "chatcmpl-1", "choices": [], "usage": usage}, ChatCompletionChunk),
    )
    assert (reply.id, reply.model, reply.created, reply.object) == (
        "chatcmpl-1",
        "gpt-4o-mini",
        1731000000,
        "chat.completion",
    )
    (choice,) = reply.choices
    assert (choice.message.role, choice.message.content) == ("assistant", "Hello")
    assert choice.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.total_tokens == 17
    assert reply.request_id == "rid-s"


def test_accumulates_reasoning_in_both_spellings_and_refusal() -> None:
    reply = fold(
        chunk({"reasoning_content": "think "}),
        chunk({"reasoning": "hard"}),
        chunk({"refusal": "I can't"}),
        chunk({"refusal": " do that"}, finish="stop"),
    )
    message = reply.choices[0].message
    assert message.reasoning_content == "think hard"
    assert message.refusal == "I can't do that"
    assert message.content is None


def test_accumulates_tool_call_fragments_by_index() -> None:
    def call(index: int | None, **fields: Any) -> dict[str, Any]:
        fragment: dict[str, Any] = {"function": fields.pop("function", {}), **fields}
        if index is not None:
            fragment["index"] = index
        return {"tool_calls": [fragment]}

    reply = fold(
        chunk({"role": "assistant", "content": None}),
        chunk(call(0, id="call_a", type="function", function={"name": "f", "arguments": ""})),
        chunk(call(1, id="call_b", type="function", function={"name": "g", "arguments": '{"x"'})),
        chunk(call(0, function={"arguments": '{"ci'})),
        chunk(call(0, function={"arguments": 'ty":"Paris"}'})),
        chunk(call(1, function={"arguments": ":1}"})),
        chunk({}, finish="tool_calls"),
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "f", '{"city":"Paris"}'),
        ("call_b", "g", '{"x":1}'),
    ]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.choices[0].message.content is None


def test_tool_call_fragments_without_index_follow_their_ids() -> None:
    reply = fold(
        chunk({"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"function": {"arguments": "}"}}]}),
        chunk({"tool_calls": [{"id": "a", "function": {"arguments": ""}}]}),  # id repeated
        chunk({"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "[]"}}]}),
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in calls] == [
        ("a", "function", "f", "{}"),
        ("b", "function", "g", "[]"),
    ]


def test_accumulates_legacy_function_call() -> None:
    reply = fold(
        chunk({"function_call": {"name": "f", "arguments": ""}}),
        chunk({"function_call": {"arguments": '{"a":'}}),
        chunk({"function_call": {"arguments": "1}"}}, finish="function_call"),
    )
    function_call = reply.choices[0].message.function_call
    assert function_call is not None
    assert (function_call.name, function_call.arguments) == ("f", '{"a":1}')


def test_accumulates_n_choices_by_index_and_logprobs() -> None:
    token = {"token": "a", "logprob": -1.0, "bytes": None, "top_logprobs": []}
    logprobs = {"content": [token], "refusal": None}
    reply = fold(
        chunk({"content": "b1"}, index=1),
        chunk({"content": "a1"}, index=0),
        structure(
            {"choices": [{"index": 1, "delta": {"content": "b2"}, "logprobs": logprobs}]},
            ChatCompletionChunk,
        ),
        chunk({}, index=0, finish="length"),
        chunk({}, index=1, finish="stop"),
    )
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (0, "a1", "length"),
        (1, "b1b2", "stop"),
    ]
    assert reply.choices[0].logprobs is None
    assert reply.choices[1].logprobs is not None
    assert reply.choices[1].logprobs.content is not None
    assert reply.choices[1].logprobs.content[0].token == "a"


def test_usage_on_the_last_content_chunk_counts_too() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    reply = fold(chunk({"content": "x"}, finish="stop", usage=usage))
    assert reply.usage is not None and reply.usage.total_tokens == 2


def test_empty_accumulator_gives_an_empty_completion() -> None:
    reply = ChatCompletionAccumulator().result()
    assert reply.choices == [] and reply.usage is None


@pytest.mark.anyio
async def test_accumulate_chat_reads_to_the_end_and_closes() -> None:
    closed: list[bool] = []
    seen: list[str | None] = []

    class FakeStream:
        def __init__(self, chunks: list[ChatCompletionChunk]) -> None:
            self._chunks = chunks

        async def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
            for c in self._chunks:
                yield c

        async def aclose(self) -> None:
            closed.append(True)

    stream = FakeStream([chunk({"content": "a"}), chunk({"content": "b"}, finish="stop")])
    reply = await accumulate_chat(
        stream, on_chunk=lambda c: seen.append(c.choices[0].delta.content)
    )
    assert reply.choices[0].message.content == "ab"
    assert seen == ["a", "b"]
    assert closed == [True]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --------------------------------------------------------------------------- other families


def test_completion_decodes_with_lenient_logprobs() -> None:
    data = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "text": "",
                "index": 0,
                "finish_reason": "length",
                "logprobs": {
                    "tokens": ["a"],
                    "token_logprobs": [None],
                    "top_logprobs": [None],
                    "text_offset": [0],
                },
            },
            {"text": "x", "index": 1, "logprobs": "garbage"},
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
    }
    completion = structure(data, Completion)
    first, second = completion.choices
    assert first.text == ""  # an empty completion stays a string
    assert first.logprobs is not None and first.logprobs.token_logprobs == [None]
    assert second.logprobs is not None and second.logprobs.raw == {"value": "garbage"}
    assert completion.usage is not None and completion.usage.total_tokens == 1


def test_embeddings_decode_floats_and_base64_alike() -> None:
    values = [0.5, -1.25, 3.0, 1e-3]
    packed = base64.b64encode(struct.pack("<4f", *values)).decode()
    data = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [
            {"object": "embedding", "index": 1, "embedding": packed},
            {"object": "embedding", "index": 0, "embedding": [1, 2.5]},
        ],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    response = structure(data, CreateEmbeddingResponse, request_id="r")
    assert response.data[0].embedding == list(struct.unpack("<4f", struct.pack("<4f", *values)))
    assert response.data[1].embedding == [1.0, 2.5]
    assert all(type(v) is float for v in response.data[1].embedding)
    assert response.embeddings == [[1.0, 2.5], response.data[0].embedding]
    assert response.data[0].raw["embedding"] == packed  # raw keeps what was sent
    assert response.request_id == "r"


@pytest.mark.parametrize(
    "bad", ["not base64!", base64.b64encode(b"12345").decode(), {"a": 1}, ["x"]]
)
def test_embeddings_reject_unreadable_vectors(bad: Any) -> None:
    with pytest.raises(ResponseDecodeError):
        structure({"data": [{"embedding": bad}]}, CreateEmbeddingResponse)


def test_decode_embedding_keeps_float32_values_exactly() -> None:
    vector = [0.001 * i for i in range(3072)]
    as_float32 = list(struct.unpack("<3072f", struct.pack("<3072f", *vector)))
    packed = base64.b64encode(struct.pack("<3072f", *vector)).decode()
    assert decode_embedding(packed) == as_float32
    assert decode_embedding(json.loads(json.dumps(as_float32))) == as_float32


def test_model_list_decodes_and_iterates() -> None:
    data = {
        "object": "list",
        "success": True,
        "data": [
            {
                "id": "gpt-4o-mini",
                "object": "model",
                "created": 1721172741,
                "owned_by": "openai",
                "supported_endpoint_types": ["openai"],
            },
            {"id": "gemini-pro", "owned_by": "", "created": "1702339200"},
        ],
    }
    models = structure(data, ModelList)
    assert len(models) == 2
    assert models.ids() == ["gpt-4o-mini", "gemini-pro"]
    first, second = models
    assert first.raw["supported_endpoint_types"] == ["openai"]
    assert (second.owned_by, second.created, second.object) == (None, 1702339200, None)
