"""The public names are a promise: this test fails when one changes by accident."""

from __future__ import annotations

import api4gpt_async
import api4gpt_async.errors
import api4gpt_async.testing

EXPECTED_TOP_LEVEL = {
    "API4GPTError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPI4GPT",
    "AuthenticationError",
    "BadRequestError",
    "FormFile",
    "Hooks",
    "InsecureBaseURLWarning",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RequestEvent",
    "ResponseDecodeError",
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
    "TaskOutcome",
    "TaskSnapshot",
    "TaskState",
    "TaskTimeoutError",
    "UnsupportedOperation",
    "__version__",
}


def test_top_level_names() -> None:
    assert set(api4gpt_async.__all__) == EXPECTED_TOP_LEVEL
    for name in api4gpt_async.__all__:
        assert getattr(api4gpt_async, name) is not None


def test_every_error_is_re_exported_at_top_level() -> None:
    for name in api4gpt_async.errors.__all__:
        assert getattr(api4gpt_async, name) is getattr(api4gpt_async.errors, name)


def test_testing_names() -> None:
    assert {"Emulator", "RecordedRequest", "Fault"} <= set(api4gpt_async.testing.__all__)


def test_task_states() -> None:
    assert [s.name for s in api4gpt_async.TaskState] == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "CANCELLED",
    ]


def test_client_surface() -> None:
    client = api4gpt_async.AsyncAPI4GPT(api_key="k")
    families = ("luma", "lumvip", "tasks", "chat", "completions", "embeddings", "images", "audio")
    for family in (*families, "models"):
        assert hasattr(client, family)
    for method in ("generate", "extend", "get", "task"):
        assert callable(getattr(client.luma, method))
    assert callable(client.chat.completions.create)
    assert callable(client.completions.create)
    assert callable(client.embeddings.create)
    assert callable(client.images.generate)
    assert callable(client.images.edit)
    assert callable(client.audio.transcriptions.create)
    assert callable(client.audio.translations.create)
    assert callable(client.audio.speech.create)
    assert callable(client.models.list)
    for method in ("resume", "as_completed", "gather"):
        assert callable(getattr(client.tasks, method))
    for method in ("refresh", "wait", "watch", "cancel", "download"):
        assert callable(getattr(api4gpt_async.TaskHandle, method))
