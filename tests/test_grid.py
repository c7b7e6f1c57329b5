"""Cutting a Midjourney grid into its four images (the ``images`` extra)."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from api4gpt_async._grid import split_grid_bytes


def _grid(width: int, height: int) -> bytes:
    """A grid whose four quadrants have four different colours."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    boxes = [(0, 0, half_w, half_h), (half_w, 0, width, half_h),
             (0, half_h, half_w, height), (half_w, half_h, width, height)]  # fmt: skip
    for colour, box in zip(colours, boxes, strict=True):
        image.paste(colour, box)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP" if width % 2 else "PNG", lossless=True)
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(64, 48), (65, 49)])
def test_quadrants_come_in_midjourney_order(width: int, height: int) -> None:
    parts = split_grid_bytes(_grid(width, height))
    assert len(parts) == 4
    images = [Image.open(io.BytesIO(part)) for part in parts]
    assert all(image.format == "PNG" for image in images)
    assert [image.getpixel((0, 0)) for image in images] == [
        (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0),
    ]  # fmt: skip
    assert images[0].size == (width // 2, height // 2)
    assert images[3].size == (width - width // 2, height - height // 2)


def test_not_an_image() -> None:
    with pytest.raises(ValueError, match="not a readable grid image"):
        split_grid_bytes(b"<html>nope</html>")


def test_without_pillow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = _grid(8, 8)
    monkeypatch.setitem(sys.modules, "PIL", None)  # what a missing package looks like to import
    with pytest.raises(ImportError, match=r"pip install 'api4gpt-async\[images\]'"):
        split_grid_bytes(grid)
