"""The emulator's kit for task families: jobs on the emulator clock, stores, lifecycles, lookups.

A task family module (:mod:`._luma` is the worked example) keeps its paths written out and its
own answer shapes, and takes the rest from here:

- :class:`JobStore` — one family's (one flavour's) jobs, kept across emulator restarts, each a
  :class:`Job` stamped with the emulator clock; ``store.phase(job)`` is its :func:`lifecycle`
  phase under the family's duration (``Emulator(durations={...})``);
- :func:`by_id` / :func:`by_ids` — the status routes: one id (query string or path) answering
  ``task_not_exist`` when unknown, or many ids in a JSON body answering the known ones;
- :func:`answer` — a view, inside the task envelope or bare;
- :func:`task_route` — a handler whose :class:`~._validate.Invalid` becomes the task relays'
  400 ``invalid_request``; request checks come from :mod:`._validate`.

Facts (new-api ``relay/relay_task.go``, ``dto/task.go``): an unknown or another user's id
answers HTTP 400 ``{"code": "task_not_exist", "message": "task_not_exist", "data": null}``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from aiohttp import web

from . import _magic as magic
from ._http import json_response, task_envelope, task_error
from ._validate import Invalid, request_object, task_invalid

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = [
    "FAILURE_REASON",
    "PENDING_SECONDS",
    "Job",
    "JobStore",
    "Phase",
    "answer",
    "asks_to_fail",
    "by_id",
    "by_ids",
    "lifecycle",
    "path_id",
    "query_id",
    "task_not_exist",
    "task_route",
]

#: How long a new job stays ``pending`` before it starts running.
PENDING_SECONDS: Final = 2.0
#: The failure reason of a job whose prompt asked to fail (see :func:`asks_to_fail`).
FAILURE_REASON: Final = magic.FAILURE_REASON

Phase = Literal["pending", "running", "done"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def lifecycle(elapsed: float, duration: float) -> tuple[Phase, int | None]:
    """Where a job is, ``elapsed`` emulator seconds after its submit.

    Returns ``(phase, estimate_wait_seconds)``:

    - ``0 <= elapsed < 2`` (:data:`PENDING_SECONDS`): ``"pending"``;
    - then until ``duration``: ``"running"``;
    - from ``duration`` on: ``"done"`` (succeeded, or failed for a job that asked to).

    The estimate is the whole seconds left, rounded up, and None once done. A duration
    of 2 s or less goes straight from pending to done.
    """
    if elapsed >= duration:
        return "done", None
    phase: Phase = "pending" if elapsed < PENDING_SECONDS else "running"
    # Rounded first so that float noise from advance() steps cannot add a second.
    return phase, max(1, math.ceil(round(duration - elapsed, 6)))


def asks_to_fail(prompt: str) -> bool:
    """Whether a prompt carries the magic word ``[fail]`` (``Emulator.FAIL``): such jobs end
    failed. Ordinary words ("failing", "fail-safe") do not count."""
    return magic.wants_failure(prompt)


@attrs.define(kw_only=True)
class Job:
    """One job: its id, when it was submitted, whether it fails, and the family's own fields."""

    id: str
    created: float  # emulator clock at submit
    created_at: str  # the same instant as the service writes it
    fails: bool = False
    fields: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class _AllJobs:
    """Every family's jobs by store name; kept by the emulator across restarts."""

    by_store: dict[str, dict[str, Job]] = attrs.field(factory=dict)


class JobStore:
    """The jobs of one family flavour (``"lumvip"``), timed by one duration (``"luma"``).

    Jobs of one store are unknown to every other store.
    """

    def __init__(self, emu: Emulator, name: str, *, duration: str | None = None) -> None:
        self._emu = emu
        self.name = name
        self.duration_key = duration or name
        self._jobs = emu._family_state(_AllJobs).by_store.setdefault(name, {})

    def create(self, *, prompt: str = "", job_id: str | None = None, **fields: Any) -> Job:
        """A new job submitted now; it fails at the end if ``prompt`` asks to."""
        now = self._emu.now
        job = Job(
            id=job_id or str(uuid.uuid4()),
            created=now,
            created_at=self._emu.timestamp(now),
            fails=asks_to_fail(prompt),
            fields={"prompt": prompt, **fields},
        )
        self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def phase(self, job: Job) -> tuple[Phase, int | None]:
        """The job's :func:`lifecycle` phase, and the seconds left as clients should read them
        (real seconds when the clock runs: ``Emulator.client_seconds``)."""
        phase, left = lifecycle(self._emu.now - job.created, self._emu.duration(self.duration_key))
        return phase, None if left is None else self._emu.client_seconds(left)


# --------------------------------------------------------------------------- answers


def answer(view: Any, *, envelope: bool) -> web.Response:
    """``view`` as JSON, inside the task envelope ``{"code": "success", …}`` or bare."""
    return json_response(task_envelope(view) if envelope else view)


def task_not_exist() -> web.Response:
    """The task relays' answer to an unknown id."""
    return task_error(400, "task_not_exist")


def task_route(handler: Handler) -> Handler:
    """``handler`` with :class:`~._validate.Invalid` answered as the task relays' 400."""

    async def route(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Invalid as exc:
            return task_invalid(exc)

    return route


# --------------------------------------------------------------------------- status routes


def query_id(name: str = "id") -> Callable[[web.Request], str]:
    """Read the job id from the query string parameter ``name`` (``/luma/task?id=…``)."""
    return lambda request: request.query.get(name, "")


def path_id(name: str = "id") -> Callable[[web.Request], str]:
    """Read the job id from the path placeholder ``{name}`` (``/mj/task/{id}/fetch``)."""
    return lambda request: request.match_info.get(name, "")


def by_id(
    store: JobStore,
    view: Callable[[Job], Any],
    *,
    envelope: bool,
    job_id: Callable[[web.Request], str] | None = None,
    not_found: Callable[[], web.Response] = task_not_exist,
) -> Handler:
    """The status route of one job: its ``view`` (enveloped or not), or ``not_found()``.

    ``job_id`` reads the id from the request (default :func:`query_id` ``("id")``).
    """
    read_id = job_id or query_id()

    async def route(request: web.Request) -> web.StreamResponse:
        job = store.get(read_id(request))
        return not_found() if job is None else answer(view(job), envelope=envelope)

    return route


def by_ids(
    store: JobStore, view: Callable[[Job], Any], *, envelope: bool, ids_field: str = "ids"
) -> Handler:
    """The batch status route: a JSON body ``{ids_field: [id, …]}`` answers the list of the
    known jobs' views, in the order asked (unknown ids are left out, as new-api's
    ``GetByTaskIds`` does)."""

    async def route(request: web.Request) -> web.StreamResponse:
        body = await request_object(request)
        ids = body.get(ids_field)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise Invalid(f"{ids_field} must be a list of ids", ids_field)
        jobs = [job for job in map(store.get, ids) if job is not None]
        return answer([view(job) for job in jobs], envelope=envelope)

    return task_route(route)
