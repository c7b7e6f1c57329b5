"""Downloads: a compressed answer is saved decoded, the size check and the folder check bite.

The gzip cases go through the public ``client.download`` and ``TaskHandle.download``. The size
and folder checks sit behind earlier defences (aiohttp rejects a body cut short of its
``Content-Length``; ``safe_filename`` strips ``../``), so no answer reaches them over HTTP:
they are checked on the functions that hold them.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _loopback import serve
from aiohttp import web

from api4gpt_async import APIConnectionError, AsyncAPI4GPT
from api4gpt_async._files import Target, write_stream
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

#: Compresses well, so the encoded and decoded sizes differ a lot.
PAYLOAD = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 300

ENCODINGS = {
    "gzip": gzip.compress(PAYLOAD),
    "deflate": zlib.compress(PAYLOAD),
    "GZip": gzip.compress(PAYLOAD),  # header values are case-insensitive
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
async def test_a_compressed_download_is_saved_decoded(
    encoding: str, client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    encoded = ENCODINGS[encoding]
    assert len(encoded) < len(PAYLOAD) // 10

    async def clip(request: web.Request) -> web.Response:
        return web.Response(
            body=encoded, content_type="video/mp4", headers={"Content-Encoding": encoding}
        )

    app = web.Application()
    app.router.add_get("/clip.mp4", clip)
    async with serve(app) as url:
        path = await client.download(f"{url}/clip.mp4", tmp_path / "clip.mp4")
    assert path.read_bytes() == PAYLOAD  # decoded, whole: Content-Length counted encoded bytes
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


async def test_a_task_download_served_gzipped_is_saved_decoded(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    await handle.wait()
    emulator.fail(
        "files",
        status=200,
        body=gzip.compress(PAYLOAD),
        headers={"Content-Encoding": "gzip", "Content-Type": "video/mp4"},
    )
    path = await handle.download(tmp_path / "fox.mp4")
    assert path.read_bytes() == PAYLOAD


async def test_an_identity_download_is_checked_against_its_length(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.fail("files", status=200, body=PAYLOAD, headers={"Content-Encoding": "identity"})
    path = await client.download(emulator.file_url("x.mp4"), tmp_path / "x.mp4")
    assert path.read_bytes() == PAYLOAD


# -- the size check itself -----------------------------------------------------------------------


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize(
    ("parts", "expected", "stopped_at"),
    [((b"abc", b"de"), 10, 5), ((b"abc", b"defgh"), 6, 8), ((), 1, 0)],
)
async def test_a_body_of_the_wrong_size_is_refused_and_leaves_nothing(
    parts: tuple[bytes, ...], expected: int, stopped_at: int, tmp_path: Path
) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"the old file")
    with pytest.raises(APIConnectionError, match=f"stopped at {stopped_at} of {expected} bytes"):
        await write_stream(_chunks(*parts), target, expected_size=expected)
    assert target.read_bytes() == b"the old file"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no .part left


@pytest.mark.parametrize("expected", [5, None])
async def test_a_body_of_the_right_size_is_saved(expected: int | None, tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    assert await write_stream(_chunks(b"abc", b"de"), target, expected_size=expected) == 5
    assert target.read_bytes() == b"abcde"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


# -- the folder check itself ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.mp4", "../../evil.mp4", "sub/../../evil.mp4"])
def test_a_name_leaving_the_folder_is_refused(name: str, tmp_path: Path) -> None:
    folder = tmp_path / "inside"
    folder.mkdir()
    with pytest.raises(ValueError, match="refusing to write outside"):
        Target(folder).claim(lambda: name)


def test_a_plain_name_stays_in_the_folder(tmp_path: Path) -> None:
    assert Target(tmp_path).claim(lambda: "clip.mp4") == tmp_path.resolve() / "clip.mp4"


async def test_a_midjourney_image_url_is_saved_with_its_extension(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    task = await client.midjourney.imagine("a fox")
    emulator.advance(120)
    await task.wait()
    path = await task.download(f"{tmp_path / 'out'}/")
    assert path.suffix == ".png"
