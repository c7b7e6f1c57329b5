"""The emulator's generated media files are valid files of their formats."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from api4gpt_async.testing._media import mp3_bytes, mp4_bytes, png_bytes, wav_bytes

# --------------------------------------------------------------------------- MP4

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl"}


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split ``data`` into (type, payload) boxes; the sizes must tile it exactly."""
    boxes = []
    offset = 0
    while offset < len(data):
        assert len(data) - offset >= 8, "truncated box header"
        size, kind = struct.unpack_from(">I4s", data, offset)
        assert size >= 8, f"box {kind!r} has an invalid size {size}"
        assert offset + size <= len(data), f"box {kind!r} overruns its parent"
        boxes.append((kind, data[offset + 8 : offset + size]))
        offset += size
    assert offset == len(data)
    return boxes


def _walk(data: bytes, path: tuple[bytes, ...] = ()) -> dict[tuple[bytes, ...], bytes]:
    found = {}
    for kind, payload in _boxes(data):
        where = (*path, kind)
        found[where] = payload
        if kind in _CONTAINERS:
            found.update(_walk(payload, where))
    return found


def test_mp4_starts_with_an_isom_ftyp_and_box_sizes_add_up() -> None:
    data = mp4_bytes()
    assert 100 < len(data) < 1000
    size, kind, brand = struct.unpack_from(">I4s4s", data)
    assert kind == b"ftyp"
    assert brand == b"isom"
    compatible = [data[i : i + 4] for i in range(16, size, 4)]
    assert b"isom" in compatible
    assert [kind for kind, _ in _boxes(data)] == [b"ftyp", b"moov", b"mdat"]


def test_mp4_has_a_movie_header_and_a_sized_video_track() -> None:
    boxes = _walk(mp4_bytes())
    mvhd = boxes[(b"moov", b"mvhd")]
    assert len(mvhd) == 100  # version 0 movie header
    assert struct.unpack_from(">I", mvhd, 12)[0] == 1000  # timescale
    tkhd = boxes[(b"moov", b"trak", b"tkhd")]
    width, height = struct.unpack_from(">II", tkhd, len(tkhd) - 8)
    assert (width >> 16, height >> 16) == (1360, 752)
    hdlr = boxes[(b"moov", b"trak", b"mdia", b"hdlr")]
    assert hdlr[8:12] == b"vide"
    assert (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd") in boxes


def test_mp4_is_deterministic() -> None:
    assert mp4_bytes() == mp4_bytes()


# --------------------------------------------------------------------------- PNG


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = []
    offset = 8
    while offset < len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack_from(">I", data, offset + 8 + length)
        assert crc == zlib.crc32(kind + payload), f"bad CRC in {kind!r}"
        chunks.append((kind, payload))
        offset += 12 + length
    assert offset == len(data)
    return chunks


@pytest.mark.parametrize(("width", "height"), [(1, 1), (16, 9), (300, 2)])
def test_png_decodes_to_a_solid_image_of_the_asked_size(width: int, height: int) -> None:
    chunks = _png_chunks(png_bytes(width, height, color=(10, 20, 30)))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    w, h, depth, colour_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (w, h, depth, colour_type) == (width, height, 8, 2)
    assert (compression, filtering, interlace) == (0, 0, 0)
    pixels = zlib.decompress(b"".join(p for kind, p in chunks if kind == b"IDAT"))
    row = b"\x00" + bytes([10, 20, 30]) * width
    assert pixels == row * height


def test_png_rejects_empty_sizes_and_bad_colours() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        png_bytes(0, 5)
    with pytest.raises(ValueError, match=r"0\.\.255"):
        png_bytes(1, 1, color=(0, 256, 0))


# --------------------------------------------------------------------------- WAV


@pytest.mark.parametrize("seconds", [0.0, 0.5, 2.0])
def test_wav_opens_with_the_wave_module(seconds: float) -> None:
    with wave.open(io.BytesIO(wav_bytes(seconds)), "rb") as audio:
        assert audio.getnchannels() == 1
        assert audio.getsampwidth() == 2
        assert audio.getframerate() == 8000
        assert audio.getnframes() == round(seconds * 8000)
        assert audio.readframes(audio.getnframes()) == bytes(2 * round(seconds * 8000))


# --------------------------------------------------------------------------- MP3

# MPEG-1 Layer III tables (ISO/IEC 11172-3).
_BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
_SAMPLE_RATES = [44100, 48000, 32000]


def _mp3_frames(data: bytes) -> list[bytes]:
    frames = []
    offset = 0
    while offset < len(data):
        header = int.from_bytes(data[offset : offset + 4], "big")
        assert header >> 21 == 0x7FF, "frame sync missing"
        assert (header >> 19) & 0b11 == 0b11, "not MPEG-1"
        assert (header >> 17) & 0b11 == 0b01, "not Layer III"
        bitrate = _BITRATES[(header >> 12) & 0xF] * 1000
        sample_rate = _SAMPLE_RATES[(header >> 10) & 0b11]
        padding = (header >> 9) & 1
        length = 144 * bitrate // sample_rate + padding
        assert offset + length <= len(data), "truncated frame"
        frames.append(data[offset : offset + length])
        offset += length
    assert offset == len(data)
    return frames


@pytest.mark.parametrize("seconds", [0.0, 0.1, 1.0])
def test_mp3_is_whole_mpeg1_layer3_frames(seconds: float) -> None:
    data = mp3_bytes(seconds)
    assert data[:2] == b"\xff\xfb"
    frames = _mp3_frames(data)
    assert len(frames) >= max(1, seconds * 48000 / 1152)
    assert len(frames) < max(1, seconds * 48000 / 1152) + 1
    assert all(frame[4:] == bytes(len(frame) - 4) for frame in frames)  # silent


def test_audio_helpers_reject_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        wav_bytes(-1)
    with pytest.raises(ValueError, match="negative"):
        mp3_bytes(-1)
