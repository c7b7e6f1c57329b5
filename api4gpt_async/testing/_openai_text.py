"""OpenAI-compatible text routes: chat, completions, embeddings, models.

=======================  ===========================  ==========================================
route name               path                         answer
=======================  ===========================  ==========================================
``chat.completions``     POST /v1/chat/completions    ``chat.completion`` or an SSE stream of
                                                      ``chat.completion.chunk``
``completions``          POST /v1/completions         ``text_completion`` (or its SSE stream)
``embeddings``           POST /v1/embeddings          a ``list`` of ``embedding`` objects
``models``               GET /v1/models               a ``list`` of ``model`` objects
=======================  ===========================  ==========================================

Answers are deterministic and validate against OpenAI's OpenAPI description (every chunk
choice has ``finish_reason``, every message ``content`` and ``refusal``, …). Invalid requests get
a 400 ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``.

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

Token counts are word counts. Streams send the text word by word (after a role chunk), with
``: PING`` comment lines between events, a last chunk per choice carrying ``finish_reason``,
the usage-only chunk (``choices: []``) when ``stream_options.include_usage`` is true, then
``data: [DONE]``. Tool calls stream as fragments by ``index`` (id and name first, then the
arguments in pieces of 8 characters).

**Magic words** in the last user message (or the first completions prompt):

- ``[stream-error]`` — a stream sends the role chunk and 3 content chunks, then the error event
  ``data: {"error": {"message": "emulated upstream failure…", "type": "upstream_error",
  "param": null, "code": "stream_interrupted"}}`` and closes without ``[DONE]``;
- ``[stream-cut]`` — a stream sends the role chunk and 3 content chunks, then ends without
  ``[DONE]``;
- ``[huge]`` — the reply is about 3 MB of text (:data:`HUGE_SIZE` characters), streamed as one
  single event;
- ``[refuse]`` — the model refuses: ``refusal`` is set and ``content`` is null.

Without ``stream``, ``[stream-error]`` and ``[stream-cut]`` change nothing.

**Completions** answer ``" You said: <prompt>"`` per prompt (and per ``n``; choice index
``prompt * n + i``), cut at ``max_tokens`` words (OpenAI's default 16 applies); ``echo`` puts
the prompt in front. **Embeddings** are unit vectors seeded by a hash of the model, the size
and the input (1536 values, 3072 for ``text-embedding-3-large``, or ``dimensions``), exactly
representable as float32 so that ``encoding_format="base64"`` (little-endian float32) decodes
to the same numbers. **Models** lists :data:`MODELS`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
import re
import sys
from array import array
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

import attrs
from aiohttp import web

from ._http import json_response, read_json_object

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["HUGE_SIZE", "MODELS", "register"]

#: Characters in a ``[huge]`` reply (one SSE event of about 3 MB).
HUGE_SIZE: Final = 3 * 1024 * 1024

#: ``(id, owned_by, created)`` of every model ``GET /v1/models`` lists.
MODELS: Final[tuple[tuple[str, str, int], ...]] = (
    ("gpt-4o-mini", "openai", 1721172741),
    ("gpt-4o", "openai", 1715367049),
    ("gpt-4-0613", "openai", 1686588896),
    ("gpt-3.5-turbo", "openai", 1677610602),
    ("gpt-3.5-turbo-instruct", "openai", 1692901427),
    ("gpt-4-all", "openai", 1700000000),
    ("gpt-4-gizmo-*", "openai", 1700000000),
    ("gpt-4-vision-preview", "openai", 1698894917),
    ("o3-mini", "openai", 1737146383),
    ("deepseek-reasoner", "deepseek", 1737331200),
    ("gemini-pro", "google", 1702339200),
    ("gemini-3-pro-preview", "google", 1763424000),
    ("stable-diffusion", "stability-ai", 1700000000),
    ("text-embedding-3-small", "openai", 1705948997),
    ("text-embedding-3-large", "openai", 1705953180),
    ("text-embedding-ada-002", "openai", 1671217299),
    ("dall-e-3", "openai", 1698785189),
    ("whisper-1", "openai", 1677532384),
    ("tts-1", "openai", 1681940951),
)

#: Unix time of the emulator clock's zero (``CLOCK_EPOCH`` of the emulator core).
_EPOCH_SECONDS: Final = 1720189706
#: Events between two ``: PING`` comments in a stream.
_PING_EVERY: Final = 3
#: Content chunks a ``[stream-error]`` / ``[stream-cut]`` stream sends before failing.
_CHUNKS_BEFORE_FAILURE: Final = 3
_ARGUMENT_PIECE: Final = 8

_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PART_TYPES: Final = frozenset(
    {"text", "image_url", "input_audio", "file", "refusal", "video_url", "input_text"}
)
_URL: Final = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_DRAW: Final = re.compile(r"\b(draw|paint|sketch|illustrat\w*)|画|绘", re.IGNORECASE)
_REASONING_MODEL: Final = re.compile(r"(^o\d)|reason|r1|think", re.IGNORECASE)
_PIECE: Final = re.compile(r"\s*\S+|\s+")
_CAPITALISED: Final = re.compile(r"\b[A-Z][\w-]*")
_WORD: Final = re.compile(r"[\w-]+")
_TOOL_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

_MAGIC_ERROR: Final = "[stream-error]"
_MAGIC_CUT: Final = "[stream-cut]"
_MAGIC_HUGE: Final = "[huge]"
_MAGIC_REFUSE: Final = "[refuse]"

_REFUSAL: Final = "I'm sorry, but I can't help with that."
_STREAM_ERROR: Final = {
    "error": {
        "message": "emulated upstream failure in the middle of the stream",
        "type": "upstream_error",
        "param": None,
        "code": "stream_interrupted",
    }
}


@attrs.define
class _TextState:
    """Id counters, kept by the emulator across restarts."""

    chat_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))
    completion_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``chat.completions``, ``completions``, ``embeddings`` and ``models`` routes."""
    routes = _TextRoutes(emu, emu._family_state(_TextState))
    app.router.add_post("/v1/chat/completions", routes.chat, name="chat.completions")
    app.router.add_post("/v1/completions", routes.completions, name="completions")
    app.router.add_post("/v1/embeddings", routes.embeddings, name="embeddings")
    app.router.add_get("/v1/models", routes.models, name="models")


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A request field is wrong: ``message`` and the ``param`` it is about."""

    def __init__(self, message: str, param: str | None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def _invalid_response(exc: _Invalid) -> web.Response:
    return json_response(
        {
            "error": {
                "message": str(exc),
                "type": "invalid_request_error",
                "param": exc.param,
                "code": exc.code,
            }
        },
        status=400,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if not _is_number(value):
        raise _Invalid(f"Invalid type for '{name}': expected a number.", name, "invalid_type")
    if not low <= value <= high:
        raise _Invalid(
            f"Invalid '{name}': {value} is not between {low:g} and {high:g}.", name, "invalid_value"
        )


def _integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not _is_int(value):
        raise _Invalid(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _Invalid(f"Invalid '{name}': {value} must be {bound}.", name, "invalid_value")
    return int(value)


def _boolean(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _Invalid(f"Invalid type for '{name}': expected a boolean.", name, "invalid_type")
    return value


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"Invalid type for '{name}': expected a string.", name, "invalid_type")
    return value


def _object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise _Invalid(f"Invalid type for '{name}': expected an object.", name, "invalid_type")
    return value


def _model(body: dict[str, Any]) -> str:
    model = _string(body, "model")
    if not model:
        raise _Invalid("you must provide a model parameter", "model")
    return model


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return list(stop)
    raise _Invalid("Invalid 'stop': expected a string or up to 4 strings.", "stop")


def _stream_options(body: dict[str, Any], stream: bool) -> bool:
    """Whether a usage chunk was asked for."""
    options = _object(body, "stream_options")
    if options is None:
        return False
    if not stream:
        raise _Invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise _Invalid(
            "Invalid type for 'stream_options.include_usage': expected a boolean.",
            "stream_options.include_usage",
        )
    return bool(include)


def _check_part(part: Any, where: str, role: str) -> None:
    if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
        raise _Invalid(
            f"Invalid '{where}': each content part needs a type among "
            f"{', '.join(sorted(_PART_TYPES))}.",
            where,
        )
    kind = part["type"]
    if kind in ("text", "input_text") and not isinstance(part.get("text"), str):
        raise _Invalid(f"Missing required parameter: '{where}.text'.", f"{where}.text")
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image  # new-api takes a string
        if not isinstance(url, str) or not url:
            raise _Invalid(
                f"Missing required parameter: '{where}.image_url.url'.", f"{where}.image_url.url"
            )
    if kind == "input_audio":
        audio = part.get("input_audio")
        if (
            not isinstance(audio, dict)
            or not isinstance(audio.get("data"), str)
            or audio.get("format") not in ("wav", "mp3")
        ):
            raise _Invalid(
                f"Invalid '{where}.input_audio': expected data (base64) and format wav or mp3.",
                f"{where}.input_audio",
            )
    if kind == "refusal" and role != "assistant":
        raise _Invalid(f"Invalid '{where}': refusal parts are for assistant messages.", where)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Invalid(
            "Invalid 'messages': expected a non-empty array of messages.",
            "messages",
            "empty_array" if messages == [] else None,
        )
    for i, message in enumerate(messages):
        where = f"messages.[{i}]"
        if not isinstance(message, dict):
            raise _Invalid(f"Invalid '{where}': expected an object.", where)
        role = message.get("role")
        if role not in _ROLES:
            raise _Invalid(
                f"Invalid value for '{where}.role': {role!r} is not one of "
                f"{', '.join(sorted(_ROLES))}.",
                f"{where}.role",
            )
        content = message.get("content")
        if content is None:
            if role != "assistant" or not (
                message.get("tool_calls") or message.get("function_call")
            ):
                raise _Invalid(
                    f"Invalid value for '{where}.content': expected a string or an array of "
                    "content parts (null only for an assistant message with tool_calls).",
                    f"{where}.content",
                )
        elif isinstance(content, list):
            for j, part in enumerate(content):
                _check_part(part, f"{where}.content.[{j}]", role)
        elif not isinstance(content, str):
            raise _Invalid(
                f"Invalid type for '{where}.content': expected a string or an array.",
                f"{where}.content",
            )
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise _Invalid(
                f"Missing required parameter: '{where}.tool_call_id'.", f"{where}.tool_call_id"
            )
    return messages


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _Invalid("Invalid type for 'tools': expected an array.", "tools")
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise _Invalid(f"Invalid '{where}.type': expected 'function'.", f"{where}.type")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _Invalid(
                f"Missing required parameter: '{where}.function.name'.", f"{where}.function.name"
            )
        if not _TOOL_NAME.fullmatch(function["name"]):
            raise _Invalid(
                f"Invalid '{where}.function.name': string does not match pattern "
                "'^[a-zA-Z0-9_-]{1,64}$'.",
                f"{where}.function.name",
                "invalid_value",
            )
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise _Invalid(
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
        raise _Invalid("Invalid 'functions': expected an array of {name, parameters}.", "functions")
    return functions


def _choice_name(value: Any, names: list[str], param: str) -> str | None:
    """The function a ``tool_choice`` / ``function_call`` names; "auto"… give None."""
    if value is None or value in ("auto", "required", "none"):
        return None
    if isinstance(value, dict):
        name = value.get("function", {}).get("name") if "function" in value else value.get("name")
        if isinstance(name, str) and name in names:
            return name
    raise _Invalid(f"Invalid value for '{param}': {json.dumps(value)}.", param)


def _response_format(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = _object(body, "response_format")
    if fmt is None:
        return None
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise _Invalid(
            "Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
            "response_format.type",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _Invalid(
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


def _tokens(text: str | None) -> int:
    return len(text.split()) if text else 0


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        total += 3 + _tokens(_content_text(message.get("content")))
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


def _pieces(text: str) -> list[str]:
    """Word-sized pieces of ``text`` (each word with the spaces before it); they join to it."""
    return _PIECE.findall(text)


def _cut(text: str, stop: list[str], limit: int | None) -> tuple[str, str]:
    """The text cut at the first stop string or after ``limit`` words, and the finish reason."""
    finish = "stop"
    for word in stop:
        if word and word in text:
            text = text[: text.index(word)]
    if limit is not None and _tokens(text) > limit:
        pieces = _pieces(text)
        kept: list[str] = []
        words = 0
        for piece in pieces:
            if piece.strip():
                if words == limit:
                    break
                words += 1
            kept.append(piece)
        text, finish = "".join(kept).rstrip(), "length"
    return text, finish


def _huge_text(text: str) -> str:
    filler = "All work and no play makes a huge event. "
    body = text + " " + filler * (HUGE_SIZE // len(filler) + 1)
    return body[:HUGE_SIZE]


def _logprobs(text: str, top: int) -> list[dict[str, Any]]:
    entries = []
    for i, piece in enumerate(_pieces(text)):
        logprob = -round(0.01 * (i % 7 + 1), 4)
        alternatives = [
            {"token": piece, "logprob": logprob, "bytes": list(piece.encode())},
            *(
                {"token": f"{piece.strip()}{k}", "logprob": logprob - k, "bytes": None}
                for k in range(1, top)
            ),
        ]
        entries.append(
            {
                "token": piece,
                "logprob": logprob,
                "bytes": list(piece.encode()),
                "top_logprobs": alternatives[:top],
            }
        )
    return entries


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
            _tokens(self.content)
            + _tokens(self.refusal)
            + _tokens(self.reasoning)
            + sum(_tokens(f"{c.name} {c.arguments}") for c in calls)
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
    model = _model(body)
    messages = _messages(body)
    stream = bool(_boolean(body, "stream"))
    include_usage = _stream_options(body, stream)
    n = _integer(body, "n", 1, 128) or 1
    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("presence_penalty", -2, 2),
        ("frequency_penalty", -2, 2),
    ):
        _number(body, name, low, high)
    max_tokens = _integer(body, "max_tokens", 1)
    max_completion_tokens = _integer(body, "max_completion_tokens", 1)
    limit = max_completion_tokens if max_completion_tokens is not None else max_tokens
    logprobs = bool(_boolean(body, "logprobs"))
    top_logprobs = _integer(body, "top_logprobs", 0, 20)
    if top_logprobs is not None and not logprobs:
        raise _Invalid(
            "Invalid value for 'logprobs': must be true when 'top_logprobs' is set.", "logprobs"
        )
    _integer(body, "seed", -(2**63))
    _string(body, "user")
    _object(body, "logit_bias")
    _boolean(body, "parallel_tool_calls")
    reasoning_effort = _string(body, "reasoning_effort")
    stop = _stop(body)
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
        reasoning = f"The user wrote {_tokens(text)} words. I will answer them plainly."

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
            if _MAGIC_HUGE in magic:
                content = _huge_text(content)
            else:
                content, choice.finish_reason = _cut(content, stop, limit)
            choice.content = content
            if logprobs:
                choice.logprobs = _logprobs(content, top_logprobs or 0)
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


# --------------------------------------------------------------------------- routes


class _TextRoutes:
    def __init__(self, emu: Emulator, state: _TextState) -> None:
        self._emu = emu
        self._state = state

    def _created(self) -> int:
        return _EPOCH_SECONDS + int(self._emu.now)

    # ------------------------------------------------------------------ chat

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await read_json_object(request)
        try:
            if body is None:
                raise _Invalid(
                    "We could not parse the JSON body of your request: expected an object.", None
                )
            plan = _plan_chat(body, self._emu.file_url(""))
        except _Invalid as exc:
            return _invalid_response(exc)
        head = {
            "id": f"chatcmpl-emu{next(self._state.chat_ids):010d}",
            "created": self._created(),
            "model": plan.model,
            "system_fingerprint": "fp_emulator",
        }
        if plan.stream:
            return await self._stream(request, _chat_events(plan, head), plan.magic)
        return json_response(_chat_completion(plan, head))

    # ------------------------------------------------------------------ completions

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await read_json_object(request)
        try:
            if body is None:
                raise _Invalid(
                    "We could not parse the JSON body of your request: expected an object.", None
                )
            plan = _plan_completion(body)
        except _Invalid as exc:
            return _invalid_response(exc)
        head = {
            "id": f"cmpl-emu{next(self._state.completion_ids):010d}",
            "object": "text_completion",
            "created": self._created(),
            "model": plan.model,
        }
        if plan.stream:
            return await self._stream(request, _completion_events(plan, head), plan.magic)
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

    # ------------------------------------------------------------------ embeddings

    async def embeddings(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        try:
            if body is None:
                raise _Invalid(
                    "We could not parse the JSON body of your request: expected an object.", None
                )
            model, items, size, as_base64 = _embedding_request(body)
        except _Invalid as exc:
            return _invalid_response(exc)
        data = []
        tokens = 0
        for index, item in enumerate(items):
            tokens += len(item) if isinstance(item, list) else _tokens(item)
            vector = _vector(model, size, item)
            if as_base64:
                raw = array("f", vector)
                if sys.byteorder == "big":
                    raw.byteswap()
                embedding: Any = base64.b64encode(raw.tobytes()).decode("ascii")
            else:
                embedding = vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        return json_response(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # ------------------------------------------------------------------ models

    async def models(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "object": "list",
                "data": [
                    {
                        "id": model_id,
                        "object": "model",
                        "created": created,
                        "owned_by": owner,
                        "supported_endpoint_types": [_endpoint_type(model_id)],
                    }
                    for model_id, owner, created in MODELS
                ],
                "success": True,
            }
        )

    # ------------------------------------------------------------------ SSE

    async def _stream(
        self, request: web.Request, events: Iterator[dict[str, Any]], magic: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
            }
        )
        await response.prepare(request)
        failure = (
            _MAGIC_ERROR if _MAGIC_ERROR in magic else _MAGIC_CUT if _MAGIC_CUT in magic else None
        )
        try:
            await response.write(b": PING\n\n")
            content_chunks = 0
            for sent, event in enumerate(events, 1):
                await response.write(_sse(event))
                if sent % _PING_EVERY == 0:
                    await response.write(b": PING\n\n")
                if failure is not None and _carries_text(event):
                    content_chunks += 1
                    if content_chunks == _CHUNKS_BEFORE_FAILURE:
                        break
            if failure == _MAGIC_ERROR:
                await response.write(_sse(_STREAM_ERROR))
            elif failure is None:
                await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:  # the client stopped reading and went away: fine
            pass
        return response


def _sse(payload: dict[str, Any]) -> bytes:
    return (
        b"data: "
        + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        + b"\n\n"
    )


def _carries_text(event: dict[str, Any]) -> bool:
    for choice in event.get("choices", ()):
        delta = choice.get("delta")
        if delta is not None and (delta.get("content") or delta.get("reasoning_content")):
            return True
        if delta is None and choice.get("text"):
            return True
    return False


def _endpoint_type(model_id: str) -> str:
    if model_id.startswith("text-embedding"):
        return "embeddings"
    if model_id.startswith(("dall-e", "stable-diffusion")):
        return "image-generation"
    return "openai"


def _usage(prompt_tokens: int, choices: list[_ChoicePlan]) -> dict[str, Any]:
    completion = sum(c.completion_tokens() for c in choices)
    reasoning = sum(_tokens(c.reasoning) for c in choices)
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
    for piece in _pieces(choice.reasoning or ""):
        yield chunk(i, {"reasoning_content": piece})
    if choice.content is not None:
        huge = len(choice.content) >= HUGE_SIZE
        pieces = [choice.content] if huge else _pieces(choice.content)
        entries = choice.logprobs or []
        for k, piece in enumerate(pieces):
            logprobs = None
            if choice.logprobs is not None:
                logprobs = {"content": entries[k : k + 1] if not huge else entries, "refusal": None}
            yield chunk(i, {"content": piece}, logprobs=logprobs)
    for piece in _pieces(choice.refusal or ""):
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


# --------------------------------------------------------------------------- completions


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
        completion = sum(_tokens(c.text) for c in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def _prompts(body: dict[str, Any]) -> list[tuple[str, int]]:
    """Each prompt as ``(text, tokens)``; token-id prompts read as their ids."""
    prompt = body.get("prompt")
    invalid = _Invalid(
        "Invalid 'prompt': expected a string, an array of strings, an array of tokens or an "
        "array of token arrays.",
        "prompt",
    )
    if prompt is None:
        raise _Invalid("Missing required parameter: 'prompt'.", "prompt")
    if isinstance(prompt, str):
        return [(prompt, _tokens(prompt))]
    if not isinstance(prompt, list) or not prompt:
        raise invalid
    if all(isinstance(p, str) for p in prompt):
        return [(p, _tokens(p)) for p in prompt]
    if all(_is_int(p) for p in prompt):
        return [(" ".join(map(str, prompt)), len(prompt))]
    if all(isinstance(p, list) and p and all(_is_int(t) for t in p) for p in prompt):
        return [(" ".join(map(str, p)), len(p)) for p in prompt]
    raise invalid


def _plan_completion(body: dict[str, Any]) -> _CompletionPlan:
    model = _model(body)
    prompts = _prompts(body)
    stream = bool(_boolean(body, "stream"))
    include_usage = _stream_options(body, stream)
    n = _integer(body, "n", 1, 128) or 1
    best_of = _integer(body, "best_of", 1, 20)
    if best_of is not None and best_of < n:
        raise _Invalid("best_of must be greater than or equal to n.", "best_of")
    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("presence_penalty", -2, 2),
        ("frequency_penalty", -2, 2),
    ):
        _number(body, name, low, high)
    max_tokens = _integer(body, "max_tokens", 0)
    limit = 16 if max_tokens is None else max_tokens  # OpenAI's default
    logprobs = _integer(body, "logprobs", 0, 5)
    echo = bool(_boolean(body, "echo"))
    _string(body, "suffix")
    _string(body, "user")
    _integer(body, "seed", -(2**63))
    stop = _stop(body)
    magic = prompts[0][0]
    choices = []
    for p, (text, _) in enumerate(prompts):
        for i in range(n):
            completion = f" You said: {text}" + (f" ({i + 1})" if i else "")
            if _MAGIC_HUGE in magic:
                completion, finish = _huge_text(completion), "stop"
            else:
                completion, finish = _cut(completion, stop, limit)
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
    entries = _logprobs(text, top)
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
        for piece in [choice.text] if huge else _pieces(choice.text):
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


# --------------------------------------------------------------------------- embeddings


def _native_size(model: str) -> int:
    return 3072 if model.endswith("-large") else 1536


def _embedding_request(body: dict[str, Any]) -> tuple[str, list[str | list[int]], int, bool]:
    model = _model(body)
    value = body.get("input")
    invalid = _Invalid(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference.",
        "input",
    )
    items: list[str | list[int]]
    if isinstance(value, str):
        if not value:
            raise invalid
        items = [value]
    elif isinstance(value, list) and 0 < len(value) <= 2048:
        if all(isinstance(v, str) and v for v in value):
            items = list(value)
        elif all(_is_int(v) and v >= 0 for v in value):
            items = [list(value)]
        elif all(
            isinstance(v, list) and v and all(_is_int(t) and t >= 0 for t in v) for v in value
        ):
            items = [list(v) for v in value]
        else:
            raise invalid
    else:
        raise invalid
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise _Invalid(
            f"Invalid value for 'encoding_format': {fmt!r}; expected 'float' or 'base64'.",
            "encoding_format",
        )
    size = _native_size(model)
    dimensions = _integer(body, "dimensions", 1, size)
    if dimensions is not None:
        if not model.startswith("text-embedding-3"):
            raise _Invalid("This model does not support specifying dimensions.", "dimensions")
        size = dimensions
    _string(body, "user")
    return model, items, size, fmt == "base64"


def _vector(model: str, size: int, item: str | list[int]) -> list[float]:
    """A unit vector seeded by the input, exactly representable as float32."""
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{size}\0{item!r}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return array("f", [v / norm for v in values]).tolist()
