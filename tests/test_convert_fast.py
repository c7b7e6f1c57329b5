"""The converter's fast path reads exactly what the generic path reads, and falls back to it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _same import same

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import _fast_by_class, converter, structure
from api4gpt_async.models.chat import ChatCompletion, ChatCompletionChunk
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.models.midjourney import MidjourneyTask

CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1720189706,
    "model": "gpt-4o-mini",
    "system_fingerprint": "fp_x",
    "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
    ],
}
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-2",
    "object": "chat.completion",
    "created": 1720189706,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": {"a": 1}},
                    }
                ],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 0},
    },
}
GENERATION: dict[str, Any] = {
    "id": "g1",
    "state": "completed",
    "created_at": "2024-07-01T12:34:56.789000Z",
    "video": {"url": "https://cdn.example/v.mp4", "width": 1360, "height": 752},
    "liked": None,
    "estimate_wait_seconds": "",
    "extra_field": {"kept": True},
}

MJ_TASK: dict[str, Any] = {
    "id": "1730000000000001",
    "action": "IMAGINE",
    "status": "SUCCESS",
    "progress": "100%",
    "submitTime": 1730000000000,
    "imageUrl": "https://cdn.example/grid.png",
    "failReason": "",
    "buttons": [{"customId": "MJ::JOB::upsample::1::x", "label": "U1", "style": 2}],
    "properties": {"finalPrompt": "a fox"},
    "fail_reason": None,
}


def _variants(answer: dict[str, Any]) -> list[Any]:
    """The answer, and shapes only the generic path reads (or refuses)."""
    out: list[Any] = [answer]
    for key in answer:
        for value in ("", None, "12", 12, 1.5, True, [], {}):
            changed = copy.deepcopy(answer)
            changed[key] = value
            out.append(changed)
        missing = copy.deepcopy(answer)
        del missing[key]
        out.append(missing)
    out += [[answer], "text", 3, None]
    return out


def _read(data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "ok", structure(data, cls, request_id="rid")
    except ResponseDecodeError as exc:
        return "error", str(exc)


def _generic(data: Any, cls: type[Any]) -> tuple[str, Any]:
    hook = converter.get_structure_hook(cls)
    try:
        obj = hook(data, cls)
    except Exception:
        return "error", None
    object.__setattr__(obj, "request_id", "rid")
    return "ok", obj


@pytest.mark.parametrize(
    ("cls", "answer"),
    [
        (ChatCompletionChunk, CHUNK),
        (ChatCompletion, COMPLETION),
        (LumaGeneration, GENERATION),
        (MidjourneyTask, MJ_TASK),  # camelCase keys on the wire, one field in both spellings
        (MidjourneyTask, {k: v for k, v in MJ_TASK.items() if k != "fail_reason"}),
        (MidjourneyTask, {**MJ_TASK, "buttons": None, "fail_reason": "late"}),
    ],
)
def test_fast_path_reads_what_the_generic_path_reads(cls: type[Any], answer: Any) -> None:
    structure(answer, cls)
    assert _fast_by_class[cls] is not None  # the fast path exists for this model
    for data in _variants(answer):
        got, expected = _read(data, cls), _generic(data, cls)
        assert got[0] == expected[0], data
        if got[0] == "ok":
            same(got[1], expected[1])
            assert got[1].raw is data


def test_fast_path_nested_answers_keep_their_raw() -> None:
    chunk = structure(CHUNK, ChatCompletionChunk)
    assert chunk.choices[0].raw is CHUNK["choices"][0]
    assert chunk.choices[0].delta.raw is CHUNK["choices"][0]["delta"]
    assert chunk.choices[0].delta.content == "Hi"
    completion = structure(COMPLETION, ChatCompletion)
    # A custom hook under the fast path still runs: arguments sent as an object become text.
    assert completion.choices[0].message.tool_calls[0].function.arguments == '{"a": 1}'


SUBMIT = {
    "suno": lambda c: c.suno.generate(prompt="a song about snow"),
    "zhipu_video": lambda c: c.zhipu_video.generate(prompt="a fox in snow"),
    "digital_human": lambda c: c.digital_human.create(
        "https://example.com/a.jpg", audio_url="https://example.com/v.mp3"
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("family", sorted(SUBMIT))
async def test_fast_path_of_prepared_models(emulator: Any, client: Any, family: str) -> None:
    """Families that make several wire shapes canonical (``read_with``) read the same too."""
    handle = await SUBMIT[family](client)
    emulator.advance(3600)
    status = await getattr(client, family).get(handle.id)
    cls, answer = type(status), status.raw
    assert _fast_by_class[cls] is not None
    for data in _variants(answer):
        got, expected = _read(data, cls), _generic(data, cls)
        assert got[0] == expected[0], data
        if got[0] == "ok":
            same(got[1], expected[1])
            assert got[1].raw is data
