"""api4gpt_async: an asyncio-first SDK for API4GPT.

Everything a user needs is importable from here; submodules starting with ``_`` are private.
"""

from ._client import AsyncAPI4GPT
from ._exports import publish
from ._hooks import Hooks, RequestEvent, RetryEvent
from ._retry import RetryPolicy
from ._streaming import Stream
from ._transport import FormFile
from ._version import __version__
from .errors import (
    API4GPTError,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentPolicyError,
    InsecureBaseURLWarning,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    SubmissionUncertainError,
    TaskBatchError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNeedsActionError,
    TaskTimeoutError,
    UnsupportedOperation,
)
from .tasks import PollPolicy, TaskHandle, TaskOutcome, TaskSnapshot, TaskState

__all__ = [
    "API4GPTError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPI4GPT",
    "AuthenticationError",
    "BadRequestError",
    "ContentPolicyError",
    "FormFile",
    "Hooks",
    "InsecureBaseURLWarning",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RequestEvent",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Stream",
    "SubmissionUncertainError",
    "TaskBatchError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskHandle",
    "TaskNeedsActionError",
    "TaskOutcome",
    "TaskSnapshot",
    "TaskState",
    "TaskTimeoutError",
    "UnsupportedOperation",
    "__version__",
]

publish(__name__, globals(), __all__)
