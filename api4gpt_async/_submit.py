"""Submit many jobs without losing one: a bound on jobs *running on the service*, every
accepted handle and every refused submit returned as an outcome, and (with a journal) each job
submitted once across crashes and restarts.

``client.tasks.submit_many`` is a thin door to :func:`submit_many`; the ``api4gpt batch``
runner and the taskiq integration are built on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._journal import FINISHED, UNCERTAIN, Journal, JournalEntry, JournalStatus
from .errors import SubmissionUncertainError, TaskCancelledError, TaskFailedError

if TYPE_CHECKING:
    from .tasks import PollPolicy, TaskHandle, Tasks

__all__ = ["Job", "SubmitOutcome", "submit_many"]

R = TypeVar("R")

logger = logging.getLogger("api4gpt_async")

Submit = Callable[[], Awaitable["TaskHandle[Any]"]]
#: Called with each finished job's handle and result before it is journalled as succeeded;
#: what it returns (JSON-safe) is kept as the entry's ``outcome``. If it raises, the job stays
#: ``accepted`` (a rerun resumes it and calls this again) and the outcome carries the error.
OnResult = Callable[["TaskHandle[Any]", Any], Awaitable[Mapping[str, Any] | None]]
#: Called on every step of a job: ``(key, step, handle or None)``; the steps are the journal
#: statuses, ``"resumed"`` (accepted in an earlier run) and ``"unfinished"`` (the wait or
#: ``on_result`` stopped with an error while the job may still run; it stays ``accepted``).
OnUpdate = Callable[[str, str, "TaskHandle[Any] | None"], None]


@attrs.frozen(kw_only=True)
class Job:
    """One submit for :func:`submit_many`.

    Attributes:
        submit: a zero-argument coroutine function that submits the job and returns its
            ``TaskHandle``, e.g. ``lambda: client.luma.generate(prompt)``. Called at most once
            per run, and never again for a job the journal shows accepted.
        key: unique in the batch; required with a journal (that is how a rerun recognises the
            job). Without one it defaults to the job's position.
        meta: JSON-safe facts about the job, kept in the journal (e.g. its parameters).
    """

    submit: Submit
    key: str | None = None
    meta: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class SubmitOutcome(Generic[R]):
    """How one job of :func:`submit_many` ended.

    Attributes:
        key: the job's key; ``index`` its position in the input.
        handle: the accepted job (also when it then failed or timed out); None when no job was
            accepted: the submit was refused (nothing billed) or its answer was lost; or, with
            ``status`` ``accepted`` and a ``ValueError``, when the journal holds a job of a kind
            this client does not know (its ref is in the message).
        result: the job's result when it succeeded, else None.
        error: why it did not succeed, else None: the submit's error (``status`` ``refused``
            or ``uncertain``: then a ``SubmissionUncertainError``), ``TaskFailedError``,
            ``TaskCancelledError``, or, with ``status`` ``accepted`` (the job may still be
            running), ``TaskTimeoutError`` or whatever stopped the wait or ``on_result``.
        status: the journal status it ended with (see ``api4gpt_async.journal``).
        outcome: what ``on_result`` returned, when it was called.
        attempts: how many times its submit has been sent, over every run.
    """

    key: str
    index: int
    status: JournalStatus
    handle: TaskHandle[R] | None = None
    result: R | None = None
    error: BaseException | None = None
    outcome: Mapping[str, Any] | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def submitted(self) -> bool:
        """Whether a job was accepted by the service (and may have been billed)."""
        return self.handle is not None


async def submit_many(
    tasks: Tasks,
    jobs: Iterable[Job | Submit],
    *,
    max_running: int | None = None,
    journal: Journal | None = None,
    resubmit_uncertain: bool = False,
    timeout: float | None = None,
    poll: PollPolicy | None = None,
    on_result: OnResult | None = None,
    on_update: OnUpdate | None = None,
) -> AsyncGenerator[SubmitOutcome[Any], None]:
    """Submit ``jobs``, at most ``max_running`` on the service at once, and yield each one's
    :class:`SubmitOutcome` as it ends (the next job is submitted when one ends).

    A refused submit never stops the others and never loses an accepted job: every job gets
    an outcome. With a ``journal`` each job's intent is written before its submit and its ref
    after: a rerun resumes accepted jobs by ref instead of submitting them again, re-sends
    refused ones (nothing was billed), and reports a job whose submit was cut off (the process
    died mid-submit, or ``SubmissionUncertainError``) as ``uncertain`` without sending it again
    unless ``resubmit_uncertain=True``. A job that ended in an earlier run is read again (one
    status query, for its result) but ``on_result`` is not called again: its ``outcome`` is
    what ``on_result`` returned then. Do per-job work (downloads) in ``on_result`` so that it
    is done once too.

    ``timeout`` bounds each job's wait (default ``poll.timeout``); a job still running then
    ends with ``TaskTimeoutError`` and stays ``accepted`` in the journal. Leaving the loop
    early cancels the jobs in flight locally (never on the service): with a journal a rerun
    picks them up.

    Raises:
        ValueError: for ``max_running`` < 1, a repeated key, or a job without a key when a
            journal is given.
    """
    if max_running is not None and max_running < 1:
        raise ValueError(f"max_running must be at least 1, got {max_running}")
    run = _Run(
        tasks=tasks,
        journal=journal,
        resubmit_uncertain=resubmit_uncertain,
        timeout=timeout,
        poll=poll,
        on_result=on_result,
        on_update=on_update,
    )
    queue = run.prepare(jobs)
    queue.reverse()
    limit = max_running or max(1, len(queue))
    active: set[asyncio.Task[SubmitOutcome[Any]]] = set()
    loop = asyncio.get_running_loop()
    try:
        while queue or active:
            while queue and len(active) < limit:
                index, key, job = queue.pop()
                active.add(loop.create_task(run.one(index, key, job)))
            done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
            active -= done
            # A journal failure propagates: submit-once can no longer be promised.
            errors = [error for error in (task.exception() for task in done) if error]
            if errors:
                raise errors[0]
            for outcome in sorted((task.result() for task in done), key=lambda o: o.index):
                yield outcome
    finally:
        for task in active:
            task.cancel()
        if active:
            await asyncio.wait(active)


@attrs.define(kw_only=True)
class _Run:
    """One ``submit_many`` call's settings, and the life of one job under them."""

    tasks: Tasks
    journal: Journal | None
    resubmit_uncertain: bool
    timeout: float | None
    poll: PollPolicy | None
    on_result: OnResult | None
    on_update: OnUpdate | None

    def prepare(self, jobs: Iterable[Job | Submit]) -> list[tuple[int, str, Job]]:
        prepared: list[tuple[int, str, Job]] = []
        seen: set[str] = set()
        for index, item in enumerate(jobs):
            job = item if isinstance(item, Job) else Job(submit=item)
            if job.key is None and self.journal is not None:
                raise ValueError(f"job {index} has no key: every job needs one with a journal")
            key = str(index) if job.key is None else job.key
            if key in seen:
                raise ValueError(f"job {index} repeats the key {key!r}: keys must be unique")
            seen.add(key)
            prepared.append((index, key, job))
        return prepared

    def _tell(self, key: str, status: str, handle: TaskHandle[Any] | None = None) -> None:
        if self.on_update is not None:
            try:
                self.on_update(key, status, handle)
            except Exception:  # a progress display must not stop the jobs
                logger.exception("submit_many's on_update failed (%r); continuing", key)

    async def _record(self, entry: JournalEntry, **changes: Any) -> JournalEntry:
        entry = attrs.evolve(entry, updated_at=time.time(), **changes)
        if self.journal is not None:
            await self.journal.update(entry)
        return entry

    async def one(self, index: int, key: str, job: Job) -> SubmitOutcome[Any]:
        intent = JournalEntry(key=key, status="submitting", meta=dict(job.meta), attempts=1)
        found = await self.journal.claim(intent) if self.journal is not None else None
        if found is None:
            entry = intent
        elif found.ref is not None and (found.status == "accepted" or found.status in FINISHED):
            try:
                handle = self.tasks.resume(found.ref)
            except ValueError as exc:  # a kind this client does not know: never re-submit
                unknown = ValueError(f"job {key!r} was accepted earlier as {found.ref}: {exc}")
                return _ended(index, found, error=unknown)
            self._tell(key, "resumed", handle)
            return await self._wait(index, found, handle)
        elif found.status in UNCERTAIN and not self.resubmit_uncertain:
            self._tell(key, "uncertain")
            error = SubmissionUncertainError(
                f"job {key!r} may already have been submitted (its submit was cut off); "
                "not sent again: resubmit uncertain jobs to send it anyway"
            )
            return SubmitOutcome(
                key=key, index=index, status="uncertain", error=error, attempts=found.attempts
            )
        else:  # refused before (nothing billed), or uncertain and the caller said re-send
            entry = await self._record(
                found, status="submitting", error=None, attempts=found.attempts + 1
            )
        self._tell(key, "submitting")
        try:
            handle = await job.submit()
        except SubmissionUncertainError as exc:
            entry = await self._record(entry, status="uncertain", error=_describe(exc))
            self._tell(key, "uncertain")
            return _ended(index, entry, error=exc)
        except Exception as exc:
            entry = await self._record(entry, status="refused", error=_describe(exc))
            self._tell(key, "refused")
            return _ended(index, entry, error=exc)
        entry = await self._record(entry, status="accepted", ref=dict(handle.ref), error=None)
        self._tell(key, "accepted", handle)
        return await self._wait(index, entry, handle)

    async def _wait(
        self, index: int, entry: JournalEntry, handle: TaskHandle[Any]
    ) -> SubmitOutcome[Any]:
        done = entry.status in FINISHED  # ended in an earlier run: read again, not redone
        try:
            result = await handle.wait(timeout=self.timeout, poll=self.poll)
        except (TaskFailedError, TaskCancelledError) as exc:
            if not done:
                status: JournalStatus = (
                    "failed" if isinstance(exc, TaskFailedError) else "cancelled"
                )
                entry = await self._record(entry, status=status, error=_describe(exc))
                self._tell(entry.key, status, handle)
            return _ended(index, entry, handle=handle, error=exc)
        except Exception as exc:  # timed out, or the wait stopped: the job may still finish
            self._tell(entry.key, "unfinished", handle)
            return _ended(index, entry, handle=handle, error=exc)
        if done:  # on_result ran then: its outcome is in the entry
            return _ended(index, entry, handle=handle, result=result)
        outcome: Mapping[str, Any] | None = None
        if self.on_result is not None:
            try:
                outcome = await self.on_result(handle, result)
            except Exception as exc:
                self._tell(entry.key, "unfinished", handle)
                return _ended(index, entry, handle=handle, result=result, error=exc)
        entry = await self._record(
            entry, status="succeeded", error=None, outcome=dict(outcome or {}) or None
        )
        self._tell(entry.key, "succeeded", handle)
        return _ended(index, entry, handle=handle, result=result)


def _ended(
    index: int,
    entry: JournalEntry,
    *,
    handle: TaskHandle[Any] | None = None,
    result: Any = None,
    error: BaseException | None = None,
) -> SubmitOutcome[Any]:
    return SubmitOutcome(
        key=entry.key,
        index=index,
        status=entry.status,
        handle=handle,
        result=result,
        error=error,
        outcome=entry.outcome,
        attempts=entry.attempts,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
