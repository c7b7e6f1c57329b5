"""JSON in and out: every answer, stream event, callback, job file and task ref is read here,
and every request body written.

Reading: msgspec's C reader is about three times as fast as ``json.loads`` and gives the same
values for every document both read (integers of any size included; ``orjson``, for one, turns
those into floats). What it refuses (a BOM, UTF-16, ``NaN``, a lone surrogate, no JSON at all)
is left to ``json.loads``, which decides, so the results and errors are ``json.loads``'s own.

Writing: one ``json`` encoder with a ``default`` for what it cannot write by itself; a body it
refuses is walked, then only, to say where the bad value is.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from ._text import body_text, declared_charset

__all__ = ["encode_body", "read_json", "read_json_answer"]

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


def read_json_answer(raw: bytes, headers: Mapping[str, str] | None) -> Any:
    """An answer's JSON, from UTF-8 (or -16/-32) bytes, or from text in the charset its
    Content-Type declares (JSON is UTF-8 by RFC 8259, but a Java server may send
    ``application/json;charset=GBK``). Raises ``ValueError`` as :func:`read_json` does."""
    try:
        return read_json(raw)
    except ValueError:
        charset = declared_charset(headers)
        if charset is None or charset.startswith("utf"):
            raise
    return read_json(body_text(raw, headers))


def _json_default(value: Any) -> Any:
    """What ``json`` cannot send by itself: a model the SDK returned (an assistant message
    sent back: its request form, ``to_param()``), any other mapping, or any other sequence.
    Anything else raises ``TypeError`` (before the request is sent)."""
    to_param = getattr(value, "to_param", None)
    if callable(to_param):
        return to_param()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return list(value)
    raise TypeError(f"a request body cannot hold {type(value).__name__} (not JSON)")


#: Request bodies as UTF-8 JSON (one encoder: ``json.dumps`` with an option builds one per call).
#: Plain dicts, lists, tuples and scalars are written by the C encoder with no Python per value.
#: NaN and infinities have no JSON spelling: ``ValueError``, before anything is sent.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default)


def encode_body(body: Any) -> bytes:
    """``body`` as UTF-8 JSON; ``TypeError`` / ``ValueError`` for what JSON cannot hold, saying
    where in the body it is (``at messages[1].content``), before anything is sent."""
    try:
        return _JSON.encode(body).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            problem = "a request body nested too deeply to send"
        elif isinstance(exc, UnicodeEncodeError):
            problem = "a request body cannot hold a lone surrogate (not UTF-8)"
        elif str(exc).startswith("Out of range float"):  # json's words differ by Python version
            problem = "a request body cannot hold NaN or an infinity (not JSON)"
        else:
            problem = str(exc)
        try:
            where = _where_not_json(body, "", (), text=isinstance(exc, UnicodeEncodeError))
        except RecursionError:  # the caller's own stack left too little for the walk
            where = None
        error = TypeError if isinstance(exc, TypeError) else ValueError
        if where is not None:
            problem += f" (at {where or 'the top level'})"
        raise error(problem) from None


_JSON_KEYS = (str, int, float, bool, type(None))
#: Deeper than this, the walk below stops and names the place (``json`` gives up near Python's
#: recursion limit; the walk must stay well inside it, whatever the caller's stack).
_MAX_DEPTH = 200
_SURROGATE = re.compile("[\ud800-\udfff]")


def _where_not_json(value: Any, path: str, holders: tuple[int, ...], *, text: bool) -> str | None:
    """The path of the first value in a body that JSON cannot hold, or None (a failure path
    only: the encoder itself has no Python per value). Containers are seen as the encoder sees
    them (``_json_default``). ``holders``: the containers around ``value``, to find one that
    holds itself; ``text``: look for the text UTF-8 cannot hold (a lone surrogate, refused only
    once the JSON is written) instead of the rest."""
    if value is None or isinstance(value, int):  # bool is an int
        return None
    if isinstance(value, str):
        return path if text and _SURROGATE.search(value) else None
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if id(value) in holders or len(holders) >= _MAX_DEPTH:
        return path if len(path) <= 200 else path[:200] + "…"
    inside = (*holders, id(value))
    try:
        value = _json_default(value)  # a dict or a list now (a copy), or no JSON at all
    except TypeError:
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if not isinstance(key, _JSON_KEYS):
                return name
            found = _where_not_json(item, name, inside, text=text)
            if found is not None:
                return found
        return None
    for index, item in enumerate(value):
        found = _where_not_json(item, f"{path}[{index}]", inside, text=text)
        if found is not None:
            return found
    return None
