"""The task family base: a toy family declared as data runs end to end against the emulator.

The toy family looks like the ones to come: its submit answers only an id (in the envelope),
its status query has the id in the path and answers bare, and its batch query takes
``{"ids": [...]}`` and answers the envelope around a list keyed by ``task_id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from api4gpt_async import APIStatusError, AsyncAPI4GPT, TaskState, UnsupportedOperation
from api4gpt_async.models._base import Model
from api4gpt_async.services._common import ServiceContext
from api4gpt_async.services._task_family import BatchQuery, StatusQuery, TaskFamily
from api4gpt_async.tasks import TaskSnapshot, state_from_text
from api4gpt_async.testing import Emulator, _emulator
from api4gpt_async.testing._jobs import Job, JobStore, answer, by_id, by_ids, path_id, task_route
from api4gpt_async.testing._validate import request_object, required_param

pytestmark = pytest.mark.anyio

# --------------------------------------------------------------------------- emulator side


def _register_toy(emu: Emulator, app: web.Application) -> None:
    store = JobStore(emu, "toy")

    def view(job: Job) -> dict[str, Any]:
        phase, _ = store.phase(job)
        status = {"pending": "NOT_START", "running": "IN_PROGRESS"}.get(phase, "SUCCESS")
        return {"task_id": job.id, "status": status, "prompt": job.fields["prompt"]}

    async def submit(request: web.Request) -> web.Response:
        body = await request_object(request)
        return answer(store.create(prompt=required_param(body, "prompt")).id, envelope=True)

    app.router.add_post("/toy/submit", task_route(submit), name="toy.submit")
    task = by_id(store, view, envelope=False, job_id=path_id())
    app.router.add_get("/toy/task/{id}", task, name="toy.task")
    app.router.add_post("/toy/fetch", by_ids(store, view, envelope=True), name="toy.fetch")


# --------------------------------------------------------------------------- SDK side


@attrs.frozen(kw_only=True)
class ToyStatus(Model):
    task_id: str
    status: str | None = None
    prompt: str | None = None


class ToyService(TaskFamily[ToyStatus, ToyStatus]):
    name = "toy"
    status_model = ToyStatus
    id_field = "task_id"
    status_query = StatusQuery(path="task", id_param=None, envelope=False)
    batch_query = BatchQuery(path="fetch", size=10)

    def read(self, status: ToyStatus) -> TaskSnapshot[ToyStatus]:
        return self.snapshot(status, state_from_text(status.status, kind=self.flavour))

    def submitted(self, data: Any, request_id: str | None) -> tuple[str, ToyStatus | None]:
        return str(data), None

    async def make(self, prompt: str) -> Any:
        return await self._submit("submit", {"prompt": prompt}, None)


PATHS = {"toy.submit": "/toy/submit", "toy.task": "/toy/task/{id}", "toy.fetch": "/toy/fetch"}


@pytest.fixture
async def toy(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Emulator, AsyncAPI4GPT, ToyService]]:
    monkeypatch.setattr(_emulator, "FAMILIES", (*_emulator.FAMILIES, _register_toy))
    async with Emulator(time_scale=0, durations={"toy": 20}) as emu, emu.client() as client:
        context = ServiceContext(transport=client._transport, tasks=client.tasks, paths=PATHS)
        yield emu, client, ToyService(context)


async def test_waiting_jobs_are_polled_through_the_batch_query(
    toy: tuple[Emulator, AsyncAPI4GPT, ToyService],
) -> None:
    emu, client, service = toy
    handles = [await service.make(f"job {i}") for i in range(25)]
    assert all(h.last is None for h in handles)  # the submit answered an id only
    emu.advance(20)  # the toy duration
    results = await client.tasks.gather(handles)
    assert [r.prompt for r in results if isinstance(r, ToyStatus)] == [
        f"job {i}" for i in range(25)
    ]
    batches = [r.json["ids"] for r in emu.requests if r.route == "toy.fetch"]
    assert sorted(len(b) for b in batches) == [5, 10, 10]
    assert emu.count("toy.task") == 0


async def test_get_puts_the_id_in_the_path_and_task_resume_need_no_request(
    toy: tuple[Emulator, AsyncAPI4GPT, ToyService],
) -> None:
    emu, client, service = toy
    handle = await service.make("one")
    emu.advance(5)
    status = await service.get(handle.id)
    assert (status.task_id, status.status) == (handle.id, "IN_PROGRESS")
    (request,) = [r for r in emu.requests if r.route == "toy.task"]
    assert request.path == f"/toy/task/{handle.id}"
    count = len(emu.requests)
    again, resumed = service.task(handle.id), client.tasks.resume(handle.ref)  # registered
    assert (again.kind, resumed.kind, len(emu.requests)) == ("toy", "toy", count)
    snap = await resumed.refresh()
    assert (snap.id, snap.state) == (handle.id, TaskState.RUNNING)
    with pytest.raises(UnsupportedOperation, match="toy jobs cannot be cancelled"):
        await again.cancel()


async def test_unknown_ids_are_task_not_exist_and_left_out_of_batches(
    toy: tuple[Emulator, AsyncAPI4GPT, ToyService],
) -> None:
    emu, client, service = toy
    with pytest.raises(APIStatusError) as info:
        await service.get("no-such-id")
    assert (info.value.status, info.value.code) == (400, "task_not_exist")
    known = await service.make("known")
    emu.advance(20)
    outcomes = [o async for o in client.tasks.as_completed([known, service.task("gone")])]
    assert {o.handle.id: o.ok for o in outcomes} == {known.id: True, "gone": False}
    # the batch answer left "gone" out, so it was asked for alone, which gave the error
    assert [r.json["ids"] for r in emu.requests if r.route == "toy.fetch"] == [[known.id, "gone"]]
    singles = [r.path for r in emu.requests if r.route == "toy.task"]
    assert singles == ["/toy/task/no-such-id", "/toy/task/gone"]


async def test_the_emulator_batch_route_checks_its_body(
    toy: tuple[Emulator, AsyncAPI4GPT, ToyService],
) -> None:
    emu, _, _ = toy
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with aiohttp.ClientSession(emu.base_url, headers=headers) as http:
        for body in ({}, {"ids": "x"}, {"ids": [1]}):
            async with http.post("/toy/fetch", json=body) as response:
                answer = await response.json()
            assert (response.status, answer["code"]) == (400, "invalid_request")
            assert answer["message"] == "ids must be a list of ids"
