"""``api4gpt doctor``: key, base URL, TLS and clock checks, and which endpoints the gateway
serves, found with status queries only (the emulator's log never holds a submit)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from api4gpt_async import AsyncAPI4GPT, NotFoundError
from api4gpt_async.cli._doctor import MADE_UP_ID, PROBES, Report, diagnose
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

KEY = "sk-doctor-0123456789abcdef"
HTML = {
    "status": 200,
    "body": "<!doctype html><html></html>",
    "headers": {"Content-Type": "text/html"},
}
#: The only POSTs the doctor may send: batch status queries.
QUERY_POSTS = {"midjourney.list_by_condition", "suno.fetch_many"}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY, time_scale=0) as emu:
        yield emu


def checks(report: Report) -> dict[str, str]:
    return {check.name: check.verdict for check in report.checks}


def assert_nothing_billable(emu: Emulator) -> None:
    probe_keys = {spec.key for spec in PROBES}
    for request in emu.requests:
        route = (request.route or "").split(".alt")[0]
        assert route in probe_keys | {"models"}, request
        assert request.method == "GET" or route in QUERY_POSTS, request
        assert (
            MADE_UP_ID in request.path
            or MADE_UP_ID in request.query.get("id", "")
            or (request.json == {"ids": [MADE_UP_ID]} or route in ("models", "midjourney.queue"))
        ), request


async def test_a_healthy_gateway(emu: Emulator) -> None:
    report = await diagnose(base_url=emu.base_url + "/v1/", api_key=KEY)
    assert checks(report) == {
        "base URL": "ok",
        "base URL reachable": "ok",
        "API key": "ok",
        "TLS": "skip",
        "clock": "ok",
    }
    assert report.ok
    served = {(p.key, p.path): p.served for p in report.probes}
    # A JSON 404 to a made-up id may be a handler's "no such job" or a gateway's "no such
    # path": "maybe", never "served" (the emulator's Suno v3 and image-seed routes send one).
    json_404 = {(p.key, p.path) for p in report.probes if p.answer.startswith("404 JSON")}
    assert {key for key, _ in json_404} == {
        "suno.v3_0.fetch",
        "suno.v3_5.fetch",
        "midjourney.image_seed",
    }
    assert {served[k] for k in json_404} == {"maybe"}
    assert {v for k, v in served.items() if k not in json_404} == {"served"}
    assert served["zhipu_video.result", "/api/paas/v4/async-result/{id}"] == "served"
    # The first candidate of each endpoint with candidates, and its siblings.
    assert report.paths["zhipu_video.generate"] == "/cogvideox/v4/videos/generations"
    assert report.paths["suno.v3_5.generate"] == "/suno/v1/v3.5/music"
    assert_nothing_billable(emu)
    assert emu.count("luma.generate") == emu.count("midjourney.imagine") == 0


async def test_a_v1_base_url_fails_with_the_likely_one(emu: Emulator) -> None:
    # "/V1" is kept as a path (a relay's own may be), so /V1/v1/models is a 404: the doctor
    # says so, as every request of the SDK does, instead of passing the gateway as healthy.
    report = await diagnose(base_url=emu.base_url + "/V1", api_key=KEY)
    reachable = next(c for c in report.checks if c.name == "base URL reachable")
    assert reachable.verdict == "fail"
    assert reachable.detail.endswith(f"did you mean {emu.base_url!r}?")
    assert not report.ok


async def test_paths_not_served_are_found_and_the_served_ones_pinned(emu: Emulator) -> None:
    emu.fail("zhipu_video.result", times=None, **HTML)  # type: ignore[arg-type]
    emu.fail("suno.v3_5.fetch", times=None, **HTML)  # type: ignore[arg-type]
    emu.fail("luma.task", status=404, body="404 page not found", times=None)
    # new-api's router under /api (and the emulator's for any unknown path): a JSON 404 that
    # names the path, not a handler's "no such job".
    invalid_url = {"error": {"message": "Invalid URL (GET /x)", "type": "invalid_request_error"}}
    emu.fail("suno.v3_0.fetch", status=404, body=invalid_url, times=None)
    emu.midjourney.stock_gateway = True
    report = await diagnose(base_url=emu.base_url, api_key=KEY)
    served = {(p.key, p.path): p.served for p in report.probes}
    assert served["zhipu_video.result", "/cogvideox/v4/async-result/{id}"] == "not served"
    assert served["suno.v3_5.fetch", "/suno/v1/v3.5/music/{id}"] == "not served"
    assert served["luma.task", "/luma/v1/task"] == "not served"
    assert served["midjourney.queue", "/mj/task/queue"] == "not served"
    assert served["suno.v3_0.fetch", "/suno/v1/v3.0/music/{id}"] == "not served"
    assert served["lumvip.task", "/luma/task"] == "served"
    assert report.paths["zhipu_video.result"] == "/zhipu/api/paas/v4/async-result/{id}"
    assert report.paths["zhipu_video.generate"] == "/zhipu/api/paas/v4/videos/generations"
    assert report.paths["suno.v3_5.fetch"] == "/suno/v1/mv-3.5/music/{id}"
    assert report.paths["suno.v3_5.generate"] == "/suno/v1/mv-3.5/music"
    assert report.paths["suno.v3_0.fetch"] == "/suno/v1/music/{id}"
    # The recommendation works: a client given it sends nothing to the paths not served.
    assert report.ok
    assert_nothing_billable(emu)


@pytest.mark.parametrize("not_served", [(), ("zhipu_video.result", "suno.v3_5.fetch")])
async def test_the_path_marked_used_is_the_one_the_client_uses(
    emu: Emulator, not_served: tuple[str, ...]
) -> None:
    for route in not_served:  # the first candidate's route: the client moves on from it
        emu.fail(route, times=None, **HTML)  # type: ignore[arg-type]
    report = await diagnose(base_url=emu.base_url, api_key=KEY)
    used = [(p.key, p.path) for p in report.probes if p.used]
    assert sorted(key for key, _ in used) == sorted({p.key for p in report.probes})  # one each
    async with emu.client() as client:
        for kind in ("suno.v3_0", "suno.v3_5", "zhipu_video"):  # the kinds with candidates
            with pytest.raises(NotFoundError):
                await client.tasks.resume({"kind": kind, "id": MADE_UP_ID}).refresh()
        chosen = dict(client.paths_in_use)
    candidates = {"suno.v3_0.fetch", "suno.v3_5.fetch", "zhipu_video.result"}
    assert {(key, path) for key, path in used if key in candidates} == set(chosen.items())
    others = [p for p in report.probes if p.key in candidates and (p.key, p.path) not in used]
    assert others and not any(p.used for p in others)  # answered too, but never asked


async def test_a_wrong_key_fails(emu: Emulator) -> None:
    report = await diagnose(base_url=emu.base_url, api_key="sk-wrong")
    assert checks(report)["API key"] == "fail"
    assert not report.ok


@pytest.mark.parametrize(
    "fault",
    [
        HTML,
        {"status": 404, "body": "<html>not here</html>", "headers": {"Content-Type": "text/html"}},
        {"status": 404, "body": "404 page not found"},
    ],
)
async def test_a_base_url_that_is_a_web_page_gets_a_hint(emu: Emulator, fault: dict) -> None:
    emu.fail("models", times=None, **fault)
    report = await diagnose(base_url=emu.base_url, api_key=KEY)
    assert checks(report)["base URL reachable"] == "fail"
    assert "HTML page instead of JSON" in report.checks[1].detail
    assert not report.ok


@pytest.mark.parametrize("base_url", ["ftp://gateway.example", "gateway.example", "http//x"])
async def test_a_base_url_that_is_not_http_fails_before_any_request(base_url: str) -> None:
    report = await diagnose(base_url=base_url, api_key=KEY)
    assert checks(report) == {"base URL": "fail"}
    assert report.probes == []


async def test_an_unreachable_base_url_fails(unused_port_url: str) -> None:
    report = await diagnose(base_url=unused_port_url, api_key=KEY, timeout=5)
    assert checks(report)["base URL reachable"] == "fail"
    assert report.probes == []


async def test_plain_http_to_a_remote_host_is_a_warning() -> None:
    from api4gpt_async.cli._doctor import _check_base_url

    assert _check_base_url("http://gateway.example")[0].verdict == "warn"
    assert _check_base_url("http://localhost:8080")[0].verdict == "ok"
    assert _check_base_url("https://gateway.example/v1")[0].detail.endswith("dropped)")


@pytest.mark.parametrize("skew", [-3600, -120, 120, 86400])
async def test_a_clock_far_from_the_servers_is_reported(emu: Emulator, skew: int) -> None:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=skew)
    date = email.utils.format_datetime(when, usegmt=True)
    models = json.dumps({"object": "list", "data": []})
    emu.fail(
        "models",
        status=200,
        body=models,
        headers={"Date": date, "Content-Type": "application/json"},
    )
    report = await diagnose(base_url=emu.base_url, api_key=KEY)
    clock = next(c for c in report.checks if c.name == "clock")
    assert clock.verdict == "warn"
    match = re.search(r"(\d+)s (behind|ahead of)", clock.detail)
    assert match is not None, clock.detail
    assert abs(int(match[1]) - abs(skew)) <= 2
    assert match[2] == ("behind" if skew > 0 else "ahead of")


def test_every_task_kind_has_a_probe() -> None:
    client = AsyncAPI4GPT(api_key="x")
    probed = {spec.key.rpartition(".")[0] for spec in PROBES}
    assert set(client.tasks.kinds) <= probed


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_an_untrusted_certificate_fails_tls(self_signed: ssl.SSLContext) -> None:
    async def models(_request: web.Request) -> web.Response:
        return web.json_response({"data": []})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed)
    await site.start()
    try:
        port = runner.addresses[0][1]
        report = await diagnose(base_url=f"https://127.0.0.1:{port}", api_key=KEY)
    finally:
        await runner.cleanup()
    assert checks(report)["TLS"] == "fail"
    assert report.probes == []


async def test_the_command_prints_tables_or_json_and_hides_the_key(emu: Emulator) -> None:
    emu.fail("zhipu_video.result", times=None, **HTML)  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env.update(API4GPT_BASE_URL=emu.base_url, API4GPT_API_KEY=KEY, COLUMNS="200")
    command = [sys.executable, "-m", "api4gpt_async", "doctor"]
    table = await anyio.run_process(command, env=env, check=False)
    text = table.stdout.decode()
    assert table.returncode == 0, text + table.stderr.decode()
    assert "zhipu_video.result" in text and "not served" in text
    assert re.search(r"/zhipu/api/paas/v4/async-result/\{id\} .* served .* uses", text), text
    assert re.search(r"/suno/v1/v3\.0/music/\{id\} .* maybe .* uses", text), text
    assert re.search(r"/cogvideox/v1/async-result/\{id\} .* served +│ +│", text), text
    assert "AsyncAPI4GPT(paths={" in text and "/zhipu/api/paas/v4/async-result/{id}" in text
    as_json = await anyio.run_process([*command, "--json"], env=env, check=False)
    report = json.loads(as_json.stdout)
    assert report["ok"] is True
    used = {e["key"]: e["path"] for e in report["endpoints"] if e["used"]}
    assert used["zhipu_video.result"] == "/zhipu/api/paas/v4/async-result/{id}"
    assert report["paths"]["zhipu_video.generate"] == "/zhipu/api/paas/v4/videos/generations"
    wrong = await anyio.run_process(
        [*command, "--json"], env={**env, "API4GPT_API_KEY": "sk-wrong-key-123456"}, check=False
    )
    assert wrong.returncode == 1
    for result in (table, as_json, wrong):
        output = result.stdout.decode() + result.stderr.decode()
        assert KEY not in output and "sk-wrong-key-123456" not in output
    assert_nothing_billable(emu)
