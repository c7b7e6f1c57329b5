"""Candidate paths: only an answer proving no handler took the request moves on to the next.

Every candidate the SDK knows is a route of its own on the emulator, so a test switches one
off by answering it the way a gateway without that route would (its web UI page, or a plain
404) and reads the request log to see where each request went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import unquote

import pytest

from api4gpt_async import APIError, AsyncAPI4GPT, BadRequestError, NotFoundError
from api4gpt_async._paths import DEFAULT_PATHS, PathTable, no_handler_answered
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

SPA = "<!doctype html><html><head><title>New API</title></head><body></body></html>"
HTML = {"Content-Type": "text/html; charset=utf-8"}

#: Ways a gateway says "no route here": its web UI with 200 or 404, a plain or empty 404, and
#: the router's own JSON 404 (new-api under /v1 and /api, OpenAI, the emulator; one-api).
NO_HANDLER = [
    pytest.param({"status": 200, "body": SPA, "headers": HTML}, id="html-200"),
    pytest.param({"status": 404, "body": SPA, "headers": HTML}, id="html-404"),
    pytest.param({"status": 404, "body": "404 page not found"}, id="text-404"),
    pytest.param({"status": 404, "body": b""}, id="empty-404"),
    pytest.param(
        {
            "status": 404,
            "body": {
                "error": {
                    "message": "Invalid URL (POST /cogvideox/v4/videos/generations)",
                    "type": "invalid_request_error",
                    "param": "",
                    "code": "",
                }
            },
        },
        id="new-api-invalid-url-404",
    ),
    pytest.param(
        {
            "status": 404,
            "body": {
                "error": {
                    "message": "API not found: POST:/cogvideox/v4/videos/generations",
                    "type": "one_api_error",
                    "code": "api_not_found",
                }
            },
        },
        id="one-api-not-found-404",
    ),
]


def routes(emu: Emulator, prefix: str) -> list[str | None]:
    return [r.route for r in emu.requests if r.route and r.route.startswith(prefix)]


@pytest.mark.parametrize("answer", NO_HANDLER)
async def test_a_billable_submit_moves_on_and_remembers(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
    answer: dict[str, object],
) -> None:
    emulator.fail("zhipu_video.generate", times=None, **answer)  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger="api4gpt_async")
    first = await client.zhipu_video.generate(prompt="one")
    second = await client.zhipu_video.generate(prompt="two")
    assert first.id != second.id
    assert routes(emulator, "zhipu_video.generate") == [
        "zhipu_video.generate",
        "zhipu_video.generate.alt1",
        "zhipu_video.generate.alt1",  # remembered: the first candidate is not asked again
    ]
    assert client.paths_in_use["zhipu_video.generate"] == "/zhipu/api/paas/v4/videos/generations"
    chosen = [r for r in caplog.records if "zhipu_video.generate" in r.getMessage()]
    assert len(chosen) == 1  # logged once


async def test_a_status_query_moves_on_too(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.zhipu_video.generate(prompt="x")
    emulator.fail("zhipu_video.result", status=200, body=SPA, headers=HTML, times=None)
    emulator.fail("zhipu_video.result.alt1", status=404, body="404 page not found", times=None)
    emulator.advance(60)
    await handle.wait()
    await client.zhipu_video.get(handle.id)
    assert routes(emulator, "zhipu_video.result") == [
        "zhipu_video.result",
        "zhipu_video.result.alt1",
        "zhipu_video.result.alt2",
        "zhipu_video.result.alt2",
    ]
    assert client.paths_in_use["zhipu_video.result"] == "/cogvideox/v1/async-result/{id}"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        pytest.param(
            400, {"code": "task_not_exist", "message": "task_not_exist", "data": None},
            NotFoundError, id="task-error-400",
        ),
        pytest.param(
            404, {"error": {"message": "task not found", "type": "invalid_request_error"}},
            NotFoundError, id="handler-json-404",
        ),
        pytest.param(
            400, {"code": "invalid_request", "message": "bad", "data": None}, BadRequestError,
            id="invalid-request",
        ),
    ],
)  # fmt: skip
async def test_a_json_error_is_an_answer_never_a_switch(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    status: int,
    body: dict[str, object],
    error: type[Exception],
) -> None:
    emulator.fail("zhipu_video.generate", status=status, body=body)
    with pytest.raises(error):
        await client.zhipu_video.generate(prompt="x")
    await client.zhipu_video.generate(prompt="x")
    assert routes(emulator, "zhipu_video.generate") == ["zhipu_video.generate"] * 2
    assert client.paths_in_use["zhipu_video.generate"] == "/cogvideox/v4/videos/generations"


async def test_a_proxy_error_page_is_no_proof_so_no_switch(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("zhipu_video.generate", status=502, body=SPA, headers=HTML)
    with pytest.raises(APIError):
        await client.zhipu_video.generate(prompt="x")
    assert routes(emulator, "zhipu_video.generate") == ["zhipu_video.generate"]
    assert "zhipu_video.generate" not in client.paths_in_use


async def test_when_no_candidate_has_a_handler(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    for route in ("suno.v3_5.generate", "suno.v3_5.generate.alt1"):
        emulator.fail(route, status=200, body=SPA, headers=HTML, times=None)
    with pytest.raises(NotFoundError, match=r"suno\.v3_5\.generate.*paths="):
        await client.suno.v3_5.generate(gpt_description_prompt="x")
    assert routes(emulator, "suno.v3_5.generate") == [
        "suno.v3_5.generate",
        "suno.v3_5.generate.alt1",
    ]
    assert "suno.v3_5.generate" not in client.paths_in_use


async def test_an_override_is_used_alone(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    override = {"suno.v3_0.generate": "/api/suno/v1/music"}
    async with make_client(paths=override) as client:
        await client.suno.v3_0.generate(gpt_description_prompt="x")
        assert routes(emulator, "suno.v3_0.generate") == ["suno.v3_0.generate.alt2"]
        assert client.paths_in_use == override
        emulator.fail("suno.v3_0.generate.alt2", status=200, body=SPA, headers=HTML)
        with pytest.raises(APIError):  # no candidates to move on to: the answer is unreadable
            await client.suno.v3_0.generate(gpt_description_prompt="y")
        assert routes(emulator, "suno.v3_0.generate") == ["suno.v3_0.generate.alt2"] * 2


async def test_choices_are_per_client(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator
) -> None:
    emulator.fail("suno.v3_0.generate", status=404, body="not here", times=1)
    async with make_client() as one, make_client() as two:
        await one.suno.v3_0.generate(gpt_description_prompt="x")
        await two.suno.v3_0.generate(gpt_description_prompt="x")
        assert one.paths_in_use["suno.v3_0.generate"] == "/suno/v1/music"
        assert two.paths_in_use["suno.v3_0.generate"] == "/suno/v1/v3.0/music"


def test_the_table_reads_as_a_mapping_of_current_paths() -> None:
    table = PathTable({"luma.task": "/x/task"})
    assert table["luma.task"] == "/x/task" and table.candidates("luma.task") == ("/x/task",)
    assert table["zhipu_video.generate"] == "/cogvideox/v4/videos/generations"
    assert len(table.candidates("zhipu_video.generate")) == 4
    assert set(table) == set(DEFAULT_PATHS)
    table.remember("zhipu_video.generate", "/cogvideox/v1/videos/generations")
    assert table.candidates("zhipu_video.generate") == ("/cogvideox/v1/videos/generations",)
    assert dict(table.in_use) == {
        "luma.task": "/x/task",
        "zhipu_video.generate": "/cogvideox/v1/videos/generations",
    }
    with pytest.raises(ValueError, match="must be strings"):
        PathTable({"luma.task": ("/a", "/b")})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("status", "content_type", "raw", "expected"),
    [
        (200, "text/html", b"<html></html>", True),
        (200, "", b"  <!DOCTYPE html><html>", True),
        (404, "text/plain", b"404 page not found", True),
        (404, "", b"", True),
        (404, "application/json", b'{"error": {"message": "Invalid URL"}}', False),  # vague
        (404, "application/json", b'{"error": {"message": "Invalid URL (GET /x/1)"}}', True),
        (
            404,
            "",
            b'{"error": {"message": "API not found: GET:/x", "code": "api_not_found"}}',
            True,
        ),
        (404, "application/json", b'{"error": {"message": "task not found"}}', False),
        (
            404,
            "application/json",
            b'{"code": "task_not_exist", "message": "Invalid URL (GET /"}',
            False,
        ),
        (400, "application/json", b'{"error": {"message": "Invalid URL (GET /x/1)"}}', False),
        (404, "application/json", b"[" * 100_000, False),  # too deep to read: no proof
        (200, "application/json", b'{"code": "success", "data": "x"}', False),
        (400, "text/html", b"<html></html>", False),
        (502, "text/html", b"<html>Bad gateway</html>", False),
        (200, "text/plain", b"ok", False),
    ],
)
def test_what_proves_no_handler(status: int, content_type: str, raw: bytes, expected: bool) -> None:
    assert no_handler_answered(status, {"Content-Type": content_type}, raw) is expected


#: Families whose status path carries the id as a segment (``/suno/fetch/{id}``…).
PATH_ID_FAMILIES = ["suno", "midjourney", "zhipu_video", "digital_human"]


@pytest.mark.parametrize("family", PATH_ID_FAMILIES)
@pytest.mark.parametrize("task_id", ["", ".", ".."])
async def test_an_id_that_would_name_another_path_is_refused_unsent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, task_id: str
) -> None:
    # "/mj/task/../fetch" is "/mj/fetch" once the URL is resolved: another endpoint entirely.
    with pytest.raises(ValueError, match="id cannot be"):
        await getattr(client, family).get(task_id)
    with pytest.raises(ValueError, match="id cannot be"):
        await getattr(client, family).task(task_id).wait(timeout=5)
    assert emulator.requests == []


async def test_a_billable_action_on_a_dot_id_is_refused_unsent(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="would name another path"):
        await client.midjourney.cancel("..")
    with pytest.raises(ValueError, match="would name another path"):
        await client.models.retrieve("..")
    assert emulator.requests == []


@pytest.mark.parametrize("family", [*PATH_ID_FAMILIES, "luma", "lumvip"])
@pytest.mark.parametrize("task_id", [None, 1.5, b"id", True])
async def test_an_id_that_is_no_string_is_a_type_error_and_nothing_is_sent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, task_id: object
) -> None:
    # None would go out as "None" (GET /suno/fetch/None), bytes as "b'id'".
    with pytest.raises(TypeError, match="id must be a string"):
        await getattr(client, family).get(task_id)
    assert emulator.requests == []


@pytest.mark.parametrize("family", PATH_ID_FAMILIES)
@pytest.mark.parametrize("task_id", ["a/b", "a?b=1", "a#b", "a b", "ü-1", "..a", "%2e%2e"])
async def test_any_other_id_is_one_segment_of_its_own_path(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, task_id: str
) -> None:
    with pytest.raises(NotFoundError):  # the emulator knows no such job, at the status route
        await getattr(client, family).get(task_id)
    (request,) = emulator.requests
    assert request.route is not None and request.route.startswith(f"{family}.")
    assert request.query == {}
    assert task_id in request.path
    # One segment on the wire, whatever it holds:
    assert task_id in [unquote(segment) for segment in request.raw_path.split("/")]


@pytest.mark.parametrize("family", ["luma", "lumvip"])
@pytest.mark.parametrize("task_id", [".", "..", "a/b", "a&id=2"])
async def test_an_id_in_the_query_string_may_be_any_text_the_service_decides(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, task_id: str
) -> None:
    # No path segment to lose: the id is sent as it is, and the service says it knows no such job.
    with pytest.raises(NotFoundError):
        await getattr(client, family).get(task_id)
    (request,) = emulator.requests
    assert request.query == {"id": task_id}


@pytest.mark.parametrize("family", ["luma", "lumvip"])
async def test_an_empty_id_in_the_query_string_is_refused_unsent(
    client: AsyncAPI4GPT, emulator: Emulator, family: str
) -> None:
    with pytest.raises(ValueError, match="id cannot be empty"):
        await getattr(client, family).get("")
    assert emulator.requests == []


@pytest.mark.parametrize("family", ["suno", "midjourney", "lumvip"])  # batched, batched, one by one
@pytest.mark.parametrize(("bad", "error"), [(None, TypeError), ("", ValueError)])
async def test_get_many_refuses_an_id_no_request_can_carry_before_sending_any(
    client: AsyncAPI4GPT, emulator: Emulator, family: str, bad: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"^id (must be a string|cannot be empty)"):
        await getattr(client, family).get_many(["a-job", bad])
    assert emulator.requests == []
