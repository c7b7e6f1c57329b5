"""OpenTelemetry spans from the client's hooks: one span per HTTP attempt, one per job.

``OTelHooks(tracer).hooks`` is a ``Hooks`` for ``AsyncAPI4GPT(hooks=...)``:

- every HTTP attempt becomes a CLIENT span named ``"<METHOD> <path>"``, dated back by its
  ``elapsed`` time (the hook runs when the attempt ends), with the semantic-convention
  attributes ``http.request.method``, ``url.full``, ``http.response.status_code`` and
  ``error.type``, plus ``api4gpt.attempt`` and ``api4gpt.request_id`` (quote it to support);
- a retry about to happen is an event ``api4gpt.retry`` on the current span (a span of its own
  when there is none), with its delay and reason;
- every job gets a span ``"api4gpt.task <kind>"`` from the first update seen to its end, with an
  event on each change of state or progress; a failed job's span ends with status ERROR.

The key is never recorded (it travels in a header, not the URL). Needs ``opentelemetry-sdk``.
``python examples/otel_hooks.py`` runs a chat call with one refused (429) attempt and two Luma jobs
against the emulator and prints the spans it recorded.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from api4gpt_async import Hooks, RequestEvent, RetryEvent, TaskSnapshot, TaskState

try:  # the demo's traffic (examples/_shared.py): not needed when this file is copied alone
    from _shared import observed_traffic
except ImportError:  # pragma: no cover
    observed_traffic = None


class OTelHooks:
    """Client hooks that record spans with ``tracer``."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self._jobs: dict[tuple[str, str], Span] = {}

    @property
    def hooks(self) -> Hooks:
        return Hooks(on_request=self.on_request, on_retry=self.on_retry,
                     on_task_update=self.on_task_update)  # fmt: skip

    def on_request(self, event: RequestEvent) -> None:
        end = time.time_ns()
        span = self.tracer.start_span(
            f"{event.method} {urlsplit(event.url).path}",
            kind=SpanKind.CLIENT,
            start_time=end - int(event.elapsed * 1e9),
            attributes={
                "http.request.method": event.method,
                "url.full": event.url,
                "api4gpt.attempt": event.attempt,
            },
        )
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        if event.request_id:
            span.set_attribute("api4gpt.request_id", event.request_id)
        if event.error is not None:
            span.set_attribute("error.type", type(event.error).__name__)
            span.set_status(Status(StatusCode.ERROR, str(event.error)))
        span.end(end_time=end)

    def on_retry(self, event: RetryEvent) -> None:
        attributes = {
            "url.full": event.url,
            "api4gpt.retry": event.retry,
            "api4gpt.delay_s": event.delay,
            "error.type": type(event.error).__name__,
        }
        current = trace.get_current_span()
        if current.is_recording():
            current.add_event("api4gpt.retry", attributes)
        else:  # no span of the caller's to put it on: a span of its own
            self.tracer.start_span("api4gpt.retry", attributes=attributes).end()

    def on_task_update(self, snap: TaskSnapshot[Any]) -> None:
        key = (snap.kind, snap.id)
        span = self._jobs.get(key)
        if span is None:
            span = self._jobs[key] = self.tracer.start_span(
                f"api4gpt.task {snap.kind}",
                attributes={"api4gpt.task.kind": snap.kind, "api4gpt.task.id": snap.id},
            )
        attributes: dict[str, Any] = {"api4gpt.task.state": snap.state.value}
        if snap.progress is not None:
            attributes["api4gpt.task.progress"] = snap.progress
        span.add_event("api4gpt.task.update", attributes)
        if snap.state.terminal:
            span.set_attribute("api4gpt.task.state", snap.state.value)
            if snap.state is not TaskState.SUCCEEDED:
                span.set_status(Status(StatusCode.ERROR, snap.failure_reason or snap.state.value))
            span.end()
            del self._jobs[key]


def in_memory_tracer() -> tuple[Tracer, InMemorySpanExporter]:
    """A tracer whose finished spans are kept in memory (for tests and this demo)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("api4gpt_async.examples"), exporter


run = observed_traffic  # the tests run it too


async def main() -> int:
    tracer, exporter = in_memory_tracer()
    await run(OTelHooks(tracer).hooks)
    for span in exporter.get_finished_spans():
        assert span.end_time is not None and span.start_time is not None
        took = (span.end_time - span.start_time) / 1e6
        print(f"{span.name:40} {span.status.status_code.name:6} {took:8.1f} ms "
              f"{len(span.events)} events")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
