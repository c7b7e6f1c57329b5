"""Tiny but valid media files, generated in code (the repository holds no binary files).

The emulator serves these bytes as the "results" of media jobs so that downloads can be
tested end to end: each function returns a complete, well-formed file of its format.

- :func:`mp4_bytes` — an ISO-BMFF (MP4) file: ``ftyp`` (brand ``isom``), ``moov`` (``mvhd`` and one
  empty video ``trak``) and an empty ``mdat``. A few hundred bytes; it carries no frames.
- :func:`png_bytes` — a solid-colour RGB PNG of any size.
- :func:`jpeg_bytes` — a baseline (JFIF) greyscale JPEG of one shade, any size.
- :func:`wav_bytes` — 16-bit mono PCM silence, written with the standard ``wave`` module.
- :func:`mp3_bytes` — silent MPEG-1 Layer III frames (32 kbit/s, 48 kHz, mono).
"""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

__all__ = ["jpeg_bytes", "mp3_bytes", "mp4_bytes", "png_bytes", "wav_bytes"]

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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(
    width: int = 16, height: int = 16, *, color: tuple[int, int, int] = (0x2B, 0x59, 0xC3)
) -> bytes:
    """A valid solid-colour 8-bit RGB PNG of ``width`` × ``height`` pixels."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be at least 1")
    if any(not 0 <= c <= 255 for c in color):
        raise ValueError("color components must be in 0..255")
    row = b"\x00" + bytes(color) * width  # filter type 0 (None) + pixels
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", ihdr),
            _png_chunk(b"IDAT", zlib.compress(row * height, 9)),
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
