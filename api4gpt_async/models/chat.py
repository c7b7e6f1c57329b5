"""Chat completions: the answer, its streamed chunks, and helpers to read them.

The classes mirror openai-python's (same names and fields) so that code ports by changing one
import. Beyond OpenAI's shape they read what the gateway family adds: ``reasoning_content``
(thinking models), ``annotations`` kept as sent, and image links in the text of image
generating chat models (``gpt-4-all``, ``stable-diffusion``): see :func:`extract_image_urls`.

:class:`ChatCompletionAccumulator` (or :func:`accumulate_chat`) folds a stream of
:class:`ChatCompletionChunk` into the :class:`ChatCompletion` a non-streamed call would give.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from .._convert import converter, read_with, structure
from ._base import Model

__all__ = [
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaFunctionCall",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionTokensDetails",
    "CompletionUsage",
    "Function",
    "FunctionCall",
    "PromptTokensDetails",
    "TopLogprob",
    "accumulate_chat",
    "extract_image_urls",
]

_M = TypeVar("_M", bound=Model)


# --------------------------------------------------------------------------- decoding helpers


def _read_rewritten(
    rewrite: Callable[[Mapping[str, Any]], Mapping[str, Any] | None],
) -> Callable[[type[_M]], type[_M]]:
    """A class decorator: read the model from ``rewrite(value)`` when that gives a mapping
    (None: read ``value`` as is); ``raw`` stays the object as sent (``read_with``, whose
    models keep the converter's fast path)."""

    def prepare(value: Mapping[str, Any]) -> Mapping[str, Any]:
        rewritten = rewrite(value)
        return value if rewritten is None else rewritten

    return read_with(prepare)


def _text_arguments(value: Mapping[str, Any]) -> Mapping[str, Any] | None:
    arguments = value.get("arguments")
    if arguments is not None and not isinstance(arguments, str):
        return {**value, "arguments": json.dumps(arguments, ensure_ascii=False)}
    return None


def _reasoning_from_either_spelling(value: Mapping[str, Any]) -> Mapping[str, Any] | None:
    reasoning = value.get("reasoning")
    if not value.get("reasoning_content") and isinstance(reasoning, str) and reasoning:
        return {**value, "reasoning_content": reasoning}
    return None


#: Read ``arguments`` sent as a JSON object (some upstreams do) as its JSON text.
_arguments_as_text = _read_rewritten(_text_arguments)
#: Read ``reasoning`` (another upstream spelling) as ``reasoning_content`` when that is absent,
#: as the stream accumulator does.
_reasoning_either_spelling = _read_rewritten(_reasoning_from_either_spelling)


def _lenient(cls: type[_M]) -> type[_M]:
    """A part whose shape varies between upstreams: if it does not decode, keep it raw only.

    The model then has its default field values and the answer in ``raw``; the rest of the
    answer is unaffected.
    """
    inner = converter.get_structure_hook(cls)

    def structure_leniently(value: Any, _: Any) -> Any:
        try:
            return inner(value, cls)
        except Exception:
            return cls(raw=value if isinstance(value, Mapping) else {"value": value})

    converter.register_structure_hook(cls, structure_leniently)
    return cls


# --------------------------------------------------------------------------- usage


@attrs.frozen(kw_only=True)
class PromptTokensDetails(Model):
    cached_tokens: int | None = None
    audio_tokens: int | None = None


@attrs.frozen(kw_only=True)
class CompletionTokensDetails(Model):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


@attrs.frozen(kw_only=True)
class CompletionUsage(Model):
    """Token counts of one request (chat and completions)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


# --------------------------------------------------------------------------- logprobs


@attrs.frozen(kw_only=True)
class TopLogprob(Model):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None


@attrs.frozen(kw_only=True)
class ChatCompletionTokenLogprob(Model):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = attrs.field(factory=list)


@_lenient
@attrs.frozen(kw_only=True)
class ChoiceLogprobs(Model):
    """Log probabilities of a choice. An upstream's other shape is kept in ``raw`` only."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


# --------------------------------------------------------------------------- the answer


@_arguments_as_text
@attrs.frozen(kw_only=True)
class Function(Model):
    """The function a tool call invokes; ``arguments`` is JSON text written by the model."""

    name: str = ""
    arguments: str = ""

    def parse_arguments(self) -> Any:
        """``arguments`` parsed as JSON (``{}`` when empty); raises ``ValueError`` if invalid."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


@_arguments_as_text
@attrs.frozen(kw_only=True)
class FunctionCall(Model):
    """The legacy ``function_call`` of a message (``functions`` requests)."""

    name: str = ""
    arguments: str = ""


@attrs.frozen(kw_only=True)
class ChatCompletionMessageToolCall(Model):
    id: str | None = None
    type: str = "function"
    function: Function = attrs.field(factory=Function)


def extract_image_urls(text: str | None) -> list[str]:
    """Image links in a reply's text, in order, without duplicates.

    Finds Markdown images ``![alt](https://…)`` (how ``gpt-4-all`` and the chat-style Stable
    Diffusion models deliver their pictures) and bare ``http(s)`` links whose path ends in an
    image extension (``.png``, ``.jpg``, ``.jpeg``, ``.gif``, ``.webp``, ``.bmp``), including
    those of ordinary Markdown links such as ``[download](https://…/cat.png)``.
    """
    if not text:
        return []
    found: list[tuple[int, str]] = [(m.start(), m.group(1)) for m in _MARKDOWN_IMAGE.finditer(text)]
    for match in _BARE_URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if urlsplit(url).path.lower().endswith(_IMAGE_EXTENSIONS):
            found.append((match.start(), url))
    urls: list[str] = []
    for _, url in sorted(found):
        if url not in urls:
            urls.append(url)
    return urls


_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\((https?://[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_BARE_URL = re.compile(r"https?://[^\s()<>\[\]\"'`]+")
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")


@_reasoning_either_spelling
@attrs.frozen(kw_only=True)
class ChatCompletionMessage(Model):
    """The model's message. ``content`` is None for a tool-call-only (or refused) answer.

    ``reasoning_content`` is the thinking text some models return (a gateway extension; also
    read from ``reasoning``, another upstream's spelling);
    ``annotations`` (web-search citations) and ``audio`` are kept as sent.
    """

    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    function_call: FunctionCall | None = None
    reasoning_content: str | None = None
    annotations: list[Any] | None = None
    audio: dict[str, Any] | None = None

    def image_urls(self) -> list[str]:
        """Image links in ``content`` (see :func:`extract_image_urls`)."""
        return extract_image_urls(self.content)

    def to_param(self) -> dict[str, Any]:
        """This message as a request message, to continue the conversation with it.

        ``messages.append(reply.choices[0].message)`` works too: ``create`` calls this.
        """
        param: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.refusal is not None:
            param["refusal"] = self.refusal
        if self.tool_calls:
            param["tool_calls"] = [
                {
                    "id": call.id,
                    "type": call.type,
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
                for call in self.tool_calls
            ]
        if self.function_call is not None:
            param["function_call"] = {
                "name": self.function_call.name,
                "arguments": self.function_call.arguments,
            }
        return param


@attrs.frozen(kw_only=True)
class Choice(Model):
    index: int = 0
    message: ChatCompletionMessage = attrs.field(factory=ChatCompletionMessage)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


@attrs.frozen(kw_only=True)
class ChatCompletion(Model):
    """The answer of ``client.chat.completions.create(...)`` (without ``stream=True``).

    ``created`` is unix seconds as sent (numeric strings are read as numbers).
    """

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[Choice] = attrs.field(factory=list)
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None

    def image_urls(self) -> list[str]:
        """Image links in every choice's text, in order (see :func:`extract_image_urls`)."""
        urls: list[str] = []
        for choice in self.choices:
            for url in choice.message.image_urls():
                if url not in urls:
                    urls.append(url)
        return urls


# --------------------------------------------------------------------------- stream chunks


@_arguments_as_text
@attrs.frozen(kw_only=True)
class ChoiceDeltaFunctionCall(Model):
    name: str | None = None
    arguments: str | None = None


@_arguments_as_text
@attrs.frozen(kw_only=True)
class ChoiceDeltaToolCallFunction(Model):
    name: str | None = None
    arguments: str | None = None


@attrs.frozen(kw_only=True)
class ChoiceDeltaToolCall(Model):
    """A fragment of a tool call; fragments with the same ``index`` make one call."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None


@attrs.frozen(kw_only=True)
class ChoiceDelta(Model):
    """What a chunk adds to a choice. ``reasoning`` is another spelling of
    ``reasoning_content`` used by some upstreams."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    function_call: ChoiceDeltaFunctionCall | None = None


@attrs.frozen(kw_only=True)
class ChunkChoice(Model):
    index: int = 0
    delta: ChoiceDelta = attrs.field(factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


@attrs.frozen(kw_only=True)
class ChatCompletionChunk(Model):
    """One event of a streamed chat answer.

    ``choices`` is empty in the usage-only chunk that ``stream_options={"include_usage":
    True}`` adds at the end; ``usage`` may also come on the last content chunk.
    """

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChunkChoice] = attrs.field(factory=list)
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None


# --------------------------------------------------------------------------- accumulation


@attrs.define
class _ToolCallParts:
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: list[str] = attrs.field(factory=list)


@attrs.define
class _ChoiceParts:
    role: str | None = None
    content: list[str] = attrs.field(factory=list)
    refusal: list[str] = attrs.field(factory=list)
    reasoning: list[str] = attrs.field(factory=list)
    tool_calls: list[_ToolCallParts] = attrs.field(factory=list)  # in the order they began
    open_tool_calls: dict[int, _ToolCallParts] = attrs.field(factory=dict)  # by wire index
    last_tool_index: int = 0
    function_name: str | None = None
    function_arguments: list[str] | None = None
    finish_reason: str | None = None
    logprobs_content: list[Any] | None = None
    logprobs_refusal: list[Any] | None = None


class ChatCompletionAccumulator:
    """Folds streamed chunks into the :class:`ChatCompletion` a plain call would return.

    Content, refusal and reasoning text are concatenated (a delta carrying the same text as
    ``reasoning_content`` and ``reasoning`` counts once); tool-call fragments are joined by
    their ``index`` (``id``, ``type`` and ``name`` come from the first fragment that has
    them, ``arguments`` are concatenated), and a fragment with a new ``id`` on an index
    already in use starts a new call; with ``n > 1`` each choice is kept by its index;
    the last ``finish_reason`` and ``usage`` seen win.

    ```python
    acc = ChatCompletionAccumulator()
    async with await client.chat.completions.create(..., stream=True) as stream:
        async for chunk in stream:
            acc.add(chunk)  # and show chunk.choices[0].delta.content as it arrives
    reply = acc.result()
    ```
    """

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._choices: dict[int, _ChoiceParts] = {}
        self._usage: Mapping[str, Any] | None = None
        self._request_id: str | None = None
        self.chunks: int = 0
        """How many chunks were added."""

    def add(self, chunk: ChatCompletionChunk) -> None:
        """Fold one chunk in."""
        self.chunks += 1
        if self._request_id is None:
            self._request_id = chunk.request_id
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            value = getattr(chunk, key)
            if value is not None and key not in self._head:
                self._head[key] = value
        if chunk.usage is not None:
            self._usage = chunk.usage.raw
        for choice in chunk.choices:
            parts = self._choices.setdefault(choice.index, _ChoiceParts())
            self._add_delta(parts, choice.delta)
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason
            if choice.logprobs is not None:
                raw = choice.logprobs.raw
                if isinstance(raw.get("content"), list):
                    parts.logprobs_content = (parts.logprobs_content or []) + raw["content"]
                if isinstance(raw.get("refusal"), list):
                    parts.logprobs_refusal = (parts.logprobs_refusal or []) + raw["refusal"]

    @staticmethod
    def _add_delta(parts: _ChoiceParts, delta: ChoiceDelta) -> None:
        if delta.role is not None and parts.role is None:
            parts.role = delta.role
        if delta.content is not None:
            parts.content.append(delta.content)
        if delta.refusal is not None:
            parts.refusal.append(delta.refusal)
        # Upstreams that send both spellings send the same text twice: count it once.
        reasoning = (
            delta.reasoning_content if delta.reasoning_content is not None else delta.reasoning
        )
        if reasoning is not None:
            parts.reasoning.append(reasoning)
        for call in delta.tool_calls or ():
            # Some upstreams omit the index (the call goes on the last one used) or reuse an
            # index for the next call: a fragment with a new id always starts a new call.
            index = call.index if call.index is not None else parts.last_tool_index
            slot = parts.open_tool_calls.get(index)
            if slot is None or (call.id is not None and slot.id not in (None, call.id)):
                slot = parts.open_tool_calls[index] = _ToolCallParts()
                parts.tool_calls.append(slot)
            parts.last_tool_index = index
            slot.id = slot.id or call.id
            slot.type = slot.type or call.type
            if call.function is not None:
                slot.name = slot.name or call.function.name
                if call.function.arguments:
                    slot.arguments.append(call.function.arguments)
        if delta.function_call is not None:
            parts.function_name = parts.function_name or delta.function_call.name
            if parts.function_arguments is None:
                parts.function_arguments = []
            if delta.function_call.arguments:
                parts.function_arguments.append(delta.function_call.arguments)

    def result(self) -> ChatCompletion:
        """The completion so far (complete once the stream has ended)."""
        data: dict[str, Any] = {"object": "chat.completion", **self._head}
        data["choices"] = [
            self._choice(index, parts) for index, parts in sorted(self._choices.items())
        ]
        if self._usage is not None:
            data["usage"] = self._usage
        return structure(data, ChatCompletion, request_id=self._request_id)

    @staticmethod
    def _choice(index: int, parts: _ChoiceParts) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": parts.role or "assistant",
            "content": "".join(parts.content) if parts.content else None,
            "refusal": "".join(parts.refusal) if parts.refusal else None,
        }
        if parts.reasoning:
            message["reasoning_content"] = "".join(parts.reasoning)
        if parts.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": call.type or "function",
                    "function": {"name": call.name or "", "arguments": "".join(call.arguments)},
                }
                for call in parts.tool_calls
            ]
        if parts.function_arguments is not None:
            message["function_call"] = {
                "name": parts.function_name or "",
                "arguments": "".join(parts.function_arguments),
            }
        logprobs = None
        if parts.logprobs_content is not None or parts.logprobs_refusal is not None:
            logprobs = {"content": parts.logprobs_content, "refusal": parts.logprobs_refusal}
        return {
            "index": index,
            "message": message,
            "finish_reason": parts.finish_reason,
            "logprobs": logprobs,
        }


async def accumulate_chat(
    stream: AsyncIterable[ChatCompletionChunk],
    *,
    on_chunk: Callable[[ChatCompletionChunk], object] | None = None,
) -> ChatCompletion:
    """Read a chat stream to its end and return the whole completion.

    ``on_chunk`` is called with each chunk as it arrives (to print text as it streams). The
    stream is closed afterwards, also when reading fails or is cancelled.
    """
    accumulator = ChatCompletionAccumulator()
    try:
        async for chunk in stream:
            accumulator.add(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    return accumulator.result()
