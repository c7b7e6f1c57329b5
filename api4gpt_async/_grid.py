"""Cutting a Midjourney 2x2 grid into its four images, locally (needs the ``images`` extra).

On v5 and later models the U1–U4 buttons return these same quadrants at the same size, so
cutting the grid saves four upscale jobs. Pillow is optional: without it the functions here
raise an ``ImportError`` that names the extra to install.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

__all__ = ["PILLOW_MISSING", "require_pillow", "split_grid_bytes", "split_grid_file"]

#: What to install when Pillow is missing.
PILLOW_MISSING = (
    "cutting a Midjourney grid needs Pillow, which the 'images' extra installs:\n"
    "    pip install 'api4gpt-async[images]'"
)


def require_pillow() -> Any:
    """Pillow's ``Image`` module, or the ``ImportError`` that names the extra."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(PILLOW_MISSING, name="PIL") from exc
    return Image


def split_grid_bytes(data: bytes) -> list[bytes]:
    """The four quadrants of a 2x2 grid image, as PNG files, in Midjourney's order.

    1 top left, 2 top right, 3 bottom left, 4 bottom right (the U1–U4 / V1–V4 numbering).
    Any format Pillow reads is accepted (PNG, WebP, JPEG). An odd width or height leaves the
    last pixel row or column to the right / bottom quadrants.

    Raises:
        ImportError: Pillow is not installed (the message names the ``images`` extra).
        ValueError: ``data`` is not an image Pillow can read.
    """
    image_module = require_pillow()
    try:
        with image_module.open(io.BytesIO(data)) as grid:
            grid.load()
            width, height = grid.size
            half_w, half_h = width // 2, height // 2
            boxes = [
                (0, 0, half_w, half_h),
                (half_w, 0, width, half_h),
                (0, half_h, half_w, height),
                (half_w, half_h, width, height),
            ]
            out: list[bytes] = []
            for box in boxes:
                buffer = io.BytesIO()
                grid.crop(box).save(buffer, format="PNG")
                out.append(buffer.getvalue())
            return out
    except OSError as exc:  # PIL.UnidentifiedImageError and truncated files
        raise ValueError(f"not a readable grid image: {exc}") from exc


def split_grid_file(path: Path) -> list[bytes]:
    """:func:`split_grid_bytes` of a file (blocking: run it in a thread)."""
    return split_grid_bytes(path.read_bytes())
