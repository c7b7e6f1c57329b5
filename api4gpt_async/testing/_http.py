"""Response helpers shared by the emulator core and its route families.

The gateway answers with two error shapes (new-api ``types/error.go`` and ``dto/task.go``):

- OpenAI style, from its auth/quota/rate-limit middleware and the ``/v1`` relays:
  ``{"error": {"message": "…", "type": "new_api_error", "code": "…"}}``;
- task style, from the task relays (Suno, Luma, …): ``{"code": "…", "message": "…", "data": null}``,
  whose success form is the envelope ``{"code": "success", "message": "", "data": …}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web

__all__ = [
    "REQUEST_ID_HEADER",
    "default_error_body",
    "json_response",
    "openai_error",
    "read_json_object",
    "task_envelope",
    "task_error",
]

#: Header carrying the gateway's request id on every answer.
REQUEST_ID_HEADER = "X-Oneapi-Request-Id"

# (message, code) of the gateway's OpenAI-style error for a status; the message gets
# " (request id: …)" appended like new-api does.
_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid request", "invalid_request"),
    401: ("无效的令牌", ""),
    403: ("用户额度不足", "insufficient_user_quota"),
    404: ("not found", "not_found"),
    429: ("当前分组上游负载已饱和，请稍后再试", "rate_limit_exceeded"),
    500: ("do request failed", "do_request_failed"),
    502: ("bad response status code 502", "bad_response_status_code"),
    503: ("get channel failed: no available channel", "get_channel_failed"),
    504: ("upstream request timed out", "do_request_failed"),
}


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer (UTF-8, compact, non-ASCII kept as is)."""
    return web.Response(
        body=_dumps(payload), status=status, headers=headers, content_type="application/json"
    )


def openai_error(
    status: int, message: str, *, type: str = "new_api_error", code: str = ""
) -> web.Response:
    """The gateway's OpenAI-style error answer."""
    return json_response({"error": {"message": message, "type": type, "code": code}}, status=status)


def default_error_body(status: int, request_id: str) -> dict[str, Any]:
    """The OpenAI-style error body the gateway would send for ``status``.

    Statuses below 400 get an empty object (a fault may inject a bare 200).
    """
    if status < 400:
        return {}
    try:
        message, code = _DEFAULT_ERRORS[status]
    except KeyError:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        message, code = phrase.lower(), phrase.lower().replace(" ", "_").replace("-", "_")
    return {
        "error": {
            "message": f"{message} (request id: {request_id})",
            "type": "new_api_error",
            "code": code,
        }
    }


def task_envelope(data: Any) -> dict[str, Any]:
    """The task relays' success envelope around ``data``."""
    return {"code": "success", "message": "", "data": data}


def task_error(status: int, code: str, message: str | None = None) -> web.Response:
    """A task-style error answer: ``{"code": code, "message": message or code, "data": null}``."""
    return json_response(
        {"code": code, "message": code if message is None else message, "data": None},
        status=status,
    )


async def read_json_object(request: web.Request) -> dict[str, Any] | None:
    """The request body parsed as a JSON object, or None if it is not one.

    The emulator's middleware has already read the body, so this does not touch the socket.
    """
    raw = await request.read()
    try:
        value = json.loads(raw) if raw else None
    except ValueError:  # invalid JSON or invalid UTF-8
        return None
    return value if isinstance(value, dict) else None
