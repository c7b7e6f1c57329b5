"""Chat completions: ``client.chat.completions.create(...)``, as in openai-python.

Every model of the gateway goes through this one call: ordinary chat, GPT store bots
(``gpt-4-gizmo-<id>``), ``gemini-pro``, ``gpt-4-vision-preview`` (image parts), ``gpt-4-all``
(an image URL at the start of the text content, or image parts; it also *draws*: the picture
links arrive as Markdown in the text, see :meth:`ChatCompletion.image_urls`) and the chat-style
``stable-diffusion`` models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from .._raw_response import WithRawResponse
from .._streaming import Stream
from ..models.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from ._common import body_of
from ._openai_text import Headers, Query, create_maybe_streamed, listed

if TYPE_CHECKING:
    from ._common import ServiceContext

__all__ = ["ChatCompletionsService", "ChatService", "MessageParam"]

#: A request message: a dict such as ``{"role": "user", "content": "Hi"}`` (content may be a
#: list of parts: ``text``, ``image_url`` with an ``https:`` or ``data:`` URL, ``input_audio``,
#: ``file``), or a message the model returned (it is sent back as such).
MessageParam = Mapping[str, Any] | ChatCompletionMessage


class ChatService(WithRawResponse):
    """``client.chat``."""

    def __init__(self, context: ServiceContext) -> None:
        self.completions: ChatCompletionsService = ChatCompletionsService(context)


class ChatCompletionsService(WithRawResponse):
    """``client.chat.completions``."""

    def __init__(self, context: ServiceContext) -> None:
        self._transport = context.transport
        self._path = context.paths["chat.completions"]

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str,
        audio: Mapping[str, Any] | None = None,
        frequency_penalty: float | None = None,
        function_call: str | Mapping[str, Any] | None = None,
        functions: Iterable[Mapping[str, Any]] | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: bool | None = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        modalities: Sequence[str] | None = None,
        n: int | None = None,
        parallel_tool_calls: bool | None = None,
        prediction: Mapping[str, Any] | None = None,
        presence_penalty: float | None = None,
        prompt_cache_key: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        safety_identifier: str | None = None,
        seed: int | None = None,
        service_tier: str | None = None,
        stop: str | Sequence[str] | None = None,
        store: bool | None = None,
        stream: Literal[False] | None = None,
        stream_options: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        top_logprobs: int | None = None,
        top_p: float | None = None,
        user: str | None = None,
        verbosity: str | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ChatCompletion: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str,
        audio: Mapping[str, Any] | None = None,
        frequency_penalty: float | None = None,
        function_call: str | Mapping[str, Any] | None = None,
        functions: Iterable[Mapping[str, Any]] | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: bool | None = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        modalities: Sequence[str] | None = None,
        n: int | None = None,
        parallel_tool_calls: bool | None = None,
        prediction: Mapping[str, Any] | None = None,
        presence_penalty: float | None = None,
        prompt_cache_key: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        safety_identifier: str | None = None,
        seed: int | None = None,
        service_tier: str | None = None,
        stop: str | Sequence[str] | None = None,
        store: bool | None = None,
        stream: Literal[True],
        stream_options: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        top_logprobs: int | None = None,
        top_p: float | None = None,
        user: str | None = None,
        verbosity: str | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Stream[ChatCompletionChunk]: ...

    @overload
    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str,
        audio: Mapping[str, Any] | None = None,
        frequency_penalty: float | None = None,
        function_call: str | Mapping[str, Any] | None = None,
        functions: Iterable[Mapping[str, Any]] | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: bool | None = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        modalities: Sequence[str] | None = None,
        n: int | None = None,
        parallel_tool_calls: bool | None = None,
        prediction: Mapping[str, Any] | None = None,
        presence_penalty: float | None = None,
        prompt_cache_key: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        safety_identifier: str | None = None,
        seed: int | None = None,
        service_tier: str | None = None,
        stop: str | Sequence[str] | None = None,
        store: bool | None = None,
        stream: bool | None = None,
        stream_options: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        top_logprobs: int | None = None,
        top_p: float | None = None,
        user: str | None = None,
        verbosity: str | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ChatCompletion | Stream[ChatCompletionChunk]: ...

    async def create(
        self,
        *,
        messages: Iterable[MessageParam],
        model: str,
        audio: Mapping[str, Any] | None = None,
        frequency_penalty: float | None = None,
        function_call: str | Mapping[str, Any] | None = None,
        functions: Iterable[Mapping[str, Any]] | None = None,
        logit_bias: Mapping[str, int] | None = None,
        logprobs: bool | None = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        metadata: Mapping[str, str] | None = None,
        modalities: Sequence[str] | None = None,
        n: int | None = None,
        parallel_tool_calls: bool | None = None,
        prediction: Mapping[str, Any] | None = None,
        presence_penalty: float | None = None,
        prompt_cache_key: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Mapping[str, Any] | None = None,
        safety_identifier: str | None = None,
        seed: int | None = None,
        service_tier: str | None = None,
        stop: str | Sequence[str] | None = None,
        store: bool | None = None,
        stream: bool | None = None,
        stream_options: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        tools: Iterable[Mapping[str, Any]] | None = None,
        top_logprobs: int | None = None,
        top_p: float | None = None,
        user: str | None = None,
        verbosity: str | None = None,
        web_search_options: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Create a chat completion; with ``stream=True``, a stream of chunks instead.

        The parameters are OpenAI's (see its API reference); only those you set are sent.
        ``extra_body`` adds or overrides body fields (gateway extras such as ``top_k`` or
        ``enable_thinking``), ``extra_headers`` and ``extra_query`` add headers and query
        parameters, and ``timeout`` bounds the whole call in seconds (for a stream: until it
        starts, then each read).

        The request is billable: an answer of 5xx or a connection lost after sending is not
        retried (``ServerError`` / ``SubmissionUncertainError``); a 429 is.

        A stream is an async iterator and an async context manager: read it inside
        ``async with`` (or call ``aclose()``) so the connection is released if you stop early.
        It ends at ``[DONE]``; an error event raises ``APIError`` and a stream cut before
        ``[DONE]`` raises ``APIConnectionError``. :func:`~api4gpt_async.models.chat.accumulate_chat`
        folds it into one :class:`ChatCompletion`.
        """
        body = body_of(
            {
                "model": model,
                "messages": _messages(messages),
                "audio": audio,
                "frequency_penalty": frequency_penalty,
                "function_call": function_call,
                "functions": listed(functions),
                "logit_bias": logit_bias,
                "logprobs": logprobs,
                "max_completion_tokens": max_completion_tokens,
                "max_tokens": max_tokens,
                "metadata": metadata,
                "modalities": listed(modalities),
                "n": n,
                "parallel_tool_calls": parallel_tool_calls,
                "prediction": prediction,
                "presence_penalty": presence_penalty,
                "prompt_cache_key": prompt_cache_key,
                "reasoning_effort": reasoning_effort,
                "response_format": response_format,
                "safety_identifier": safety_identifier,
                "seed": seed,
                "service_tier": service_tier,
                "stop": listed(stop),
                "store": store,
                "stream": stream,
                "stream_options": stream_options,
                "temperature": temperature,
                "tool_choice": tool_choice,
                "tools": listed(tools),
                "top_logprobs": top_logprobs,
                "top_p": top_p,
                "user": user,
                "verbosity": verbosity,
                "web_search_options": web_search_options,
            },
            extra_body,
        )
        return await create_maybe_streamed(
            self._transport,
            self._path,
            body,
            ChatCompletion,
            ChatCompletionChunk,
            stream=stream,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )


def _messages(messages: Iterable[MessageParam]) -> list[Any]:
    if isinstance(messages, (str, Mapping)):
        raise TypeError("messages must be a list of messages, e.g. [{'role': 'user', ...}]")
    return list(messages)  # made JSON with the other fields
