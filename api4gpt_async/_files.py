"""Saving result files: streamed, atomic (``.part`` then rename), size-checked, contained.

A name suggested by the server or a URL is reduced to a plain, safe file name, so a result can
never write outside the folder the caller chose.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import anyio

from .errors import APIConnectionError

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["download", "safe_filename"]

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
}


def safe_filename(candidate: str | None, *, fallback_stem: str, content_type: str = "") -> str:
    """A plain file name from an untrusted one: no folders, no leading dots, safe characters."""
    name = (candidate or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).lstrip("._")[:200]
    if not name or name in {".", ".."}:
        stem = _UNSAFE.sub("_", fallback_stem).lstrip("._")[:100] or "download"
        name = stem + _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")
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
    dest_path = Path(dest)
    async with transport.stream("GET", url, timeout=timeout) as resp:
        if dest_path.is_dir():
            folder = dest_path.resolve()
            name = safe_filename(
                _name_from(url, resp.headers),
                fallback_stem=fallback_stem,
                content_type=resp.headers.get("Content-Type", ""),
            )
            target = folder / name
            if target.resolve().parent != folder:  # belt and braces: never leave the folder
                raise ValueError(f"refusing to write outside {folder}: {name!r}")
        else:
            target = dest_path
            target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        expected = resp.content_length
        written = 0
        try:
            async with await anyio.open_file(part, "wb") as out:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    await out.write(chunk)
                    written += len(chunk)
            if expected is not None and written != expected:
                raise APIConnectionError(
                    f"download of {url} stopped at {written} of {expected} bytes"
                )
            os.replace(part, target)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    return target
