"""The ``completions`` route: POST /v1/completions, OpenAI's legacy text completion.

It answers a ``text_completion`` (or its SSE stream, see :mod:`._events`).

Completions answer ``" You said: <prompt>"`` per prompt (and per ``n``; choice index
``prompt * n + i``), cut at ``max_tokens`` words (OpenAI's default 16 applies); ``echo`` puts
the prompt in front.

The magic words of :mod:`._events` and :mod:`._words` are looked for in the first prompt.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from ._events import sse_response
from ._http import json_response
from ._sampling import model_param, sampling_params, stop_param, stream_options_param
from ._validate import (
    Invalid,
    boolean_param,
    integer_param,
    invalid_response,
    is_int,
    request_object,
    string_param,
)
from ._words import (
    HUGE_SIZE,
    MAGIC_HUGE,
    TextState,
    count_tokens,
    created,
    cut_text,
    huge_text,
    logprob_entries,
    word_pieces,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["register"]


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``completions`` route to ``app``."""
    state = emu._family_state(TextState)

    async def completions(request: web.Request) -> web.StreamResponse:
        try:
            body = await request_object(request)
            plan = _plan_completion(body)
        except Invalid as exc:
            return invalid_response(exc)
        head = {
            "id": f"cmpl-emu{next(state.completion_ids):010d}",
            "object": "text_completion",
            "created": created(emu),
            "model": plan.model,
        }
        if plan.stream:
            return await sse_response(request, _completion_events(plan, head), plan.magic)
        return json_response(
            {
                **head,
                "system_fingerprint": "fp_emulator",
                "choices": [
                    {
                        "text": c.text,
                        "index": c.index,
                        "logprobs": c.logprobs,
                        "finish_reason": c.finish_reason,
                    }
                    for c in plan.choices
                ],
                "usage": plan.usage(),
            }
        )

    app.router.add_post("/v1/completions", completions, name="completions")


@attrs.define(kw_only=True)
class _CompletionChoice:
    index: int
    text: str
    finish_reason: str
    logprobs: dict[str, Any] | None


@attrs.define(kw_only=True)
class _CompletionPlan:
    model: str
    choices: list[_CompletionChoice]
    prompt_tokens: int
    stream: bool
    include_usage: bool
    magic: str

    def usage(self) -> dict[str, int]:
        completion = sum(count_tokens(c.text) for c in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def _prompts(body: dict[str, Any]) -> list[tuple[str, int]]:
    """Each prompt as ``(text, tokens)``; token-id prompts read as their ids."""
    prompt = body.get("prompt")
    invalid = Invalid(
        "Invalid 'prompt': expected a string, an array of strings, an array of tokens or an "
        "array of token arrays.",
        "prompt",
    )
    if prompt is None:
        raise Invalid("Missing required parameter: 'prompt'.", "prompt")
    if isinstance(prompt, str):
        return [(prompt, count_tokens(prompt))]
    if not isinstance(prompt, list) or not prompt:
        raise invalid
    if all(isinstance(p, str) for p in prompt):
        return [(p, count_tokens(p)) for p in prompt]
    if all(is_int(p) for p in prompt):
        return [(" ".join(map(str, prompt)), len(prompt))]
    if all(isinstance(p, list) and p and all(is_int(t) for t in p) for p in prompt):
        return [(" ".join(map(str, p)), len(p)) for p in prompt]
    raise invalid


def _plan_completion(body: dict[str, Any]) -> _CompletionPlan:
    model = model_param(body)
    prompts = _prompts(body)
    stream = bool(boolean_param(body, "stream"))
    include_usage = stream_options_param(body, stream)
    n = integer_param(body, "n", 1, 128) or 1
    best_of = integer_param(body, "best_of", 1, 20)
    if best_of is not None and best_of < n:
        raise Invalid("best_of must be greater than or equal to n.", "best_of")
    sampling_params(body)
    max_tokens = integer_param(body, "max_tokens", 0)
    limit = 16 if max_tokens is None else max_tokens  # OpenAI's default
    logprobs = integer_param(body, "logprobs", 0, 5)
    echo = bool(boolean_param(body, "echo"))
    string_param(body, "suffix")
    string_param(body, "user")
    integer_param(body, "seed", -(2**63))
    stop = stop_param(body)
    magic = prompts[0][0]
    choices = []
    for p, (text, _) in enumerate(prompts):
        for i in range(n):
            completion = f" You said: {text}" + (f" ({i + 1})" if i else "")
            if MAGIC_HUGE in magic:
                completion, finish = huge_text(completion), "stop"
            else:
                completion, finish = cut_text(completion, stop, limit)
            full = text + completion if echo else completion
            choices.append(
                _CompletionChoice(
                    index=p * n + i,
                    text=full,
                    finish_reason=finish,
                    logprobs=None if logprobs is None else _completion_logprobs(full, logprobs),
                )
            )
    return _CompletionPlan(
        model=model,
        choices=choices,
        prompt_tokens=sum(tokens for _, tokens in prompts),
        stream=stream,
        include_usage=include_usage,
        magic=magic,
    )


def _completion_logprobs(text: str, top: int) -> dict[str, Any]:
    entries = logprob_entries(text, top)
    offsets = list(itertools.accumulate((len(e["token"]) for e in entries), initial=0))[:-1]
    return {
        "tokens": [e["token"] for e in entries],
        "token_logprobs": [e["logprob"] for e in entries],
        "top_logprobs": [{t["token"]: t["logprob"] for t in e["top_logprobs"]} for e in entries],
        "text_offset": offsets,
    }


def _completion_events(plan: _CompletionPlan, head: dict[str, Any]) -> Iterator[dict[str, Any]]:
    extra: dict[str, Any] = {"usage": None} if plan.include_usage else {}
    for choice in plan.choices:
        huge = len(choice.text) >= HUGE_SIZE
        for piece in [choice.text] if huge else word_pieces(choice.text):
            yield {
                **head,
                "choices": [
                    {"text": piece, "index": choice.index, "logprobs": None, "finish_reason": None}
                ],
                **extra,
            }
        yield {
            **head,
            "choices": [
                {
                    "text": "",
                    "index": choice.index,
                    "logprobs": None,
                    "finish_reason": choice.finish_reason,
                }
            ],
            **extra,
        }
    if plan.include_usage:
        yield {**head, "choices": [], "usage": plan.usage()}
