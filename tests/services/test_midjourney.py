"""client.midjourney against the emulator: submits, codes, buttons, MODAL, queries, polling."""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from api4gpt_async import (
    APIError,
    AsyncAPI4GPT,
    BadRequestError,
    ContentPolicyError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    TaskNeedsActionError,
    TaskState,
    UnsupportedOperation,
)
from api4gpt_async.models.midjourney import MidjourneyTask
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import GRID_COLORS, png_bytes

pytestmark = pytest.mark.anyio

PNG = png_bytes(4, 4)
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


async def _grid(
    client: AsyncAPI4GPT, emulator: Emulator, prompt: str = "red fox"
) -> MidjourneyTask:
    handle = await client.midjourney.imagine(prompt)
    emulator.advance(60)
    return await handle.wait()


async def _upscaled(client: AsyncAPI4GPT, emulator: Emulator, n: int = 1) -> MidjourneyTask:
    grid = await _grid(client, emulator)
    handle = await client.midjourney.upscale(grid, n)
    emulator.advance(60)
    return await handle.wait()


def _bodies(emulator: Emulator, route: str) -> list[Any]:
    return [r.json for r in emulator.requests if r.route == route]


# -- submits -----------------------------------------------------------------------------------


async def test_imagine_waits_for_the_grid(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "ref.png").write_bytes(PNG)
    handle = await client.midjourney.imagine(
        "red fox in snow --ar 3:2",
        bot_type="NIJI_JOURNEY",
        images=[tmp_path / "ref.png", PNG, io.BytesIO(PNG), DATA_URL],
        state="job-42",
        notify_hook="https://example.com/hook",
        account_filter={"modes": ["FAST"]},
    )
    assert handle.kind == "midjourney" and handle.id.isdigit()
    assert _bodies(emulator, "midjourney.imagine") == [
        {
            "prompt": "red fox in snow --ar 3:2",
            "botType": "NIJI_JOURNEY",
            "base64Array": [DATA_URL] * 4,
            "state": "job-42",
            "notifyHook": "https://example.com/hook",
            "accountFilter": {"modes": ["FAST"]},
        }
    ]
    snap = await handle.refresh()
    assert (snap.state, snap.progress, snap.raw.status) == (TaskState.PENDING, None, None)
    emulator.advance(10)
    snap = await handle.refresh()
    assert snap.state is TaskState.RUNNING and 0 < (snap.progress or 0) < 1
    emulator.advance(60)
    task = await handle.wait()
    assert task.status == "SUCCESS" and task.state == "job-42"
    assert [b.label or b.emoji for b in task.buttons][:5] == ["U1", "U2", "U3", "U4", "🔄"]
    assert handle.last is not None and handle.last.progress == 1.0


@pytest.mark.parametrize(
    ("image_url", "name"),
    [
        ("/mj/image/{id}", "{id}-grid.png"),  # a gateway's image route: no extension, PNG
        ("/cdn/{id}_grid_0.webp", "{id}-grid.webp"),  # the URL's own extension wins
    ],
)
async def test_download_all_names_the_image_with_an_extension(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, image_url: str, name: str
) -> None:
    handle = await client.midjourney.imagine("fox")
    emulator.advance(60)
    task = await handle.wait()
    url = emulator.base_url + image_url.format(id=handle.id)
    emulator.fail("midjourney.fetch", status=200, body={**task.raw, "imageUrl": url})
    emulator.fail(image_url.format(id=handle.id), status=200, body=PNG,
                  headers={"Content-Type": "image/png"})  # fmt: skip
    fresh = client.midjourney.task(handle.id)
    (path,) = await fresh.download_all(tmp_path)
    assert path == tmp_path / name.format(id=handle.id)
    assert path.read_bytes() == PNG


async def test_unset_fields_are_not_sent(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    await client.midjourney.imagine("fox", extra_body={"botType": "MID_JOURNEY"})
    assert _bodies(emulator, "midjourney.imagine") == [{"prompt": "fox", "botType": "MID_JOURNEY"}]


@pytest.mark.parametrize("speed", ["fast", "relax", "turbo"])
async def test_speed_selects_the_path_prefix(
    client: AsyncAPI4GPT, emulator: Emulator, speed: Any
) -> None:
    await client.midjourney.imagine("fox", speed=speed)
    await client.midjourney.shorten("a long prompt", speed=speed)
    paths = [r.path for r in emulator.requests]
    assert paths == [f"/mj-{speed}/mj/submit/imagine", f"/mj-{speed}/mj/submit/shorten"]


async def test_an_unknown_speed_is_refused_before_sending(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    with pytest.raises(ValueError, match="speed"):
        await client.midjourney.imagine("fox", speed="ludicrous")  # type: ignore[arg-type]
    assert emulator.requests == []


async def test_other_submits(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    mj = client.midjourney
    blend = await mj.blend([PNG, PNG, DATA_URL], dimensions="PORTRAIT")
    describe = await mj.describe(PNG)
    shorten = await mj.shorten("a very long prompt about a red fox in the snow")
    swap = await mj.swap_face(PNG, DATA_URL)
    assert _bodies(emulator, "midjourney.blend") == [
        {"base64Array": [DATA_URL] * 3, "dimensions": "PORTRAIT"}
    ]
    assert _bodies(emulator, "midjourney.describe") == [{"base64": DATA_URL}]
    assert _bodies(emulator, "midjourney.swap_face") == [
        {"sourceBase64": DATA_URL, "targetBase64": DATA_URL}
    ]
    emulator.advance(60)
    results = await client.tasks.gather([blend, describe, shorten, swap])
    assert [r.action for r in results] == ["BLEND", "DESCRIBE", "SHORTEN", "SWAP_FACE"]
    assert "1️⃣" in (results[1].final_prompt or "")
    assert "Important tokens" in (results[2].final_prompt or "")
    with pytest.raises(ValueError, match="2 to 5"):
        await mj.blend([PNG])


# -- submit answers, by code --------------------------------------------------------------------


@pytest.mark.parametrize(("prompt", "word"), [("a gore scene", "gore"), ("BLOODBATH", "bloodbath")])
async def test_a_banned_prompt_is_a_content_policy_error(
    client: AsyncAPI4GPT, emulator: Emulator, prompt: str, word: str
) -> None:
    with pytest.raises(ContentPolicyError) as info:
        await client.midjourney.imagine(prompt)
    assert (info.value.code, info.value.banned_word, info.value.prompt_en) == (24, word, prompt)
    assert isinstance(info.value, APIError) and word in str(info.value)
    assert info.value.request_id
    assert emulator.count("midjourney.imagine") == 1  # never retried


async def test_queue_full_is_retried_like_a_429(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.midjourney.queue_full = 2
    handle = await client.midjourney.imagine("fox")
    assert handle.id
    assert emulator.count("midjourney.imagine") == 3


async def test_queue_full_ends_as_a_rate_limit_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.midjourney.queue_full = 10
    with pytest.raises(RateLimitError) as info:
        await client.midjourney.imagine("fox")
    assert (info.value.code, info.value.status) == (23, 429)
    assert emulator.count("midjourney.imagine") == 3  # one try + max_retries


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        ({"code": 3, "description": "关联任务不存在或已失效"}, NotFoundError, 3),
        ({"code": 4, "description": "base64 format error"}, BadRequestError, 4),
        ({"code": 9, "description": "upstream failure"}, ServerError, 9),
        ({"code": 5, "description": "do request failed"}, ServerError, 5),
        ({"code": "4", "description": "numeric string code"}, BadRequestError, "4"),
        ({"code": 99, "description": "something new"}, APIError, 99),
    ],
)
async def test_failure_codes_are_typed(
    client: AsyncAPI4GPT, emulator: Emulator, answer: dict[str, Any], error: type, code: Any
) -> None:
    emulator.fail("midjourney.imagine", status=200, body={**answer, "result": None})
    with pytest.raises(error) as info:
        await client.midjourney.imagine("fox")
    assert info.value.code == code
    assert answer["description"] in str(info.value)
    assert emulator.count("midjourney.imagine") == 1  # billable: a refusal is not re-sent


@pytest.mark.parametrize(
    "answer",
    [
        {"code": 1, "description": "Submit success", "result": 1730000000999999},
        {"code": 22, "description": "排队中", "result": "1730000000999999",
         "properties": {"numberOfQueues": 2}},
        {"code": 21, "description": "任务已存在", "result": "1730000000999999",
         "properties": {"status": "SUCCESS"}},
    ],
)  # fmt: skip
async def test_accepted_codes_and_numeric_ids(
    client: AsyncAPI4GPT, emulator: Emulator, answer: dict[str, Any]
) -> None:
    emulator.fail("midjourney.imagine", status=200, body=answer)
    handle = await client.midjourney.imagine("fox")
    assert handle.id == "1730000000999999"
    assert handle.last is None  # nothing known yet: the first poll tells


async def test_an_accepted_answer_without_an_id_is_a_decode_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("midjourney.imagine", status=200, body={"code": 1, "description": "ok"})
    with pytest.raises(ResponseDecodeError, match="no task id"):
        await client.midjourney.imagine("fox")


async def test_new_api_validation_errors(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    with pytest.raises(BadRequestError, match="prompt_is_required") as info:
        await client.midjourney.imagine(" ")
    assert (info.value.status, info.value.code) == (400, 4)


# -- buttons -----------------------------------------------------------------------------------


async def test_upscale_variation_and_reroll_make_new_tasks(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    grid = await _grid(client, emulator)
    up = await client.midjourney.upscale(grid, 2)
    var = await client.midjourney.variation(grid.id, 3)  # by id: the task is fetched first
    roll = await client.midjourney.reroll(client.midjourney.task(grid.id))
    assert len({grid.id, up.id, var.id, roll.id}) == 4
    sent = [(b["taskId"], b["customId"]) for b in _bodies(emulator, "midjourney.action")]
    assert [s[0] for s in sent] == [grid.id] * 3
    assert [s[1].split("::")[2:4] for s in sent] == [["upsample", "2"], ["variation", "3"],
                                                     ["reroll", "0"]]  # fmt: skip
    emulator.advance(60)
    results = await client.tasks.gather([up, var, roll])
    assert [r.action for r in results] == ["UPSCALE", "VARIATION", "REROLL"]


async def test_buttons_of_an_upscale(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    upscale = await _upscaled(client, emulator)
    mj = client.midjourney
    handles = [
        await mj.vary(upscale, "strong"),
        await mj.vary(upscale, "subtle"),
        await mj.zoom_out(upscale, 2),
        await mj.zoom_out(upscale, 1.5),
        await mj.pan(upscale, "left"),
        await mj.click(upscale, "➡️"),
        await mj.click(upscale, "upscale (creative)"),
    ]
    kinds = [b["customId"].split("::")[1:4] for b in _bodies(emulator, "midjourney.action")[1:]]
    assert kinds == [
        ["JOB", "high_variation", "1"],
        ["JOB", "low_variation", "1"],
        ["Outpaint", "50", "1"],
        ["Outpaint", "75", "1"],
        ["JOB", "pan_left", "1"],
        ["JOB", "pan_right", "1"],
        ["JOB", "upsample_v6_2x_creative", "1"],
    ]
    emulator.advance(60)
    actions = [r.action for r in await client.tasks.gather(handles)]
    assert actions == ["VARIATION", "VARIATION", "ZOOM", "ZOOM", "PAN", "PAN", "UPSCALE"]


async def test_a_missing_button_is_a_clear_error(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    grid = await _grid(client, emulator)
    with pytest.raises(ValueError, match=r"no Zoom Out 2x button \(its buttons: U1, U2"):
        await client.midjourney.zoom_out(grid)
    with pytest.raises(ValueError, match="no 'Make Square' button"):
        await client.midjourney.click(grid, "Make Square")
    with pytest.raises(ValueError, match="n must be 1 to 4"):
        await client.midjourney.upscale(grid, 5)
    with pytest.raises(ValueError, match=r"factor must be 2 or 1\.5"):
        await client.midjourney.zoom_out(grid, 3)
    running = await client.midjourney.imagine("fox")
    with pytest.raises(ValueError, match="has not finished"):
        await client.midjourney.upscale(running, 1)
    assert emulator.count("midjourney.action") == 0


# -- MODAL ---------------------------------------------------------------------------------------


async def test_custom_zoom_needs_action_instead_of_polling(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    upscale = await _upscaled(client, emulator)
    handle = await client.midjourney.custom_zoom(upscale)
    assert handle.last is not None and handle.last.needs_action  # code 21 said so already
    emulator.clear_requests()
    with pytest.raises(TaskNeedsActionError) as info:
        await handle.wait()
    assert info.value.suggested_prompt == "red fox --zoom 2"
    assert info.value.snapshot.raw.status == "MODAL"
    assert emulator.count("midjourney.fetch") + emulator.count("midjourney.list_by_condition") == 1
    snaps = [snap async for snap in handle.watch()]
    assert [s.needs_action for s in snaps] == [True]  # watch yields it and ends
    confirmed = await client.midjourney.modal(handle, prompt="red fox --zoom 1.5")
    assert confirmed.id == handle.id
    assert _bodies(emulator, "midjourney.modal") == [
        {"taskId": handle.id, "prompt": "red fox --zoom 1.5"}
    ]
    emulator.advance(60)
    task = await confirmed.wait()
    assert (task.status, task.action, task.prompt) == ("SUCCESS", "ZOOM", "red fox --zoom 1.5")


async def test_vary_region_sends_the_mask(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    upscale = await _upscaled(client, emulator)
    handle = await client.midjourney.vary_region(upscale)
    with pytest.raises(TaskNeedsActionError):
        await handle.wait()
    confirmed = await client.midjourney.modal(handle.id, mask=PNG)
    assert _bodies(emulator, "midjourney.modal") == [{"taskId": handle.id, "maskBase64": DATA_URL}]
    emulator.advance(60)
    assert (await confirmed.wait()).status == "SUCCESS"


async def test_modal_is_told_by_status_when_the_gateway_said_code_1(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    """new-api rewrites the proxy's 21 to 1 for remix: only the task's status tells."""
    grid = await _grid(client, emulator)
    emulator.midjourney.remix = True
    handle = await client.midjourney.variation(grid, 1)
    assert handle.last is None
    emulator.advance(3600)
    outcomes = [o async for o in client.tasks.as_completed([handle])]
    assert isinstance(outcomes[0].error, TaskNeedsActionError)
    assert outcomes[0].error.suggested_prompt == "red fox"


# -- queries -----------------------------------------------------------------------------------


async def test_get_get_many_and_reattach(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handles = [await client.midjourney.imagine(f"fox {i}") for i in range(3)]
    ids = [h.id for h in handles]
    emulator.advance(60)
    assert (await client.midjourney.get(ids[0])).status == "SUCCESS"
    many = await client.midjourney.get_many([*ids, "1"])
    assert sorted(t.id for t in many) == sorted(ids)
    assert await client.midjourney.get_many([]) == []
    again = client.tasks.resume(handles[1].ref)
    assert (await again.wait()).prompt == "fox 1"
    with pytest.raises(NotFoundError, match="task_no_found"):
        await client.midjourney.get("1")


async def test_failure_reason(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    handle = await client.midjourney.imagine("this will [fail]")
    emulator.advance(60)
    with pytest.raises(TaskFailedError, match="Invalid parameter") as info:
        await handle.wait()
    assert info.value.snapshot.progress == 1.0  # new-api's "100%" on failure


async def test_list_queue_and_query(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    done = await _grid(client, emulator)
    waiting = await client.midjourney.imagine("queued fox")
    emulator.advance(2.5)
    assert [t.id for t in await client.midjourney.list()] == [waiting.id, done.id]
    assert [t.id for t in await client.midjourney.queue()] == [waiting.id]
    page = await client.midjourney.query(page_size=1, status_set=["SUCCESS", "SUBMITTED"])
    assert [t.id for t in page.content] == [waiting.id]
    assert (page.total_elements, page.total_pages, page.raw["numberOfElements"]) == (2, 2, 1)
    assert _bodies(emulator, "midjourney.query") == [
        {"pageNumber": 0, "pageSize": 1, "statusSet": ["SUCCESS", "SUBMITTED"]}
    ]


async def test_image_seed(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    grid = await _grid(client, emulator)
    seed = await client.midjourney.image_seed(grid)
    assert seed.isdigit()
    with pytest.raises(NotFoundError) as info:
        await client.midjourney.image_seed("1")
    assert info.value.code == 3
    running = await client.midjourney.imagine("fox")
    with pytest.raises(BadRequestError, match="关联任务状态错误"):
        await client.midjourney.image_seed(running)


async def test_cancel(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    first = await client.midjourney.imagine("fox")
    emulator.advance(5)
    task = await client.midjourney.cancel(first)  # an empty 200, then the task is fetched
    assert (task.status, task.fail_reason) == ("FAILURE", "取消任务")
    with pytest.raises(TaskCancelledError):
        await first.wait()
    second = await client.midjourney.imagine("fox")
    await second.cancel()
    with pytest.raises(TaskCancelledError):
        await second.wait()


@pytest.mark.parametrize(
    "call",
    [
        lambda mj: mj.list(),
        lambda mj: mj.queue(),
        lambda mj: mj.query(),
        lambda mj: mj.cancel("1730000000000001"),
    ],
)
async def test_a_stock_gateway_does_not_serve_four_endpoints(
    client: AsyncAPI4GPT, emulator: Emulator, call: Any
) -> None:
    emulator.midjourney.stock_gateway = True
    with pytest.raises(UnsupportedOperation, match="does not serve"):
        await call(client.midjourney)


async def test_a_plain_404_also_means_not_served(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("midjourney.list", status=404, body="404 page not found")
    with pytest.raises(UnsupportedOperation, match="does not serve the task list"):
        await client.midjourney.list()
    page = "<!doctype html><html><title>New API</title></html>"
    emulator.fail("midjourney.image_seed", status=200, body=page,
                  headers={"Content-Type": "text/html"})  # fmt: skip
    with pytest.raises(UnsupportedOperation, match="does not serve image seeds"):
        await client.midjourney.image_seed("1730000000000001")


# -- polling folded into list-by-condition -------------------------------------------------------


async def _wait_for_many(
    client: AsyncAPI4GPT, emulator: Emulator, count: int
) -> tuple[list[str], list[MidjourneyTask]]:
    """Submit ``count`` imagines, then wait for them all with an empty request log."""
    handles = [await client.midjourney.imagine(f"fox {i}") for i in range(count)]
    emulator.clear_requests()
    emulator.advance(60)
    return [h.id for h in handles], await client.tasks.gather(handles)


async def test_waiting_tasks_are_polled_in_batches(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    ids, results = await _wait_for_many(client, emulator, 120)
    assert all(r.status == "SUCCESS" for r in results)
    assert emulator.count("midjourney.fetch") == 0
    batches = _bodies(emulator, "midjourney.list_by_condition")
    assert sorted(i for b in batches for i in b["ids"]) == sorted(ids)
    assert max(len(b["ids"]) for b in batches) == 50 and len(batches) == 3


async def test_ids_the_batch_leaves_out_are_fetched_alone(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    handles = [await client.midjourney.imagine(f"fox {i}") for i in range(3)]
    unknown = client.midjourney.task("1")  # list-by-condition drops ids it does not know
    emulator.clear_requests()
    emulator.advance(60)
    outcomes = [o async for o in client.tasks.as_completed([*handles, unknown])]
    assert sorted(o.ok for o in outcomes) == [False, True, True, True]
    failed = next(o for o in outcomes if not o.ok)
    assert failed.handle is unknown and isinstance(failed.error, NotFoundError)
    assert emulator.count("midjourney.list_by_condition") == 1
    assert [r.path for r in emulator.requests if r.route == "midjourney.fetch"] == [
        "/mj/task/1/fetch"
    ]


async def test_a_refused_batch_query_falls_back_to_single_fetches(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("midjourney.list_by_condition", status=404, body="404 page not found", times=None)
    await _wait_for_many(client, emulator, 4)
    assert emulator.count("midjourney.list_by_condition") == 1  # then never again
    assert emulator.count("midjourney.fetch") == 4


async def test_a_batch_blip_is_retried(client: AsyncAPI4GPT, emulator: Emulator) -> None:
    emulator.fail("midjourney.list_by_condition", status=503, times=3)  # one call, two retries
    await _wait_for_many(client, emulator, 4)
    assert emulator.count("midjourney.fetch") == 0
    assert emulator.count("midjourney.list_by_condition") == 4


# -- the grid ------------------------------------------------------------------------------------


async def test_split_grid_cuts_four_images_like_the_upscales(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    from PIL import Image

    grid = await _grid(client, emulator)
    paths = await client.midjourney.split_grid(grid, tmp_path / "out")
    assert [p.name for p in paths] == [f"{grid.id}-{n}.png" for n in range(1, 5)]
    colours = [Image.open(p).convert("RGB").getpixel((0, 0)) for p in paths]
    assert colours == list(GRID_COLORS)
    up2 = await client.midjourney.upscale(grid, 2)
    emulator.advance(60)
    await up2.wait()
    saved = await up2.download(tmp_path)
    upscale = Image.open(saved).convert("RGB")
    quadrant = Image.open(paths[1]).convert("RGB")
    assert upscale.size == quadrant.size and upscale.getpixel((0, 0)) == colours[1]


async def test_split_grid_without_pillow_names_the_extra(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = await _grid(client, emulator)
    monkeypatch.setitem(sys.modules, "PIL", None)
    emulator.clear_requests()
    with pytest.raises(ImportError, match=r"api4gpt-async\[images\]"):
        await client.midjourney.split_grid(grid, tmp_path)
    assert emulator.requests == []  # nothing downloaded first


async def test_split_grid_never_replaces_a_file_unless_asked(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    grid = await _grid(client, emulator)
    (tmp_path / f"{grid.id}-3.png").write_bytes(b"mine")
    emulator.clear_requests()
    with pytest.raises(FileExistsError):
        await client.midjourney.split_grid(grid, tmp_path)
    assert emulator.requests == []  # refused before downloading
    assert (tmp_path / f"{grid.id}-3.png").read_bytes() == b"mine"
    paths = await client.midjourney.split_grid(grid, tmp_path, overwrite=True)
    assert paths[2].read_bytes().startswith(b"\x89PNG")


async def test_split_grid_of_an_unfinished_task(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    running = await client.midjourney.imagine("fox")
    with pytest.raises(ValueError, match="has not finished"):
        await client.midjourney.split_grid(running, tmp_path)
