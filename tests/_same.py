"""Models compared field by field, ``raw`` (which ``==`` skips) included, all the way down."""

from __future__ import annotations

from typing import Any

import attrs


def same(a: Any, b: Any) -> None:
    """Assert ``a`` and ``b`` are equal, field by field, ``raw`` included, all the way down."""
    assert type(a) is type(b)
    if attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            same(getattr(a, field.name), getattr(b, field.name))
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    else:
        assert a == b
