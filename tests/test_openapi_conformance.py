"""The OpenAPI conformance checker itself: it passes what the spec allows and names what it
does not. Tests marked by the ``openapi_spec`` fixture skip when OpenAI's description is absent.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import openapi_conformance as oc
import pytest
from openapi_conformance import (
    ENV_VAR,
    load_spec,
    require_spec,
    schema_pointer,
    spec_available,
    validate_request,
    validate_response,
    validate_schema,
    validate_stream_chunk,
)

#: The fixture lives in the helper; naming it here makes it usable in this module.
openapi_spec = oc.openapi_spec

#: For tests that check against OpenAI's description: they skip when it is absent.
needs_spec = pytest.mark.usefixtures("openapi_spec")

MULTIPART = "multipart/form-data"
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def chat_request(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **extra}


def chat_completion(**extra: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": USAGE,
    }
    return {**body, **extra}


def chat_chunk(**extra: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": "he"}, "finish_reason": None}
        ],
    }
    return {**body, **extra}


# --- requests ---------------------------------------------------------------------------------


@needs_spec
def test_minimal_chat_request_passes() -> None:
    validate_request("POST", "/chat/completions", chat_request())


@needs_spec
def test_chat_request_with_common_options_passes() -> None:
    validate_request(
        "POST",
        "/chat/completions",
        chat_request(
            temperature=0.2,
            stream=True,
            stream_options={"include_usage": True},
            stop=None,
            tools=[
                {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
            ],
            response_format={"type": "json_object"},
        ),
    )


@needs_spec
def test_chat_request_missing_messages_fails_naming_it() -> None:
    body = chat_request()
    del body["messages"]
    with pytest.raises(AssertionError, match=r"'messages' is a required property"):
        validate_request("POST", "/chat/completions", body)


@needs_spec
def test_chat_request_with_wrong_type_fails() -> None:
    with pytest.raises(AssertionError, match=r"\$\.temperature: 'hot' is not of type 'number'"):
        validate_request("POST", "/chat/completions", chat_request(temperature="hot"))


@needs_spec
def test_errors_point_into_the_offending_variant() -> None:
    body = chat_request(messages=[{"role": "user", "content": [{"type": "image_url"}]}])
    with pytest.raises(AssertionError, match=r"\$\.messages\[0\]\.content\[0\]: 'image_url' is a"):
        validate_request("POST", "/chat/completions", body)
    body = chat_request(messages=[{"role": "bot", "content": "x"}])
    with pytest.raises(AssertionError, match=r"role='bot' matches no variant"):
        validate_request("POST", "/chat/completions", body)


@needs_spec
def test_at_most_five_errors_are_listed() -> None:
    body = {f"x{i}": i for i in range(3)} | {"model": 1, "messages": "no", "n": "1", "seed": "s"}
    body |= {"temperature": "t", "top_p": "p", "logprobs": "l"}
    with pytest.raises(AssertionError) as caught:
        validate_request("POST", "/chat/completions", body)
    listed = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert len(listed) == 5
    assert "more)" in str(caught.value)


@needs_spec
def test_errors_are_listed_best_first() -> None:
    body = chat_request(temperature="hot")
    del body["messages"]
    with pytest.raises(AssertionError) as caught:
        validate_request("POST", "/chat/completions", body)
    listed = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert listed == [
        "  - $: 'messages' is a required property",
        "  - $.temperature: 'hot' is not of type 'number', 'null'",
    ]


@needs_spec
def test_v1_prefix_and_concrete_ids_are_understood() -> None:
    validate_request("POST", "/v1/chat/completions", chat_request())
    assert (
        schema_pointer("POST", "/v1/chat/completions")
        == schema_pointer("POST", "/chat/completions")
        == "#/components/schemas/CreateChatCompletionRequest"
    )
    assert schema_pointer("GET", "/v1/models/gpt-4o", status=200) == "#/components/schemas/Model"


@needs_spec
def test_unknown_operation_fails_readably() -> None:
    with pytest.raises(AssertionError, match=r"no path matching '/v1/nope'"):
        validate_request("POST", "/v1/nope", {})
    with pytest.raises(AssertionError, match=r"no DELETE /chat/completions"):
        validate_request("DELETE", "/chat/completions", {})
    with pytest.raises(AssertionError, match=r"requires a body"):
        validate_request("POST", "/chat/completions", None)


# --- multipart --------------------------------------------------------------------------------


@needs_spec
def test_multipart_image_edit_passes() -> None:
    form = {"image": b"\x89PNG\r\n", "prompt": "x", "model": "gpt-image-1", "n": "1"}
    validate_request("POST", "/images/edits", form, content_type=MULTIPART)


@needs_spec
def test_multipart_image_edit_without_prompt_fails() -> None:
    form = {"image": b"\x89PNG\r\n", "model": "gpt-image-1", "n": "1"}
    with pytest.raises(AssertionError, match=r"'prompt' is a required property"):
        validate_request("POST", "/images/edits", form, content_type=MULTIPART)


@needs_spec
def test_multipart_text_is_coerced_only_where_it_parses() -> None:
    form = [("image[]", b"a"), ("image[]", b"b"), ("prompt", "x"), ("n", "ten")]
    with pytest.raises(AssertionError, match=r"\$\.n: 'ten' is not of type 'integer'"):
        validate_request("POST", "/images/edits", form, content_type=f"{MULTIPART}; boundary=b")
    form[-1] = ("n", "2")
    validate_request("POST", "/images/edits", form, content_type=MULTIPART)


@needs_spec
def test_multipart_transcription_request() -> None:
    form = {
        "file": ("a.mp3", b"ID3"),
        "model": "whisper-1",
        "temperature": "0.2",
        "timestamp_granularities[]": ["word", "segment"],
    }
    validate_request("POST", "/audio/transcriptions", form, content_type=MULTIPART)
    with pytest.raises(AssertionError, match=r"'bogus' was unexpected"):
        validate_request(
            "POST", "/audio/transcriptions", {**form, "bogus": "1"}, content_type=MULTIPART
        )


# --- responses --------------------------------------------------------------------------------


@needs_spec
def test_chat_completion_response_passes() -> None:
    validate_response("POST", "/v1/chat/completions", 200, chat_completion())


@needs_spec
def test_chat_completion_response_missing_choices_fails() -> None:
    body = chat_completion()
    del body["choices"]
    with pytest.raises(AssertionError, match=r"'choices' is a required property"):
        validate_response("POST", "/chat/completions", 200, body)


@needs_spec
def test_spec_requires_logprobs_and_refusal_in_chat_completions() -> None:
    """A finding, not a checker quirk: gateways often omit these, and the spec requires both."""
    body = chat_completion()
    del body["choices"][0]["logprobs"]
    del body["choices"][0]["message"]["refusal"]
    with pytest.raises(AssertionError) as caught:
        validate_response("POST", "/chat/completions", 200, body)
    assert "'logprobs' is a required property" in str(caught.value)
    assert "'refusal' is a required property" in str(caught.value)


@needs_spec
def test_undeclared_status_fails_and_error_bodies_have_their_own_schema() -> None:
    with pytest.raises(AssertionError, match=r"declares no such status \(declared: 200, 429\)"):
        validate_response("POST", "/chat/completions", 400, {})
    error = {
        "error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}
    }
    validate_response("POST", "/chat/completions", 429, error)
    validate_schema("ErrorResponse", error)
    with pytest.raises(AssertionError, match=r"'param' is a required property"):
        validate_schema("ErrorResponse", {"error": {"message": "m", "type": "t", "code": None}})


@needs_spec
def test_chat_chunk_passes() -> None:
    validate_stream_chunk("/v1/chat/completions", chat_chunk())
    validate_stream_chunk("/chat/completions", chat_chunk(choices=[], usage=USAGE))


@needs_spec
def test_chat_chunk_without_finish_reason_fails() -> None:
    chunk = chat_chunk(choices=[{"index": 0, "delta": {"content": "x"}}])
    with pytest.raises(AssertionError, match=r"'finish_reason' is a required property"):
        validate_stream_chunk("/chat/completions", chunk)


@needs_spec
def test_completions_stream_uses_the_completion_object() -> None:
    chunk: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"text": "a", "index": 0, "logprobs": None, "finish_reason": "stop"}],
    }
    validate_stream_chunk("/v1/completions", chunk)
    # The spec's finish_reason is not nullable, though intermediate stream chunks carry null.
    chunk["choices"][0]["finish_reason"] = None
    with pytest.raises(AssertionError, match=r"finish_reason"):
        validate_stream_chunk("/v1/completions", chunk)


@needs_spec
def test_embeddings_response_allows_floats_but_not_base64() -> None:
    """The spec types ``embedding`` as an array of numbers only: a base64 string (what
    ``encoding_format="base64"`` returns) does not conform to the published schema."""
    body: dict[str, Any] = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    validate_response("POST", "/embeddings", 200, body)
    body["data"][0]["embedding"] = "AACAPwAAAEA="
    with pytest.raises(
        AssertionError, match=r"\$\.data\[0\]\.embedding: .* is not of type 'array'"
    ):
        validate_response("POST", "/embeddings", 200, body)


@needs_spec
def test_transcription_json_response_passes() -> None:
    validate_response("POST", "/audio/transcriptions", 200, {"text": "hi"})


@needs_spec
def test_binary_response_accepts_bytes() -> None:
    validate_response(
        "POST", "/audio/speech", 200, b"ID3\x00", content_type="application/octet-stream"
    )


@needs_spec
def test_nullable_and_recursive_refs_are_translated_not_dropped() -> None:
    # nullable: true on n (3.0 style) admits null, yet still rejects a string
    validate_request("POST", "/chat/completions", chat_request(n=None, prediction=None))
    with pytest.raises(AssertionError, match=r"\$\.n:"):
        validate_request("POST", "/chat/completions", chat_request(n="two"))
    # $recursiveRef inside CompoundFilter still checks the nested filters
    nested: dict[str, Any] = {"type": "or", "filters": [{"type": "eq", "key": "k", "value": "v"}]}
    body: dict[str, Any] = {"query": "q", "filters": {"type": "and", "filters": [nested]}}
    validate_request("POST", "/v1/vector_stores/vs_1/search", body)
    del nested["filters"][0]["key"]
    with pytest.raises(AssertionError, match=r"filters\[0\]\.filters\[0\]: 'key' is a required"):
        validate_request("POST", "/v1/vector_stores/vs_1/search", body)


@needs_spec
def test_validation_is_cached_and_quick() -> None:
    validate_request("POST", "/chat/completions", chat_request())
    started = time.perf_counter()
    for _ in range(20):
        validate_request("POST", "/chat/completions", chat_request())
        validate_response("POST", "/chat/completions", 200, chat_completion())
    assert (time.perf_counter() - started) / 20 < 0.05


# --- loading, caching, skipping (no real spec needed) -----------------------------------------

MINI_SPEC = """\
openapi: 3.1.0
info: {title: mini, version: "1"}
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Thing'}
      responses:
        "200": {description: ok}
components:
  schemas:
    Thing:
      type: object
      required: [when]
      properties:
        when: {type: string, example: 2024-01-31}
"""


def test_absent_spec_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    monkeypatch.setenv(ENV_VAR, str(missing))
    monkeypatch.delenv(oc.REQUIRE_ENV_VAR, raising=False)  # a user's checkout
    assert not spec_available()
    with pytest.raises(pytest.skip.Exception, match=r"not found at .*missing\.yaml"):
        require_spec()
    monkeypatch.undo()
    assert spec_available() == oc.spec_path().is_file()


@pytest.mark.parametrize("value", ["1", "yes"])
def test_absent_spec_fails_where_it_is_required(
    value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.yaml"))
    monkeypatch.setenv(oc.REQUIRE_ENV_VAR, value)  # as .ci/run sets it
    with pytest.raises(pytest.fail.Exception, match=r"not found at .*missing\.yaml"):
        require_spec()
    monkeypatch.setenv(oc.REQUIRE_ENV_VAR, "0")
    with pytest.raises(pytest.skip.Exception):
        require_spec()


@pytest.fixture
def mini_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "openapi.yaml"
    path.write_text(MINI_SPEC, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return path


def test_load_writes_and_reuses_a_json_cache(mini_spec: Path, tmp_path: Path) -> None:
    spec = load_spec()
    assert spec is load_spec(mini_spec)  # cached per process
    # YAML dates stay strings, as JSON would have them
    assert spec["components"]["schemas"]["Thing"]["properties"]["when"]["example"] == "2024-01-31"
    (cached,) = (tmp_path / "cache" / "api4gpt-async").glob("openapi-*.json")
    envelope = json.loads(cached.read_text(encoding="utf-8"))
    assert envelope["spec"] == spec
    # a fresh process would read the cache, not the YAML: prove it by marking the cache
    envelope["spec"]["info"]["title"] = "from cache"
    cached.write_text(json.dumps(envelope), encoding="utf-8")
    assert oc._load_spec_cached.__wrapped__(str(mini_spec))["info"]["title"] == "from cache"
    # editing the YAML changes the key, so the stale cache is not used
    mini_spec.write_text(MINI_SPEC.replace("title: mini", "title: edited"), encoding="utf-8")
    assert oc._load_spec_cached.__wrapped__(str(mini_spec))["info"]["title"] == "edited"


def test_unwritable_cache_dir_is_harmless(
    mini_spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert oc._load_spec_cached.__wrapped__(str(mini_spec))["info"]["title"] == "mini"
    assert not os.path.isdir(blocker)


def test_checker_works_on_another_copy_of_the_spec(mini_spec: Path) -> None:
    validate_request("POST", "/v1/things", {"when": "today"})
    with pytest.raises(AssertionError, match=r"'when' is a required property"):
        validate_request("POST", "/v1/things", {})
