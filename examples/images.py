"""Generate an image and save it, edit it with a mask, then the same with Flux and Kontext.

Writes into ``media-output/``. Runs offline against the built-in emulator, or against the real
service when API4GPT_API_KEY is set (both calls are billed there).
"""

from __future__ import annotations

import asyncio
import struct
import sys
import zlib
from pathlib import Path

from _shared import open_client

OUT = Path("media-output")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def center_mask(width: int, height: int) -> bytes:
    """An RGBA PNG, opaque except a transparent centre: the area the edit may repaint."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(payload, zlib.crc32(kind))
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter: none
        for x in range(width):
            inside = width // 4 <= x < 3 * width // 4 and height // 4 <= y < 3 * height // 4
            row += b"\x00\x00\x00\x00" if inside else b"\x00\x00\x00\xff"
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            chunk(b"IEND", b""),
        )
    )


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    async with open_client() as client:
        answer = await client.images.generate(
            "a lighthouse on a cliff at dawn, watercolour", model="dall-e-3", size="1024x1024"
        )
        image = answer.data[0]
        if image.revised_prompt:
            print(f"revised prompt: {image.revised_prompt}")
        original = await image.save(OUT / "lighthouse.png", overwrite=True)  # url or b64_json
        print(f"saved {original} ({original.stat().st_size} bytes)")

        width, height = png_size(original.read_bytes())
        mask = center_mask(width, height)
        edited = await client.images.edit(
            original,
            "add a red sailing boat in the bay",
            mask=("mask.png", mask),
            model="gpt-image-1",
        )
        for index, result in enumerate(edited.data):
            path = await result.save(OUT / f"lighthouse-boat-{index}.png", overwrite=True)
            print(f"saved {path} ({path.stat().st_size} bytes)")
        if edited.usage is not None:
            print(f"tokens used by the edit: {edited.usage.total_tokens}")

        # Flux through the same call; Flux Kontext takes an aspect ratio instead of a size,
        # and edits an image from a prompt alone (no mask).
        flux = await client.images.generate(
            "a fox in fresh snow", model="flux-dev", size="1024x768"
        )
        print(f"saved {await flux.data[0].save(OUT / 'fox-flux.png', overwrite=True)}")
        kontext = await client.images.generate(
            "a fox in fresh snow, cinematic", model="flux-kontext-pro", aspect_ratio="16:9"
        )
        wide = await kontext.data[0].save(OUT / "fox-kontext.png", overwrite=True)
        print(f"saved {wide}")
        recoloured = await client.images.edit(
            wide, "make the fox arctic white", model="flux-kontext-pro", aspect_ratio="16:9"
        )
        edit = await recoloured.data[0].save(OUT / "fox-kontext-edit.png", overwrite=True)
        print(f"saved {edit}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
