"""Every error the SDK raises, and the one place an HTTP answer becomes one.

The tree (catch the level you care about)::

    API4GPTError
    ├── APIError                      request_id, code, body
    │   ├── APIStatusError            status, type
    │   │   ├── BadRequestError       400, 409, 413, 415, 422
    │   │   ├── AuthenticationError   401
    │   │   ├── PermissionDeniedError 403 (also quota exhausted)
    │   │   ├── NotFoundError         404
    │   │   ├── RateLimitError        429, retry_after
    │   │   └── ServerError           5xx
    │   ├── APIConnectionError
    │   │   ├── APITimeoutError
    │   │   └── SubmissionUncertainError
    │   ├── ContentPolicyError        banned_word (Midjourney code 24)
    │   └── ResponseDecodeError
    ├── TaskError
    │   ├── TaskFailedError           reason, snapshot
    │   ├── TaskNeedsActionError      snapshot, suggested_prompt (Midjourney MODAL)
    │   ├── TaskTimeoutError          the task may still finish
    │   ├── TaskCancelledError
    │   └── TaskBatchError            outcomes of a gather, nothing lost
    └── UnsupportedOperation

    InsecureBaseURLWarning (a UserWarning): plain http:// to another machine
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._json import read_json_answer
from ._text import body_text

if TYPE_CHECKING:
    from .tasks import TaskOutcome, TaskSnapshot

__all__ = [
    "API4GPTError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContentPolicyError",
    "InsecureBaseURLWarning",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerError",
    "SubmissionUncertainError",
    "TaskBatchError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskNeedsActionError",
    "TaskTimeoutError",
    "UnsupportedOperation",
]

_REQUEST_ID_IN_MESSAGE = re.compile(r"\(request id: ([^)]*)\)")


class API4GPTError(Exception):
    """Base of everything this SDK raises on purpose."""


class APIError(API4GPTError):
    """The service (or the way to it) did not give a usable answer."""

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        code: str | int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.code = code
        self.body = body

    def __str__(self) -> str:
        suffix = []
        if self.code not in (None, ""):
            suffix.append(f"code={self.code!r}")
        if self.request_id and self.request_id not in self.message:
            suffix.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(suffix)})" if suffix else self.message


class APIStatusError(APIError):
    """The service answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        code: str | int | None = None,
        type: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, request_id=request_id, code=code, body=body)
        self.status = status
        self.type = type

    @property
    def status_code(self) -> int:
        """``status``, under openai-python's name."""
        return self.status

    def __str__(self) -> str:
        return f"HTTP {self.status}: {super().__str__()}"


class BadRequestError(APIStatusError):
    """The request was rejected (400, 409, 413, 415, 422).

    400, 413, 415 and 422 mean the request itself is wrong: fix it; they are never retried.
    A 409 (conflict) is often transient, so, like openai-python, requests that are safe to
    repeat (status queries, other GETs) retry it; billable submits never do.
    """


class AuthenticationError(APIStatusError):
    """The key is missing, wrong or expired (401)."""


class PermissionDeniedError(APIStatusError):
    """The key may not do this, or its quota is spent (403)."""


class NotFoundError(APIStatusError):
    """Unknown path, model or task id (404)."""


class RateLimitError(APIStatusError):
    """Too many requests (429); ``retry_after`` says how long the server asked to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        kw.setdefault("status", 429)
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """The gateway or its upstream failed (5xx)."""


#: openai-python's name for :class:`ServerError` (every 5xx), so ported ``except`` clauses work.
InternalServerError = ServerError


class APIConnectionError(APIError):
    """No complete answer arrived: connection refused, dropped or cut short.

    ``request_sent`` is False when the request provably never left this machine (connect
    failure), True or None (unknown) otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool | None = None,
        cause_summary: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent
        #: What the network library raised (type and message, secrets masked). The library's
        #: exception itself is not chained: its repr shows the request headers, key included.
        self.cause_summary = cause_summary


class APITimeoutError(APIConnectionError):
    """The call's deadline passed before an answer arrived."""


class SubmissionUncertainError(APIConnectionError):
    """A billable request may have reached the server, so it was not re-sent.

    Raised once the request may have been sent and no proper answer was read: a timeout, a
    dropped connection, an unreadable 2xx body, or a 5xx whose body is an HTML or empty page
    (a proxy in front of the gateway; the job may have been accepted behind it). ``status``
    is the HTTP status when one arrived. Look the job up (or retry knowingly): sending it
    again may bill twice.
    """

    def __init__(self, message: str, *, status: int | None = None, **kw: Any) -> None:
        kw.setdefault("request_sent", True)
        super().__init__(message, **kw)
        self.status = status


class ContentPolicyError(APIError):
    """The service refused the prompt as banned (Midjourney code 24); do not retry as is.

    ``banned_word`` is the word it objected to and ``prompt_en`` the prompt as translated, when
    the answer says (midjourney-proxy ``properties.bannedWord`` / ``promptEn``).
    """

    def __init__(
        self,
        message: str,
        *,
        banned_word: str | None = None,
        prompt_en: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.banned_word = banned_word
        self.prompt_en = prompt_en


class ResponseDecodeError(APIError):
    """The answer arrived but could not be read as the documented shape."""


class ResponseTooLargeError(APIError):
    """A download is larger than its ``max_bytes`` limit (by its ``Content-Length``, or as
    its bytes arrived); nothing was kept. ``limit`` is that limit in bytes."""

    def __init__(self, message: str, *, limit: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.limit = limit


class TaskError(API4GPTError):
    """A long-running job did not give a result."""


class TaskFailedError(TaskError):
    """The job finished unsuccessfully; ``reason`` is the service's explanation."""

    def __init__(self, message: str, *, reason: str | None, snapshot: TaskSnapshot[Any]) -> None:
        super().__init__(message)
        self.reason = reason
        self.snapshot = snapshot


class TaskNeedsActionError(TaskError):
    """The job waits for input and will not move on alone (a Midjourney task in ``MODAL``).

    Submit the input (``client.midjourney.modal(error.snapshot.id, prompt=...)``) and wait on
    the handle that returns. ``suggested_prompt`` is the prompt the service proposes, if any.
    """

    def __init__(
        self, message: str, *, snapshot: TaskSnapshot[Any], suggested_prompt: str | None = None
    ) -> None:
        super().__init__(message)
        self.snapshot = snapshot
        self.suggested_prompt = suggested_prompt


class TaskTimeoutError(TaskError, TimeoutError):
    """``wait`` gave up; the job may still finish, and its handle stays usable."""

    def __init__(self, message: str, *, snapshot: TaskSnapshot[Any] | None) -> None:
        super().__init__(message)
        self.snapshot = snapshot


class TaskCancelledError(TaskError):
    """The job was cancelled (by us or on the service)."""

    def __init__(self, message: str, *, snapshot: TaskSnapshot[Any] | None = None) -> None:
        super().__init__(message)
        self.snapshot = snapshot


class TaskBatchError(TaskError):
    """Some jobs of a ``gather`` failed; ``outcomes`` keeps every result, in input order."""

    def __init__(self, message: str, *, outcomes: Sequence[TaskOutcome[Any]]) -> None:
        super().__init__(message)
        self.outcomes: list[TaskOutcome[Any]] = list(outcomes)

    @property
    def errors(self) -> list[BaseException]:
        return [o.error for o in self.outcomes if o.error is not None]


class UnsupportedOperation(API4GPTError):
    """The service offers no way to do this (e.g. cancelling a Luma job)."""


class InsecureBaseURLWarning(UserWarning):
    """The base URL is plain ``http://`` to another machine: the key and every prompt and
    answer cross the network unencrypted. Warned once per client; loopback is exempt."""


# --------------------------------------------------------------------------------------------
# Decoding error answers: the only place where a status and body become an exception.

_STATUS_CLASSES: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: BadRequestError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def request_id_from(headers: Mapping[str, str] | None, message: str | None = None) -> str | None:
    """The gateway's request id: its header first, else the ``(request id: …)`` suffix."""
    if headers is not None:
        rid = headers.get("X-Oneapi-Request-Id") or headers.get("X-Request-Id")
        if rid:
            return rid
    if message:
        match = _REQUEST_ID_IN_MESSAGE.search(message)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return None


def _describe_body(
    body: Any, raw: bytes, headers: Mapping[str, str] | None
) -> tuple[str | None, str | int | None, str | None]:
    """Message, code and type from any of the error shapes the gateway family uses."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):  # OpenAI / new-api / one-api
            message = err.get("message") or err.get("message_zh") or err.get("detail")
            return _text(message), err.get("code"), _text(err.get("type"))
        if isinstance(err, str) and err:
            return err, body.get("code"), _text(body.get("type"))
        if "description" in body:  # midjourney-proxy
            return _text(body.get("description")), body.get("code"), _text(body.get("type"))
        if "message" in body or "code" in body:  # task envelope / dashboard
            message = _text(body.get("message")) or _text(body.get("msg"))
            return message or _text(body.get("detail")), body.get("code"), None
        if "detail" in body:  # FastAPI and friends: a string, an object or a list of them
            detail = body.get("detail")
            code = detail.get("code") if isinstance(detail, Mapping) else None
            return _text(detail), code, None
    text = body_text(raw, headers).strip()
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        return (title.group(1).strip() if title else "HTML error page"), None, None
    return (text[:500] or None), None, None


def _text(value: Any) -> str | None:
    """A readable message from a string, an object (``message``/``msg``/``detail``…) or a
    list of them (FastAPI's ``[{"loc": ["body", "prompt"], "msg": "field required"}]`` reads
    ``body.prompt: field required``); never a Python repr."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("message", "msg", "detail", "description", "error"):
            inner = _text(value.get(key))
            if inner:
                loc = value.get("loc")
                if isinstance(loc, (list, tuple)) and loc:
                    return f"{'.'.join(str(part) for part in loc)}: {inner}"
                return inner
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        parts = [part for part in map(_text, value) if part]
        return "; ".join(parts) or None
    return str(value)


#: Gateway codes that name their meaning whatever status carries them (new-api
#: ``types/error.go``; the task relays' ``task_not_exist`` in ``relay/relay_task.go``).
_INVALID_KEY_HINT = " — the API key was refused: check API4GPT_API_KEY (or api_key=)"
_NOT_FOUND_CODES: Mapping[str, str] = {
    "model_not_found": (
        " — the model name is not served by this key's group/channel: check the exact id "
        "with GET /v1/models using the same key"
    ),
    "task_not_exist": "",
    "task_no_found": "",  # midjourney-proxy's wording (code 4), as new-api relays it
}
#: Fork variants that drop the code but keep the message (``No available channels for
#: model X``, ``当前分组 default 下对于模型 X 无可用渠道``).
_MODEL_NOT_FOUND_MESSAGE = re.compile(r"No available channels? for model|模型 ?\S+ ?无可用渠道")


def _status_from(code: Any) -> int | None:
    """A numeric (or numeric-string) code in 400–599, read as the HTTP status it names."""
    if isinstance(code, bool):
        return None
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code.strip())
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    return None


def error_for(
    status: int | None,
    body: Any,
    *,
    raw: bytes = b"",
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> APIError:
    """The one mapping from an answer to an error class, wherever the answer arrived.

    ``status`` is the HTTP status of a non-2xx answer, or None for an error carried inside a
    2xx (an OpenAI error object, a task envelope, a Midjourney answer, a stream event). Then
    a numeric or numeric-string ``code`` in 400–599 (or a ``status``/``status_code`` field)
    stands for the status, so the error gets the same class — and the same retry and
    polling behaviour — as that HTTP status. ``model_not_found`` and ``task_not_exist`` are
    ``NotFoundError`` whatever carries them (the former with an English hint). ``body`` is
    the parsed JSON (or None), ``raw`` the bytes (for HTML or text pages). Without any
    status, the result is a plain ``APIError``.
    """
    message, code, type_ = _describe_body(body, raw, headers)
    if code == "":
        code = None
    if status is None or status < 300:
        status = _status_from(code)
        inner = body.get("error") if isinstance(body, Mapping) else None
        for source in (body, inner):
            if status is None and isinstance(source, Mapping):
                status = _status_from(source.get("status") or source.get("status_code"))
    named = code if isinstance(code, str) else None
    if named not in _NOT_FOUND_CODES and message and message.strip() in _NOT_FOUND_CODES:
        named = message.strip()  # new-api's {"code": 4, "description": "task_no_found "}
    if named not in _NOT_FOUND_CODES and message and _MODEL_NOT_FOUND_MESSAGE.search(message):
        named = "model_not_found"
    default = _default_message(status) if status else f"request failed (code {code!r})"
    message = message or default
    request_id = request_id or request_id_from(headers, message)
    if body is None and raw:
        body = body_text(raw, headers)
    if named is not None and named in _NOT_FOUND_CODES:
        return NotFoundError(
            message + _NOT_FOUND_CODES[named],
            status=status or 404, request_id=request_id, code=code, type=type_, body=body,
        )  # fmt: skip
    if status is None:
        return APIError(message, request_id=request_id, code=code, body=body)
    kw: dict[str, Any] = {
        "status": status, "request_id": request_id, "code": code, "type": type_, "body": body,
    }  # fmt: skip
    cls = _STATUS_CLASSES.get(status)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kw)
    if cls is None:
        cls = ServerError if status >= 500 else APIStatusError
    if cls is AuthenticationError and (not message.isascii() or message == default):
        message += _INVALID_KEY_HINT  # gateways say "无效的令牌" (invalid token), or nothing
    return cls(message, **kw)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    retry_after: float | None = None,
) -> APIStatusError:
    """Turn one non-2xx answer (any known body shape, HTML or empty) into the right error."""
    try:
        body: Any = read_json_answer(raw, headers) if raw else None
    except ValueError:
        body = None
    error = error_for(status, body, raw=raw, headers=headers, retry_after=retry_after)
    assert isinstance(error, APIStatusError)
    return error


def _default_message(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP status {status}"


def error_from_envelope(body: Mapping[str, Any], headers: Mapping[str, str] | None) -> APIError:
    """A 200 whose envelope says failure (``{"code": "task_not_exist", ...}``)."""
    return error_for(None, body, headers=headers)


def error_from_event(payload: Any, request_id: str | None) -> APIError:
    """An error event inside a stream (or an error object in a 200): typed by its status or
    numeric code when it names one."""
    return error_for(None, payload, request_id=request_id)
