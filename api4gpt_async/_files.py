"""Saving result files: the one place the SDK writes them.

Every save is streamed, atomic (``.part`` then rename), size-checked and contained:

- ``dest`` ending in a path separator, or naming an existing folder, is a **folder**: it is
  created if needed and the file gets a name derived from the server or URL, made safe
  (:func:`safe_filename`) and **unique** (``clip.mp4``, ``clip-1.mp4``, …), taken atomically
  when the file is complete (a hard link, which never replaces anything), so concurrent saves
  never pick the same name;
- any other ``dest`` is a **file**: an existing one raises ``FileExistsError`` unless
  ``overwrite=True`` (it is then replaced in one step, never truncated in place).

Either way the path returned is absolute (``dest`` relative to the working directory), and a
leading ``~`` in ``dest`` is the user's home folder (:func:`user_path`).

Downloads (:func:`download`) are also retried within the call's deadline on a cut body, a
stall mid-body, a dropped connection or a 5xx, resuming with ``Range: bytes=N-`` where the
server answered ``Accept-Ranges: bytes`` (RFC 9110 §14); bounded by ``max_bytes``; http(s)
only; at most :data:`MAX_REDIRECTS` redirects; and the API key goes only to the API's own host
(the transport strips it for other hosts; aiohttp drops ``Authorization`` on a redirect to
another origin).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast

import anyio
from aiohttp import hdrs

from .errors import APIConnectionError, APIError, ResponseTooLargeError, request_id_from

if TYPE_CHECKING:
    from aiohttp import ClientResponse

    from ._transport import Transport

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "MAX_REDIRECTS",
    "Target",
    "check_writable",
    "download",
    "expected_size",
    "extension_for",
    "is_folder",
    "safe_filename",
    "save_bytes",
    "save_response",
    "user_path",
    "write_stream",
]

#: Default ``max_bytes`` of a download: 2 GiB.
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Default seconds a download waits for its next bytes before resuming on a new connection.
DEFAULT_READ_TIMEOUT = 60.0
#: Redirects a download follows; the next redirect answer ends the attempt.
MAX_REDIRECTS = 5

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: The file name of a ``Content-Disposition`` header: ``filename*=`` (RFC 5987) or ``filename=``.
_FILENAME_PARAM = re.compile(r"filename\*=(?:UTF-8'')?([^;]+)|filename=\"?([^\";]+)\"?", re.I)
_CHUNK = 256 * 1024
#: Device names Windows reserves whatever the extension (``nul.mp4`` is the NUL device).
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789"}
)
_MAX_UNIQUE = 10_000
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
    """A plain file name from an untrusted one: no folders, no leading dots, safe characters.

    Folders (``../``, ``C:\\``, absolute paths) are dropped, anything but ``A-Za-z0-9._-``
    (NUL included) becomes ``_``, leading and trailing dots go, and a Windows device name
    (``con.mp4``, ``NUL``) gets a ``_`` prefix. With no usable name, ``fallback_stem`` plus
    the usual extension of ``content_type`` is used.
    """
    name = (candidate or "").replace("\\", "/").rpartition("/")[2]
    name = _UNSAFE.sub("_", name).lstrip("._")[:200].rstrip(".")
    if not name:  # (nor "." or "..": leading dots are gone)
        stem = _UNSAFE.sub("_", fallback_stem).lstrip("._")[:100].rstrip(".") or "download"
        name = stem + extension_for(content_type)
    if name.partition(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return name


def _name_from(url: str, headers: Mapping[str, str]) -> str | None:
    disposition = headers.get(hdrs.CONTENT_DISPOSITION, "")
    match = _FILENAME_PARAM.search(disposition)
    if match:
        return urllib.parse.unquote((match.group(1) or match.group(2)).strip())
    path = urllib.parse.urlsplit(url).path
    name = PurePosixPath(urllib.parse.unquote(path)).name
    if name and "." not in name:  # a URL such as /mj/image/<id>: the type names the extension
        name += extension_for(headers.get(hdrs.CONTENT_TYPE, ""))
    return name or None


# --------------------------------------------------------------------------- targets


def user_path(path: str | os.PathLike[str]) -> str:
    """``path`` as text, a leading ``~`` (or ``~user``) expanded to that home folder.

    Every file path the SDK and the CLI take from a user goes through here. A shell expands
    ``~`` only at the start of a word of its own, so ``"~/videos/"`` written in Python, quoted,
    or after ``=`` (``--out=~/videos/``) arrives as is, and no file system call expands it:
    without this it would name a folder ``~`` in the working directory. Nothing else changes
    (a trailing separator still means a folder; ``a/~b`` is an ordinary name).
    """
    return os.path.expanduser(os.fspath(path))


def is_folder(dest: str | os.PathLike[str]) -> bool:
    """Whether ``dest`` means a folder: it ends with a path separator, or is an existing folder."""
    text = user_path(dest)
    separators = tuple(sep for sep in (os.sep, os.altsep, "/") if sep)
    return text.endswith(separators) or os.path.isdir(text)


def check_writable(dest: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Raise ``FileExistsError`` now if saving to ``dest`` would have to overwrite a file
    (``ValueError`` for an empty ``dest``).

    For callers that should refuse before paying for the content (the save itself checks
    again, atomically).
    """
    dest = user_path(dest)
    _refuse_empty(dest)
    if not overwrite and not is_folder(dest) and os.path.lexists(dest):
        raise _exists(Path(dest))


def _refuse_empty(dest: str | os.PathLike[str]) -> None:
    """``Path("")`` is ``"."``, yet ``""`` names no file: ``ValueError``, saying what to pass."""
    if not os.fspath(dest):
        raise ValueError('dest is empty: name a file, or a folder ("." for this one)')


def _exists(path: Path) -> FileExistsError:
    """The refusal, naming the file absolutely (as every save returns its path)."""
    return FileExistsError(
        errno.EEXIST,
        "refusing to overwrite an existing file (pass overwrite=True)",
        os.path.abspath(path),
    )


def _place(part: Path, path: Path) -> None:
    """Move the finished ``part`` to ``path`` in one step, failing if ``path`` exists.

    A hard link is created atomically and never replaces anything (``FileExistsError``); where
    the file system has no hard links, ``path`` is reserved with ``O_CREAT | O_EXCL`` and then
    replaced.
    """
    try:
        os.link(part, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network shares…)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.replace(part, path)
    else:
        part.unlink()


class Target:
    """Where one save writes; the final name is taken only when the file is complete.

    ``claim(name)`` gives the path to aim at (``name()`` is called only for a folder ``dest``,
    and an existing file ``dest`` is refused right away), ``part()`` a ``.part`` file of its
    own beside it, and ``commit(part)`` moves the finished file in one step: onto ``dest``
    (replacing it only with ``overwrite``), or in a folder onto the first free name of
    ``name``, ``name-1``, … — atomically, so concurrent saves never take the same one and
    nothing is reserved while a download runs (an interrupted save leaves at most a
    ``.part`` file).
    """

    def __init__(self, dest: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        dest = user_path(dest)
        _refuse_empty(dest)
        self.dest = Path(dest)
        self.folder = is_folder(dest)
        self.overwrite = overwrite
        self.path: Path | None = None  # aimed at by claim(); the one written once committed

    def claim(self, name: Callable[[], str]) -> Path:
        """The path aimed at (the same on every call): ``dest``, or ``name()`` inside it."""
        if self.path is not None:
            return self.path
        if not self.folder:
            if not self.overwrite and os.path.lexists(self.dest):
                raise _exists(self.dest)
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            self.path = self.dest.absolute()  # absolute, as a name made in a folder is
            return self.path
        self.dest.mkdir(parents=True, exist_ok=True)
        folder = self.dest.resolve()
        file_name = name()
        self.path = folder / file_name
        # Belt and braces (``name()`` gives plain names); the last part is never resolved: a
        # link there is a taken name, or with overwrite replaced itself, never followed.
        if self.path.parent != folder or file_name in ("", ".", ".."):
            raise ValueError(f"refusing to write outside {folder}: {file_name!r}")
        return self.path

    def part(self) -> Path:
        """A ``.part`` file of its own next to the claimed path (two saves never share one)."""
        assert self.path is not None, "claim() first"
        return self.path.with_name(f"{self.path.name}.{secrets.token_hex(4)}.part")

    def commit(self, part: Path) -> Path:
        """Move the finished ``part`` into place (see the class) and return where it went."""
        assert self.path is not None, "claim() first"
        if self.overwrite:
            os.replace(part, self.path)
            return self.path
        if not self.folder:
            try:
                _place(part, self.path)
            except FileExistsError:
                raise _exists(self.path) from None
            return self.path
        first = self.path
        stem, dot, suffix = first.name.rpartition(".")
        if not stem:  # no extension (or a name such as ".x", which safe_filename never gives)
            stem, dot, suffix = first.name, "", ""
        for n in range(_MAX_UNIQUE):
            candidate = first if n == 0 else first.with_name(f"{stem}-{n}{dot}{suffix}")
            try:
                _place(part, candidate)
            except FileExistsError:
                continue
            self.path = candidate
            return candidate
        raise _exists(first)


# --------------------------------------------------------------------------- writing


async def save_bytes(
    data: bytes,
    dest: str | os.PathLike[str],
    name: Callable[[], str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``data`` to ``dest`` (see the module's rules) and return the path written.

    In a folder, a file already holding exactly ``data`` under the derived name is reused (the
    same content saved twice gives the same path), so content-derived names stay stable.
    """
    target = Target(dest, overwrite=overwrite)
    if target.folder and not overwrite:
        existing = target.dest.absolute() / name()
        if _holds(existing, data):
            return existing

    async def one_chunk() -> AsyncIterator[bytes]:
        yield data

    return await _save_chunks(
        one_chunk(), target, name, expected=len(data), what=f"writing {target.dest}"
    )


def _holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` is a regular file (not a link) whose content is exactly ``data``."""
    if path.is_symlink() or not path.is_file() or path.stat().st_size != len(data):
        return False
    return path.read_bytes() == data


async def save_response(
    resp: ClientResponse,
    dest: str | os.PathLike[str],
    name: Callable[[], str],
    *,
    what: str,
    overwrite: bool = False,
) -> Path:
    """Stream an open response's body into ``dest`` (see the module's rules for ``name``).

    Written as it arrives (a chunk at a time), atomically, and checked against
    ``Content-Length``; returns the path written. Not retried: for answers that cannot be
    asked for again (a billable POST); use :func:`download` for URLs.
    """
    return await _save_chunks(
        resp.content.iter_chunked(_CHUNK),
        Target(dest, overwrite=overwrite),
        name,
        expected=expected_size(resp.headers),
        what=what,
    )


async def _save_chunks(
    chunks: AsyncIterable[bytes],
    target: Target,
    name: Callable[[], str],
    *,
    expected: int | None,
    what: str,
) -> Path:
    path = target.claim(name)
    await write_stream(chunks, path, expected_size=expected, what=what, commit=target.commit)
    assert target.path is not None
    return target.path


def expected_size(headers: Mapping[str, str]) -> int | None:
    """The body size to check against: ``Content-Length``, unless the body was compressed.

    aiohttp decompresses ``Content-Encoding: gzip`` (and the like) bodies as it reads them, so
    the header then counts different bytes than the ones written.
    """
    if headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower() not in ("", "identity"):
        return None
    try:
        size = int(headers.get(hdrs.CONTENT_LENGTH, ""))
    except ValueError:
        return None
    return size if size >= 0 else None


async def write_stream(
    chunks: AsyncIterable[bytes],
    target: Path,
    *,
    expected_size: int | None = None,
    what: str = "download",
    commit: Callable[[Path], object] | None = None,
) -> int:
    """Write ``chunks`` to ``target`` atomically and return the number of bytes written.

    The bytes go to ``<target>.<random>.part`` one chunk at a time (never all in memory), which
    then replaces ``target`` in one step (or is handed to ``commit(part)``, e.g.
    :meth:`Target.commit`). When ``expected_size`` is given and the stream ends short of it
    (or past it), ``APIConnectionError`` is raised. On any failure, cancellation included, the
    ``.part`` file is removed and ``target`` is left as it was.
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
        if commit is None:
            os.replace(part, target)
        else:
            commit(part)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return written


# --------------------------------------------------------------------------- downloads


async def download(
    transport: Transport,
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    fallback_stem: str = "download",
    overwrite: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> Path:
    """Stream ``url`` into ``dest`` (a file, or a folder: see the module's rules); return the path.

    Retried under the client's retry policy within ``timeout`` (the call's deadline, default
    the client's): a cut body, a read waiting more than ``read_timeout`` seconds, a dropped
    connection or a 5xx resumes from the bytes already on disk when the server allows ranges
    (else restarts). Raises ``FileExistsError`` (before any request) for an existing file
    ``dest`` without ``overwrite``, ``ResponseTooLargeError`` past ``max_bytes``,
    ``APIError`` for a URL that is not http(s), ``TypeError`` for a ``url`` that is no string
    (a model passed for its ``url``), and the transport's errors otherwise.
    """
    if not isinstance(cast(object, url), str):  # for callers without a type checker
        hint = "; pass its .url" if isinstance(getattr(url, "url", None), str) else ""
        raise TypeError(f"url must be a string, got {type(url).__name__}{hint}")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    relative = not scheme and url.startswith("/") and not url.startswith("//")
    if scheme not in ("http", "https") and not relative:  # a relative URL: the API's own host
        raise APIError(f"refusing to download {url[:200]!r}: only http(s) URLs are fetched")
    if max_bytes < 0 or read_timeout <= 0:
        raise ValueError("max_bytes must be >= 0 and read_timeout > 0")
    target = Target(dest, overwrite=overwrite)
    if not target.folder:
        target.claim(lambda: "")  # an existing file is refused before anything is fetched
    job = _Download(transport, url, target, fallback_stem, max_bytes, read_timeout)
    try:
        await transport.retrying(
            hdrs.METH_GET, url, job.attempt, timeout=timeout, describe=job.describe
        )
        assert job.part is not None
        return target.commit(job.part)
    except BaseException:
        if job.part is not None:
            job.part.unlink(missing_ok=True)
        raise


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.I)


class _Download:
    """The state one download keeps across its attempts: the ``.part`` file and its size."""

    def __init__(
        self,
        transport: Transport,
        url: str,
        target: Target,
        fallback_stem: str,
        max_bytes: int,
        read_timeout: float,
    ) -> None:
        self.transport = transport
        self.url = url
        self.target = target
        self.fallback_stem = fallback_stem
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self.part: Path | None = None
        self.written = 0  # bytes in the .part file
        self.total: int | None = None  # size of the whole file, when known
        self.resumable = False
        self.validator: str | None = None  # strong ETag or Last-Modified, for If-Range
        self.status = 0
        self.request_id: str | None = None

    def describe(self, _: None) -> tuple[int, str | None]:
        return self.status, self.request_id

    async def attempt(self, remaining: float, retries: int) -> None:
        # Media is fetched as is: sizes and byte ranges then count the bytes that are written.
        headers: dict[str, str] = {hdrs.ACCEPT_ENCODING: "identity"}
        resuming = self.written > 0 and self.resumable
        if resuming:
            headers[hdrs.RANGE] = f"bytes={self.written}-"
            if self.validator:
                headers[hdrs.IF_RANGE] = self.validator
        async with self.transport.stream(
            hdrs.METH_GET,
            self.url,
            headers=headers,
            timeout=min(remaining, self.read_timeout),
            retry=False,
            max_redirects=MAX_REDIRECTS,
        ) as resp:
            self.status, self.request_id = resp.status, request_id_from(resp.headers)
            offset = self._offset(resp, resuming)
            if self.total is not None and self.total > self.max_bytes:
                raise self._too_large(f"is {self.total} bytes")
            if self.part is None:
                self.target.claim(lambda: self._name(resp.headers))
                self.part = self.target.part()
            async with await anyio.open_file(self.part, "ab" if offset else "wb") as out:
                self.written = offset
                # As it arrives (not in fixed chunks): bytes read before a cut are kept.
                async for chunk in resp.content.iter_any():
                    if self.written + len(chunk) > self.max_bytes:
                        raise self._too_large("went past it")
                    await out.write(chunk)
                    self.written += len(chunk)
        if self.total is not None and self.written != self.total:
            if self.written > self.total:  # more than announced: start again from scratch
                got = self.written
                self.written, self.resumable = 0, False
                raise APIConnectionError(
                    f"download of {self.url} got {got} bytes, more than the {self.total} announced"
                )
            raise APIConnectionError(
                f"download of {self.url} stopped at {self.written} of {self.total} bytes"
            )

    def _offset(self, resp: ClientResponse, resuming: bool) -> int:
        """Where this answer's body starts in the file; learns the total size and validator."""
        headers = resp.headers
        if resp.status == 206:
            match = _CONTENT_RANGE.fullmatch(headers.get(hdrs.CONTENT_RANGE, "").strip())
            start = int(match[1]) if match else -1
            total = None if match is None or match[3] == "*" else int(match[3])
            wanted = self.written if resuming else 0
            if match is None or start != wanted or (self.total and total != self.total):
                # Not the bytes asked for: never splice them in; start again without a range.
                self.written, self.resumable = 0, False
                raise APIConnectionError(
                    f"download of {self.url}: unexpected Content-Range "
                    f"{headers.get('Content-Range')!r} for bytes={wanted}-; starting again"
                )
            if total is not None:
                self.total = total
            self.resumable = True
            return start
        # A 200 (to a first request, or to a Range the server ignored): the whole file again.
        self.total = expected_size(headers)
        self.resumable = (
            headers.get(hdrs.ACCEPT_RANGES, "").strip().lower() == "bytes"
            and self.total is not None  # a compressed body's byte offsets cannot be resumed
        )
        etag = headers.get(hdrs.ETAG, "")
        self.validator = (etag if etag and not etag.startswith("W/") else None) or headers.get(
            hdrs.LAST_MODIFIED
        )
        return 0

    def _name(self, headers: Mapping[str, str]) -> str:
        return safe_filename(
            _name_from(self.url, headers),
            fallback_stem=self.fallback_stem,
            content_type=headers.get(hdrs.CONTENT_TYPE, ""),
        )

    def _too_large(self, how: str) -> ResponseTooLargeError:
        self.written, self.resumable = 0, False
        return ResponseTooLargeError(
            f"download of {self.url} {how}: over the limit of {self.max_bytes} bytes "
            "(raise max_bytes to allow it)",
            limit=self.max_bytes,
            request_id=self.request_id,
        )
