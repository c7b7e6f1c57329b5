"""Saving files at the edges: the exact errors a refused save raises, a save that must not
follow a name it was not given, a ``Content-Length`` aiohttp does not hold the body to, a
``.part`` file removed under a save, and the limit error's details."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from _loopback import serve
from aiohttp import ClientSession, web
from multidict import CIMultiDict

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncAPI4GPT,
    Hooks,
    RequestEvent,
    ResponseTooLargeError,
)
from api4gpt_async._files import (
    MAX_REDIRECTS,
    Target,
    check_writable,
    expected_size,
    safe_filename,
    save_bytes,
    save_response,
    write_stream,
)
from api4gpt_async.models.audio import SpeechResponse
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._media import mp4_bytes

pytestmark = pytest.mark.anyio

MP4 = mp4_bytes()


def _never_named() -> str:
    raise AssertionError("a file dest is never named")


# --------------------------------------------------------------------------- refusing to overwrite


def _refused(path: Path) -> str:
    reason = "refusing to overwrite an existing file (pass overwrite=True)"
    return f"[Errno {errno.EEXIST}] {reason}: '{path}'"


async def test_the_refusal_is_a_complete_file_exists_error(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    """``errno``, ``strerror`` and ``filename`` are all set, as ``open(path, "x")`` sets them."""
    dest = tmp_path / "taken.mp4"
    dest.write_bytes(b"precious")
    refusals = []
    with pytest.raises(FileExistsError) as caught:
        await client.download(emulator.file_url("a.mp4"), dest)
    refusals.append(caught.value)
    with pytest.raises(FileExistsError) as caught:
        await SpeechResponse(content=b"ID3", content_type="audio/mpeg").save(dest)
    refusals.append(caught.value)
    for error in refusals:
        assert (error.errno, error.filename) == (errno.EEXIST, str(dest))
        assert error.strerror == "refusing to overwrite an existing file (pass overwrite=True)"
        assert str(error) == _refused(dest)
    assert dest.read_bytes() == b"precious"


async def test_the_refusal_names_the_file_absolutely(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As every save returns its absolute path, the refusal says which file, wherever it runs.
    monkeypatch.chdir(tmp_path)
    Path("taken.mp4").write_bytes(b"precious")
    for dest in ("taken.mp4", Path("taken.mp4"), "./taken.mp4"):
        with pytest.raises(FileExistsError) as caught:
            await client.download(emulator.file_url("a.mp4"), dest)
        assert caught.value.filename == str(tmp_path / "taken.mp4")
        with pytest.raises(FileExistsError) as caught:
            check_writable(dest, overwrite=False)
        assert caught.value.filename == str(tmp_path / "taken.mp4")


async def test_saving_bytes_keeps_an_existing_file_by_default(tmp_path: Path) -> None:
    dest = tmp_path / "taken.bin"
    dest.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        await save_bytes(b"new", dest, _never_named)
    assert dest.read_bytes() == b"precious"
    assert await save_bytes(b"new", dest, _never_named, overwrite=True) == dest
    assert dest.read_bytes() == b"new"


async def test_saving_a_response_keeps_an_existing_file_by_default(tmp_path: Path) -> None:
    dest = tmp_path / "taken.bin"
    dest.write_bytes(b"precious")

    async def audio(request: web.Request) -> web.Response:
        return web.Response(body=b"ID3 audio", content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/a.mp3", audio)
    async with serve(app) as url, ClientSession() as session, session.get(f"{url}/a.mp3") as resp:
        with pytest.raises(FileExistsError, match="overwrite=True"):
            await save_response(resp, dest, _never_named, what="speech")
    assert dest.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.bin"]


# --------------------------------------------------------------------------- names and places


async def test_a_file_dest_is_written_as_given_and_never_named(tmp_path: Path) -> None:
    dest = tmp_path / "exact.bin"
    assert await save_bytes(b"data", dest, _never_named) == dest
    assert dest.read_bytes() == b"data"


async def test_a_different_file_under_the_derived_name_is_kept(tmp_path: Path) -> None:
    """In a folder, only a file holding the very same bytes is reused; another is never
    replaced: the save takes the next free name."""
    speech = SpeechResponse(content=b"ID3 new audio", content_type="audio/mpeg")
    stem = f"speech-{hashlib.sha256(speech.content).hexdigest()[:16]}"
    (tmp_path / f"{stem}.mp3").write_bytes(b"someone else's")
    path = await speech.save(tmp_path)
    assert path == tmp_path / f"{stem}-1.mp3"
    assert path.read_bytes() == speech.content
    assert (tmp_path / f"{stem}.mp3").read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}-1.mp3", f"{stem}.mp3"]


async def test_the_longest_name_the_part_file_leaves_room_for_is_saved(tmp_path: Path) -> None:
    """The ``.part`` file adds ``.<8 hex digits>.part`` (14 characters) to the name."""
    try:
        name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        pytest.skip("no NAME_MAX to test against")
    if name_max > 1024:
        pytest.skip(f"NAME_MAX is {name_max}: no limit to reach")
    dest = tmp_path / ("a" * (name_max - 14))
    assert await save_bytes(b"data", dest, _never_named) == dest
    assert dest.read_bytes() == b"data"


# --------------------------------------------------------------------------- size checks


async def test_a_speech_body_short_of_its_length_is_refused_even_if_aiohttp_allows_it(
    tmp_path: Path,
) -> None:
    """A 204 with ``Content-Length: 5`` gives an empty body without any aiohttp error: only
    the SDK's own size check stands between it and an empty audio file."""

    async def no_content(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(no_content, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, AsyncAPI4GPT(api_key="sk-x", base_url=f"http://127.0.0.1:{port}") as client:
        for dest in (tmp_path / "a.mp3", f"{tmp_path / 'folder'}/"):
            with pytest.raises(APIConnectionError) as caught:
                await client.audio.speech.stream_to_file(
                    dest, model="tts-1", input="hi", voice="alloy"
                )
            assert str(caught.value) == "speech stopped at 0 of 5 bytes"
    assert [p.name for p in tmp_path.rglob("*")] == ["folder"]
    assert list((tmp_path / "folder").iterdir()) == []


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_short_stream_names_what_stopped(tmp_path: Path) -> None:
    with pytest.raises(APIConnectionError) as caught:
        await write_stream(_chunks(b"abc"), tmp_path / "x.bin", expected_size=10)
    assert str(caught.value) == "download stopped at 3 of 10 bytes"


async def test_a_part_file_removed_under_the_save_does_not_hide_its_error(tmp_path: Path) -> None:
    """Someone (a cleaner of stale ``.part`` files) removes it mid-save: the save still fails
    with its own error, not with ``FileNotFoundError`` from its clean-up."""

    async def cleaned_up() -> AsyncIterator[bytes]:
        yield b"abc"
        for part in tmp_path.glob("*.part"):
            part.unlink()
        raise APIConnectionError("cut")

    with pytest.raises(APIConnectionError, match=r"^cut$"):
        await write_stream(cleaned_up(), tmp_path / "x.bin")

    async def removed() -> AsyncIterator[bytes]:
        yield b"abc"
        for part in tmp_path.glob("*.part"):
            part.unlink()

    with pytest.raises(APIConnectionError, match="stopped at 3 of 10 bytes"):
        await write_stream(removed(), tmp_path / "x.bin", expected_size=10)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- max_bytes


async def test_the_limit_error_says_what_and_names_the_request(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator.file_url("v.mp4")
    emulator.fail("files", status=200, body=MP4, headers={"X-Oneapi-Request-Id": "req-big"})
    with pytest.raises(ResponseTooLargeError) as caught:
        await client.download(url, tmp_path, max_bytes=10)
    assert caught.value.message == (
        f"download of {url} is {len(MP4)} bytes: over the limit of 10 bytes "
        "(raise max_bytes to allow it)"
    )
    assert (caught.value.request_id, caught.value.limit) == ("req-big", 10)

    async def unsized(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"X-Request-Id": "req-endless"})
        await response.prepare(request)
        await response.write(b"x" * 64)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/big", unsized)
    async with serve(app) as base:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.download(f"{base}/big", tmp_path, max_bytes=10)
    assert caught.value.message == (
        f"download of {base}/big went past it: over the limit of 10 bytes "
        "(raise max_bytes to allow it)"
    )
    assert caught.value.request_id == "req-endless"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- a scripted server


class Scripted:
    """A raw HTTP server on the loopback answering each request with the next scripted bytes,
    so odd headers are exactly as written. The connection stays open until the client closes
    it: an answer short of its ``Content-Length`` stalls, and a ``read_timeout`` cuts it."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, str]] = []  # header names lower-cased
        self.url = ""

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        self.requests.append(
            {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
        )
        writer.write(self.answers.pop(0))
        await writer.drain()
        await reader.read()  # until the client hangs up
        writer.close()

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        await self.server.__aenter__()
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.__aexit__(*exc)


def _answer(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Connection": "close"}.items())
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def _cut(headers: dict[str, str], at: int) -> bytes:
    """A 200 promising all of MP4 and sending its first ``at`` bytes (then stalling)."""
    return _answer("200 OK", {"Content-Length": str(len(MP4)), **headers}, MP4[:at])


def _rest(start: int) -> bytes:
    """The 206 answer to ``Range: bytes=<start>-``."""
    n = len(MP4)
    headers = {"Content-Range": f"bytes {start}-{n - 1}/{n}", "Content-Length": str(n - start)}
    return _answer("206 Partial Content", headers, MP4[start:])


@pytest.mark.parametrize(
    ("validators", "if_range"),
    [
        ({"ETag": '"v1"', "Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"}, '"v1"'),
        ({"ETag": 'W/"v1"', "Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"}, None),
        ({"Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT"}, None),
        ({"ETag": 'W/"v1"'}, None),
        ({}, None),
    ],
)
async def test_a_resume_names_the_version_it_continues(
    client: AsyncAPI4GPT, tmp_path: Path, validators: dict[str, str], if_range: str | None
) -> None:
    """``If-Range`` carries a strong ETag, else ``Last-Modified``, else nothing (RFC 9110
    §13.1.5: a weak ETag never validates a range)."""
    if_range = if_range or validators.get("Last-Modified")
    headers = {"Accept-Ranges": "bytes", **validators}
    async with Scripted(_cut(headers, 100), _rest(100)) as server:
        path = await client.download(f"{server.url}/v.mp4", tmp_path, read_timeout=0.2)
    assert path.read_bytes() == MP4
    first, second = server.requests
    assert first["accept-encoding"] == "identity"  # media as is: sizes count written bytes
    assert second["range"] == "bytes=100-"
    assert second.get("if-range") == if_range


async def test_a_206_of_unknown_total(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    """``bytes a-b/*`` (RFC 9110 §14.4): taken as the whole file when it is the first answer
    and starts at 0; to a resume of a file of known size it is not trusted, and the file is
    fetched again whole."""
    n = len(MP4)

    def star(start: int) -> bytes:
        headers = {"Content-Range": f"bytes {start}-{n - 1}/*", "Content-Length": str(n - start)}
        return _answer("206 Partial Content", headers, MP4[start:])

    whole = _answer("200 OK", {"Content-Length": str(n)}, MP4)
    async with Scripted(star(0), _cut({"Accept-Ranges": "bytes"}, 100), star(100), whole) as server:
        first = await client.download(f"{server.url}/a.mp4", tmp_path, read_timeout=0.2)
        second = await client.download(f"{server.url}/b.mp4", tmp_path, read_timeout=0.2)
    assert first.read_bytes() == second.read_bytes() == MP4
    assert [r.get("range") for r in server.requests] == [None, None, "bytes=100-", None]


async def test_an_unasked_for_partial_first_answer_is_completed(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    """A 206 to a request without ``Range`` is kept if it starts at 0; its total says how
    much is still missing, asked for with a range."""
    n = len(MP4)
    head = {"Content-Range": f"bytes 0-9/{n}", "Content-Length": "10"}
    async with Scripted(_answer("206 Partial Content", head, MP4[:10]), _rest(10)) as server:
        path = await client.download(f"{server.url}/v.mp4", tmp_path, read_timeout=0.2)
    assert path.read_bytes() == MP4
    assert [r.get("range") for r in server.requests] == [None, "bytes=10-"]


async def test_the_wrong_range_error_quotes_what_came(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    n = len(MP4)
    wrong = _answer(
        "206 Partial Content", {"Content-Range": f"bytes 5-9/{n}", "Content-Length": "5"}, b"x" * 5
    )
    url = ""
    async with Scripted(_cut({"Accept-Ranges": "bytes"}, 100), wrong, wrong) as server:
        url = f"{server.url}/v.mp4"
        with pytest.raises(APIConnectionError) as caught:
            await client.download(
                url, tmp_path, read_timeout=0.2
            )  # 3 attempts: FAST_RETRY has 2 retries
    assert str(caught.value) == (
        f"download of {url}: unexpected Content-Range 'bytes 5-9/{n}' for bytes=0-; starting again"
    )
    assert [r.get("range") for r in server.requests] == [None, "bytes=100-", None]
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("Xenon-RX", "Xenon-RX"),  # only dots and underscores are trimmed, never letters
        ("a" * 300 + ".mp4", "a" * 200),  # at most 200 characters
        ("b" * 200, "b" * 200),
    ],
    ids=["letters at the ends", "300 characters", "200 characters"],
)
def test_safe_filename_trims_only_what_it_must(candidate: str, expected: str) -> None:
    assert safe_filename(candidate, fallback_stem="job", content_type="video/mp4") == expected


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("job-1.", "job-1.mp4"),
        ("._job", "job.mp4"),
        ("Xjob 1X", "Xjob_1X.mp4"),
        ("s" * 150, "s" * 100 + ".mp4"),  # a fallback stem keeps at most 100 characters
        ("...", "download.mp4"),
        ("", "download.mp4"),
    ],
    ids=["trailing dot", "leading dot", "unsafe", "150 characters", "dots only", "empty"],
)
def test_a_fallback_stem_is_made_safe_too(stem: str, expected: str) -> None:
    assert safe_filename(None, fallback_stem=stem, content_type="video/mp4") == expected
    assert safe_filename("..", fallback_stem=stem, content_type="video/mp4") == expected


def test_safe_filename_adds_no_extension_for_an_unknown_type() -> None:
    assert safe_filename(None, fallback_stem="job") == "job"


async def test_a_url_naming_no_file_gets_the_fallback_name(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    async def root(request: web.Request) -> web.Response:
        return web.Response(body=MP4, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/", root)
    async with serve(app) as url:
        first = await client.download(f"{url}/", tmp_path)  # a path without a last part
    assert first.name == "download.mp4"


async def test_a_name_with_several_dots_is_made_unique_before_its_last_suffix(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator.file_url("clip.v2.mp4")
    names = [(await client.download(url, tmp_path)).name for _ in range(2)]
    assert names == ["clip.v2.mp4", "clip.v2-1.mp4"]


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Length": "5"}, 5),
        ({"Content-Length": "0"}, 0),
        ({"Content-Length": "-1"}, None),
        ({"Content-Length": "five"}, None),
        ({}, None),
        ({"Content-Encoding": "", "Content-Length": "5"}, 5),
        ({"Content-Encoding": "identity", "Content-Length": "5"}, 5),
        ({"Content-Encoding": " Identity ", "Content-Length": "5"}, 5),
        ({"Content-Encoding": "gzip", "Content-Length": "5"}, None),
        ({"Content-Encoding": "br", "Content-Length": "5"}, None),
    ],
)
def test_expected_size(headers: dict[str, str], expected: int | None) -> None:
    assert expected_size(CIMultiDict(headers)) == expected


# --------------------------------------------------------------------------- what may be fetched


@pytest.mark.parametrize("limits", [{"max_bytes": -1}, {"read_timeout": 0}, {"read_timeout": -1}])
async def test_bad_limits_are_refused_before_any_request(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, limits: dict[str, Any]
) -> None:
    message = "max_bytes must be >= 0 and read_timeout > 0"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await client.download(emulator.file_url("v.mp4"), tmp_path, **limits)
    assert emulator.requests == []


async def test_the_refusal_of_a_url_quotes_at_most_200_characters(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    url = "ftp://example.com/" + "a" * 300
    with pytest.raises(APIError) as caught:
        await client.download(url, tmp_path)
    assert caught.value.message == (
        f"refusing to download {url[:200]!r}: only http(s) URLs are fetched"
    )


async def test_an_https_url_is_fetched(
    client: AsyncAPI4GPT, unused_port_url: str, tmp_path: Path
) -> None:
    """Nobody listens there: the error is the connection's, not a refusal of the scheme."""
    url = unused_port_url.replace("http://", "https://") + "/v.mp4"
    with pytest.raises(APIConnectionError) as caught:
        await client.download(url, tmp_path)
    assert "only http" not in str(caught.value)


async def test_a_path_is_fetched_from_the_api_host_with_the_key(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    path = urllib.parse.urlsplit(emulator.file_url("v.mp4")).path
    assert path.startswith("/")
    saved = await client.download(path, tmp_path)
    assert saved.read_bytes() == MP4
    (request,) = emulator.requests
    assert request.headers["Authorization"].startswith("Bearer ")


# --------------------------------------------------------------------------- where files go


@pytest.mark.parametrize("name", ["", ".", ".."])
@pytest.mark.parametrize("root", [False, True])
def test_a_name_that_is_no_file_is_refused(name: str, root: bool, tmp_path: Path) -> None:
    """At the root folder too, where ``/`` + ``..`` has ``/`` for its parent."""
    folder = Path(tmp_path.anchor) if root else tmp_path
    with pytest.raises(ValueError, match="refusing to write outside"):
        Target(folder).claim(lambda: name)


def test_a_target_keeps_an_existing_file_by_default(tmp_path: Path) -> None:
    dest = tmp_path / "taken.bin"
    dest.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        Target(dest).claim(_never_named)
    assert Target(dest, overwrite=True).claim(_never_named) == dest


async def test_a_file_dest_in_new_folders_gets_them_made(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    speech = SpeechResponse(content=b"ID3 audio", content_type="audio/mpeg")
    saved = await speech.save(tmp_path / "a" / "b" / "speech.mp3")
    assert saved.read_bytes() == b"ID3 audio"
    path = await client.download(emulator.file_url("v.mp4"), tmp_path / "c" / "d" / "v.mp4")
    assert path.read_bytes() == MP4


async def test_a_download_to_the_longest_name_the_part_file_leaves_room_for(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    try:
        name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        pytest.skip("no NAME_MAX to test against")
    if name_max > 1024:
        pytest.skip(f"NAME_MAX is {name_max}: no limit to reach")
    dest = tmp_path / ("v" * (name_max - 14))
    assert (await client.download(emulator.file_url("v.mp4"), dest)).read_bytes() == MP4


async def test_without_hard_links_names_are_still_taken_atomically(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without hard links (FAT, some shares): the name is reserved with
    ``O_CREAT | O_EXCL``, then replaced by the finished file."""

    def no_links(src: object, dst: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))

    monkeypatch.setattr(os, "link", no_links)
    url = emulator.file_url("v.mp4")
    paths = [await client.download(url, tmp_path) for _ in range(2)]
    assert [p.name for p in paths] == ["v.mp4", "v-1.mp4"]
    assert all(p.read_bytes() == MP4 for p in paths)
    speech = SpeechResponse(content=b"ID3 audio", content_type="audio/mpeg")
    assert (await speech.save(tmp_path / "s.mp3")).read_bytes() == b"ID3 audio"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mp3", "v-1.mp4", "v.mp4"]


# --------------------------------------------------------------------------- attempts


async def test_each_attempt_is_one_get_reported_to_the_hooks(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    """A 503 is retried by the download (a whole exchange per attempt), never also inside
    an attempt: the client's ``max_retries`` bounds the requests sent."""
    events: list[RequestEvent] = []
    emulator.fail("files", status=503, times=None)
    async with make_client(hooks=Hooks(on_request=events.append)) as client:
        with pytest.raises(APIStatusError):
            await client.download(emulator.file_url("v.mp4"), tmp_path)
        attempts = client.retry.max_retries + 1
        assert emulator.count("files") == len(events) == attempts
        emulator.clear_faults()
        await client.download(emulator.file_url("v.mp4"), tmp_path)
    assert [(e.method, e.status) for e in events] == [("GET", 503)] * attempts + [("GET", 200)]
    assert [r.method for r in emulator.requests] == ["GET"] * (attempts + 1)


async def test_a_part_file_removed_under_a_download_does_not_hide_its_error(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    def clean_up(event: RequestEvent) -> None:
        for part in tmp_path.glob("*.part"):
            part.unlink()

    emulator.fail("files", truncate_at=100, stall=30, times=None)
    async with make_client(hooks=Hooks(on_request=clean_up)) as client:
        with pytest.raises(APIConnectionError):
            await client.download(emulator.file_url("v.mp4"), tmp_path, read_timeout=0.2)
    assert list(tmp_path.iterdir()) == []


async def test_a_body_of_exactly_max_bytes_is_saved(client: AsyncAPI4GPT, tmp_path: Path) -> None:
    async def unsized(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: checked as the bytes arrive
        await response.prepare(request)
        await response.write(b"x" * 64)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/exact", unsized)
    async with serve(app) as url:
        path = await client.download(f"{url}/exact", tmp_path / "exact.bin", max_bytes=64)
    assert path.read_bytes() == b"x" * 64


async def test_each_attempt_follows_at_most_max_redirects(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    events: list[RequestEvent] = []
    loop = emulator.file_url("loop.mp4")
    emulator.fail("files", status=302, body="", headers={"Location": loop}, times=None)
    async with make_client(hooks=Hooks(on_request=events.append)) as client:
        with pytest.raises(APIConnectionError):
            await client.download(loop, tmp_path)
    assert events
    # The first request, MAX_REDIRECTS redirects followed, and the one more that ends it.
    assert emulator.count("files") == len(events) * (MAX_REDIRECTS + 1)


async def test_a_chain_of_exactly_max_redirects_ends_in_the_file(
    make_client: Callable[..., AsyncAPI4GPT], emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator.file_url("hop.mp4")
    emulator.fail("files", status=302, body="", headers={"Location": url}, times=MAX_REDIRECTS)
    async with make_client(max_retries=0) as client:  # in one attempt: no retry to hide behind
        path = await client.download(url, tmp_path)
    assert path.read_bytes() and emulator.count("files") == MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; FileName="Named.mp4"', "Named.mp4"),
        ("attachment; FILENAME*=utf-8''Na%20med.mp4", "Na_med.mp4"),
    ],
)
async def test_disposition_parameters_are_case_insensitive(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, disposition: str, expected: str
) -> None:
    """RFC 6266 §4.1: parameter names, like the charset of ``filename*``, ignore case."""
    emulator.fail("files", status=200, body=b"x", headers={"Content-Disposition": disposition})
    path = await client.download(emulator.file_url("job.mp4"), tmp_path)
    assert path.name == expected


async def test_a_body_longer_than_announced_is_fetched_again_and_reported(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    """A 206 whose body runs past the total its ``Content-Range`` gives is never kept: the
    next attempt starts again whole, and the error says how many bytes came."""
    n = len(MP4)

    def over(start: int, extra: int) -> bytes:
        headers = {
            "Content-Range": f"bytes {start}-{n - 1}/{n}",
            "Content-Length": str(n - start + extra),
        }
        return _answer("206 Partial Content", headers, MP4[start:] + b"x" * extra)

    answers = (_cut({"Accept-Ranges": "bytes"}, 100), over(100, 7), over(0, 50))
    async with Scripted(*answers) as server:
        url = f"{server.url}/v.mp4"
        with pytest.raises(APIConnectionError) as caught:
            await client.download(url, tmp_path, read_timeout=0.2)  # 3 attempts
    assert str(caught.value) == f"download of {url} got {n + 50} bytes, more than the {n} announced"
    assert [r.get("range") for r in server.requests] == [None, "bytes=100-", None]
    assert list(tmp_path.iterdir()) == []


async def test_an_unasked_for_206_is_kept_after_a_cut_that_could_not_resume(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    """No ``Accept-Ranges``: the retry asks for the whole file, and a 206 from byte 0 is it."""
    n = len(MP4)
    whole = {"Content-Range": f"bytes 0-{n - 1}/{n}", "Content-Length": str(n)}
    async with Scripted(_cut({}, 100), _answer("206 Partial Content", whole, MP4)) as server:
        path = await client.download(f"{server.url}/v.mp4", tmp_path, read_timeout=0.2)
    assert path.read_bytes() == MP4
    assert [r.get("range") for r in server.requests] == [None, None]


async def test_the_same_bytes_saved_twice_in_a_relative_folder_give_one_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = await save_bytes(b"grid", "parts/", lambda: "a-1.png")
    again = await save_bytes(b"grid", "parts/", lambda: "a-1.png")  # reused, not "a-1-1.png"
    assert first == again == tmp_path / "parts" / "a-1.png"


#: Every way to save, each with an empty destination.
EMPTY_DEST_SAVES: dict[str, Callable[[AsyncAPI4GPT, str], Any]] = {
    "client.download": lambda c, url: c.download(url, ""),
    "speech.stream_to_file": lambda c, url: c.audio.speech.stream_to_file(
        "", model="tts-1", input="hi", voice="alloy"
    ),
    "save_bytes": lambda c, url: save_bytes(b"x", "", lambda: "x.bin"),
}


@pytest.mark.parametrize("save", EMPTY_DEST_SAVES)
async def test_an_empty_destination_is_a_value_error_before_anything_is_sent(
    client: AsyncAPI4GPT,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    save: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # "" is not "." (nor "..", where a .part went with overwrite)
    message = 'dest is empty: name a file, or a folder ("." for this one)'
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await EMPTY_DEST_SAVES[save](client, emulator.file_url("a.mp4"))
    assert emulator.requests == [] and list(tmp_path.iterdir()) == []
    assert list(tmp_path.parent.glob("*.part")) == []


@pytest.mark.parametrize("url", [None, 123, b"http://x/a.mp4"])
async def test_a_url_that_is_no_string_is_a_type_error(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path, url: Any
) -> None:
    with pytest.raises(TypeError) as info:
        await client.download(url, tmp_path)
    assert str(info.value) == f"url must be a string, got {type(url).__name__}"  # no .url hint
    assert emulator.requests == []


async def test_a_model_passed_for_its_url_says_to_pass_its_url(
    client: AsyncAPI4GPT, emulator: Emulator, tmp_path: Path
) -> None:
    handle = await client.luma.generate("a fox")
    emulator.advance(60)
    video = await handle.wait()
    with pytest.raises(TypeError, match=r"got LumaImage; pass its \.url"):
        await client.download(video.thumbnail, tmp_path)
