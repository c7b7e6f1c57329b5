"""The task family base's queries as data, each variant on the wire: a GET batch query with the
ids in the query string, a list under ``list_field``, a batch answer that is not a list, the id
in a query parameter of its own name, a submit to an explicit path, and an id-only submit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from _loopback import serve
from aiohttp import web

from api4gpt_async import (
    AsyncAPI4GPT,
    ContentPolicyError,
    Hooks,
    RateLimitError,
    RequestEvent,
    ResponseDecodeError,
    UnsupportedOperation,
)
from api4gpt_async.models._base import Model
from api4gpt_async.services._common import ServiceContext
from api4gpt_async.services._task_family import BatchQuery, StatusQuery, TaskFamily, id_answer
from api4gpt_async.tasks import TaskSnapshot, TaskState

pytestmark = pytest.mark.anyio


@attrs.frozen(kw_only=True)
class JobStatus(Model):
    job: str
    status: str | None = None


class GetBatch(TaskFamily[JobStatus, JobStatus]):
    name = "gb"
    status_model = JobStatus
    id_field = "job"
    status_query = StatusQuery(path="one", id_param="job_id", envelope=False)
    batch_query = BatchQuery(
        path="many", method="GET", ids_field="job_ids", size=3, envelope=False, list_field="items"
    )

    def read(self, status: JobStatus) -> TaskSnapshot[JobStatus]:
        return self.snapshot(status, TaskState.RUNNING, progress=0.25, eta_seconds=9.0)


class Seen:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.many: Any = None
        self.submit: Any = None  # what /answer/submit answers
        self.events: list[RequestEvent] = []  # what the client's on_request hook saw


def app_for(seen: Seen) -> web.Application:
    async def one(request: web.Request) -> web.Response:
        seen.requests.append((request.method, request.path, dict(request.query), None))
        return web.json_response({"job": request.query.get("job_id"), "status": "running"})

    async def many(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.requests.append((request.method, request.path, dict(request.query), body))
        if seen.many is not None:
            return web.json_response(seen.many, headers={"X-Oneapi-Request-Id": "rq-5"})
        ids = request.query["job_ids"].split(",")
        return web.json_response({"items": [{"job": i, "status": "running"} for i in ids]})

    async def submit(request: web.Request) -> web.Response:
        body = await request.json()
        seen.requests.append((request.method, request.path, dict(request.query), body))
        return web.json_response({"job": "new-1", "status": "queued"})

    async def throttled(request: web.Request) -> web.Response:
        seen.requests.append((request.method, request.path, dict(request.query), None))
        return web.json_response(
            {"error": {"message": "slow down"}}, status=429, headers={"retry-after-ms": "3000"}
        )

    async def enveloped(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.requests.append((request.method, request.path, dict(request.query), body))
        ids = body["ids"] if body else request.query["ids"].split(",")
        return web.json_response({"code": "success", "data": [{"job": i} for i in ids]})

    async def answer(request: web.Request) -> web.Response:
        seen.requests.append((request.method, request.path, dict(request.query), None))
        return web.json_response(seen.submit, headers={"X-Oneapi-Request-Id": "rq-7"})

    async def by_path(request: web.Request) -> web.Response:
        seen.requests.append((request.method, request.path, dict(request.query), None))
        return web.json_response({"job": request.match_info["id"], "status": "running"})

    app = web.Application()
    app.router.add_get("/pf/{id}", by_path)
    app.router.add_post("/answer/submit", answer)
    app.router.add_get("/gb/one", one)
    app.router.add_route("*", "/slow/{rest:.*}", throttled)
    app.router.add_route("*", "/env/many", enveloped)
    app.router.add_route("*", "/gb/many", many)
    app.router.add_post("/elsewhere/submit", submit)
    app.router.add_post("/gb/submit", submit)
    return app


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Seen, AsyncAPI4GPT, GetBatch]]:
    seen = Seen()
    paths = {
        "gb.one": "/gb/one",
        "gb.many": "/gb/many",
        "gb.submit": "/gb/submit",
        "pf.one": "/pf/{id}",
        "getenv.many": "/env/many",
        "postenv.many": "/env/many",
        **{
            f"slow{m}.{key}": f"/slow/{key}" for m in ("get", "post", "") for key in ("one", "many")
        },
    }
    async with (
        serve(app_for(seen)) as url,
        AsyncAPI4GPT(
            api_key="k", base_url=url, hooks=Hooks(on_request=seen.events.append)
        ) as client,
    ):
        context = ServiceContext(transport=client._transport, tasks=client.tasks, paths=paths)
        yield seen, client, GetBatch(context)


async def test_a_get_batch_query_joins_ids_and_reads_the_list_field(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    statuses = await family._kind.fetch_many(["a", "b", "c"])
    assert {k: v.status for k, v in statuses.items()} == dict.fromkeys("abc", "running")
    assert seen.requests == [("GET", "/gb/many", {"job_ids": "a,b,c"}, None)]
    assert family._kind.batch_size == 3


@pytest.mark.parametrize("answer", [{"items": "nope"}, {"other": []}, "text", 42])
async def test_a_batch_answer_that_is_no_list_is_a_decode_error(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch], answer: Any
) -> None:
    seen, _, family = wired
    seen.many = answer
    with pytest.raises(ResponseDecodeError, match=r"^gb batch query answered \w+, not a list") as e:
        await family._kind.fetch_many(["a"])
    assert e.value.request_id == "rq-5"


async def test_the_id_goes_in_its_own_query_parameter(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    status = await family._kind.fetch("j-9")
    assert status == JobStatus(job="j-9", status="running")
    assert seen.requests == [("GET", "/gb/one", {"job_id": "j-9"}, None)]
    snap = family._kind.snapshot("other-id", status)  # the handle's id wins over the status's
    assert (snap.id, snap.kind, snap.progress, snap.eta_seconds) == ("other-id", "gb", 0.25, 9.0)
    assert (snap.failure_reason, snap.needs_action, snap.raw) == (None, False, status)
    assert family._kind.snapshot("j-9", status).id == "j-9"


async def test_a_submit_to_an_explicit_path_answers_a_handle_with_its_status(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    handle = await family._submit("submit", {"prompt": "p"}, None, path="/elsewhere/submit")
    assert seen.requests == [("POST", "/elsewhere/submit", {}, {"prompt": "p"})]
    assert handle.id == "new-1" and handle.last is not None
    assert handle.last.raw == JobStatus(job="new-1", status="queued")
    plain = await family._submit("submit", {"prompt": "q"}, None)
    assert seen.requests[-1] == ("POST", "/gb/submit", {}, {"prompt": "q"})
    assert plain.id == "new-1"


async def test_the_family_defaults(wired: tuple[Seen, AsyncAPI4GPT, GetBatch]) -> None:
    _, _, family = wired
    status = JobStatus(job="1")
    assert family.flavour == "gb" and family.path("one") == "/gb/one"
    assert family.result(status) is status and family._kind.result(status) is status
    assert family.media_url(status) is None and family._kind.media_url(status) is None
    assert family.media_urls(status) == [] and family._kind.media_urls(status) == []
    assert family._kind.suggested_input(status) is None
    with pytest.raises(UnsupportedOperation, match=r"^gb jobs cannot be cancelled"):
        await family._kind.cancel("1")

    class WithMedia(GetBatch):
        def media_url(self, result: JobStatus) -> str | None:
            return f"https://cdn.example/{result.job}.mp4"

    media = WithMedia(family._context, "gbm")
    assert [f.url for f in media._kind.media_urls(status)] == ["https://cdn.example/1.mp4"]
    flavoured = GetBatch(family._context, "gbvip")
    assert (flavoured.flavour, flavoured._kind.name) == ("gbvip", "gbvip")


@pytest.mark.parametrize(("data", "expected"), [("abc", "abc"), (17, "17"), (0, "0")])
def test_id_answer_takes_a_string_or_a_number(data: Any, expected: str) -> None:
    assert id_answer(data, "r") == expected


@pytest.mark.parametrize("data", ["", True, False, None, 1.5, {"id": "x"}, ["x"]])
def test_id_answer_refuses_anything_else(data: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=r"^the submit answer carries no task id") as info:
        id_answer(data, "req-1")
    assert (info.value.body, info.value.request_id) == (data, "req-1")


@pytest.mark.parametrize(("answer", "name"), [("text", "str"), (42, "int"), ({"items": 1}, "int")])
async def test_the_batch_error_names_what_came(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch], answer: Any, name: str
) -> None:
    seen, _, family = wired
    seen.many = answer
    with pytest.raises(ResponseDecodeError, match=f"^gb batch query answered {name}, not a list"):
        await family._kind.fetch_many(["a"])


async def test_an_item_that_does_not_structure_carries_the_request_id(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    seen.many = {"items": [{"status": "no job field"}]}
    with pytest.raises(ResponseDecodeError) as info:
        await family._kind.fetch_many(["a"])
    assert info.value.request_id == "rq-5"


class EnvelopedGetBatch(GetBatch):
    name = "getenv"
    batch_query = BatchQuery(path="many", method="GET", envelope=True)


class EnvelopedPostBatch(GetBatch):
    name = "postenv"
    batch_query = BatchQuery(path="many", method="POST", envelope=True)


@pytest.mark.parametrize(
    ("family_class", "method"), [(EnvelopedGetBatch, "GET"), (EnvelopedPostBatch, "POST")]
)
async def test_a_batch_query_unwraps_its_envelope_and_reports_its_method(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch], family_class: type[GetBatch], method: str
) -> None:
    seen, _, family = wired
    batch = family_class(family._context)
    assert [s.job for s in await batch.get_many(["a", "b"])] == ["a", "b"]
    assert [(m, p) for m, p, _, _ in seen.requests] == [(method, "/env/many")]
    assert [e.method for e in seen.events] == [method]  # the hook sees the method as sent


class SlowGet(GetBatch):
    name = "slowget"
    batch_query = BatchQuery(path="many", method="GET")


class SlowPost(GetBatch):
    name = "slowpost"
    batch_query = BatchQuery(path="many", method="POST")


class SlowOneByOne(GetBatch):
    name = "slow"
    batch_query = None


@pytest.mark.parametrize("family_class", [SlowGet, SlowPost, SlowOneByOne])
async def test_get_many_keeps_to_its_timeout(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch], family_class: type[GetBatch]
) -> None:
    """A 429 asking to wait 3 s is raised at once when the call's 2 s timeout would pass
    first; under the client's own timeout (600 s) it would be waited out and retried."""
    seen, _, family = wired
    slow = family_class(family._context)
    with pytest.raises(RateLimitError):
        await slow.get_many(["a", "b"], timeout=2.0)
    assert len(seen.requests) == 1


async def test_the_kind_s_status_query_keeps_to_its_timeout(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    slow = SlowOneByOne(family._context)
    with pytest.raises(RateLimitError):
        await slow._kind.fetch("a", timeout=2.0)  # TaskKind.fetch's timeout, as get's
    assert len(seen.requests) == 1


async def test_an_out_of_band_status_is_unwrapped_in_the_family_envelope_style() -> None:
    """Midjourney answers in its own envelope: its code 24 is a banned prompt."""
    refusal = {"code": 24, "description": "banned", "properties": {"bannedWord": "x"}}
    async with AsyncAPI4GPT(api_key="k", base_url="http://127.0.0.1:9") as client:
        with pytest.raises(ContentPolicyError) as info:
            client.tasks.read("midjourney", refusal)
    assert (info.value.code, info.value.banned_word) == (24, "x")


class IdOnly(GetBatch):
    name = "idonly"
    submit_answer = "id"


async def test_a_submitted_status_carries_the_request_id(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    seen.submit = {"job": "new-2", "status": "queued"}
    handle = await family._submit("submit", {"prompt": "p"}, None, path="/answer/submit")
    assert handle.id == "new-2" and handle.last is not None
    assert handle.last.raw.request_id == "rq-7"


@pytest.mark.parametrize(
    ("family_class", "answer"),
    [
        (GetBatch, {"status": "no job field"}),
        (GetBatch, "text"),
        (IdOnly, {"job": None}),
        (IdOnly, {"job": ["x"]}),
        (IdOnly, 1.5),
    ],
)
async def test_a_submit_answer_that_does_not_read_carries_the_request_id(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch], family_class: type[GetBatch], answer: Any
) -> None:
    """Status answers (structured) and id-only answers alike: the decode error names the
    request, as the job may have been created and billed."""
    seen, _, family = wired
    seen.submit = answer
    with pytest.raises(ResponseDecodeError) as info:
        await family_class(family._context)._submit("submit", {}, None, path="/answer/submit")
    assert info.value.request_id == "rq-7"


class IdInPath(GetBatch):
    name = "pf"
    status_query = StatusQuery(path="one", id_param=None, envelope=False)


async def test_an_id_in_the_path_is_not_also_in_the_query_string(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    seen, _, family = wired
    status = await IdInPath(family._context).get("j 1")
    assert status == JobStatus(job="j 1", status="running")
    assert seen.requests == [("GET", "/pf/j 1", {}, None)]


async def test_a_submit_to_an_explicit_path_keeps_to_its_timeout_and_reports_its_method(
    wired: tuple[Seen, AsyncAPI4GPT, GetBatch],
) -> None:
    """As any submit: a 429 asking to wait 3 s is raised at once under a 2 s timeout, and the
    ``on_request`` hook sees the method as sent."""
    seen, _, family = wired
    with pytest.raises(RateLimitError):
        await family._submit("submit", {"prompt": "p"}, 2.0, path="/slow/submit")
    assert [(m, p) for m, p, _, _ in seen.requests] == [("POST", "/slow/submit")]
    assert [e.method for e in seen.events] == ["POST"]
