"""The emulator's Midjourney routes, over plain HTTP (no SDK in between)."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import GRID_COLORS, png_bytes
from api4gpt_async.testing._midjourney import PROGRESS_STEPS, lifecycle
from api4gpt_async.testing._notify import deliveries

from ._wire import call

pytestmark = pytest.mark.anyio

IMAGE = "data:image/png;base64," + base64.b64encode(png_bytes(4, 4)).decode()


async def _post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    status, answer, _ = await call(http, "POST", path, json=body)
    return status, answer


async def _get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    status, answer, _ = await call(http, "GET", path)
    return status, answer


async def _imagine(http: aiohttp.ClientSession, prompt: str = "red fox in snow", **kw: Any) -> str:
    status, answer = await _post(http, "/mj/submit/imagine", {"prompt": prompt, **kw})
    assert (status, answer["code"]) == (200, 1), answer
    assert isinstance(answer["result"], str)
    return str(answer["result"])


async def _fetch(http: aiohttp.ClientSession, task_id: str) -> dict[str, Any]:
    status, task = await _get(http, f"/mj/task/{task_id}/fetch")
    assert status == 200, task
    return dict(task)


async def _finished(emu: Emulator, http: aiohttp.ClientSession, prompt: str = "fox") -> str:
    task_id = await _imagine(http, prompt)
    emu.advance(emu.duration("midjourney"))
    return task_id


async def _click(
    http: aiohttp.ClientSession, task_id: str, label: str, **kw: Any
) -> tuple[int, Any]:
    task = await _fetch(http, task_id)
    button = next(b for b in task["buttons"] if label in (b["label"], b["emoji"]))
    body = {"taskId": task_id, "customId": button["customId"], **kw}
    return await _post(http, "/mj/submit/action", body)


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and raw RGB rows of one of the emulator's PNGs (no Pillow here)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    idat, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 3
    return width, height, [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]


# -- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_steps() -> None:
    assert lifecycle(0.0, 20) == ("", "")
    assert lifecycle(1.5, 20) == ("NOT_START", "0%")
    assert lifecycle(2.5, 20) == ("SUBMITTED", "0%")
    seen = [lifecycle(3 + i * 0.1, 20)[1] for i in range(170)]
    assert sorted(set(seen), key=lambda p: int(p[:-1])) == [f"{p}%" for p in PROGRESS_STEPS]
    assert lifecycle(20, 20) == ("SUCCESS", "100%")
    assert lifecycle(0.5, 0.4) == ("SUCCESS", "100%")


async def test_imagine_runs_through_every_status(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    task_id = await _imagine(http, "red fox in snow --ar 3:2", state="job-42")
    seen = []
    for _ in range(25):
        task = await _fetch(http, task_id)
        seen.append((task["status"], task["progress"]))
        emu.advance(1)
    statuses = [s for s, _ in seen]
    assert statuses[0] == ""  # new-api before its first sync
    assert statuses.index("NOT_START") < statuses.index("SUBMITTED") < statuses.index("IN_PROGRESS")
    assert seen[-1] == ("SUCCESS", "100%")
    progress = [int(p[:-1]) for s, p in seen if s == "IN_PROGRESS"]
    assert progress == sorted(progress) and len(set(progress)) > 3
    task = await _fetch(http, task_id)
    assert task["state"] == "job-42" and task["action"] == "IMAGINE"
    assert task["finishTime"] > task["startTime"] > task["submitTime"] > 0
    assert task["properties"]["finalPrompt"].startswith("red fox in snow")
    labels = [b["label"] or b["emoji"] for b in task["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    assert task["imageUrl"] == f"{emu.base_url}/mj/image/{task_id}"


async def test_grid_image_is_a_valid_png_of_four_quadrants(
    emu: Emulator, http: aiohttp.ClientSession, anon: aiohttp.ClientSession
) -> None:
    task_id = await _finished(emu, http)
    async with anon.get(f"/mj/image/{task_id}") as resp:  # no key needed, like new-api
        assert (resp.status, resp.content_type) == (200, "image/png")
        data = await resp.read()
    width, height, rows = _png_pixels(data)
    assert (width, height) == (128, 96)
    assert rows[0][:3] == bytes(GRID_COLORS[0]) and rows[0][-3:] == bytes(GRID_COLORS[1])
    assert rows[-1][:3] == bytes(GRID_COLORS[2]) and rows[-1][-3:] == bytes(GRID_COLORS[3])
    unfinished = await _imagine(http)
    async with anon.get(f"/mj/image/{unfinished}") as resp:
        assert resp.status == 404


async def test_a_fail_prompt_ends_in_failure(emu: Emulator, http: aiohttp.ClientSession) -> None:
    task_id = await _finished(emu, http, "please [fail] now")
    task = await _fetch(http, task_id)
    assert (task["status"], task["progress"]) == ("FAILURE", "100%")  # new-api's 100% on failure
    assert task["failReason"].startswith("[Invalid parameter]")
    assert task["buttons"] == [] and task["imageUrl"] == ""


@pytest.mark.parametrize("prefix", ["/mj-fast", "/mj-relax", "/mj-turbo"])
async def test_mode_prefixes_reach_the_same_routes(
    emu: Emulator, http: aiohttp.ClientSession, prefix: str
) -> None:
    status, answer = await _post(http, f"{prefix}/mj/submit/imagine", {"prompt": "fox"})
    assert (status, answer["code"]) == (200, 1)
    assert (await _get(http, f"{prefix}/mj/task/{answer['result']}/fetch"))[0] == 200
    assert emu.requests[-2].route == "midjourney.imagine"
    assert emu.requests[-2].path == f"{prefix}/mj/submit/imagine"
    async with http.post("/mj-slow/mj/submit/imagine", json={"prompt": "x"}) as resp:
        assert resp.status == 404


# -- submit answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "description"),
    [
        ("/mj/submit/imagine", {"prompt": " "}, 400, "prompt_is_required"),
        ("/mj/submit/imagine", {"prompt": "x", "botType": "DALL_E"}, 200, "botType"),
        ("/mj/submit/imagine", {"prompt": "x", "base64Array": ["abc"]}, 200, "base64"),
        ("/mj/submit/blend", {"base64Array": [IMAGE]}, 200, "size must be 2~5"),
        ("/mj/submit/blend", {"base64Array": [IMAGE] * 2, "dimensions": "WIDE"}, 200, "dimensions"),
        ("/mj/submit/describe", {}, 200, "base64"),
        ("/mj/submit/shorten", {"prompt": ""}, 200, "prompt must not be empty"),
        ("/mj/submit/shorten", {}, 200, "prompt is required"),
        ("/mj/insight-face/swap", {"sourceBase64": IMAGE}, 400, "sour_base64_and_target"),
        ("/mj/submit/action", {"taskId": "1"}, 200, "customId is required"),
        ("/mj/submit/modal", {}, 200, "taskId is required"),
    ],
)
async def test_invalid_submits_answer_code_4(
    http: aiohttp.ClientSession, path: str, body: Any, status: int, description: str
) -> None:
    got_status, answer = await _post(http, path, body)
    assert got_status == status
    assert answer["code"] == 4 and description in answer["description"]
    if status == 400:
        assert answer["type"] == "upstream_error"  # new-api's own check


async def test_banned_words_answer_code_24(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for prompt, word in [("a gore scene", "gore"), ("Bloodbath at dawn", "bloodbath")]:
        status, answer = await _post(http, "/mj/submit/imagine", {"prompt": prompt})
        assert (status, answer["code"], answer["result"]) == (200, 24, None)
        assert answer["properties"] == {"promptEn": prompt, "bannedWord": word}
    emu.midjourney.banned_words = ("kitten",)
    assert (await _post(http, "/mj/submit/shorten", {"prompt": "a kitten"}))[1]["code"] == 24


async def test_queue_full_answers_code_23_then_accepts(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.midjourney.queue_full = 2
    for _ in range(2):
        status, answer = await _post(http, "/mj/submit/imagine", {"prompt": "fox"})
        assert (status, answer["code"]) == (200, 23)
    assert (await _post(http, "/mj/submit/imagine", {"prompt": "fox"}))[1]["code"] == 1


async def test_other_submits(emu: Emulator, http: aiohttp.ClientSession) -> None:
    results = {}
    for path, body in [
        ("/mj/submit/blend", {"base64Array": [IMAGE] * 3, "dimensions": "PORTRAIT"}),
        ("/mj/submit/describe", {"base64": IMAGE, "botType": "NIJI_JOURNEY"}),
        ("/mj/submit/shorten", {"prompt": "a very long and winding prompt about foxes"}),
        ("/mj/insight-face/swap", {"sourceBase64": IMAGE, "targetBase64": IMAGE}),
    ]:
        status, answer = await _post(http, path, body)
        assert (status, answer["code"]) == (200, 1), answer
        results[path] = answer["result"]
    emu.advance(60)
    blend = await _fetch(http, results["/mj/submit/blend"])
    assert (blend["action"], blend["status"], len(blend["buttons"])) == ("BLEND", "SUCCESS", 9)
    describe = await _fetch(http, results["/mj/submit/describe"])
    assert describe["action"] == "DESCRIBE" and "1️⃣" in describe["properties"]["finalPrompt"]
    shorten = await _fetch(http, results["/mj/submit/shorten"])
    assert "Important tokens" in shorten["properties"]["finalPrompt"]
    swap = await _fetch(http, results["/mj/insight-face/swap"])
    assert (swap["action"], swap["prompt"], swap["buttons"]) == ("SWAP_FACE", "InsightFace", [])


# -- buttons -----------------------------------------------------------------------------------


async def test_upscale_makes_a_new_task_showing_that_quadrant(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    grid = await _finished(emu, http)
    status, answer = await _click(http, grid, "U2")
    assert (status, answer["code"]) == (200, 1)
    child = answer["result"]
    assert child != grid
    assert (await _click(http, grid, "U2"))[1]["result"] == child  # the same click, same task
    emu.advance(60)
    task = await _fetch(http, child)
    assert (task["action"], task["status"]) == ("UPSCALE", "SUCCESS")
    assert task["description"] == f"/upscale {grid} U2"
    labels = {b["label"] or b["emoji"] for b in task["buttons"]}
    assert {"Vary (Strong)", "Vary (Region)", "Zoom Out 2x", "Custom Zoom", "⬅️"} <= labels
    async with http.get(f"/mj/image/{child}") as resp:
        _, _, rows = _png_pixels(await resp.read())
    assert rows[0][:3] == bytes(GRID_COLORS[1])  # U2 is the top right quadrant


@pytest.mark.parametrize(("label", "action"), [("V3", "VARIATION"), ("🔄", "REROLL")])
async def test_variation_and_reroll(
    emu: Emulator, http: aiohttp.ClientSession, label: str, action: str
) -> None:
    grid = await _finished(emu, http)
    child = (await _click(http, grid, label))[1]["result"]
    emu.advance(60)
    task = await _fetch(http, child)
    assert (task["action"], task["status"], len(task["buttons"])) == (action, "SUCCESS", 9)


async def test_actions_that_are_refused(emu: Emulator, http: aiohttp.ClientSession) -> None:
    running = await _imagine(http)
    status, answer = await _post(
        http, "/mj/submit/action", {"taskId": running, "customId": "MJ::JOB::upsample::1::x"}
    )
    assert (status, answer["description"]) == (400, "task_status_not_success")
    grid = await _finished(emu, http)
    status, answer = await _post(
        http, "/mj/submit/action", {"taskId": grid, "customId": "MJ::JOB::upsample::1::other"}
    )
    assert (status, answer["code"]) == (200, 4)
    status, answer = await _post(
        http, "/mj/submit/action", {"taskId": "404", "customId": "MJ::JOB::upsample::1::x"}
    )
    assert (status, answer["description"]) == (400, "task_no_found")


async def test_custom_zoom_waits_in_modal_until_the_form_is_sent(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    grid = await _finished(emu, http, "red fox")
    upscale = (await _click(http, grid, "U1"))[1]["result"]
    emu.advance(60)
    status, answer = await _click(http, upscale, "Custom Zoom")
    assert (status, answer["code"], answer["description"]) == (
        200, 21, "Waiting for window confirm",
    )  # fmt: skip
    assert answer["properties"]["finalPrompt"] == "red fox --zoom 2"
    modal_id = answer["result"]
    emu.advance(3600)
    task = await _fetch(http, modal_id)
    assert (task["status"], task["properties"]["finalPrompt"]) == ("MODAL", "red fox --zoom 2")
    bad = await _post(http, "/mj/submit/modal", {"taskId": modal_id, "prompt": "red fox"})
    assert bad[1]["code"] == 4 and "--zoom" in bad[1]["description"]
    ok = await _post(http, "/mj/submit/modal", {"taskId": modal_id, "prompt": "fox --zoom 1.5"})
    assert (ok[1]["code"], ok[1]["result"]) == (1, modal_id)  # the same task goes on
    assert (await _fetch(http, modal_id))["status"] == ""
    emu.advance(60)
    task = await _fetch(http, modal_id)
    assert (task["status"], task["prompt"], task["action"]) == ("SUCCESS", "fox --zoom 1.5", "ZOOM")
    again = await _post(http, "/mj/submit/modal", {"taskId": modal_id})
    assert again[1]["code"] == 4  # no longer waiting


async def test_vary_region_needs_a_mask(emu: Emulator, http: aiohttp.ClientSession) -> None:
    grid = await _finished(emu, http)
    upscale = (await _click(http, grid, "U4"))[1]["result"]
    emu.advance(60)
    modal_id = (await _click(http, upscale, "Vary (Region)"))[1]["result"]
    assert (await _post(http, "/mj/submit/modal", {"taskId": modal_id}))[1]["code"] == 4
    answer = (await _post(http, "/mj/submit/modal", {"taskId": modal_id, "maskBase64": IMAGE}))[1]
    assert answer["code"] == 1
    emu.advance(60)
    assert (await _fetch(http, modal_id))["status"] == "SUCCESS"


async def test_remix_puts_variations_in_modal_behind_code_1(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    grid = await _finished(emu, http)
    emu.midjourney.remix = True
    status, answer = await _click(http, grid, "V1")
    assert (status, answer["code"]) == (200, 1)  # new-api rewrote the proxy's 21
    emu.advance(60)
    assert (await _fetch(http, answer["result"]))["status"] == "MODAL"


# -- queries -----------------------------------------------------------------------------------


async def test_list_by_condition(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ids = [await _imagine(http) for _ in range(4)]
    status, tasks = await _post(http, "/mj/task/list-by-condition", {"ids": [*ids[::-1], "404"]})
    assert status == 200
    assert sorted(t["id"] for t in tasks) == sorted(ids)  # the unknown id is dropped
    assert (await _post(http, "/mj/task/list-by-condition", {"ids": []}))[1] == []
    assert (await _post(http, "/mj/task/list-by-condition", {}))[0] == 400


async def test_fetch_unknown_task(http: aiohttp.ClientSession) -> None:
    status, answer = await _get(http, "/mj/task/1/fetch")
    assert status == 400
    assert answer == {"description": "task_no_found ", "type": "upstream_error", "code": 4}


async def test_image_seed(emu: Emulator, http: aiohttp.ClientSession) -> None:
    running = await _imagine(http)
    assert await _get(http, f"/mj/task/{running}/image-seed") == (
        400, {"code": 4, "description": "关联任务状态错误"},
    )  # fmt: skip
    emu.advance(60)
    status, answer = await _get(http, f"/mj/task/{running}/image-seed")
    assert (status, answer["code"]) == (200, 1) and answer["result"].isdigit()
    assert (await _get(http, "/mj/task/9/image-seed"))[0] == 404


async def test_list_queue_and_paged_query(emu: Emulator, http: aiohttp.ClientSession) -> None:
    done = await _finished(emu, http)
    emu.advance(5)
    waiting = [await _imagine(http, f"fox {i}") for i in range(3)]
    emu.advance(2.5)  # SUBMITTED: in the queue
    status, tasks = await _get(http, "/mj/task/list")
    assert status == 200 and [t["id"] for t in tasks][-1] == done  # newest first
    status, queue = await _get(http, "/mj/task/queue")
    assert [t["id"] for t in queue] == waiting
    status, page = await _post(http, "/mj/task/query", {"pageNumber": 0, "pageSize": 2})
    assert (page["totalElements"], page["totalPages"], page["first"], page["last"]) == (
        4,
        2,
        True,
        False,
    )
    assert len(page["content"]) == 2
    status, page = await _post(http, "/mj/task/query", {"statusSet": ["SUCCESS"]})
    assert [t["id"] for t in page["content"]] == [done]
    status, page = await _post(http, "/mj/task/query", {"pageSize": 0})
    assert page["code"] == 4


async def test_cancel_answers_an_empty_200(emu: Emulator, http: aiohttp.ClientSession) -> None:
    task_id = await _imagine(http)
    emu.advance(5)
    async with http.post(f"/mj/task/{task_id}/cancel") as resp:
        assert resp.status == 200 and await resp.read() == b""
    emu.advance(60)
    task = await _fetch(http, task_id)
    assert (task["status"], task["failReason"]) == ("FAILURE", "取消任务")


async def test_a_stock_gateway_answers_html_for_unrouted_endpoints(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.midjourney.stock_gateway = True
    for method, path in [
        ("GET", "/mj/task/list"),
        ("GET", "/mj/task/queue"),
        ("POST", "/mj/task/query"),
        ("POST", "/mj/task/1/cancel"),
    ]:
        async with http.request(method, path, json={}) as resp:
            assert (resp.status, resp.content_type) == (200, "text/html")
            assert "<!doctype html>" in await resp.text()
    task_id = await _imagine(http)  # the routed ones still work
    assert (await _post(http, "/mj/task/list-by-condition", {"ids": [task_id]}))[0] == 200


# -- notify hooks ------------------------------------------------------------------------------


#: A notify-hook receiver: its URL, the bodies it received, and an event set at a final status.
Hook = tuple[str, list[dict[str, Any]], asyncio.Event]


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    """A callback receiver on the loopback: its URL, the bodies received, an event at the end."""
    received: list[dict[str, Any]] = []
    ended = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        if received[-1]["status"] in ("SUCCESS", "FAILURE"):
            ended.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", received, ended
    finally:
        await runner.cleanup()


async def test_notify_hook_gets_every_change_in_order(
    emu: Emulator, http: aiohttp.ClientSession, hook: Hook
) -> None:
    url, received, ended = hook
    task_id = await _imagine(http, "fox", notifyHook=url)
    emu.advance(60)  # the clock jumps: every change is still sent, in order
    with anyio.fail_after(5):
        await ended.wait()
    assert {body["id"] for body in received} == {task_id}
    changes = [(b["status"], b["progress"]) for b in received]
    expected = [("NOT_START", "0%"), ("SUBMITTED", "0%")]
    expected += [("IN_PROGRESS", f"{p}%") for p in PROGRESS_STEPS]
    assert changes == [*expected, ("SUCCESS", "100%")]
    assert received[-1]["buttons"]


async def test_notify_hook_goes_through_the_one_callback_mechanism(
    emu: Emulator, http: aiohttp.ClientSession, hook: Hook
) -> None:
    url, received, ended = hook
    task_id = await _imagine(http, "fox", notifyHook=url)
    emu.advance(60)
    with anyio.fail_after(5):
        await ended.wait()
        while len(deliveries(emu)) < len(received):  # the sender records after the answer
            await asyncio.sleep(0)
    sent = deliveries(emu)  # kept by the kit's notify sender, as for Suno and digital human
    assert [(d.url, d.status, d.payload["id"]) for d in sent] == [(url, 200, task_id)] * len(
        received
    )
    assert [d.payload for d in sent] == received


async def test_no_notify_when_the_gateway_drops_hooks(
    emu: Emulator, http: aiohttp.ClientSession, hook: Hook
) -> None:
    url, received, ended = hook
    emu.midjourney.notify = False
    dropped = await _imagine(http, "fox", notifyHook=url)
    emu.midjourney.notify = True
    kept = await _imagine(http, "fox", notifyHook=url)  # sent after the dropped one would be
    emu.advance(60)
    with anyio.fail_after(5):
        await ended.wait()
    assert {body["id"] for body in received} == {kept}
    assert dropped != kept


def test_png_helper_reads_the_emulators_images() -> None:
    width, height, rows = _png_pixels(png_bytes(3, 2, color=(1, 2, 3)))
    assert (width, height, rows) == (3, 2, [bytes([1, 2, 3]) * 3] * 2)
