"""The emulator, driven with a raw ``aiohttp.ClientSession`` (no SDK client involved)."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import anyio
import attrs
import pytest
from _until import until
from aiohttp import web

import api4gpt_async.testing
from api4gpt_async.testing import Emulator, Fault, RecordedRequest, _emulator

from ._wire import call

RID = "X-Oneapi-Request-Id"


# --------------------------------------------------------------------------- lifecycle


def test_public_names() -> None:
    assert api4gpt_async.testing.__all__ == ["Emulator", "Fault", "RecordedRequest"]


@pytest.mark.anyio
async def test_start_stop_and_base_url() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.base_url
    assert not emu.running
    await emu.start()
    try:
        assert repr(emu) == f"<Emulator {emu.base_url}>"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.base_url)
        assert emu.api_key == "sk-emulator"
        base_url = emu.base_url
        async with aiohttp.ClientSession() as session:
            status, _, _ = await call(session, "GET", f"{base_url}/files/a.mp4")
            assert status == 200
            with pytest.raises(RuntimeError, match="already running"):
                await emu.start()
            await emu.stop()
            assert not emu.running
            await emu.stop()  # idempotent
            with pytest.raises(aiohttp.ClientConnectionError):
                await call(session, "GET", f"{base_url}/files/a.mp4")
            with pytest.raises(RuntimeError, match="not running"):
                _ = emu.base_url
    finally:
        await emu.stop()


@pytest.mark.anyio
async def test_can_restart_and_keeps_tasks() -> None:
    emu = Emulator(time_scale=0)
    async with emu, aiohttp.ClientSession(headers={"Authorization": "Bearer sk-emulator"}) as s:
        _, created, _ = await call(
            s, "POST", f"{emu.base_url}/luma/generations", json={"user_prompt": "a"}
        )
    async with emu, aiohttp.ClientSession(headers={"Authorization": "Bearer sk-emulator"}) as s:
        status, body, _ = await call(
            s, "GET", f"{emu.base_url}/luma/task", params={"id": created["data"]["id"]}
        )
    assert status == 200
    assert body["data"]["id"] == created["data"]["id"]


@pytest.mark.anyio
async def test_serve_forever_serves_until_cancelled() -> None:
    emu = Emulator()
    task = asyncio.create_task(emu.serve_forever())
    with anyio.fail_after(5):
        while not emu.running:
            await asyncio.sleep(0)
    async with aiohttp.ClientSession() as session:
        status, _, _ = await call(session, "GET", emu.file_url("x.png"))
    assert status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not emu.running


def test_constructor_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="api_key"):
        Emulator(api_key="sk-")
    with pytest.raises(ValueError, match="time_scale"):
        Emulator(time_scale=-1)
    with pytest.raises(ValueError, match="luma_duration"):
        Emulator(luma_duration=-1)


def test_repr_does_not_show_the_key() -> None:
    emu = Emulator(api_key="sk-very-secret-key")
    assert "secret" not in repr(emu)
    assert "stopped" in repr(emu)


# --------------------------------------------------------------------------- clock


def test_frozen_clock_moves_only_with_advance() -> None:
    emu = Emulator(time_scale=0)
    assert emu.now == 0
    emu.advance(2.5)
    emu.advance(0.5)
    assert emu.now == 3.0
    with pytest.raises(ValueError, match="backwards"):
        emu.advance(-1)
    assert emu.timestamp() == "2024-07-05T14:28:29.000000Z"


def test_changing_time_scale_keeps_the_clock_continuous() -> None:
    emu = Emulator(time_scale=1e9)
    emu.time_scale = 0
    frozen = emu.now
    assert frozen > 0  # a billion emulator seconds per real second ran for a moment
    assert emu.now == frozen
    emu.advance(1)
    assert emu.now == frozen + 1
    with pytest.raises(ValueError, match="time_scale"):
        emu.time_scale = -1


@pytest.mark.anyio
async def test_real_time_scale_drives_lifecycles() -> None:
    # At 1e9 emulator seconds per real second, any round trip outlasts luma_duration.
    async with (
        Emulator(time_scale=1e9) as emu,
        aiohttp.ClientSession(emu.base_url, headers={"Authorization": "Bearer sk-emulator"}) as s,
    ):
        _, created, _ = await call(s, "POST", "/luma/generations", json={"user_prompt": "a"})
        _, body, _ = await call(s, "GET", "/luma/task", params={"id": created["data"]["id"]})
    assert body["data"]["state"] == "completed"


# --------------------------------------------------------------------------- auth


@pytest.mark.anyio
async def test_missing_key_is_a_401_with_the_gateway_body(
    emu: Emulator, anon: aiohttp.ClientSession
) -> None:
    status, body, response = await call(anon, "GET", "/luma/task", params={"id": "x"})
    rid = response.headers[RID]
    assert status == 401
    assert re.fullmatch(r"\d{20,}", rid)
    assert body == {
        "error": {
            "message": f"未提供令牌 (request id: {rid})",
            "type": "new_api_error",
            "code": "",
        }
    }


@pytest.mark.anyio
@pytest.mark.parametrize("authorization", ["Bearer sk-wrong", "Bearer emulatorx", "sk-nope"])
async def test_wrong_key_is_a_401(
    emu: Emulator, anon: aiohttp.ClientSession, authorization: str
) -> None:
    status, body, response = await call(
        anon,
        "POST",
        "/luma/generations",
        json={"user_prompt": "x"},
        headers={"Authorization": authorization},
    )
    assert status == 401
    assert body["error"] == {
        "message": f"无效的令牌 (request id: {response.headers[RID]})",
        "type": "new_api_error",
        "code": "",
    }
    assert emu.requests[-1].status == 401


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("server_key", "sent"),
    [
        ("sk-emulator", "Bearer sk-emulator"),
        ("sk-emulator", "Bearer emulator"),
        ("emulator", "Bearer sk-emulator"),
        ("sk-emulator", "bearer sk-emulator"),
        ("sk-emulator", "sk-emulator"),  # new-api also takes the bare key
    ],
)
async def test_key_is_accepted_with_or_without_sk(server_key: str, sent: str) -> None:
    async with Emulator(api_key=server_key) as emu, aiohttp.ClientSession(emu.base_url) as s:
        status, _, _ = await call(
            s,
            "POST",
            "/luma/generations",
            json={"user_prompt": "x"},
            headers={"Authorization": sent},
        )
    assert status == 200


@pytest.mark.anyio
async def test_every_answer_has_a_unique_request_id(
    http: aiohttp.ClientSession, anon: aiohttp.ClientSession
) -> None:
    answers = [
        await call(http, "POST", "/luma/generations", json={"user_prompt": "x"}),
        await call(http, "GET", "/luma/task", params={"id": "missing"}),
        await call(http, "GET", "/nowhere"),
        await call(anon, "GET", "/luma/task"),
        await call(anon, "GET", "/files/a.mp4"),
    ]
    assert [status for status, _, _ in answers] == [200, 400, 404, 401, 200]
    ids = [response.headers[RID] for _, _, response in answers]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{20,}", rid) for rid in ids)


# --------------------------------------------------------------------------- request log


@pytest.mark.anyio
async def test_request_log_records_and_masks(
    emu: Emulator, http: aiohttp.ClientSession, anon: aiohttp.ClientSession
) -> None:
    emu.advance(7)
    await call(http, "POST", "/luma/v1/generations", json={"user_prompt": "a cat"})
    await call(http, "GET", "/luma/v1/task", params={"id": "abc", "x": "1"})
    await call(anon, "GET", "/luma/task", params={"id": "abc"})
    await call(http, "GET", "/nowhere")

    first, second, third, fourth = emu.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.route, first.status) == (
        "POST",
        "/luma/v1/generations",
        "luma.generate",
        200,
    )
    assert first.json == {"user_prompt": "a cat"}
    assert first.body == b'{"user_prompt": "a cat"}'
    assert first.at == 7.0
    assert first.headers["Authorization"] == "Bearer sk-e***"
    assert "sk-emulator" not in repr(emu.requests)
    assert (second.route, second.query, second.status, second.json) == (
        "luma.task",
        {"id": "abc", "x": "1"},
        400,
        None,
    )
    assert (third.route, third.status) == ("lumvip.task", 401)
    assert "Authorization" not in third.headers
    assert (fourth.route, fourth.path, fourth.status) == (None, "/nowhere", 404)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.status = 500  # type: ignore[misc]

    assert emu.count("luma.task") == 1
    assert emu.count("lumvip.task") == 1
    assert emu.count("/luma/task") == 1
    assert emu.count("/nowhere") == 1
    assert emu.count("luma.generate") == 1
    assert emu.count("lumvip.generate") == 0
    emu.clear_requests()
    assert emu.requests == []
    assert emu.count("luma.task") == 0


# --------------------------------------------------------------------------- route names


@pytest.mark.anyio
async def test_routes_names_every_route_with_its_method_and_path() -> None:
    emu = Emulator()
    before = dict(emu.routes)  # readable before the server starts
    assert before["suno.fetch"] == "GET /suno/fetch/{id}"
    assert before["suno.fetch_many"] == "POST /suno/fetch"
    assert before["files"] == "GET /files/{name}"  # not "HEAD|GET": add_get's HEAD left out
    assert before["luma.task"] == "GET /luma/v1/task"
    assert before["zhipu_video.generate.alt3"] == "POST /api/paas/v4/videos/generations"
    assert before["midjourney.fetch"] == "GET /{mode}mj/task/{id}/fetch"
    async with emu:
        app = emu._runner.app  # type: ignore[union-attr]
        assert dict(emu.routes) == before
        assert list(emu.routes) == list(app.router.named_resources())
    with pytest.raises(TypeError):
        emu.routes["x"] = "GET /x"  # type: ignore[index]


_TAKE_ROUTE_NAMES = {
    "count": lambda emu, target: emu.count(target),
    "fail": lambda emu, target: emu.fail(target, status=500),
    "rate_limit": lambda emu, target: emu.rate_limit(target),
    "delay": lambda emu, target: emu.delay(target, 1.0),
}


@pytest.mark.parametrize("method", list(_TAKE_ROUTE_NAMES))
def test_an_unknown_route_name_is_refused_with_the_closest_ones(method: str) -> None:
    emu = Emulator()
    use = _TAKE_ROUTE_NAMES[method]
    with pytest.raises(ValueError, match=r"'luma\.generations'") as raised:
        use(emu, "luma.generations")
    message = str(raised.value)
    assert "did you mean 'luma.generate'" in message and "Emulator.routes" in message
    with pytest.raises(ValueError, match=r"did you mean 'zhipu_video\.generate\.alt3'"):
        use(emu, "zhipu_video.generate.alt4")  # only three alternative paths
    with pytest.raises(ValueError, match=r"pattern of the route 'suno\.fetch'"):
        use(emu, "/suno/fetch/{id}")  # no request has this path
    with pytest.raises(ValueError, match=r"unknown route name 'x'\. Emulator\.routes"):
        use(emu, "x")  # nothing close: no guess
    assert emu.faults == []
    for target in ("suno.fetch_many", "suno.v3_5.fetch.alt1", "/suno/fetch", "/not/served"):
        use(emu, target)  # route names with or without a suffix, and any path


@pytest.mark.anyio
async def test_the_request_log_route_refuses_an_unknown_route_name(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await call(http, "POST", "/suno/fetch", json={"ids": ["a"]})
    status, body, _ = await call(http, "GET", "/_emulator/requests", params={"route": "suno.fetch"})
    assert (status, body) == (200, [])  # a route name, of GET /suno/fetch/{id}: none sent
    status, body, _ = await call(
        http, "GET", "/_emulator/requests", params={"route": "suno.fetchmany"}
    )
    assert status == 400
    assert "did you mean 'suno.fetch_many'" in body["error"]["message"]
    status, body, _ = await call(
        http, "GET", "/_emulator/requests", params={"route": "suno.fetch_many"}
    )
    assert (status, [r["path"] for r in body]) == (200, ["/suno/fetch"])


@pytest.mark.anyio
async def test_unknown_paths_and_methods_are_openai_style_404s(
    http: aiohttp.ClientSession,
) -> None:
    status, body, _ = await call(http, "GET", "/x")
    assert status == 404
    assert body == {
        "error": {"message": "Invalid URL (GET /x)", "type": "invalid_request_error", "code": ""}
    }
    status, body, _ = await call(http, "GET", "/luma/generations")  # POST-only route
    assert status == 404
    assert body["error"]["message"] == "Invalid URL (GET /luma/generations)"


# --------------------------------------------------------------------------- media files


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "content_type", "magic"),
    [
        ("clip.mp4", "video/mp4", b"ftypisom"),
        ("thumb.jpg", "image/png", b"\x89PNG"),
        ("image.png", "image/png", b"\x89PNG"),
        ("song.mp3", "audio/mpeg", b"\xff\xfb"),
        ("speech.wav", "audio/wav", b"RIFF"),
    ],
)
async def test_files_are_served_without_auth(
    emu: Emulator, anon: aiohttp.ClientSession, name: str, content_type: str, magic: bytes
) -> None:
    status, data, response = await call(anon, "GET", f"/files/{name}")
    assert status == 200
    assert response.content_type == content_type
    assert int(response.headers["Content-Length"]) == len(data) > 0
    assert magic in data[:12]
    _, again, _ = await call(anon, "GET", f"/files/other-{name}")
    assert again == data  # deterministic per extension
    assert emu.count("files") == 2


@pytest.mark.anyio
async def test_unknown_file_types_are_404(anon: aiohttp.ClientSession) -> None:
    for name in ("notes.txt", "noextension"):
        status, body, _ = await call(anon, "GET", f"/files/{name}")
        assert status == 404
        assert body["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- faults


@pytest.mark.anyio
async def test_fail_answers_status_and_json_body_then_recovers(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    fault = emu.fail("lumvip.generate", status=503, body={"error": {"message": "busy"}})
    assert isinstance(fault, Fault)
    status, body, response = await call(
        http, "POST", "/luma/generations", json={"user_prompt": "x"}
    )
    assert (status, body) == (503, {"error": {"message": "busy"}})
    assert RID in response.headers
    assert (fault.hits, fault.remaining, fault.active) == (1, 0, False)
    assert emu.faults == []
    status, body, _ = await call(http, "POST", "/luma/generations", json={"user_prompt": "x"})
    assert (status, body["code"]) == (200, "success")
    assert [r.status for r in emu.requests] == [503, 200]


@pytest.mark.anyio
async def test_fail_default_bodies_are_new_api_errors(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    expected = {
        500: "do_request_failed",
        502: "bad_response_status_code",
        503: "get_channel_failed",
        418: "i'm_a_teapot",
    }
    for status_code, code in expected.items():
        emu.fail("luma.task", status=status_code)
        status, body, response = await call(http, "GET", "/luma/v1/task", params={"id": "x"})
        assert status == status_code
        assert body["error"]["type"] == "new_api_error"
        assert body["error"]["code"] == code
        assert body["error"]["message"].endswith(f" (request id: {response.headers[RID]})")
    emu.fail("luma.task")
    _, body, _ = await call(http, "GET", "/luma/v1/task", params={"id": "x"})
    assert body["error"]["message"].startswith("do request failed (request id: ")


@pytest.mark.anyio
async def test_fail_can_answer_an_html_page_or_bytes(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    page = "<html><title>502 Bad Gateway</title></html>"
    emu.fail("/luma/task", status=502, body=page, headers={"Content-Type": "text/html"})
    status, body, response = await call(http, "GET", "/luma/task", params={"id": "x"})
    assert (status, body, response.content_type) == (502, page, "text/html")

    emu.fail("/luma/task", status=500, body="oops")
    status, body, response = await call(http, "GET", "/luma/task", params={"id": "x"})
    assert (status, body, response.content_type) == (500, "oops", "text/plain")

    emu.fail("/luma/task", status=500, body=b"\x00\x01")
    status, body, _ = await call(http, "GET", "/luma/task", params={"id": "x"})
    assert (status, body) == (500, b"\x00\x01")


@pytest.mark.anyio
async def test_fail_times_counts_down_and_none_is_unlimited(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    fault = emu.fail("lumvip.task", status=500, times=2)
    statuses = [(await call(http, "GET", "/luma/task", params={"id": "x"}))[0] for _ in range(3)]
    assert statuses == [500, 500, 400]
    assert fault.hits == 2

    forever = emu.fail("lumvip.task", status=502, times=None)
    statuses = [(await call(http, "GET", "/luma/task", params={"id": "x"}))[0] for _ in range(4)]
    assert statuses == [502] * 4
    assert (forever.remaining, forever.active, emu.faults) == (None, True, [forever])
    emu.clear_faults()
    assert (await call(http, "GET", "/luma/task", params={"id": "x"}))[0] == 400


@pytest.mark.anyio
async def test_faults_apply_in_arming_order_and_only_to_their_target(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.fail("luma.task", status=501)
    emu.fail("/luma/v1/task", status=502)
    other = (await call(http, "GET", "/luma/task", params={"id": "x"}))[0]
    first = (await call(http, "GET", "/luma/v1/task", params={"id": "x"}))[0]
    second = (await call(http, "GET", "/luma/v1/task", params={"id": "x"}))[0]
    assert (other, first, second) == (400, 501, 502)


@pytest.mark.anyio
async def test_faults_apply_before_authentication(
    emu: Emulator, anon: aiohttp.ClientSession
) -> None:
    emu.fail("/nowhere", status=502)
    emu.fail("lumvip.task", status=503)
    assert (await call(anon, "GET", "/luma/task"))[0] == 503
    assert (await call(anon, "GET", "/nowhere"))[0] == 502
    assert (await call(anon, "GET", "/luma/task"))[0] == 401


def test_fail_validates_its_arguments() -> None:
    emu = Emulator()
    with pytest.raises(ValueError, match="times"):
        emu.fail("luma.task", times=0)
    with pytest.raises(ValueError, match="status"):
        emu.fail("luma.task", status=99)
    with pytest.raises(ValueError, match="delay"):
        emu.fail("luma.task", delay=-1)
    with pytest.raises(ValueError, match="target"):
        emu.fail("")
    with pytest.raises(TypeError, match="body"):
        emu.fail("luma.task", body=3.5)
    with pytest.raises(TypeError):
        emu.fail("luma.task", body={"x": object()})
    with pytest.raises(ValueError, match="retry_after"):
        emu.rate_limit("luma.task", retry_after=-1)
    assert emu.faults == []


@pytest.mark.anyio
async def test_fail_delay_holds_the_answer_back(emu: Emulator, http: aiohttp.ClientSession) -> None:
    fault = emu.fail("lumvip.task", status=504, delay=1.0)
    # The client gives up first: its 200 ms deadline is due before the server's 1 s delay.
    with pytest.raises(asyncio.TimeoutError):
        await call(
            http, "GET", "/luma/task", params={"id": "x"}, timeout=aiohttp.ClientTimeout(total=0.2)
        )
    with anyio.fail_after(5):  # the fault was spent on the abandoned request, not the next one
        while fault.hits == 0:
            await asyncio.sleep(0.001)
    emu.delay("lumvip.task", 0.05)
    started = time.monotonic()
    status, body, _ = await call(http, "GET", "/luma/task", params={"id": "x"})
    assert time.monotonic() - started >= 0.04
    assert (status, body["code"]) == (400, "task_not_exist")  # the real answer, late


@pytest.mark.anyio
async def test_stop_does_not_wait_for_delayed_requests(http: aiohttp.ClientSession) -> None:
    emu = Emulator()
    await emu.start()
    fault = emu.fail("files", status=503, delay=60)
    pending = asyncio.ensure_future(call(http, "GET", emu.file_url("a.mp4")))
    try:
        with anyio.fail_after(5):
            while fault.hits == 0:  # poll until the server has taken it
                await asyncio.sleep(0.001)
        with anyio.fail_after(0.9):  # well under the 60 s delay and the shutdown timeout
            await emu.stop()
        status, _, _ = await pending
    finally:
        pending.cancel()
        await emu.stop()
    assert status == 503


@pytest.mark.anyio
async def test_drop_closes_the_connection_without_an_answer(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.fail("luma.generate", drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", "/luma/v1/generations", json={"user_prompt": "x"})
    record = emu.requests[-1]
    assert (record.route, record.status, record.json) == ("luma.generate", 0, {"user_prompt": "x"})
    status, _, _ = await call(http, "POST", "/luma/v1/generations", json={"user_prompt": "x"})
    assert status == 200


@pytest.mark.anyio
async def test_dropping_a_get_twice_beats_aiohttps_one_silent_retry(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.fail("luma.task", drop=True)
    status, _, _ = await call(http, "GET", "/luma/v1/task", params={"id": "x"})
    assert status == 400  # aiohttp retried the idempotent GET once, transparently
    assert [r.status for r in emu.requests] == [0, 400]

    emu.fail("luma.task", drop=True, times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "GET", "/luma/v1/task", params={"id": "x"})


@pytest.mark.anyio
@pytest.mark.parametrize(("retry_after", "header"), [(1.0, "1"), (2, "2"), (1.5, "1.5")])
async def test_rate_limit_answers_429_with_retry_after(
    emu: Emulator, http: aiohttp.ClientSession, retry_after: float, header: str
) -> None:
    emu.rate_limit("lumvip.generate", retry_after=retry_after)
    status, body, response = await call(
        http, "POST", "/luma/generations", json={"user_prompt": "x"}
    )
    assert status == 429
    assert response.headers["Retry-After"] == header
    assert body == {
        "error": {
            "message": f"当前分组上游负载已饱和，请稍后再试 (request id: {response.headers[RID]})",
            "type": "new_api_error",
            "code": "rate_limit_exceeded",
        }
    }
    assert (await call(http, "POST", "/luma/generations", json={"user_prompt": "x"}))[0] == 200


# --------------------------------------------------------------------------- logged on arrival

#: A fault that holds a submit back, and the status the log ends with once it is answered.
_HOLDING_FAULTS = {
    "fail with delay": (lambda emu: emu.fail("luma.generate", status=503, delay=60), 503),
    "delay": (lambda emu: emu.delay("luma.generate", 60), 200),  # the real answer, late
    "drop with delay": (lambda emu: emu.fail("luma.generate", drop=True, delay=60), 0),
}


@pytest.mark.anyio
@pytest.mark.parametrize("kind", list(_HOLDING_FAULTS))
async def test_a_request_held_back_by_a_fault_is_logged_before_its_answer(
    emu: Emulator, http: aiohttp.ClientSession, kind: str
) -> None:
    arm, answered = _HOLDING_FAULTS[kind]
    fault = arm(emu)
    sent = asyncio.ensure_future(
        call(http, "POST", "/luma/v1/generations", json={"user_prompt": "a cat"})
    )
    try:
        await until(lambda: fault.hits == 1)  # the fault holds the answer back
        (record,) = emu.requests
        assert (emu.count("luma.generate"), record.route, record.status) == (
            1,
            "luma.generate",
            0,  # no answer yet
        )
        assert record.json == {"user_prompt": "a cat"}
        await emu.stop()  # wakes the delay up: the answer goes out (or the connection closes)
        await asyncio.gather(sent, return_exceptions=True)
    finally:
        sent.cancel()
    assert emu.requests == [record]  # the same entry, its status filled in
    assert record.status == answered


@pytest.mark.anyio
async def test_a_truncated_answer_is_logged_with_its_status_while_it_stalls(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.fail("models", truncate_at=10, stall=60)
    sent = asyncio.ensure_future(call(http, "GET", "/v1/models"))
    try:
        await until(lambda: emu.count("models") == 1 and emu.requests[0].status == 200)
        await emu.stop()
        await asyncio.gather(sent, return_exceptions=True)
    finally:
        sent.cancel()
    assert [r.status for r in emu.requests] == [200]


def _register_slow(
    started: asyncio.Event, release: asyncio.Event, *, stream: bool
) -> _emulator.Registrar:
    """A family with one route, ``slow.route``, that waits for ``release`` (a stream: after
    sending its status line and a first event)."""

    async def slow(request: web.Request) -> web.StreamResponse:
        if not stream:
            started.set()
            await release.wait()
            return web.Response(text="late")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        started.set()
        await release.wait()
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def register(emu: Emulator, app: web.Application) -> None:
        app.router.add_post("/v1/slow", slow, name="slow.route")

    return register


@pytest.mark.anyio
@pytest.mark.parametrize(("stream", "meanwhile"), [(False, 0), (True, 200)])
async def test_a_slow_handlers_request_is_logged_before_its_answer(
    monkeypatch: pytest.MonkeyPatch, stream: bool, meanwhile: int
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    family = _register_slow(started, release, stream=stream)
    monkeypatch.setattr(_emulator, "FAMILIES", (*_emulator.FAMILIES, family))
    async with (
        Emulator() as emu,
        aiohttp.ClientSession(emu.base_url, headers={"Authorization": "Bearer sk-emulator"}) as s,
    ):
        sent = asyncio.ensure_future(call(s, "POST", "/v1/slow", json={"n": 1}))
        try:
            await started.wait()
            (record,) = emu.requests
            assert (emu.count("slow.route"), record.json) == (1, {"n": 1})
            assert record.status == meanwhile  # a stream's status line has gone out
            release.set()
            assert (await sent)[0] == 200
        finally:
            sent.cancel()
        assert emu.requests == [record] and record.status == 200


# --------------------------------------------------------------------------- route families


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _register_demo(emu: Emulator, app: web.Application) -> None:
    app.router.add_post("/v1/demo", _stream, name="demo.stream")


@pytest.mark.anyio
async def test_a_family_registrar_gets_auth_log_faults_and_request_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_emulator, "FAMILIES", (*_emulator.FAMILIES, _register_demo))
    async with (
        Emulator() as emu,
        aiohttp.ClientSession(emu.base_url, headers={"Authorization": "Bearer sk-emulator"}) as s,
    ):
        status, body, response = await call(s, "POST", "/v1/demo")
        assert (status, body) == (200, "data: [DONE]\n\n")
        assert RID in response.headers  # also on answers prepared by the handler itself
        assert (await call(s, "POST", "/v1/demo", headers={"Authorization": ""}))[0] == 401
        emu.fail("demo.stream", status=500)
        assert (await call(s, "POST", "/v1/demo"))[0] == 500
        assert (await call(s, "POST", "/luma/generations", json={"user_prompt": "x"}))[0] == 200
    assert emu.count("demo.stream") == 3
    assert emu.routes["demo.stream"] == "POST /v1/demo"  # a new family's routes are listed
