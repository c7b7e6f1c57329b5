"""Tiny but valid media files, generated in code (the repository holds no binary files).

The emulator serves these bytes as the "results" of media jobs so that downloads can be
tested end to end: each function returns a complete, well-formed file of its format.

- :func:`mp4_bytes` — an ISO-BMFF (MP4) file: ``ftyp`` (brand ``isom``), ``moov`` (``mvhd`` and one
  empty video ``trak``) and an empty ``mdat``. A few hundred bytes; it carries no frames.
- :func:`png_bytes` — a solid-colour RGB PNG of any size; :func:`grid_png_bytes` one of four
  solid quadrants (a Midjourney 2x2 grid).
- :func:`jpeg_bytes` — a baseline (JFIF) greyscale JPEG of one shade, any size.
- :func:`wav_bytes` — 16-bit mono PCM silence, written with the standard ``wave`` module.
- :func:`mp3_bytes` — silent MPEG-1 Layer III frames (32 kbit/s, 48 kHz, mono).

It also serves them: :func:`serve_file` is the ``files`` route (``GET /files/{name}``, with
single byte ranges, RFC 9110 §14), and :func:`cut_short` sends an answer's first bytes and
then hangs up, for the ``truncate_at=`` faults of :meth:`Emulator.fail`.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import wave
import zlib
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from ._http import openai_error

__all__ = [
    "GRID_COLORS",
    "cut_short",
    "grid_png_bytes",
    "jpeg_bytes",
    "mp3_bytes",
    "mp4_bytes",
    "png_bytes",
    "serve_file",
    "wav_bytes",
]

# --------------------------------------------------------------------------- MP4 (ISO-BMFF)

#: Presentation size written into the MP4 track header (matches the emulator's Luma videos).
MP4_WIDTH = 1360
MP4_HEIGHT = 752

# The identity transformation matrix of mvhd/tkhd (16.16 and 2.30 fixed point).
_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, *payload: bytes) -> bytes:
    """One ISO-BMFF box: 32-bit big-endian size (header included), 4-char type, payload."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A "full box": a box whose payload starts with a version byte and 24 bits of flags."""
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def mp4_bytes() -> bytes:
    """A minimal valid MP4 file (ISO-BMFF, major brand ``isom``) of a few hundred bytes.

    Layout: ``ftyp`` · ``moov`` (``mvhd``, ``trak`` → ``tkhd``, ``mdia`` → ``mdhd``, ``hdlr``,
    ``minf`` → ``vmhd``, ``dinf``/``dref``, ``stbl`` with empty sample tables) · ``mdat``.
    Every box size is exact, so the sizes of the top-level boxes add up to the file length.
    """
    timescale = 1000
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),  # creation, modification, timescale, duration
        struct.pack(">IH", 0x00010000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),  # reserved
        _MATRIX,
        bytes(24),  # pre_defined
        struct.pack(">I", 2),  # next_track_ID
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x3,  # track enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, 0),  # creation, modification, track_ID, reserved, dur.
        bytes(8),  # reserved
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, alternate_group, volume, reserved
        _MATRIX,
        struct.pack(">II", MP4_WIDTH << 16, MP4_HEIGHT << 16),  # 16.16 fixed point
    )
    mdhd = _full_box(
        b"mdhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),
        struct.pack(">HH", 0x55C4, 0),  # language "und" (packed ISO-639-2/T), pre_defined
    )
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I", 0), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, struct.pack(">H3H", 0, 0, 0, 0))
    dinf = _box(
        b"dinf",
        _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)),
    )
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 0)),  # no sample entries
        _full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        _full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    moov = _box(
        b"moov",
        mvhd,
        _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, _box(b"minf", vmhd, dinf, stbl))),
    )
    return ftyp + moov + _box(b"mdat")


# --------------------------------------------------------------------------- PNG


#: The quadrant colours of :func:`grid_png_bytes` (and of the emulator's Midjourney grids).
GRID_COLORS: tuple[tuple[int, int, int], ...] = (
    (0xE4, 0x57, 0x2E),
    (0x29, 0x33, 0x5C),
    (0xF3, 0xA7, 0x12),
    (0x66, 0x9B, 0xBC),
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(
    width: int = 16, height: int = 16, *, color: tuple[int, int, int] = (0x2B, 0x59, 0xC3)
) -> bytes:
    """A valid solid-colour 8-bit RGB PNG of ``width`` × ``height`` pixels."""
    return grid_png_bytes(width, height, colors=(color,) * 4)


def grid_png_bytes(
    width: int, height: int, *, colors: tuple[tuple[int, int, int], ...] = GRID_COLORS
) -> bytes:
    """A valid 8-bit RGB PNG of four solid quadrants, like a Midjourney 2x2 grid.

    ``colors`` are top left, top right, bottom left, bottom right; an odd width or height
    gives the extra column / row to the right / bottom quadrants.
    """
    if width < 1 or height < 1:
        raise ValueError("width and height must be at least 1")
    if len(colors) != 4 or any(not 0 <= c <= 255 for color in colors for c in color):
        raise ValueError("colors must be four RGB triples with components in 0..255")
    half_w, half_h = width // 2, height // 2
    top = b"\x00" + bytes(colors[0]) * half_w + bytes(colors[1]) * (width - half_w)
    bottom = b"\x00" + bytes(colors[2]) * half_w + bytes(colors[3]) * (width - half_w)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    pixels = top * half_h + bottom * (height - half_h)  # filter type 0 (None) on every row
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"IDAT", zlib.compress(pixels, 9)),
            _png_chunk(b"IEND", b""),
        )
    )


# --------------------------------------------------------------------------- JPEG


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg_bytes(width: int = 64, height: int = 36, *, shade: int = 0x60) -> bytes:
    """A valid baseline JPEG (JFIF, one greyscale component) of one ``shade`` (0–255).

    Every 8×8 block carries only its DC coefficient (all AC coefficients are zero, one EOB
    each), coded with two tiny Huffman tables: DC ``0`` → the first block's category, ``10``
    → category 0 (no change) for the rest (just ``0`` when that is the same category); AC
    ``0`` → EOB.
    """
    if width < 1 or height < 1 or width > 0xFFFF or height > 0xFFFF:
        raise ValueError("width and height must be in 1..65535")
    if not 0 <= shade <= 255:
        raise ValueError("shade must be in 0..255")
    blocks = math.ceil(width / 8) * math.ceil(height / 8)
    dc = (shade - 128) * 8  # the DC coefficient of a flat block, quantiser 1
    category = abs(dc).bit_length()
    value_bits = dc if dc >= 0 else dc + (1 << category) - 1  # JPEG's one's-complement rule
    bits = "0" + (format(value_bits, f"0{category}b") if category else "") + "0"
    dc_symbols = [category] if blocks == 1 or category == 0 else [category, 0]
    no_change = "0" if len(dc_symbols) == 1 else "10"  # the code of DC category 0
    bits += (no_change + "0") * (blocks - 1)  # DC "no change", then EOB
    bits += "1" * (-len(bits) % 8)  # pad the last byte with ones
    scan = bytearray(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    scan = scan.replace(b"\xff", b"\xff\x00")  # byte stuffing
    dc_counts = bytes([1, len(dc_symbols) - 1] + [0] * 14)
    return b"".join(
        (
            b"\xff\xd8",  # SOI
            _jpeg_segment(0xE0, b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0)),
            _jpeg_segment(0xDB, b"\x00" + bytes([1] * 64)),  # quantiser 1 everywhere
            _jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
            _jpeg_segment(0xC4, b"\x00" + dc_counts + bytes(dc_symbols)),  # DC table 0
            _jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),  # AC table 0
            _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),  # SOS: one component
            bytes(scan),
            b"\xff\xd9",  # EOI
        )
    )


# --------------------------------------------------------------------------- WAV


def wav_bytes(seconds: float = 1.0, *, sample_rate: int = 8000) -> bytes:
    """A valid WAV file of ``seconds`` of silence (16-bit mono PCM)."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(bytes(2 * round(seconds * sample_rate)))
    return buffer.getvalue()


# --------------------------------------------------------------------------- MP3

#: Frame header: sync + MPEG-1 + Layer III + no CRC (FF FB), 32 kbit/s + 48 kHz + no padding
#: (0x14), mono + original (0xC4).
MP3_FRAME_HEADER = b"\xff\xfb\x14\xc4"
MP3_SAMPLE_RATE = 48_000
MP3_BITRATE = 32_000
MP3_SAMPLES_PER_FRAME = 1152
#: 144 × bitrate / sample rate (+ padding, here none) = 96 bytes.
MP3_FRAME_LENGTH = 144 * MP3_BITRATE // MP3_SAMPLE_RATE


def mp3_bytes(seconds: float = 1.0) -> bytes:
    """Silent MPEG-1 Layer III audio lasting at least ``seconds`` (at least one frame).

    Each frame is a valid header followed by all-zero side information and main data
    (no Huffman data, so it decodes to silence).
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    frames = max(1, math.ceil(seconds * MP3_SAMPLE_RATE / MP3_SAMPLES_PER_FRAME))
    frame = MP3_FRAME_HEADER + bytes(MP3_FRAME_LENGTH - len(MP3_FRAME_HEADER))
    return frame * frames


# --------------------------------------------------------------------------- the files route

# Extension → (Content-Type, bytes factory). The same extension always gives the same bytes.
_FILE_KINDS: Final[dict[str, tuple[str, Callable[[], bytes]]]] = {
    "mp4": ("video/mp4", mp4_bytes),
    "jpg": ("image/png", lambda: png_bytes(64, 36)),
    "jpeg": ("image/jpeg", jpeg_bytes),
    "png": ("image/png", lambda: png_bytes(64, 36)),
    "mp3": ("audio/mpeg", mp3_bytes),
    "wav": ("audio/wav", wav_bytes),
}
_file_cache: dict[str, bytes] = {}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


async def serve_file(request: web.Request) -> web.StreamResponse:
    """``GET /files/{name}``: deterministic media bytes chosen by the file extension.

    Every answer says ``Accept-Ranges: bytes`` and carries a strong ``ETag``. A single range
    ``Range: bytes=N-``, ``bytes=N-M`` or ``bytes=-N`` gets ``206`` with ``Content-Range:
    bytes N-M/total``; a range starting past the end gets ``416`` with ``Content-Range:
    bytes */total``; an ``If-Range`` that does not match the ``ETag``, or several ranges, get
    the whole file (``200``), as RFC 9110 allows.
    """
    ext = request.match_info["name"].rpartition(".")[2].lower()
    kind = _FILE_KINDS.get(ext)
    if kind is None:
        return openai_error(404, f"Invalid URL (GET {request.path})", type="invalid_request_error")
    content_type, make = kind
    data = _file_cache.get(ext)
    if data is None:
        data = _file_cache[ext] = make()
    size = len(data)
    etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag}
    wanted = _RANGE.fullmatch(request.headers.get("Range", "").replace(" ", ""))
    if_range = request.headers.get("If-Range")
    if wanted is None or (wanted[1] == wanted[2] == "") or (if_range and if_range != etag):
        return web.Response(body=data, content_type=content_type, headers=headers)
    if wanted[1]:
        start = int(wanted[1])
        end = min(int(wanted[2]), size - 1) if wanted[2] else size - 1
    else:  # a suffix: the last N bytes
        start, end = max(0, size - int(wanted[2])), size - 1
    if start >= size or end < start:
        headers["Content-Range"] = f"bytes */{size}"
        return web.Response(status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return web.Response(
        body=data[start : end + 1], status=206, content_type=content_type, headers=headers
    )


async def cut_short(
    request: web.Request,
    response: web.Response,
    *,
    at: int,
    stall: float,
    sleep: Callable[[float], Awaitable[None]],
) -> web.StreamResponse:
    """Send ``response``'s status, headers (its full ``Content-Length`` included) and its first
    ``at`` body bytes, wait ``stall`` seconds (via ``sleep``), then close the connection."""
    body = response.body if isinstance(response.body, bytes) else b""
    cut = web.StreamResponse(status=response.status, reason=response.reason)
    cut.headers.update(
        (name, value) for name, value in response.headers.items() if name != "Content-Length"
    )
    cut.content_length = len(body)
    await cut.prepare(request)
    await cut.write(body[:at])
    if stall > 0:
        await sleep(stall)
    if request.transport is not None:
        request.transport.close()
    return cut
