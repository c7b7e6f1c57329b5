"""Downloads: streamed, atomic, size-checked, and never outside the chosen folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api4gpt_async import APIConnectionError, AsyncAPI4GPT, TaskFailedError
from api4gpt_async._files import safe_filename
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp4_bytes

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
    handle = await client.luma.generate("fail please")
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
    ],
)
def test_safe_filename(candidate: str | None, expected: str) -> None:
    assert safe_filename(candidate, fallback_stem="job-1", content_type="video/mp4") == expected
