"""What the OpenAI routes share: parameter checks, word counts, SSE streams, id counters, forms.

:mod:`._chat`, :mod:`._completions` and :mod:`._embeddings` all use some of it; the image and
audio routes (:mod:`._images`, :mod:`._audio`) use the parameter checks and the last section.

Token counts are word counts. Streams (:func:`sse_response`) send ``: PING`` comment lines
between events and end with ``data: [DONE]``. **Magic words** in the last user message of a chat
(or the first completions prompt):

- ``[stream-error]`` — a stream sends the role chunk (chat only) and 3 content chunks, then the
  error event ``data: {"error": {"message": "emulated upstream failure…", "type":
  "upstream_error", "param": null, "code": "stream_interrupted"}}`` and closes without
  ``[DONE]``;
- ``[stream-cut]`` — a stream sends the role chunk (chat only) and 3 content chunks, then ends
  without ``[DONE]``;
- ``[huge]`` — the reply is about 3 MB of text (:data:`HUGE_SIZE` characters), streamed as one
  single event.

Without ``stream``, ``[stream-error]`` and ``[stream-cut]`` change nothing.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
from aiohttp import web

from .._transport import FormFile
from . import _magic as magic
from ._http import json_response, read_json_object
from ._multipart import FormField, parse_form

if TYPE_CHECKING:
    from multidict import MultiDict

    from ._emulator import Emulator

__all__ = [
    "HUGE_SIZE",
    "MAGIC_HUGE",
    "Invalid",
    "TextState",
    "boolean_param",
    "choice_param",
    "count_tokens",
    "created",
    "cut_text",
    "file_param",
    "form_body",
    "huge_text",
    "integer_param",
    "invalid_response",
    "invalid_response_with_id",
    "is_int",
    "logprob_entries",
    "missing_param",
    "model_param",
    "number_param",
    "object_param",
    "request_object",
    "required_param",
    "sampling_params",
    "single_fields",
    "sse_response",
    "stop_param",
    "stream_options_param",
    "string_param",
    "word_pieces",
]

#: Characters in a ``[huge]`` reply (one SSE event of about 3 MB).
HUGE_SIZE: Final = 3 * 1024 * 1024

#: Unix time of the emulator clock's zero (``CLOCK_EPOCH`` of the emulator core).
_EPOCH_SECONDS: Final = 1720189706
#: Events between two ``: PING`` comments in a stream.
_PING_EVERY: Final = 3
#: Content chunks a ``[stream-error]`` / ``[stream-cut]`` stream sends before failing.
_CHUNKS_BEFORE_FAILURE: Final = 3
_PIECE: Final = re.compile(r"\s*\S+|\s+")

_MAGIC_ERROR: Final = magic.STREAM_ERROR
_MAGIC_CUT: Final = magic.STREAM_CUT
MAGIC_HUGE: Final = magic.HUGE

_STREAM_ERROR: Final = {
    "error": {
        "message": "emulated upstream failure in the middle of the stream",
        "type": "upstream_error",
        "param": None,
        "code": "stream_interrupted",
    }
}


@attrs.define
class TextState:
    """Id counters, kept by the emulator across restarts."""

    chat_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))
    completion_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))


def created(emu: Emulator) -> int:
    """The ``created`` time of an answer: Unix seconds on the emulator clock."""
    return _EPOCH_SECONDS + int(emu.now)


# --------------------------------------------------------------------------- validation


class Invalid(Exception):
    """A request field is wrong: ``message`` and the ``param`` it is about."""

    def __init__(self, message: str, param: str | None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def invalid_response(exc: Invalid) -> web.Response:
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


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_param(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if not _is_number(value):
        raise Invalid(f"Invalid type for '{name}': expected a number.", name, "invalid_type")
    if not low <= value <= high:
        raise Invalid(
            f"Invalid '{name}': {value} is not between {low:g} and {high:g}.", name, "invalid_value"
        )


def integer_param(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_int(value):
        raise Invalid(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Invalid(f"Invalid '{name}': {value} must be {bound}.", name, "invalid_value")
    return int(value)


def boolean_param(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise Invalid(f"Invalid type for '{name}': expected a boolean.", name, "invalid_type")
    return value


def string_param(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"Invalid type for '{name}': expected a string.", name, "invalid_type")
    return value


def object_param(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise Invalid(f"Invalid type for '{name}': expected an object.", name, "invalid_type")
    return value


def model_param(body: dict[str, Any]) -> str:
    model = string_param(body, "model")
    if not model:
        raise Invalid("you must provide a model parameter", "model")
    return model


def stop_param(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return list(stop)
    raise Invalid("Invalid 'stop': expected a string or up to 4 strings.", "stop")


def stream_options_param(body: dict[str, Any], stream: bool) -> bool:
    """Whether a usage chunk was asked for."""
    options = object_param(body, "stream_options")
    if options is None:
        return False
    if not stream:
        raise Invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise Invalid(
            "Invalid type for 'stream_options.include_usage': expected a boolean.",
            "stream_options.include_usage",
        )
    return bool(include)


# --------------------------------------------------------------------------- text


def count_tokens(text: str | None) -> int:
    return len(text.split()) if text else 0


def word_pieces(text: str) -> list[str]:
    """Word-sized pieces of ``text`` (each word with the spaces before it); they join to it."""
    return _PIECE.findall(text)


def cut_text(text: str, stop: list[str], limit: int | None) -> tuple[str, str]:
    """The text cut at the first stop string or after ``limit`` words, and the finish reason."""
    finish = "stop"
    for word in stop:
        if word and word in text:
            text = text[: text.index(word)]
    if limit is not None and count_tokens(text) > limit:
        pieces = word_pieces(text)
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


def huge_text(text: str) -> str:
    filler = "All work and no play makes a huge event. "
    body = text + " " + filler * (HUGE_SIZE // len(filler) + 1)
    return body[:HUGE_SIZE]


def logprob_entries(text: str, top: int) -> list[dict[str, Any]]:
    entries = []
    for i, piece in enumerate(word_pieces(text)):
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


# --------------------------------------------------------------------------- SSE


async def sse_response(
    request: web.Request, events: Iterator[dict[str, Any]], magic: str
) -> web.StreamResponse:
    """Send ``events`` as an SSE stream, failing as the magic words in ``magic`` ask."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
        }
    )
    await response.prepare(request)
    failure = _MAGIC_ERROR if _MAGIC_ERROR in magic else _MAGIC_CUT if _MAGIC_CUT in magic else None
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


async def request_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or ``Invalid`` as OpenAI words it."""
    body = await read_json_object(request)
    if body is None:
        raise Invalid("We could not parse the JSON body of your request: expected an object.", None)
    return body


def sampling_params(body: dict[str, Any]) -> None:
    """Check the sampling knobs chat and completions share, in OpenAI's ranges."""
    for name, low, high in (
        ("temperature", 0, 2),
        ("top_p", 0, 1),
        ("presence_penalty", -2, 2),
        ("frequency_penalty", -2, 2),
    ):
        number_param(body, name, low, high)


# --------------------------------------------------------------------------- image and audio


def missing_param(name: str) -> Invalid:
    return Invalid(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")


def invalid_response_with_id(emu: Emulator, request: web.Request, exc: Invalid) -> web.Response:
    rid = emu._request_id(request)
    return json_response(
        {
            "error": {
                "message": f"{exc} (request id: {rid})",
                "type": "invalid_request_error",
                "param": exc.param,
                "code": exc.code,
            }
        },
        status=400,
    )


def required_param(fields: Mapping[str, Any], name: str) -> str:
    value = string_param(fields, name)
    if value is None:
        raise missing_param(name)
    if not value.strip():
        raise Invalid(f"'{name}' must not be empty.", name, "empty_string")
    return value


def choice_param(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = string_param(fields, name)
    if value is not None and value not in allowed:
        raise Invalid(
            f"Invalid value for '{name}': {value!r}. Supported values are: "
            + ", ".join(repr(a) for a in allowed)
            + ".",
            name,
            "invalid_value",
        )
    return value


def form_body(request_body: bytes, content_type: str) -> MultiDict[FormField]:
    try:
        return parse_form(request_body, content_type)
    except ValueError as exc:
        raise Invalid(
            f"Invalid multipart/form-data body ({exc}); this endpoint takes multipart uploads.",
            None,
            "invalid_request",
        ) from None


def single_fields(form: MultiDict[FormField]) -> dict[str, FormField]:
    """The first value of each name (repeated file names are read separately)."""
    fields: dict[str, FormField] = {}
    for name, value in form.items():
        fields.setdefault(name, value)
    return fields


def file_param(form: Mapping[str, FormField], name: str) -> FormFile | None:
    value = form.get(name)
    if value is not None and not isinstance(value, FormFile):
        raise Invalid(f"'{name}' must be a file upload, not a text field.", name, "invalid_type")
    return value
