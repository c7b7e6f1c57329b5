"""The ``files`` route's byte ranges and the faults that cut or stall a body (raw aiohttp)."""

from __future__ import annotations

import aiohttp
import pytest

from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp4_bytes

pytestmark = pytest.mark.anyio

MP4 = mp4_bytes()
N = len(MP4)


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [("bytes=100-", 100, N - 1), ("bytes=0-9", 0, 9), ("bytes=-10", N - 10, N - 1),
     ("bytes=10-999999", 10, N - 1), ("bytes=0-0", 0, 0)],
)  # fmt: skip
async def test_a_range_gets_206_with_its_bytes(
    anon: aiohttp.ClientSession, range_header: str, start: int, end: int
) -> None:
    async with anon.get("/files/a.mp4", headers={"Range": range_header}) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes {start}-{end}/{N}"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert await response.read() == MP4[start : end + 1]


@pytest.mark.parametrize("range_header", [f"bytes={N}-", "bytes=999999-"])
async def test_a_range_past_the_end_gets_416(
    anon: aiohttp.ClientSession, range_header: str
) -> None:
    async with anon.get("/files/a.mp4", headers={"Range": range_header}) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{N}"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Range": "bytes=0-1,5-6"}, {"Range": "items=0-1"}, {"Range": "bytes=-"},
     {"Range": "bytes=10-", "If-Range": '"stale"'}],
)  # fmt: skip
async def test_otherwise_the_whole_file_is_sent(
    anon: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    async with anon.get("/files/a.mp4", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["ETag"].startswith('"')
        assert await response.read() == MP4


async def test_a_matching_if_range_keeps_the_range(anon: aiohttp.ClientSession) -> None:
    async with anon.get("/files/a.mp4") as response:
        etag = response.headers["ETag"]
    async with anon.get("/files/a.mp4", headers={"Range": "bytes=5-", "If-Range": etag}) as r:
        assert r.status == 206
        assert await r.read() == MP4[5:]


@pytest.mark.parametrize(("target", "cut"), [("files", 0), ("files", 100), ("/v1/models", 10)])
async def test_truncate_at_sends_the_promised_length_then_hangs_up(
    emu: Emulator, http: aiohttp.ClientSession, target: str, cut: int
) -> None:
    fault = emu.fail(target, truncate_at=cut)
    path = "/files/a.mp4" if target == "files" else target
    async with http.get(path) as response:
        assert response.status == 200
        full = int(response.headers["Content-Length"])
        assert full > cut
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert fault.hits == 1
    async with http.get(path) as response:  # the next request is answered whole
        assert len(await response.read()) == full


async def test_stall_holds_the_body_open(emu: Emulator, anon: aiohttp.ClientSession) -> None:
    emu.fail("files", truncate_at=20, stall=30)
    timeout = aiohttp.ClientTimeout(sock_read=0.2)
    async with anon.get("/files/a.mp4", timeout=timeout) as response:
        assert await response.content.readexactly(20) == MP4[:20]
        with pytest.raises(aiohttp.SocketTimeoutError):
            await response.content.read(1)


async def test_truncate_arguments_are_checked(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="negative"):
        emu.fail("files", truncate_at=-1)
    with pytest.raises(ValueError, match="negative"):
        emu.fail("files", truncate_at=1, stall=-1)
    assert emu.fail("files", truncate_at=3).status is None  # the route answers
