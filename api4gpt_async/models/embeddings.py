"""Embeddings (``client.embeddings.create``).

``embedding`` is always a ``list[float]``: an answer asked for with
``encoding_format="base64"`` (little-endian float32, as OpenAI sends it) is decoded for you.
Vectors are converted in C (:mod:`array`), not float by float.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from collections.abc import Mapping
from typing import Any

import attrs
from cattrs.gen import make_dict_structure_fn, override

from .._convert import converter
from ._base import Model

__all__ = ["CreateEmbeddingResponse", "Embedding", "EmbeddingUsage", "decode_embedding"]


def decode_embedding(value: Any) -> list[float]:
    """A vector as sent: a list of numbers, or base64 of little-endian float32 values."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise TypeError("embedding is a string but not valid base64") from None
        if len(raw) % 4:
            raise TypeError(f"base64 embedding has {len(raw)} bytes, not a multiple of 4")
        floats = array("f")
        floats.frombytes(raw)
        if sys.byteorder == "big":
            floats.byteswap()
        return floats.tolist()
    if isinstance(value, list):
        return array("d", value).tolist()  # checks every item is a number, in C
    raise TypeError(f"expected a list of numbers or base64 text, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class Embedding(Model):
    index: int = 0
    embedding: list[float] = attrs.field(factory=list)
    object: str | None = None


_structure_rest = make_dict_structure_fn(
    Embedding,
    converter,
    raw=override(omit=True),
    request_id=override(omit=True),
    embedding=override(omit=True),
)


def _structure_embedding(value: Any, _: Any) -> Embedding:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object for Embedding, got {type(value).__name__}")
    vector = decode_embedding(value.get("embedding", []))
    obj = _structure_rest(value, Embedding)
    object.__setattr__(obj, "embedding", vector)
    object.__setattr__(obj, "raw", value)
    return obj


converter.register_structure_hook(Embedding, _structure_embedding)


@attrs.frozen(kw_only=True)
class EmbeddingUsage(Model):
    prompt_tokens: int = 0
    total_tokens: int = 0


@attrs.frozen(kw_only=True)
class CreateEmbeddingResponse(Model):
    """The vectors, in ``data`` order (``data[i].index`` is the input's position)."""

    object: str | None = None
    data: list[Embedding] = attrs.field(factory=list)
    model: str | None = None
    usage: EmbeddingUsage | None = None

    @property
    def embeddings(self) -> list[list[float]]:
        """Every vector, ordered by ``index`` (the order of the inputs)."""
        return [item.embedding for item in sorted(self.data, key=lambda item: item.index)]
