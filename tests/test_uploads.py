"""Uploads: every kind of "file" a caller may pass becomes the right multipart part."""

from __future__ import annotations

import io
import pathlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api4gpt_async import FormFile
from api4gpt_async._uploads import (
    form_text,
    guess_content_type,
    is_file_input,
    to_data_url,
    to_form_file,
    to_form_files,
)
from api4gpt_async.testing._media import mp3_bytes, png_bytes, wav_bytes

pytestmark = pytest.mark.anyio

PNG = png_bytes()


async def test_a_path_is_read_with_its_name_and_type(tmp_path: Path) -> None:
    (tmp_path / "cat photo.png").write_bytes(PNG)
    for path in (tmp_path / "cat photo.png", str(tmp_path / "cat photo.png")):
        part = await to_form_file(path)
        assert part == FormFile(filename="cat photo.png", content=PNG, content_type="image/png")


async def test_a_path_is_read_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.wav").write_bytes(wav_bytes(0.1))
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = pathlib.Path.read_bytes

    def recording_read_bytes(self: pathlib.Path) -> bytes:
        threads.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", recording_read_bytes)
    part = await to_form_file(tmp_path / "a.wav")
    assert part.content_type == "audio/wav"
    assert threads
    assert loop_thread not in threads  # a worker thread did the blocking read


async def test_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await to_form_file(tmp_path / "nope.png")


async def test_bare_bytes_get_a_name_and_type_from_their_content() -> None:
    assert await to_form_file(PNG) == FormFile(
        filename="upload.png", content=PNG, content_type="image/png"
    )
    mp3 = await to_form_file(bytearray(mp3_bytes(0.1)), default_stem="audio")
    assert (mp3.filename, mp3.content_type) == ("audio.mp3", "audio/mpeg")
    assert isinstance(mp3.content, bytes)
    unknown = await to_form_file(memoryview(b"plain words"))
    assert (unknown.filename, unknown.content_type) == ("upload", "application/octet-stream")


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (wav_bytes(0.01), "upload.wav", "audio/wav"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "upload.jpg", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(8), "upload.webp", "image/webp"),
        (b"GIF89a" + bytes(10), "upload.gif", "image/gif"),
        (b"ID3\x04" + bytes(12), "upload.mp3", "audio/mpeg"),
        (b"fLaC" + bytes(12), "upload.flac", "audio/flac"),
        (b"OggS" + bytes(12), "upload.ogg", "audio/ogg"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(8), "upload.m4a", "audio/mp4"),
    ],
)
async def test_sniffed_formats(content: bytes, name: str, content_type: str) -> None:
    part = await to_form_file(content)
    assert (part.filename, part.content_type) == (name, content_type)


async def test_a_binary_file_object_keeps_its_file_name(tmp_path: Path) -> None:
    path = tmp_path / "voice.mp3"
    path.write_bytes(mp3_bytes(0.1))
    with path.open("rb") as handle:
        part = await to_form_file(handle)
    assert (part.filename, part.content_type, part.content) == (
        "voice.mp3",
        "audio/mpeg",
        path.read_bytes(),
    )


async def test_a_real_file_is_read_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()

    class SlowFile(io.RawIOBase):
        name = "/somewhere/clip.wav"
        reader: int | None = None

        def read(self, size: int = -1) -> bytes:
            SlowFile.reader = threading.get_ident()
            return wav_bytes(0.01)

    part = await to_form_file(SlowFile())
    assert part.filename == "clip.wav"
    assert SlowFile.reader is not None
    assert SlowFile.reader != loop_thread


async def test_an_anonymous_stream_is_named_from_its_content() -> None:
    part = await to_form_file(io.BytesIO(PNG))
    assert (part.filename, part.content_type) == ("upload.png", "image/png")


async def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with path.open() as handle, pytest.raises(TypeError, match="binary mode"):
        await to_form_file(handle)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binary mode"):
        await to_form_file(io.StringIO("hello"))  # type: ignore[arg-type]


def _file(name: str, content_type: str) -> FormFile:
    return FormFile(filename=name, content=PNG, content_type=content_type)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (lambda: ("photo.jpg", PNG), _file("photo.jpg", "image/jpeg")),  # typed by the name
        (lambda: ("x.bin", PNG, "image/png"), _file("x.bin", "image/png")),
        (lambda: (None, PNG), _file("upload.png", "image/png")),
        (
            lambda: ("a.png", io.BytesIO(PNG), None, {"X-Ignored": "1"}),  # a fresh file
            _file("a.png", "image/png"),
        ),
    ],
)
async def test_tuples_like_openai_python(value: Callable[[], Any], expected: FormFile) -> None:
    assert await to_form_file(value()) == expected


async def test_a_form_file_is_used_as_is() -> None:
    given = FormFile(filename="a", content=b"x", content_type="text/x-custom")
    assert await to_form_file(given) is given


async def test_anything_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expected a path, bytes"):
        await to_form_file(42)  # type: ignore[arg-type]


async def test_one_file_or_several(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "b.png").write_bytes(PNG)
    # A (name, content) pair is one file; a tuple of paths and a list are several.
    assert [p.filename for p in await to_form_files(("pair.png", PNG))] == ["pair.png"]
    several = await to_form_files((tmp_path / "a.png", str(tmp_path / "b.png")))
    assert [p.filename for p in several] == ["a.png", "b.png"]
    mixed = await to_form_files([PNG, ("named.png", PNG), io.BytesIO(PNG)], default_stem="image")
    assert [p.filename for p in mixed] == ["image-0.png", "named.png", "image-2.png"]
    with pytest.raises(ValueError, match="at least one"):
        await to_form_files([])
    with pytest.raises(TypeError):
        await to_form_files(42)  # type: ignore[arg-type]


def test_is_file_input() -> None:
    assert is_file_input("a.png")
    assert is_file_input(PNG)
    assert is_file_input(("a.png", PNG))
    assert not is_file_input(["a.png"])
    assert not is_file_input(("a.png", "b.png"))


def test_content_types_are_the_same_on_every_machine() -> None:
    assert guess_content_type("x.WAV") == "audio/wav"  # not audio/x-wav
    assert guess_content_type("x.webp") == "image/webp"
    assert guess_content_type("x.m4a") == "audio/mp4"
    assert guess_content_type("report.pdf") == "application/pdf"  # left to mimetypes
    assert guess_content_type("noext", PNG) == "image/png"
    assert guess_content_type("noext") == "application/octet-stream"


def test_form_text() -> None:
    assert [form_text(v) for v in ("a", True, False, 3, 0.5, ["word"])] == [
        "a",
        "true",
        "false",
        "3",
        "0.5",
        '["word"]',
    ]


# -- data URLs (images inside JSON, as midjourney-proxy's base64Array wants) ---------------------


async def test_data_url_from_every_kind_of_image(tmp_path: Path) -> None:
    import base64

    (tmp_path / "fox.png").write_bytes(PNG)
    expected = "data:image/png;base64," + base64.b64encode(PNG).decode()
    for image in (tmp_path / "fox.png", str(tmp_path / "fox.png"), PNG, io.BytesIO(PNG)):
        assert await to_data_url(image) == expected
    assert await to_data_url(expected) == expected  # already a data URL: as is


async def test_data_url_refuses_a_web_url() -> None:
    with pytest.raises(ValueError, match="not a URL"):
        await to_data_url("https://example.com/fox.png")
