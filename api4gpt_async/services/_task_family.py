"""One base for every task family: a family is its status model, a reader and its submits.

A family subclasses :class:`TaskFamily` and writes:

- ``name`` (the default flavour), ``status_model`` (its attrs status class) and ``id_field``
  (where a status carries its job id, default ``"id"``);
- ``status_query`` (a :class:`StatusQuery`) and, where the API has one, ``batch_query`` (a
  :class:`BatchQuery`): how jobs are looked up, as data;
- ``read(status) -> TaskSnapshot`` (use :meth:`TaskFamily.snapshot` to fill id, kind and raw);
- optionally ``result`` (default: the status itself), ``media_url``, ``media_urls`` and
  ``cancel``;
- ``submit_answer``: ``"status"`` (a submit answers the new job's status, the default) or
  ``"id"`` (only its id: a string, a number, or an object's ``id_field``);
- its submit methods, each ending in ``return await self._submit("generate", body, timeout)``.

The base does the rest once: wiring from one :class:`ServiceContext`, path lookup per flavour
(``"<flavour>.<key>"`` in the client's path table), kind registration, the billable submit →
structure → snapshot → handle, ``get(id)``, ``get_many(ids)`` and ``task(id)``.
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

import attrs

from .._convert import structure
from .._paths import id_text, request_path
from .._raw_response import WithRawResponse
from .._task_kind import MediaFile, TaskKind, TaskSnapshot, TaskState, main_file
from .._transport import unwrap_envelope
from ..errors import NotFoundError, ResponseDecodeError, UnsupportedOperation
from ._common import ServiceContext

if TYPE_CHECKING:
    from .._task_handle import TaskHandle
    from .._transport import EnvelopeStyle, Reply

__all__ = [
    "BatchQuery",
    "FamilyKind",
    "ServiceContext",
    "StatusQuery",
    "TaskFamily",
    "id_answer",
]

S = TypeVar("S")  # the family's status model
R = TypeVar("R")  # the family's result

Method = Literal["GET", "POST"]


@attrs.frozen(kw_only=True)
class StatusQuery:
    """How one job's status is asked for.

    ``path`` is the key after the flavour in the path table (``"task"`` → ``"luma.task"``).
    With ``id_param`` the id goes in that query-string parameter (``GET /luma/task?id=<id>``);
    without it the path holds an ``{id}`` placeholder (``GET /mj/task/{id}/fetch``).
    ``envelope``: the answer may come in the task envelope ``{"code", "message", "data"}``
    (``True``, or another ``EnvelopeStyle`` such as ``"midjourney"``: see
    ``_transport.unwrap_envelope``)
    (bare answers pass through unchanged). ``job_field``: a status carrying an ``error``
    object next to this field (Zhipu's ``task_status: FAIL``) describes a failed *job*, so it
    is read as the job's status, not raised as a failed request.
    """

    path: str = "task"
    method: Method = "GET"
    id_param: str | None = "id"
    envelope: bool | EnvelopeStyle = True
    job_field: str | None = None


@attrs.frozen(kw_only=True)
class BatchQuery:
    """A status query for many jobs at once, folded in by the client's scheduler.

    Sends ``{ids_field: [id, …]}`` as the JSON body (``POST``) or ``ids_field=id,id,…`` in the
    query string (``GET``) to the path key ``path``, at most ``size`` ids per request. The
    answer (inside the envelope when ``envelope``) is a list of statuses, or an object whose
    ``list_field`` is that list; each status is keyed by its family's ``id_field``. Ids the
    answer leaves out are then asked for one by one. Examples: Midjourney ``POST
    /mj/task/list-by-condition`` ``{"ids": […]}`` → a bare list; Suno ``POST /suno/fetch``
    ``{"ids": […]}`` → the envelope around a list.
    """

    path: str
    method: Method = "POST"
    ids_field: str = "ids"
    size: int = attrs.field(default=20, validator=attrs.validators.ge(2))
    envelope: bool | EnvelopeStyle = True
    list_field: str | None = None


def id_answer(data: Any, request_id: str | None) -> str:
    """The new job's id from a submit that answers only the id (a string, or a number).

    Raises ``ResponseDecodeError`` for anything else: without an id the job cannot be followed.
    """
    if isinstance(data, (str, int)) and not isinstance(data, bool) and str(data):
        return str(data)
    raise ResponseDecodeError(
        f"the submit answer carries no task id: {data!r}", body=data, request_id=request_id
    )


class TaskFamily(WithRawResponse, Generic[S, R]):
    """The base of every task family service (``client.luma``, ``client.lumvip``, …)."""

    #: The kind name (also the flavour, the prefix of this family's path keys).
    name: ClassVar[str] = ""
    #: The status model answers are structured into.
    status_model: ClassVar[type[Any]]
    #: How submit answers are wrapped (``True``: the task envelope; see ``unwrap_envelope``).
    submit_envelope: ClassVar[bool | EnvelopeStyle] = True
    #: Where a status carries its job id (attribute of the model, key of the raw answer).
    id_field: ClassVar[str] = "id"
    #: What a submit answers: the new job's ``"status"``, or only its ``"id"``.
    submit_answer: ClassVar[Literal["status", "id"]] = "status"
    status_query: ClassVar[StatusQuery] = StatusQuery()
    batch_query: ClassVar[BatchQuery | None] = None

    def __init__(self, context: ServiceContext, flavour: str | None = None) -> None:
        self._context = context
        self._transport = context.transport
        self._tasks = context.tasks
        self.flavour: str = flavour or self.name
        self._status_key = f"{self.flavour}.{self.status_query.path}"
        self._kind: FamilyKind[S, R] = FamilyKind(self)
        context.tasks.register(self._kind)

    # -- what a family writes ----------------------------------------------------------------

    def read(self, status: S) -> TaskSnapshot[S]:
        """One status as a ``TaskSnapshot`` (see :meth:`snapshot`)."""
        raise NotImplementedError

    def result(self, status: S) -> R:
        """The result of a succeeded job; by default its status model."""
        return cast(R, status)

    def media_url(self, result: R) -> str | None:
        """The main media file of a finished job, for ``TaskHandle.download``."""
        return None

    def media_urls(self, result: R) -> list[MediaFile]:
        """Every media file of a finished job, for ``TaskHandle.download_all``."""
        return main_file(self.media_url(result))

    def suggested_input(self, status: S) -> str | None:
        """For a job that ``needs_action``: the input the service suggests (a prompt), if any."""
        return None

    async def cancel(self, task_id: str) -> object:
        """Cancel a job on the service; ``UnsupportedOperation`` unless the family has a way.

        A family may return what its API answers (``TaskHandle.cancel`` ignores it).
        """
        raise UnsupportedOperation(f"{self.flavour} jobs cannot be cancelled on the service")

    # -- public methods every family has -------------------------------------------------------

    async def get(self, task_id: str, *, timeout: float | None = None) -> S:
        """The job as it is now (one status query, no waiting): the family's status model.

        Raises ``NotFoundError`` for an id the service does not know, ``ResponseDecodeError``
        for an answer that is not a status, and the transport's errors (``APIError`` family);
        before sending anything, ``TypeError`` for an id that is no string and ``ValueError``
        for one no request can carry (``""``; ``"."`` or ``".."`` where the id is in the path).
        """
        query = self.status_query
        id_param = query.id_param
        reply = await request_path(  # the hot path of every wait: no layer in between
            self._transport,
            self._context.paths,
            self._status_key,
            query.method,
            path_params={"id": task_id} if id_param is None else None,
            params=None if id_param is None else {id_param: id_text("id", task_id)},
            envelope=query.envelope,
            job_field=query.job_field,
            timeout=timeout,
        )
        return cast(S, structure(reply.data, self.status_model, request_id=reply.request_id))

    async def get_many(
        self, task_ids: Sequence[str], *, timeout: float | None = None
    ) -> builtins.list[S]:
        """Many jobs as they are now, in the order asked (each id once); ids the service does
        not know (or that are another user's) are left out.

        One request per ``batch_query.size`` ids where the family has a batch query (Midjourney
        ``list-by-condition``, Suno ``POST /suno/fetch``), else one :meth:`get` per id.
        Raises what the queries raise, but not ``NotFoundError`` for an unknown id; an id
        that is no string (``TypeError``) or empty (``ValueError``) before anything is sent.
        """
        asked = builtins.list(dict.fromkeys(id_text("id", task_id) for task_id in task_ids))
        found: dict[str, S] = {}
        batch = self.batch_query
        if batch is not None:
            for start in range(0, len(asked), batch.size):
                chunk = asked[start : start + batch.size]
                found.update(await self._get_many(chunk, timeout=timeout))
        else:
            for task_id in asked:
                with contextlib.suppress(NotFoundError):
                    found[task_id] = await self.get(task_id, timeout=timeout)
        return [found[i] for i in asked if i in found]

    def task(self, task_id: str) -> TaskHandle[R]:
        """Re-attach to a job by id (no request is made; an unknown id shows when waited on)."""
        return self._tasks.handle(self._kind, task_id)

    # -- helpers for families --------------------------------------------------------------

    def path(self, key: str) -> str:
        """This flavour's path for ``key`` (``"generate"`` → ``paths["lumvip.generate"]``)."""
        return self._context.paths[f"{self.flavour}.{key}"]

    def _request(
        self,
        key: str,
        method: str,
        *,
        path_params: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Awaitable[Reply]:
        """One request to this flavour's endpoint ``key`` (``{id}`` filled from
        ``path_params``), its candidate paths tried safely (see ``_paths``); await it."""
        return request_path(
            self._transport,
            self._context.paths,
            f"{self.flavour}.{key}",
            method,
            path_params=path_params,
            **kwargs,
        )

    def id_of(self, status: S) -> str:
        """The job id a status carries (its ``id_field``)."""
        return str(getattr(status, self.id_field))

    def snapshot(
        self,
        status: S,
        state: TaskState,
        *,
        progress: float | None = None,
        eta_seconds: float | None = None,
        failure_reason: str | None = None,
        needs_action: bool = False,
    ) -> TaskSnapshot[S]:
        """A snapshot of ``status`` with this family's kind and the status's id filled in.

        A progress or ETA that is no finite figure (``NaN``, infinity, a negative wait) is
        unknown: None, as when the service sends none. Progress is kept within 0.0–1.0.
        """
        if progress is not None:
            progress = min(max(progress, 0.0), 1.0) if math.isfinite(progress) else None
        if eta_seconds is not None and not (math.isfinite(eta_seconds) and eta_seconds >= 0):
            eta_seconds = None
        return TaskSnapshot(
            id=self.id_of(status),
            kind=self.flavour,
            state=state,
            raw=status,
            progress=progress,
            eta_seconds=eta_seconds,
            failure_reason=failure_reason,
            needs_action=needs_action,
        )

    async def _submit(
        self, key: str, body: Mapping[str, Any], timeout: float | None, *, path: str | None = None
    ) -> TaskHandle[R]:
        """POST a billable submit to the path ``key`` (or ``path`` as given) and return the new
        job's handle.

        The answer (unwrapped as ``submit_envelope`` says) is read by :meth:`submitted`.
        """
        if path is not None:
            reply = await self._transport.request(
                "POST", path, json_body=body, billable=True,
                envelope=self.submit_envelope, timeout=timeout,
            )  # fmt: skip
        else:
            reply = await self._request(
                key, "POST", json_body=body, billable=True,
                envelope=self.submit_envelope, timeout=timeout,
            )  # fmt: skip
        task_id, status = self.submitted(reply.data, reply.request_id)
        snap = self._kind.snapshot(task_id, status) if status is not None else None
        return self._tasks.handle(self._kind, task_id, snap)

    def submitted(self, data: Any, request_id: str | None) -> tuple[str, S | None]:
        """The job id and (when the answer has one) status of a submit answer.

        As ``submit_answer`` says: the new job's status, or only its id (``(id, None)``: a
        string or number, or an object's ``id_field``; else ``ResponseDecodeError``).
        """
        if self.submit_answer == "id":
            if isinstance(data, Mapping):
                data = data.get(self.id_field)
            return id_answer(data, request_id), None
        status = cast(S, structure(data, self.status_model, request_id=request_id))
        return self.id_of(status), status

    async def _get_many(
        self, task_ids: Sequence[str], *, timeout: float | None = None
    ) -> Mapping[str, S]:
        query = self.batch_query
        assert query is not None
        ids = list(task_ids)
        if query.method == "GET":
            reply = await self._request(
                query.path, "GET", params={query.ids_field: ",".join(ids)},
                envelope=query.envelope, timeout=timeout,
            )  # fmt: skip
        else:
            reply = await self._request(
                query.path, "POST", json_body={query.ids_field: ids},
                envelope=query.envelope, timeout=timeout,
            )  # fmt: skip
        items = reply.data
        if query.list_field is not None and isinstance(items, Mapping):
            items = items.get(query.list_field)
        if not isinstance(items, list):
            raise ResponseDecodeError(
                f"{self.flavour} batch query answered {type(items).__name__}, not a list",
                request_id=reply.request_id,
            )
        statuses: dict[str, S] = {}
        for item in items:
            status = cast(S, structure(item, self.status_model, request_id=reply.request_id))
            statuses[self.id_of(status)] = status
        return statuses


class FamilyKind(TaskKind[S, R]):
    """The ``TaskKind`` of a family: every question answered by the family's service."""

    def __init__(self, family: TaskFamily[S, R]) -> None:
        super().__init__(family._transport)
        self.family = family
        self.name = family.flavour
        batch = family.batch_query
        self.batch_size = batch.size if batch is not None else 1

    async def fetch(self, task_id: str, *, timeout: float | None = None) -> S:
        return await self.family.get(task_id, timeout=timeout)

    async def fetch_many(self, task_ids: Sequence[str]) -> Mapping[str, S]:
        return await self.family._get_many(task_ids)

    def parse(self, data: object) -> tuple[str, S]:
        style = self.family.status_query.envelope
        if style:
            data = unwrap_envelope(data, None, "task" if style is True else style)
        status = cast(S, structure(data, self.family.status_model))
        return self.family.id_of(status), status

    def snapshot(self, task_id: str, status: S) -> TaskSnapshot[S]:
        snap = self.family.read(status)
        return snap if snap.id == task_id else attrs.evolve(snap, id=task_id)

    def result(self, status: S) -> R:
        return self.family.result(status)

    def media_url(self, result: R) -> str | None:
        return self.family.media_url(result)

    def media_urls(self, result: R) -> list[MediaFile]:
        return self.family.media_urls(result)

    def suggested_input(self, status: S) -> str | None:
        return self.family.suggested_input(status)

    async def cancel(self, task_id: str) -> None:
        await self.family.cancel(task_id)
