"""Downloads: streamed, atomic, size-checked, and never outside the chosen folder."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncAPI4GPT,
    Hooks,
    RequestEvent,
    ResponseTooLargeError,
    RetryPolicy,
    TaskFailedError,
    TaskHandle,
)
from api4gpt_async._files import MAX_REDIRECTS, safe_filename
from api4gpt_async.models.audio import SpeechResponse
from api4gpt_async.models.images import Image
from api4gpt_async.testing import Emulator, RecordedRequest
from api4gpt_async.testing._media import mp4_bytes, png_bytes

pytestmark = pytest.mark.anyio


async def test_handle_download_into_a_folder(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    await handle.wait()
    path = await handle.download(tmp_path)
    assert path == tmp_path / f"{handle.id}.mp4"
    assert path.read_bytes() == mp4_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no .part left behind


async def test_download_to_a_new_file_path(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.lumvip.generate("a fox")
    emulator.advance(60)
    path = await handle.download(tmp_path / "new" / "fox.mp4")  # refreshes, then saves
    assert path.read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("method", ["download", "download_all"])
async def test_download_of_a_failed_job_raises(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, method: str
) -> None:
    handle = await client.luma.generate("[fail] please")
    emulator.advance(60)
    with pytest.raises(TaskFailedError):
        await getattr(handle, method)(tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_server_supplied_name_cannot_escape(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    folder = tmp_path / "inside"
    folder.mkdir()
    emulator.fail(
        "files",
        status=200,
        body=b"payload",
        headers={"Content-Disposition": 'attachment; filename="../../evil.mp4"'},
    )
    path = await client.download(emulator.file_url("x.mp4"), folder)
    assert path == folder / "evil.mp4"
    assert path.read_bytes() == b"payload"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.mp4", "inside"]


async def test_truncated_download_leaves_nothing(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    """The server promises 1000 bytes, sends 5 and hangs up: nothing may be left on disk."""

    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(cut_short, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(APIConnectionError):
            await client.download(f"http://127.0.0.1:{port}/x.mp4", tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


async def test_key_is_not_sent_to_other_hosts(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    async with Emulator() as cdn:
        await client.download(cdn.file_url("clip.mp4"), tmp_path)
        (request,) = cdn.requests
    assert "Authorization" not in request.headers
    assert (tmp_path / "clip.mp4").exists()


async def test_a_url_with_an_upper_case_scheme_is_another_host(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    async with Emulator() as cdn:
        url = cdn.file_url("clip.mp4").replace("http://", "HTTP://", 1)
        await client.download(url, tmp_path)
        (request,) = cdn.requests
    assert "Authorization" not in request.headers
    assert request.path.endswith("/clip.mp4")
    assert not [r for r in emulator.requests if "clip.mp4" in r.path]  # not asked of the API


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("video.mp4", "video.mp4"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/path/clip.mp4", "clip.mp4"),
        ("..", "job-1.mp4"),
        (".hidden", "hidden"),
        ("a b;rm -rf.mp4", "a_b_rm_-rf.mp4"),
        ("", "job-1.mp4"),
        (None, "job-1.mp4"),
        ("con.mp4", "_con.mp4"),
        ("NUL", "_NUL"),
        ("lpt1.tar.gz", "_lpt1.tar.gz"),
        ("a\x00b.mp4", "a_b.mp4"),
        ("C:\\videos\\x.mp4", "x.mp4"),
        ("video.mp4.", "video.mp4"),
        ("...", "job-1.mp4"),
    ],
)
def test_safe_filename(candidate: str | None, expected: str) -> None:
    assert safe_filename(candidate, fallback_stem="job-1", content_type="video/mp4") == expected


# --------------------------------------------------------------------------- where files go


async def _finished_luma(client: AsyncAPI4GPT, emulator: Emulator, n: int) -> list[TaskHandle[Any]]:
    handles = [await client.luma.generate(f"a fox {i}") for i in range(n)]
    emulator.advance(60)
    for handle in handles:
        await handle.wait()
    return handles


@pytest.mark.parametrize("separator", ["/", os.sep])
async def test_dest_ending_in_a_separator_is_a_new_folder(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, separator: str
) -> None:
    """Issue 7 item 5: ``download("videos/")`` used to write one file named ``videos``."""
    handles = await _finished_luma(client, emulator, 3)
    folder = tmp_path / "videos"
    paths = [await h.download(str(folder) + separator) for h in handles]
    assert folder.is_dir()
    assert paths == [folder / f"{h.id}.mp4" for h in handles]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    assert all(p.read_bytes() == mp4_bytes() for p in paths)


async def test_names_in_a_folder_are_made_unique(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    (handle,) = await _finished_luma(client, emulator, 1)
    (tmp_path / f"{handle.id}.mp4").write_bytes(b"keep me")
    first = await handle.download(tmp_path)
    second = await handle.download(tmp_path)
    assert (first.name, second.name) == (f"{handle.id}-1.mp4", f"{handle.id}-2.mp4")
    assert (tmp_path / f"{handle.id}.mp4").read_bytes() == b"keep me"
    url = emulator.file_url("clip")  # no extension: the suffix still goes at the end
    emulator.fail("files", status=200, body=b"x", times=2)
    assert [(await client.download(url, tmp_path)).name for _ in range(2)] == ["clip", "clip-1"]


async def test_concurrent_saves_into_one_folder_never_share_a_name(
    client: AsyncAPI4GPT, tmp_path: Path, emulator: Emulator
) -> None:
    url = emulator.file_url("clip.mp4")
    results: list[Path] = []

    async def one() -> None:
        results.append(await client.download(url, tmp_path))

    async with anyio.create_task_group() as tg:
        for _ in range(12):
            tg.start_soon(one)
    expected = {"clip.mp4"} | {f"clip-{n}.mp4" for n in range(1, 12)}
    assert {p.name for p in results} == expected
    assert {p.name for p in tmp_path.iterdir()} == expected
    assert all(p.read_bytes() == mp4_bytes() for p in results)


async def test_a_link_in_the_folder_is_never_followed(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "clip.mp4").symlink_to(outside)
    path = await client.download(emulator.file_url("clip.mp4"), folder)
    assert path == folder / "clip-1.mp4"
    assert outside.read_bytes() == b"precious"


SAVERS = [
    "client.download",
    "TaskHandle.download",
    "Image.save (bound url)",
    "Image.save (b64)",
    "SpeechResponse.save",
    "speech.stream_to_file",
]


async def _save(
    which: str,
    client: AsyncAPI4GPT,
    emulator: Emulator,
    dest: str | Path,
    **kwargs: Any,
) -> Path:
    if which == "client.download":
        return await client.download(emulator.file_url("a.mp4"), dest, **kwargs)
    if which == "TaskHandle.download":
        (handle,) = await _finished_luma(client, emulator, 1)
        return await handle.download(dest, **kwargs)
    if which == "Image.save (bound url)":
        answer = await client.images.generate("a cat")
        return await answer.data[0].save(dest, **kwargs)
    if which == "Image.save (b64)":
        image = Image(b64_json=base64.b64encode(png_bytes(2, 2)).decode())
        return await image.save(dest, **kwargs)
    if which == "SpeechResponse.save":
        return await SpeechResponse(content=b"ID3 audio", content_type="audio/mpeg").save(
            dest, **kwargs
        )
    assert which == "speech.stream_to_file"
    return await client.audio.speech.stream_to_file(
        dest, model="tts-1", input="hi", voice="alloy", **kwargs
    )


@pytest.mark.parametrize("which", SAVERS)
async def test_an_existing_file_is_kept_unless_overwrite(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, which: str
) -> None:
    dest = tmp_path / "taken.bin"
    dest.write_bytes(b"precious")
    overwrite_default = {"overwrite": False} if which == "speech.stream_to_file" else {}
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await _save(which, client, emulator, dest, **overwrite_default)
    assert dest.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.bin"]
    assert emulator.count("files") == emulator.count("audio.speech") == 0  # refused up front
    path = await _save(which, client, emulator, dest, overwrite=True)
    assert path == dest
    assert dest.read_bytes() != b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.bin"]


@pytest.mark.parametrize("which", SAVERS)
async def test_a_new_folder_dest_gets_a_derived_name(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, which: str
) -> None:
    folder = tmp_path / "new" / "deeper"
    path = await _save(which, client, emulator, str(folder) + os.sep)
    assert path.parent == folder
    assert [p.name for p in folder.iterdir()] == [path.name]
    assert path.stat().st_size > 0


# --------------------------------------------------------------------------- retried and resumed

MP4 = mp4_bytes()


def _files_requests(emulator: Emulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.route == "files"]


@pytest.mark.parametrize("cut", [0, 1, 100, len(MP4) - 1])
async def test_a_cut_body_resumes_with_range(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, cut: int
) -> None:
    # The server hangs up a moment after the bytes, so they surely reach the client first.
    emulator.fail("files", truncate_at=cut, stall=0.25)
    path = await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert path.read_bytes() == MP4
    first, second = _files_requests(emulator)
    assert "Range" not in first.headers
    if cut:
        assert second.headers["Range"] == f"bytes={cut}-"
        assert second.headers["If-Range"].startswith('"')
        assert second.status == 206
    else:  # nothing arrived: nothing to resume
        assert "Range" not in second.headers
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


async def test_a_stalled_body_resumes_after_read_timeout(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", truncate_at=50, stall=30)
    path = await client.download(emulator.file_url("v.mp4"), tmp_path, read_timeout=0.2)
    assert path.read_bytes() == MP4
    assert [r.headers.get("Range") for r in _files_requests(emulator)] == [None, "bytes=50-"]


async def test_several_cuts_resume_from_the_bytes_on_disk(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", truncate_at=100, stall=0.25)
    emulator.fail("files", truncate_at=100, stall=0.25)  # of the remainder: 200 bytes in
    emulator.fail("files", truncate_at=50, stall=0.25)
    async with make_client(retry=RetryPolicy(max_retries=3, initial_delay=0.001)) as client:
        path = await client.download(emulator.file_url("v.mp4"), tmp_path / "v.mp4")
    assert path.read_bytes() == MP4
    ranges = [r.headers.get("Range") for r in _files_requests(emulator)]
    assert ranges == [None, "bytes=100-", "bytes=200-", "bytes=250-"]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {
            "status": 502,
            "body": "<html>Bad Gateway</html>",
            "headers": {"Content-Type": "text/html"},
        },
        {"status": 503},
        {"status": 504, "body": ""},
        {"status": 429},
        {"drop": True},
        {"truncate_at": 100},  # hung up at once: resumed or restarted, whole either way
        {"truncate_at": 0},
    ],
)
async def test_transient_failures_are_retried(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, fault: dict[str, Any]
) -> None:
    # A drop twice: aiohttp itself silently re-sends an idempotent request once.
    emulator.fail("files", times=2, **fault)
    path = await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert path.read_bytes() == MP4
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


async def test_a_200_to_a_range_request_restarts_from_zero(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", truncate_at=100, stall=0.25)
    emulator.fail("files", status=200, body=MP4)  # a server that ignores Range this time
    path = await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert path.read_bytes() == MP4
    assert [r.headers.get("Range") for r in _files_requests(emulator)] == [None, "bytes=100-"]


@pytest.mark.parametrize(
    "content_range", ["bytes 0-9/{n}", "bytes 101-110/{n}", "bytes 100-110/99999", "nonsense"]
)
async def test_a_206_with_the_wrong_range_is_never_spliced_in(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, content_range: str
) -> None:
    emulator.fail("files", truncate_at=100, stall=0.25)
    emulator.fail(
        "files",
        status=206,
        body=MP4[:10],
        headers={"Content-Range": content_range.format(n=len(MP4))},
    )
    path = await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert path.read_bytes() == MP4
    assert [r.headers.get("Range") for r in _files_requests(emulator)] == [None, "bytes=100-", None]


async def test_without_accept_ranges_a_cut_body_is_fetched_again_whole(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("/v1/models", truncate_at=10, stall=0.25)  # no Accept-Ranges in it
    path = await client.download(emulator.base_url + "/v1/models", tmp_path / "models.json")
    assert json.loads(path.read_bytes())["data"]
    requests = [r for r in emulator.requests if r.path == "/v1/models"]
    assert [r.headers.get("Range") for r in requests] == [None, None]


@pytest.mark.parametrize(
    "fault",
    [{"truncate_at": 100}, {"status": 503}, {"drop": True}],
)
async def test_giving_up_leaves_nothing_behind(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, fault: dict[str, Any]
) -> None:
    emulator.fail("files", times=None, **fault)
    dest = tmp_path / "kept.mp4"
    dest.write_bytes(b"old")
    with pytest.raises(APIError):
        await client.download(emulator.file_url("v.mp4"), dest, overwrite=True)
    with pytest.raises(APIError):
        await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.mp4"]  # no .part, no reservation


async def test_retries_stop_at_the_deadline(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", truncate_at=10, stall=30, times=None)
    retry = RetryPolicy(max_retries=100, initial_delay=0.001, max_delay=0.001)
    async with make_client(retry=retry) as client:
        with pytest.raises(APITimeoutError):
            await client.download(
                emulator.file_url("v.mp4"), tmp_path, timeout=0.5, read_timeout=0.1
            )
    assert 2 <= emulator.count("files") <= 6
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- security


@pytest.mark.parametrize("limit", [0, 100, len(MP4) - 1])
async def test_content_length_over_max_bytes_is_refused_up_front(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, limit: int
) -> None:
    with pytest.raises(ResponseTooLargeError) as caught:
        await client.download(emulator.file_url("v.mp4"), tmp_path, max_bytes=limit)
    assert caught.value.limit == limit
    assert emulator.count("files") == 1  # not retried
    assert list(tmp_path.iterdir()) == []
    path = await client.download(emulator.file_url("v.mp4"), tmp_path, max_bytes=len(MP4))
    assert path.read_bytes() == MP4


async def test_a_body_without_length_is_stopped_at_max_bytes(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to check up front
        await response.prepare(request)
        for _ in range(1000):
            await response.write(b"x" * 1024)
            sent.append(1024)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/big", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(ResponseTooLargeError, match="10000 bytes"):
            await client.download(f"http://127.0.0.1:{port}/big", tmp_path, max_bytes=10_000)
    finally:
        await runner.cleanup()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.mp4",
        "data:video/mp4;base64,AAAA",
        "javascript:alert(1)",
        "//evil.example/a.mp4",
        "C:\\videos\\a.mp4",
    ],
)
async def test_only_http_urls_are_fetched(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, url: str
) -> None:
    with pytest.raises(APIError, match="only http"):
        await client.download(url, tmp_path)
    assert emulator.requests == []
    assert list(tmp_path.iterdir()) == []


async def test_redirects_are_bounded(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    loop = emulator.file_url("loop.mp4")
    emulator.fail("files", status=302, body="", headers={"Location": loop}, times=None)
    with pytest.raises(APIConnectionError):
        await client.download(loop, tmp_path)
    attempts = client.retry.max_retries + 1  # whether a redirect loop is worth a retry or not
    assert emulator.count("files") in {n * (MAX_REDIRECTS + 1) for n in range(1, attempts + 1)}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.com/a.mp4"])
async def test_a_redirect_to_another_scheme_is_refused(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, location: str
) -> None:
    emulator.fail("files", status=302, body="", headers={"Location": location}, times=None)
    with pytest.raises(APIError):
        await client.download(emulator.file_url("a.mp4"), tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_a_redirect_to_another_host_never_carries_the_key(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    async with Emulator() as cdn:
        emulator.fail("files", status=302, body="", headers={"Location": cdn.file_url("far.mp4")})
        path = await client.download(emulator.file_url("near.mp4"), tmp_path)
        (at_cdn,) = cdn.requests
    (at_api,) = _files_requests(emulator)
    assert at_api.headers["Authorization"].startswith("Bearer ")  # the API's own host
    assert "Authorization" not in at_cdn.headers
    assert path == tmp_path / "near.mp4" and path.read_bytes() == MP4


async def test_a_redirect_back_to_the_api_host_carries_no_key_either(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    async with Emulator() as cdn:
        cdn.fail("files", status=302, body="", headers={"Location": emulator.file_url("b.mp4")})
        await client.download(cdn.file_url("a.mp4"), tmp_path)
    (request,) = _files_requests(emulator)
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="/etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\..\\\\boot.ini"', "boot.ini"),
        ("attachment; filename*=UTF-8''..%2F..%2Fx.mp4", "x.mp4"),
        ('attachment; filename="con.mp4"', "_con.mp4"),
        ('attachment; filename=".."', "download.mp4"),
        ("attachment; filename*=UTF-8''a%00b.mp4", "a_b.mp4"),
    ],
)
async def test_server_names_stay_in_the_folder(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    tmp_path: Path,
    disposition: str,
    expected: str,
) -> None:
    folder = tmp_path / "inside"
    emulator.fail(
        "files",
        status=200,
        body=b"payload",
        headers={"Content-Disposition": disposition, "Content-Type": "video/mp4"},
    )
    path = await client.download(emulator.file_url("job"), str(folder) + "/")
    assert path == folder / expected
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "inside",
        f"inside/{expected}",
    ]


@pytest.mark.parametrize("into_folder", [False, True])
async def test_a_file_that_appears_during_the_download_is_kept(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path, into_folder: bool
) -> None:
    """The name is taken only when the file is complete, and never by replacing another."""
    dest = tmp_path / "v.mp4"

    def someone_else_writes(event: RequestEvent) -> None:
        if event.error is not None:  # between the cut attempt and the resumed one
            dest.write_bytes(b"theirs")

    emulator.fail("files", truncate_at=100, stall=0.25)
    async with make_client(hooks=Hooks(on_request=someone_else_writes)) as client:
        if into_folder:
            path = await client.download(emulator.file_url("v.mp4"), tmp_path)
            assert path == tmp_path / "v-1.mp4"
            assert path.read_bytes() == MP4
        else:
            with pytest.raises(FileExistsError):
                await client.download(emulator.file_url("v.mp4"), dest)
    assert dest.read_bytes() == b"theirs"
    assert not list(tmp_path.glob("*.part"))
