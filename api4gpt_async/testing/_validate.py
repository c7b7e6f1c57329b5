"""Request checks shared by every emulator route, task relays and OpenAI routes alike.

A check raises :class:`Invalid`, which carries the OpenAI wording (``message``, ``param``,
``code``) and the task relays' shorter wording (``plain``). Each style renders its own error
body: :func:`invalid_response` / :func:`invalid_response_with_id` the OpenAI one
``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``, and
:func:`task_invalid` the task relay one ``{"code": "invalid_request", "message", "data": null}``
(new-api ``dto/task.go`` ``TaskError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import FormFile
from ._http import json_response, read_json_object, task_error
from ._multipart import FormField, parse_form

if TYPE_CHECKING:
    from aiohttp import web
    from multidict import MultiDict

    from ._emulator import Emulator

__all__ = [
    "Invalid",
    "boolean_param",
    "choice_param",
    "file_param",
    "form_body",
    "integer_param",
    "invalid_response",
    "invalid_response_with_id",
    "is_int",
    "missing_param",
    "number_param",
    "object_param",
    "request_object",
    "required_param",
    "single_fields",
    "string_param",
    "task_invalid",
]


class Invalid(Exception):
    """A request field is wrong: ``message`` and the ``param`` it is about.

    ``plain`` is the task relays' wording of the same problem (default: ``message``).
    """

    def __init__(
        self,
        message: str,
        param: str | None = None,
        code: str | None = None,
        *,
        plain: str | None = None,
    ) -> None:
        super().__init__(message)
        self.param = param
        self.code = code
        self.plain = message if plain is None else plain


# --------------------------------------------------------------------------- rendering


def invalid_response(exc: Invalid) -> web.Response:
    """The OpenAI-style 400 for ``exc``."""
    return json_response(_openai_body(str(exc), exc), status=400)


def invalid_response_with_id(emu: Emulator, request: web.Request, exc: Invalid) -> web.Response:
    """The OpenAI-style 400 for ``exc``, its message quoting the request id (as new-api's
    media relays do)."""
    rid = emu._request_id(request)
    return json_response(_openai_body(f"{exc} (request id: {rid})", exc), status=400)


def task_invalid(exc: Invalid) -> web.Response:
    """The task-relay 400 for ``exc``: ``{"code": "invalid_request", "message": plain, …}``."""
    return task_error(400, "invalid_request", exc.plain)


def _openai_body(message: str, exc: Invalid) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": exc.param,
            "code": exc.code,
        }
    }


# --------------------------------------------------------------------------- JSON bodies


async def request_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or ``Invalid``."""
    body = await read_json_object(request)
    if body is None:
        raise Invalid(
            "We could not parse the JSON body of your request: expected an object.",
            None,
            plain="request body must be a JSON object",
        )
    return body


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _wrong_type(name: str, expected: str) -> Invalid:
    return Invalid(
        f"Invalid type for '{name}': expected {expected}.",
        name,
        "invalid_type",
        plain=f"{name} must be {expected}",
    )


def number_param(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if not _is_number(value):
        raise _wrong_type(name, "a number")
    if not low <= value <= high:
        raise Invalid(
            f"Invalid '{name}': {value} is not between {low:g} and {high:g}.", name, "invalid_value"
        )


def integer_param(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_int(value):
        raise _wrong_type(name, "an integer")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Invalid(f"Invalid '{name}': {value} must be {bound}.", name, "invalid_value")
    return int(value)


def boolean_param(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _wrong_type(name, "a boolean")
    return value


def string_param(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _wrong_type(name, "a string")
    return value


def object_param(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise _wrong_type(name, "an object")
    return value


def missing_param(name: str) -> Invalid:
    return Invalid(
        f"Missing required parameter: '{name}'.",
        name,
        "missing_required_parameter",
        plain=f"{name} is required",
    )


def required_param(fields: Mapping[str, Any], name: str) -> str:
    """A string that must be present and not blank."""
    value = string_param(fields, name)
    if value is None:
        raise missing_param(name)
    if not value.strip():
        raise Invalid(
            f"'{name}' must not be empty.", name, "empty_string", plain=f"{name} must not be empty"
        )
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
            plain=f"{name} must be one of {', '.join(allowed)}",
        )
    return value


# --------------------------------------------------------------------------- multipart forms


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
