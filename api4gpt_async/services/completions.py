"""Legacy text completions: ``client.completions.create(...)``, as in openai-python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .._raw_response import WithRawResponse
from .._streaming import Stream
from ..models.completions import Completion
from ._common import body_of
from ._openai_text import Headers, Query, create_maybe_streamed, listed

if TYPE_CHECKING:
    from ._common import ServiceContext

__all__ = ["CompletionsService", "Prompt"]

#: A prompt, several prompts, a prompt as token ids, or several prompts as token ids.
Prompt = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]


class CompletionsService(WithRawResponse):
    """``client.completions``."""

    def __init__(self, context: ServiceContext) -> None:
        self._transport = context.transport
        self._path = context.paths["completions"]

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        stream: Literal[False] | None = None,
        stream_options: Mapping[str, Any] | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Completion: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        stream: Literal[True],
        stream_options: Mapping[str, Any] | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Stream[Completion]: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        stream: bool | None = None,
        stream_options: Mapping[str, Any] | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Completion | Stream[Completion]: ...

    async def create(
        self,
        *,
        model: str,
        prompt: Prompt,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        stream: bool | None = None,
        stream_options: Mapping[str, Any] | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Completion | Stream[Completion]:
        """Create a completion; with ``stream=True``, a stream of partial completions.

        Only the parameters you set are sent (OpenAI's default ``max_tokens`` is 16: set it).
        ``extra_body``, ``extra_headers``, ``extra_query`` and ``timeout`` work as for chat.
        Streamed chunks are :class:`Completion` objects holding the new text of each choice.
        """
        body = body_of(
            {
                "model": model,
                "prompt": listed(prompt),
                "best_of": best_of,
                "echo": echo,
                "frequency_penalty": frequency_penalty,
                "logit_bias": logit_bias,
                "logprobs": logprobs,
                "max_tokens": max_tokens,
                "n": n,
                "presence_penalty": presence_penalty,
                "seed": seed,
                "stop": listed(stop),
                "stream": stream,
                "stream_options": stream_options,
                "suffix": suffix,
                "temperature": temperature,
                "top_p": top_p,
                "user": user,
            },
            extra_body,
        )
        return await create_maybe_streamed(
            self._transport,
            self._path,
            body,
            Completion,
            Completion,
            stream=stream,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )
