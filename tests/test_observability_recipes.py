"""The observability recipes of docs/observability.md (examples/otel_hooks.py and
examples/structlog_hooks.py), run against the emulator: what each records."""

from __future__ import annotations

from typing import Any

import pytest
from _examples import load_example

pytestmark = pytest.mark.anyio

otel = pytest.importorskip("opentelemetry.sdk.trace")
structlog_testing = pytest.importorskip("structlog.testing")


async def test_opentelemetry_spans_for_attempts_retries_and_jobs() -> None:
    recipe = load_example("otel_hooks")
    tracer, exporter = recipe.in_memory_tracer()
    with tracer.start_as_current_span("my request handler"):
        await recipe.run(recipe.OTelHooks(tracer).hooks)
    spans = exporter.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)

    refused, sent = by_name["POST /v1/chat/completions"]
    assert refused.attributes["http.response.status_code"] == 429
    assert refused.attributes["error.type"] == "RateLimitError"
    assert refused.status.status_code.name == "ERROR"
    assert sent.attributes["http.response.status_code"] == 200
    assert [s.attributes["api4gpt.attempt"] for s in (refused, sent)] == [1, 2]
    assert sent.attributes["api4gpt.request_id"]
    assert refused.start_time < refused.end_time <= sent.start_time  # dated back by elapsed

    (parent,) = by_name["my request handler"]
    (retry,) = [e for e in parent.events if e.name == "api4gpt.retry"]
    assert retry.attributes["error.type"] == "RateLimitError"
    assert refused.parent.span_id == parent.context.span_id  # attempts nest in the caller's span

    bad, good = sorted(by_name["api4gpt.task luma"], key=lambda s: s.status.status_code.name)
    assert bad.status.status_code.name == "ERROR"
    assert "emulated failure" in bad.status.description
    assert good.status.status_code.name == "UNSET"
    assert [e.attributes["api4gpt.task.state"] for e in good.events] == ["pending", "succeeded"]
    assert good.events[-1].attributes["api4gpt.task.progress"] == 1.0
    assert good.attributes["api4gpt.task.id"] != bad.attributes["api4gpt.task.id"]
    for span in spans:  # the key never lands in a span
        assert all("sk-" not in str(value) for value in (span.attributes or {}).values())


async def test_a_retry_outside_any_span_gets_a_span_of_its_own() -> None:
    recipe = load_example("otel_hooks")
    tracer, exporter = recipe.in_memory_tracer()
    await recipe.run(recipe.OTelHooks(tracer).hooks)
    (retry,) = [s for s in exporter.get_finished_spans() if s.name == "api4gpt.retry"]
    assert retry.attributes["api4gpt.retry"] == 1


async def test_structlog_events_for_attempts_retries_and_jobs() -> None:
    recipe = load_example("structlog_hooks")
    with structlog_testing.capture_logs() as logs:
        await recipe.run(recipe.structlog_hooks())
    requests = [e for e in logs if e["event"] == "api4gpt.request"]
    retries = [e for e in logs if e["event"] == "api4gpt.retry"]
    tasks = [e for e in logs if e["event"] == "api4gpt.task"]
    refused = requests[0]
    assert (refused["log_level"], refused["status"], refused["attempt"]) == ("warning", 429, 1)
    assert refused["error"].startswith("RateLimitError")
    assert (requests[1]["status"], requests[1]["attempt"]) == (200, 2)
    assert all(e["request_id"] and e["elapsed_ms"] >= 0 for e in requests)
    (retry,) = retries
    assert (retry["log_level"], retry["retry"]) == ("warning", 1)
    ends = {e["task_id"]: e for e in tasks if e["state"] in ("succeeded", "failed")}
    assert sorted((e["state"], e["log_level"]) for e in ends.values()) == [
        ("failed", "error"),
        ("succeeded", "info"),
    ]
    failed = next(e for e in ends.values() if e["state"] == "failed")
    assert "emulated failure" in failed["failure_reason"]
    assert all(e["kind"] == "luma" for e in tasks)
    assert not any("sk-" in str(value) for e in logs for value in e.values())
