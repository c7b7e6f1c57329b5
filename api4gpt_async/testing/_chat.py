"""The ``chat.completions`` route: POST /v1/chat/completions.

It answers a ``chat.completion``, or an SSE stream of ``chat.completion.chunk``.

**Chat replies** are derived from the last user message (its text parts, joined):

- plain text: ``"You said: <text>"``; with ``n > 1``, choice *i* ends with ``" (i+1)"``;
- image input (``image_url`` parts, or URLs at the start of the text as ``gpt-4-all`` takes
  them): ``"I looked at N image(s): <urls>. You asked: <text>"``;
- image generation: ``stable-diffusion*`` models always, and ``gpt-4-all`` models when the text
  asks to draw, paint, sketch, illustrate, 画 or 绘 (and has no image input), answer Markdown
  images ``![prompt](<emu.file_url("<id>.png")>)`` that can be downloaded from the emulator;
- ``tools`` (unless ``tool_choice="none"``): the model calls the tool ``tool_choice`` names,
  else the tools whose names appear in the text (only the first with
  ``parallel_tool_calls=false``), else the first tool; arguments are built from each tool's
  JSON Schema (strings get the last capitalised word of the text, e.g. ``"Paris"``);
  ``finish_reason`` is ``"tool_calls"``.
  Legacy ``functions`` likewise give a ``function_call``. When the last message is a ``tool``
  result, the reply is ``"Here is what the tools returned: <contents>"``;
- ``response_format`` ``json_object`` → ``{"reply": <text>}``; ``json_schema`` → an instance of
  the schema built like tool arguments;
- reasoning models (``o1``/``o3``…, names with ``reason``, ``r1`` or ``think``, or any request
  with ``reasoning_effort``) add ``reasoning_content``;
- ``max_tokens`` / ``max_completion_tokens`` cut the reply after that many words
  (``finish_reason="length"``); ``stop`` strings cut it where they occur;
- ``gpt-4-gizmo-*`` models answer with ``model: "gpt-4-gizmo"``, as the gateway does.

Streams send the text word by word (after a role chunk), with ``: PING`` comment lines between
events, a last chunk per choice carrying ``finish_reason``, the usage-only chunk
(``choices: []``) when ``stream_options.include_usage`` is true, then ``data: [DONE]``. Tool
calls stream as fragments by ``index`` (id and name first, then the arguments in pieces of 8
characters).

**Magic words** in the last user message: those of :mod:`._events` and :mod:`._words`
(``[stream-error]``, ``[stream-cut]``, ``[huge]``), and

- ``[refuse]`` — the model refuses: ``refusal`` is set and ``content`` is null.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

import attrs
from aiohttp import web

from . import _magic as magic
from ._events import sse_response
from ._http import json_response
from ._sampling import model_param, sampling_params, stop_param, stream_options_param
from ._validate import (
    Invalid,
    boolean_param,
    integer_param,
    invalid_response,
    object_param,
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

_ARGUMENT_PIECE: Final = 8

_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PART_TYPES: Final = frozenset(
    {"text", "image_url", "input_audio", "file", "refusal", "video_url", "input_text"}
)
_URL: Final = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_DRAW: Final = re.compile(r"\b(draw|paint|sketch|illustrat\w*)|画|绘", re.IGNORECASE)
_REASONING_MODEL: Final = re.compile(r"(^o\d)|reason|r1|think", re.IGNORECASE)
_CAPITALISED: Final = re.compile(r"\b[A-Z][\w-]*")
_WORD: Final = re.compile(r"[\w-]+")
_TOOL_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

_MAGIC_REFUSE: Final = magic.REFUSE

_REFUSAL: Final = "I'm sorry, but I can't help with that."


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``chat.completions`` route to ``app``."""
    state = emu._family_state(TextState)

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            body = await request_object(request)
            plan = _plan_chat(body, emu.file_url(""))
        except Invalid as exc:
            return invalid_response(exc)
        head = {
            "id": f"chatcmpl-emu{next(state.chat_ids):010d}",
            "created": created(emu),
            "model": plan.model,
            "system_fingerprint": "fp_emulator",
        }
        if plan.stream:
            return await sse_response(request, _chat_events(plan, head), plan.magic)
        return json_response(_chat_completion(plan, head))

    app.router.add_post("/v1/chat/completions", chat, name="chat.completions")


# --------------------------------------------------------------------------- validation


def _check_part(part: Any, where: str, role: str) -> None:
    if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
        raise Invalid(
            f"Invalid '{where}': each content part needs a type among "
            f"{', '.join(sorted(_PART_TYPES))}.",
            where,
        )
    kind = part["type"]
    if kind in ("text", "input_text") and not isinstance(part.get("text"), str):
        raise Invalid(f"Missing required parameter: '{where}.text'.", f"{where}.text")
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image  # new-api takes a string
        if not isinstance(url, str) or not url:
            raise Invalid(
                f"Missing required parameter: '{where}.image_url.url'.", f"{where}.image_url.url"
            )
    if kind == "input_audio":
        audio = part.get("input_audio")
        if (
            not isinstance(audio, dict)
            or not isinstance(audio.get("data"), str)
            or audio.get("format") not in ("wav", "mp3")
        ):
            raise Invalid(
                f"Invalid '{where}.input_audio': expected data (base64) and format wav or mp3.",
                f"{where}.input_audio",
            )
    if kind == "refusal" and role != "assistant":
        raise Invalid(f"Invalid '{where}': refusal parts are for assistant messages.", where)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Invalid(
            "Invalid 'messages': expected a non-empty array of messages.",
            "messages",
            "empty_array" if messages == [] else None,
        )
    for i, message in enumerate(messages):
        where = f"messages.[{i}]"
        if not isinstance(message, dict):
            raise Invalid(f"Invalid '{where}': expected an object.", where)
        role = message.get("role")
        if role not in _ROLES:
            raise Invalid(
                f"Invalid value for '{where}.role': {role!r} is not one of "
                f"{', '.join(sorted(_ROLES))}.",
                f"{where}.role",
            )
        content = message.get("content")
        if content is None:
            if role != "assistant" or not (
                message.get("tool_calls") or message.get("function_call")
            ):
                raise Invalid(
                    f"Invalid value for '{where}.content': expected a string or an array of "
                    "content parts (null only for an assistant message with tool_calls).",
                    f"{where}.content",
                )
        elif isinstance(content, list):
            for j, part in enumerate(content):
                _check_part(part, f"{where}.content.[{j}]", role)
        elif not isinstance(content, str):
            raise Invalid(
                f"Invalid type for '{where}.content': expected a string or an array.",
                f"{where}.content",
            )
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise Invalid(
                f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id"
            )
    return messages


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise Invalid("Invalid type for 'tools': expected an array.", "tools")
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise Invalid(f"Invalid '{where}.type': expected 'function'.", f"{where}.type")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise Invalid(
                f"Missing required parameter: '{where}.function.name'.", f"{where}.function.name"
            )
        if not _TOOL_NAME.fullmatch(function["name"]):
            raise Invalid(
                f"Invalid '{where}.function.name': string does not match pattern "
                "'^[a-zA-Z0-9_-]{1,64}$'.",
                f"{where}.function.name",
                "invalid_value",
            )
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise Invalid(
                f"Invalid type for '{where}.function.parameters': expected an object.",
                f"{where}.function.parameters",
            )
    return [tool["function"] for tool in tools]


def _functions(body: dict[str, Any]) -> list[dict[str, Any]]:
    functions = body.get("functions")
    if functions is None:
        return []
    if not isinstance(functions, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) for f in functions
    ):
        raise Invalid("Invalid 'functions': expected an array of {name, parameters}.", "functions")
    return functions


def _choice_name(value: Any, names: list[str], param: str) -> str | None:
    """The function a ``tool_choice`` / ``function_call`` names; "auto"… give None."""
    if value is None or value in ("auto", "required", "none"):
        return None
    if isinstance(value, dict):
        name = value.get("function", {}).get("name") if "function" in value else value.get("name")
        if isinstance(name, str) and name in names:
            return name
    raise Invalid(f"Invalid value for '{param}': {json.dumps(value)}.", param)


def _response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = object_param(body, "response_format")
    if fmt is None:
        return None
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise Invalid(
            "Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
            "response_format.type",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise Invalid(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
            )
    return fmt


# --------------------------------------------------------------------------- reading requests


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _images(content: Any, model: str) -> tuple[list[str], str]:
    """Image inputs of a message and its text without them.

    ``gpt-4-all`` takes image URLs at the start of a string content (often with no space
    before the question): those count too, as do ``image_url`` parts for every model.
    """
    urls: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                image = part["image_url"]
                urls.append(image["url"] if isinstance(image, dict) else image)
    text = _content_text(content)
    if isinstance(content, str) and model.lower().startswith("gpt-4-all"):
        while True:
            match = _URL.match(text.lstrip())
            if match is None:
                break
            urls.append(match.group(0))
            text = text.lstrip()[match.end() :]
    return urls, text.strip()


def _describe_image(url: str) -> str:
    if url.startswith("data:"):
        return f"an inline {url[5:].split(';', 1)[0] or 'image'}"
    return url


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        total += 3 + count_tokens(_content_text(message.get("content")))
        content = message.get("content")
        if isinstance(content, list):
            total += 85 * sum(
                1
                for part in content
                if isinstance(part, dict) and part.get("type") in ("image_url", "input_audio")
            )
    return total


def _hint(text: str) -> str:
    """The value given to string arguments: the text's last capitalised word (not its first)."""
    words = _CAPITALISED.findall(text)
    first = _WORD.search(text)
    if first is not None and words and words[0] == first.group(0):
        words = words[1:]
    if words:
        return str(words[-1])
    plain = _WORD.findall(text)
    return plain[-1] if plain else "example"


def _example(schema: Any, hint: str, depth: int = 0) -> Any:
    """A value that satisfies a (simple) JSON Schema: what the model "fills in"."""
    if not isinstance(schema, dict) or depth > 8:
        return hint
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _example(schema[key][0], hint, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    properties = schema.get("properties")
    if kind == "object" or isinstance(properties, dict):
        props = properties if isinstance(properties, dict) else {}
        return {name: _example(sub, hint, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), hint, depth + 1)]
    if kind == "integer":
        minimum = schema.get("minimum")
        return int(minimum) if isinstance(minimum, (int, float)) else 1
    if kind == "number":
        minimum = schema.get("minimum")
        return float(minimum) if isinstance(minimum, (int, float)) else 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return hint


def _digest(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()


# --------------------------------------------------------------------------- chat plans


@attrs.define(kw_only=True)
class _ToolCall:
    id: str
    name: str
    arguments: str


@attrs.define(kw_only=True)
class _ChoicePlan:
    index: int
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    tool_calls: list[_ToolCall] = attrs.field(factory=list)
    function_call: _ToolCall | None = None
    finish_reason: str = "stop"
    logprobs: list[dict[str, Any]] | None = None

    def completion_tokens(self) -> int:
        calls = [*self.tool_calls, *([self.function_call] if self.function_call else [])]
        return (
            count_tokens(self.content)
            + count_tokens(self.refusal)
            + count_tokens(self.reasoning)
            + sum(count_tokens(f"{c.name} {c.arguments}") for c in calls)
        )


@attrs.define(kw_only=True)
class _ChatPlan:
    model: str
    choices: list[_ChoicePlan]
    prompt_tokens: int
    stream: bool
    include_usage: bool
    magic: str  # the last user message's text, where magic words are looked for


def _plan_chat(body: dict[str, Any], files_url: str) -> _ChatPlan:
    """Validate a chat request and decide the whole answer (``files_url``: where images are)."""
    model = model_param(body)
    messages = _messages(body)
    stream = bool(boolean_param(body, "stream"))
    include_usage = stream_options_param(body, stream)
    n = integer_param(body, "n", 1, 128) or 1
    sampling_params(body)
    max_tokens = integer_param(body, "max_tokens", 1)
    max_completion_tokens = integer_param(body, "max_completion_tokens", 1)
    limit = max_completion_tokens if max_completion_tokens is not None else max_tokens
    logprobs = bool(boolean_param(body, "logprobs"))
    top_logprobs = integer_param(body, "top_logprobs", 0, 20)
    if top_logprobs is not None and not logprobs:
        raise Invalid(
            "Invalid value for 'logprobs': must be true when 'top_logprobs' is set.", "logprobs"
        )
    integer_param(body, "seed", -(2**63))
    string_param(body, "user")
    object_param(body, "logit_bias")
    boolean_param(body, "parallel_tool_calls")
    reasoning_effort = string_param(body, "reasoning_effort")
    stop = stop_param(body)
    tools = _tools(body)
    functions = _functions(body)
    tool_choice = body.get("tool_choice")
    forced_tool = _choice_name(tool_choice, [t["name"] for t in tools], "tool_choice")
    function_call = body.get("function_call")
    forced_function = _choice_name(function_call, [f["name"] for f in functions], "function_call")
    response_format = _response_format(body)

    last_user = next((m for m in reversed(messages) if m["role"] == "user"), messages[-1])
    images, text = _images(last_user.get("content"), model)
    magic = _content_text(last_user.get("content"))
    reasoning = None
    if reasoning_effort is not None or _REASONING_MODEL.search(model):
        reasoning = f"The user wrote {count_tokens(text)} words. I will answer them plainly."

    trailing_tools = []
    for message in reversed(messages):
        if message["role"] not in ("tool", "function"):
            break
        trailing_tools.append(_content_text(message.get("content")))
    trailing_tools.reverse()

    lower = model.lower()
    draws = not images and (
        lower.startswith("stable-diffusion")
        or (lower.startswith("gpt-4-all") and _DRAW.search(text))
    )
    choices: list[_ChoicePlan] = []
    for index in range(n):
        choice = _ChoicePlan(index=index, reasoning=reasoning)
        suffix = f" ({index + 1})" if index else ""
        if _MAGIC_REFUSE in magic:
            choice.refusal = _REFUSAL
        elif trailing_tools:
            choice.content = "Here is what the tools returned: " + "; ".join(trailing_tools)
        elif tools and tool_choice != "none":
            names = [t["name"] for t in tools]
            wanted = [forced_tool] if forced_tool else [m for m in names if _mentions(text, m)]
            if not wanted:
                wanted = names[:1]
            if body.get("parallel_tool_calls") is False:
                wanted = wanted[:1]
            by_name = {t["name"]: t for t in tools}
            for name in wanted:
                arguments = json.dumps(
                    _example(by_name[name].get("parameters") or {}, _hint(text)),
                    ensure_ascii=False,
                )
                call_id = "call_" + _digest(name, arguments, index, len(choice.tool_calls))[:24]
                choice.tool_calls.append(_ToolCall(id=call_id, name=name, arguments=arguments))
            choice.finish_reason = "tool_calls"
        elif functions and function_call != "none":
            function = next((f for f in functions if f["name"] == forced_function), functions[0])
            arguments = json.dumps(
                _example(function.get("parameters") or {}, _hint(text)), ensure_ascii=False
            )
            choice.function_call = _ToolCall(id="", name=function["name"], arguments=arguments)
            choice.finish_reason = "function_call"
        else:
            if draws:
                content = _drawing(model, text, index, files_url)
            elif images:
                listed = ", ".join(_describe_image(url) for url in images)
                content = f"I looked at {len(images)} image(s): {listed}. You asked: {text}"
            else:
                content = f"You said: {text}" if text else "You said nothing."
            content += suffix
            if response_format is not None and response_format["type"] == "json_object":
                content = json.dumps({"reply": content}, ensure_ascii=False)
            elif response_format is not None and response_format["type"] == "json_schema":
                schema = response_format["json_schema"].get("schema", {})
                content = json.dumps(_example(schema, content), ensure_ascii=False)
            if MAGIC_HUGE in magic:
                content = huge_text(content)
            else:
                content, choice.finish_reason = cut_text(content, stop, limit)
            choice.content = content
            if logprobs:
                choice.logprobs = logprob_entries(content, top_logprobs or 0)
        choices.append(choice)
    return _ChatPlan(
        model="gpt-4-gizmo" if lower.startswith("gpt-4-gizmo") else model,
        choices=choices,
        prompt_tokens=_prompt_tokens(messages),
        stream=stream,
        include_usage=include_usage,
        magic=magic,
    )


def _mentions(text: str, name: str) -> bool:
    lower = text.lower()
    return name.lower() in lower or name.lower().replace("_", " ") in lower


def _drawing(model: str, prompt: str, index: int, files_url: str) -> str:
    """An image-generating chat model's answer: Markdown image links (and chatter)."""
    alt = re.sub(r"[\[\]\n]", " ", prompt)[:40].strip() or "image"
    url = f"{files_url}{_digest(model, prompt, index)[:24]}.png"
    if model.lower().startswith("stable-diffusion"):
        return f"![{alt}]({url})"
    return f"> Generating the picture…\n\n![{alt}]({url})\n\n[Download]({url})"


# --------------------------------------------------------------------------- answers


def _usage(prompt_tokens: int, choices: list[_ChoicePlan]) -> dict[str, Any]:
    completion = sum(c.completion_tokens() for c in choices)
    reasoning = sum(count_tokens(c.reasoning) for c in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_completion(plan: _ChatPlan, head: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in plan.choices:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": choice.content,
            "refusal": choice.refusal,
            "annotations": [],
        }
        if choice.reasoning is not None:
            message["reasoning_content"] = choice.reasoning
        if choice.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in choice.tool_calls
            ]
        if choice.function_call is not None:
            message["function_call"] = {
                "name": choice.function_call.name,
                "arguments": choice.function_call.arguments,
            }
        choices.append(
            {
                "index": choice.index,
                "message": message,
                "logprobs": (
                    {"content": choice.logprobs, "refusal": None}
                    if choice.logprobs is not None
                    else None
                ),
                "finish_reason": choice.finish_reason,
            }
        )
    return {
        **head,
        "object": "chat.completion",
        "choices": choices,
        "usage": _usage(plan.prompt_tokens, plan.choices),
        "service_tier": "default",
    }


def _chat_events(plan: _ChatPlan, head: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The chunks of a streamed chat answer, choices interleaved round-robin."""
    extra: dict[str, Any] = {"usage": None} if plan.include_usage else {}

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        return {
            **head,
            "object": "chat.completion.chunk",
            "choices": [
                {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
            ],
            **extra,
        }

    streams = [_choice_deltas(choice, chunk) for choice in plan.choices]
    while streams:
        for stream in list(streams):
            event = next(stream, None)
            if event is None:
                streams.remove(stream)
            else:
                yield event
    if plan.include_usage:
        yield {
            **head,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": _usage(plan.prompt_tokens, plan.choices),
        }


def _choice_deltas(
    choice: _ChoicePlan, chunk: Callable[..., dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    i = choice.index
    yield chunk(i, {"role": "assistant", "content": "", "refusal": None})
    for piece in word_pieces(choice.reasoning or ""):
        yield chunk(i, {"reasoning_content": piece})
    if choice.content is not None:
        huge = len(choice.content) >= HUGE_SIZE
        pieces = [choice.content] if huge else word_pieces(choice.content)
        entries = choice.logprobs or []
        for k, piece in enumerate(pieces):
            logprobs = None
            if choice.logprobs is not None:
                logprobs = {"content": entries[k : k + 1] if not huge else entries, "refusal": None}
            yield chunk(i, {"content": piece}, logprobs=logprobs)
    for piece in word_pieces(choice.refusal or ""):
        yield chunk(i, {"refusal": piece})
    for position, call in enumerate(choice.tool_calls):
        yield chunk(
            i,
            {
                "tool_calls": [
                    {
                        "index": position,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            },
        )
        for start in range(0, len(call.arguments), _ARGUMENT_PIECE):
            fragment = call.arguments[start : start + _ARGUMENT_PIECE]
            yield chunk(
                i, {"tool_calls": [{"index": position, "function": {"arguments": fragment}}]}
            )
    if choice.function_call is not None:
        call = choice.function_call
        yield chunk(i, {"function_call": {"name": call.name, "arguments": ""}})
        for start in range(0, len(call.arguments), _ARGUMENT_PIECE):
            yield chunk(
                i, {"function_call": {"arguments": call.arguments[start : start + _ARGUMENT_PIECE]}}
            )
    yield chunk(i, {}, choice.finish_reason)
