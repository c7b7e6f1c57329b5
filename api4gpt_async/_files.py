"""Saving result files: streamed, atomic (``.part`` then rename), size-checked, contained.

A name suggested by the server or a URL is reduced to a plain, safe file name, so a result can
never write outside the folder the caller chose.
"""

from __future__ import annotations

import os
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio

from .errors import APIConnectionError

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from ._transport import Transport

__all__ = [
    "download",
    "expected_size",
    "extension_for",
    "resolve_target",
    "safe_filename",
    "save_response",
    "write_bytes",
    "write_stream",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 256 * 1024
_EXTENSIONS = {
    "video/mp4": ".mp4",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "image/gif": ".gif",
    "audio/flac": ".flac",
    "audio/aac": ".aac",
    "audio/opus": ".opus",
    "audio/ogg": ".ogg",
    "audio/pcm": ".pcm",
}


def extension_for(content_type: str, default: str = "") -> str:
    """The usual file extension (with its dot) of a media content type, else ``default``."""
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), default)


def safe_filename(candidate: str | None, *, fallback_stem: str, content_type: str = "") -> str:
    """A plain file name from an untrusted one: no folders, no leading dots, safe characters."""
    name = (candidate or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).lstrip("._")[:200]
    if not name or name in {".", ".."}:
        stem = _UNSAFE.sub("_", fallback_stem).lstrip("._")[:100] or "download"
        name = stem + extension_for(content_type)
    return name


def _name_from(url: str, headers: Mapping[str, str]) -> str | None:
    disposition = headers.get("Content-Disposition", "")
    match = re.search(r"filename\*=(?:UTF-8'')?([^;]+)|filename=\"?([^\";]+)\"?", disposition, re.I)
    if match:
        return urllib.parse.unquote((match.group(1) or match.group(2)).strip())
    path = urllib.parse.urlsplit(url).path
    return PurePosixPath(urllib.parse.unquote(path)).name or None


async def download(
    transport: Transport,
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    fallback_stem: str = "download",
) -> Path:
    """Stream ``url`` into ``dest`` (a file path, or an existing folder) and return the path."""
    async with transport.stream("GET", url, timeout=timeout) as resp:
        return await save_response(
            resp,
            dest,
            lambda: safe_filename(
                _name_from(url, resp.headers),
                fallback_stem=fallback_stem,
                content_type=resp.headers.get("Content-Type", ""),
            ),
            what=f"download of {url}",
        )


async def save_response(
    resp: ClientResponse, dest: str | os.PathLike[str], name: Callable[[], str], *, what: str
) -> Path:
    """Stream an open response's body into ``dest`` (see :func:`resolve_target` for ``name``).

    Written as it arrives (a chunk at a time), atomically, and checked against
    ``Content-Length``; returns the path written.
    """
    target = resolve_target(dest, name)
    await write_stream(
        resp.content.iter_chunked(_CHUNK),
        target,
        expected_size=expected_size(resp.headers),
        what=what,
    )
    return target


def expected_size(headers: Mapping[str, str]) -> int | None:
    """The body size to check against: ``Content-Length``, unless the body was compressed.

    aiohttp decompresses ``Content-Encoding: gzip`` (and the like) bodies as it reads them, so
    the header then counts different bytes than the ones written.
    """
    if headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    try:
        size = int(headers.get("Content-Length", ""))
    except ValueError:
        return None
    return size if size >= 0 else None


def resolve_target(dest: str | os.PathLike[str], name: Callable[[], str]) -> Path:
    """The file to write: ``dest`` itself, or ``dest / name()`` when ``dest`` is a folder.

    ``name()`` must give a plain file name (see :func:`safe_filename`); the result is checked to
    stay inside the folder. For a file path, missing parent folders are created.
    """
    dest_path = Path(dest)
    if dest_path.is_dir():
        folder = dest_path.resolve()
        file_name = name()
        target = folder / file_name
        if target.resolve().parent != folder:  # belt and braces: never leave the folder
            raise ValueError(f"refusing to write outside {folder}: {file_name!r}")
        return target
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    return dest_path


async def write_stream(
    chunks: AsyncIterable[bytes],
    target: Path,
    *,
    expected_size: int | None = None,
    what: str = "download",
) -> int:
    """Write ``chunks`` to ``target`` atomically and return the number of bytes written.

    The bytes go to ``<target>.<random>.part`` one chunk at a time (never all in memory), which then
    replaces ``target`` in one step. When ``expected_size`` is given and the stream ends
    short of it (or past it), ``APIConnectionError`` is raised. On any failure, cancellation
    included, the ``.part`` file is removed and ``target`` is left as it was.
    """
    # A name of its own, so two saves to the same target never write into one file.
    part = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
    written = 0
    try:
        async with await anyio.open_file(part, "wb") as out:
            async for chunk in chunks:
                await out.write(chunk)
                written += len(chunk)
        if expected_size is not None and written != expected_size:
            raise APIConnectionError(f"{what} stopped at {written} of {expected_size} bytes")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return written


async def write_bytes(data: bytes, target: Path) -> Path:
    """Write ``data`` to ``target`` atomically (``.part`` then rename) and return ``target``."""

    async def one_chunk() -> AsyncIterator[bytes]:
        yield data

    await write_stream(one_chunk(), target, expected_size=len(data), what=f"writing {target}")
    return target
