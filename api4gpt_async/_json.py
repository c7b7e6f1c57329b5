"""Reading JSON: every answer, stream event, callback body and task ref goes through here.

msgspec's C reader is about three times as fast as ``json.loads`` and gives the same values
for every document both read (integers of any size included; ``orjson``, for one, turns those
into floats). What it refuses (a BOM, UTF-16, ``NaN``, a lone surrogate, no JSON at all) is
left to ``json.loads``, which decides, so the results and errors are ``json.loads``'s own.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

__all__ = ["read_json"]

_decode = msgspec.json.Decoder().decode


def read_json(raw: bytes | str) -> Any:
    """``json.loads(raw)``, about three times sooner for the usual UTF-8 document.

    Raises ``json.JSONDecodeError`` or ``UnicodeDecodeError`` (both ``ValueError``) as
    ``json.loads`` does, and a ``ValueError`` for JSON nested too deeply to read (where
    ``json.loads`` raises ``RecursionError``, which no caller expects).
    """
    try:
        return _decode(raw)
    except (msgspec.DecodeError, RecursionError):
        pass
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None
