"""Legacy text completions (``client.completions.create``); streamed chunks use the same class."""

from __future__ import annotations

import attrs

from .._convert import converter
from ._base import Model
from .chat import CompletionUsage

__all__ = ["Completion", "CompletionChoice", "CompletionLogprobs", "CompletionUsage"]


@attrs.frozen(kw_only=True)
class CompletionLogprobs(Model):
    """Per-token log probabilities (``logprobs=N``). Another shape is kept in ``raw`` only."""

    tokens: list[str] | None = None
    token_logprobs: list[float | None] | None = None
    top_logprobs: list[dict[str, float] | None] | None = None
    text_offset: list[int] | None = None


_structure_logprobs = converter.get_structure_hook(CompletionLogprobs)


def _lenient_logprobs(value: object, _: object) -> CompletionLogprobs:
    try:
        result: CompletionLogprobs = _structure_logprobs(value, CompletionLogprobs)
    except Exception:
        return CompletionLogprobs(raw=value if isinstance(value, dict) else {"value": value})
    return result


converter.register_structure_hook(CompletionLogprobs, _lenient_logprobs)


@attrs.frozen(kw_only=True)
class CompletionChoice(Model):
    text: str = ""
    index: int = 0
    finish_reason: str | None = None
    logprobs: CompletionLogprobs | None = None


@attrs.frozen(kw_only=True)
class Completion(Model):
    """A completion, or one chunk of a streamed one (OpenAI uses the same object for both)."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[CompletionChoice] = attrs.field(factory=list)
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
