"""The ``embeddings`` route: POST /v1/embeddings answers a ``list`` of ``embedding`` objects.

Embeddings are unit vectors seeded by a hash of the model, the size and the input (1536 values,
3072 for ``text-embedding-3-large``, or ``dimensions``), exactly representable as float32 so that
``encoding_format="base64"`` (little-endian float32) decodes to the same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import random
import sys
from array import array
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._http import json_response
from ._sampling import model_param
from ._validate import (
    Invalid,
    integer_param,
    invalid_response,
    is_int,
    request_object,
    string_param,
)
from ._words import count_tokens

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["register"]


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``embeddings`` route to ``app``."""
    app.router.add_post("/v1/embeddings", _embeddings, name="embeddings")


async def _embeddings(request: web.Request) -> web.Response:
    try:
        body = await request_object(request)
        model, items, size, as_base64 = _embedding_request(body)
    except Invalid as exc:
        return invalid_response(exc)
    data = []
    tokens = 0
    for index, item in enumerate(items):
        tokens += len(item) if isinstance(item, list) else count_tokens(item)
        vector = _vector(model, size, item)
        if as_base64:
            raw = array("f", vector)
            if sys.byteorder == "big":
                raw.byteswap()
            embedding: Any = base64.b64encode(raw.tobytes()).decode("ascii")
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return json_response(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def _native_size(model: str) -> int:
    return 3072 if model.endswith("-large") else 1536


def _embedding_request(body: dict[str, Any]) -> tuple[str, list[str | list[int]], int, bool]:
    model = model_param(body)
    value = body.get("input")
    invalid = Invalid(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference.",
        "input",
    )
    items: list[str | list[int]]
    if isinstance(value, str):
        if not value:
            raise invalid
        items = [value]
    elif isinstance(value, list) and 0 < len(value) <= 2048:
        if all(isinstance(v, str) and v for v in value):
            items = list(value)
        elif all(is_int(v) and v >= 0 for v in value):
            items = [list(value)]
        elif all(isinstance(v, list) and v and all(is_int(t) and t >= 0 for t in v) for v in value):
            items = [list(v) for v in value]
        else:
            raise invalid
    else:
        raise invalid
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise Invalid(
            f"Invalid value for 'encoding_format': {fmt!r}; expected 'float' or 'base64'.",
            "encoding_format",
        )
    size = _native_size(model)
    dimensions = integer_param(body, "dimensions", 1, size)
    if dimensions is not None:
        if not model.startswith("text-embedding-3"):
            raise Invalid("This model does not support specifying dimensions.", "dimensions")
        size = dimensions
    string_param(body, "user")
    return model, items, size, fmt == "base64"


def _vector(model: str, size: int, item: str | list[int]) -> list[float]:
    """A unit vector seeded by the input, exactly representable as float32."""
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{size}\0{item!r}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return array("f", [v / norm for v in values]).tolist()
