"""Turning what a caller hands us as "a file" into one multipart part.

Accepted, as openai-python's ``FileTypes`` (so code ports unchanged):

- a path (``str`` or ``os.PathLike``; a leading ``~`` is the home folder): read without
  blocking the event loop;
- ``bytes`` (or ``bytearray`` / ``memoryview``);
- a binary file object (anything with ``read()`` returning bytes: ``open(p, "rb")``, ``BytesIO``);
- a tuple ``(filename, content)`` or ``(filename, content, content_type)`` where ``content`` is
  bytes or a binary file object (a trailing headers mapping, as httpx allows, is ignored);
- a :class:`~api4gpt_async.FormFile`, used as is.

The file name matters more than it looks: Whisper-style endpoints pick the audio decoder by its
extension and answer "Unrecognized file format" without one. So when the caller gives no name
(bare bytes, an anonymous stream), one is made from the content's magic number
(``upload.png``, ``upload.mp3``…), and the content type is guessed from the name with
:mod:`mimetypes`, then from that same magic number.
"""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, TypeAlias, TypeGuard, cast

import anyio
import anyio.to_thread

from ._files import user_path
from ._transport import FormFile

__all__ = [
    "FileContent",
    "FileInput",
    "file_base64",
    "form_text",
    "guess_content_type",
    "is_file_input",
    "to_data_url",
    "to_form_file",
    "to_form_files",
]

#: The content of a file: its bytes, or a binary file object to read them from.
FileContent: TypeAlias = bytes | bytearray | memoryview | IO[bytes]
#: Everything accepted as one file (see the module docstring). A real type, not a string, so
#: that every type checker and IDE shows what ``file=`` / ``image=`` / ``mask=`` accept.
FileInput: TypeAlias = (
    str
    | os.PathLike[str]
    | bytes
    | bytearray
    | memoryview
    | IO[bytes]
    | FormFile
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)

_DEFAULT_TYPE = "application/octet-stream"

#: The media types uploads usually are, the same on every machine.
_TYPES_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp3": "audio/mpeg",
    ".mpga": "audio/mpeg",
    ".mpeg": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".webm": "video/webm",
}


def _sniff(head: bytes) -> tuple[str, str] | None:
    """``(extension, content type)`` from a file's first bytes, for the common media formats."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg", "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav", "audio/wav"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ".gif", "image/gif"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3", "audio/mpeg"
    if head.startswith(b"fLaC"):
        return ".flac", "audio/flac"
    if head.startswith(b"OggS"):
        return ".ogg", "audio/ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm", "video/webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith((b"M4A", b"M4B")):
            return ".m4a", "audio/mp4"
        return ".mp4", "video/mp4"
    return None


def guess_content_type(filename: str, content: bytes = b"") -> str:
    """The content type for ``filename``, else sniffed from ``content``.

    The common media extensions come from a fixed table first, because the system tables
    :mod:`mimetypes` reads differ between machines (``audio/x-wav`` or ``audio/wav``,
    ``.webp`` missing before Python 3.11); anything else is up to :mod:`mimetypes`.
    """
    extension = os.path.splitext(filename)[1].lower()
    if extension in _TYPES_BY_EXTENSION:
        return _TYPES_BY_EXTENSION[extension]
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed:
        return guessed
    sniffed = _sniff(content[:16])
    return sniffed[1] if sniffed else _DEFAULT_TYPE


def _is_content(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview)) or _is_file_object(value)


def _is_file_object(value: Any) -> bool:
    return callable(getattr(value, "read", None)) and not isinstance(value, (str, bytes))


def _is_file_tuple(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and 2 <= len(value) <= 4
        and (value[0] is None or isinstance(value[0], str))
        and _is_content(value[1])
    )


def is_file_input(value: Any) -> TypeGuard[FileInput]:
    """Whether ``value`` is *one* file (as opposed to a list of them)."""
    return (
        isinstance(value, (str, os.PathLike, FormFile))
        or _is_content(value)
        or _is_file_tuple(value)
    )


async def _read(content: Any) -> bytes:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    if isinstance(content, (io.BytesIO, io.StringIO)):
        data = content.read()  # in memory: no reason to hop to a thread
    else:
        data = await anyio.to_thread.run_sync(content.read)
    if isinstance(data, str):
        raise TypeError("file objects must be opened in binary mode ('rb'), not text mode")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read() returned {type(data).__name__}, expected bytes")
    return bytes(data)


def _base_name(name: Any) -> str | None:
    """The last component of a file object's ``name`` (a path), if it has a usable one."""
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not isinstance(name, str) or not name or name.startswith("<"):
        return None  # "<stdin>" and the like are not file names
    return os.path.basename(name.replace("\\", "/")) or None


async def to_form_file(file: FileInput, *, default_stem: str = "upload") -> FormFile:
    """One file part from any accepted input (see the module docstring).

    Raises ``TypeError`` for anything else (a text-mode file, a str that is not meant as a
    path is still read as a path: pass bytes for content) and ``FileNotFoundError`` for a
    missing path.
    """
    if isinstance(file, FormFile):
        return file
    filename: str | None
    content_type: str | None = None
    if isinstance(file, (str, os.PathLike)):
        path = anyio.Path(user_path(file))
        content = await path.read_bytes()
        filename = path.name
    elif _is_file_tuple(file):
        assert isinstance(file, tuple)
        filename = file[0]
        content = await _read(file[1])
        if len(file) >= 3 and file[2] is not None:
            content_type = str(file[2])
    elif _is_content(file):
        filename = _base_name(getattr(file, "name", None))
        content = await _read(file)
    else:
        raise TypeError(
            "expected a path, bytes, a binary file object or a (filename, content"
            f"[, content_type]) tuple, got {type(file).__name__}"
        )
    if not filename:
        sniffed = _sniff(content[:16])
        filename = default_stem + (sniffed[0] if sniffed else "")
    if content_type is None:
        content_type = guess_content_type(filename, content)
    return FormFile(filename=filename, content=content, content_type=content_type)


async def to_form_files(
    files: FileInput | Sequence[FileInput], *, default_stem: str = "upload"
) -> list[FormFile]:
    """One file, or several (a list, or a tuple that is not a ``(name, content)`` pair), in order.

    Unnamed contents are called ``<default_stem>-<index>`` (plus a sniffed extension).
    """
    if is_file_input(files):
        return [await to_form_file(files, default_stem=default_stem)]
    if not isinstance(files, Sequence):
        raise TypeError(f"expected a file or a list of files, got {type(files).__name__}")
    items = cast("Sequence[FileInput]", files)  # one file was ruled out above
    if not items:
        raise ValueError("at least one file is required")
    return [
        await to_form_file(item, default_stem=f"{default_stem}-{i}") for i, item in enumerate(items)
    ]


def form_text(value: Any) -> str:
    """A text part's value: strings as is, booleans as ``true`` / ``false``, others as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


async def to_data_url(image: FileInput) -> str:
    """``data:<type>;base64,<…>`` for one file (any accepted input); a data URL passes as is.

    For APIs that take images inside JSON (midjourney-proxy's ``base64Array``). An ``http(s)``
    URL is refused: these APIs want the bytes, so pass a path, bytes or a file object.
    """
    if isinstance(image, str) and image.startswith("data:"):
        return image
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        raise ValueError(f"pass the image itself (path, bytes or file), not a URL: {image!r}")
    part = await to_form_file(image, default_stem="image")
    encoded = base64.b64encode(part.content).decode("ascii")
    return f"data:{part.content_type};base64,{encoded}"


async def file_base64(file: FileInput) -> str:
    """The content of any accepted file input as plain base64 text (for JSON APIs that take
    images inline, such as Zhipu's ``image_url``)."""
    part = await to_form_file(file, default_stem="image")
    return base64.b64encode(part.content).decode("ascii")
