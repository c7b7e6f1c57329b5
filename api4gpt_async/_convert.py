"""One cattrs converter for every model, lenient in what it reads.

The gateway family sends ``""`` for absent values, ids as numbers or strings, numbers as floats
or strings where integers are declared (``"created": 1744857525.254391``, ``"total_tokens":
"12"``), and adds fields without notice. So: ``""`` reads as ``None`` for optional fields, ids
become strings, ints are read from floats (truncated) and numeric strings, unknown keys are
kept in the model's ``raw`` mapping (as is every value exactly as sent), and states stay plain
strings (an unknown one never crashes decoding). Only an answer that cannot be read at all
(an object where a number belongs, a word where a count belongs) is a decode error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .errors import ResponseDecodeError
from .models._base import Model

__all__ = [
    "accept_bare_url",
    "camel_case_keys",
    "converter",
    "fraction_from_percent",
    "read_with",
    "structure",
    "unstructure",
]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False, prefer_attrib_converters=False)

_NoneType = type(None)
_NUMERIC = re.compile(r"\s*-?\d+(\.\d*)?\s*")


def _is_optional(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return (origin is typing.Union or origin is types.UnionType) and _NoneType in typing.get_args(
        tp
    )


def _optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
    args = [a for a in typing.get_args(tp) if a is not _NoneType]
    inner_type: Any = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    inner = converter.get_structure_hook(inner_type)
    if inner_type in (str, int, float, bool):
        # The hot path of every answer: a value already of the right type is returned as is.
        def structure_optional_leaf(value: Any, _: Any) -> Any:
            if value is None or value == "":
                return None
            if type(value) is inner_type:
                return value
            return inner(value, inner_type)

        return structure_optional_leaf

    def structure_optional(value: Any, _: Any) -> Any:
        if value is None or value == "":
            return None
        return inner(value, inner_type)

    return structure_optional


def _str_hook(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _datetime_hook(value: Any, _: Any) -> dt.datetime:
    """ISO 8601 (``Z`` accepted) or unix seconds / milliseconds, always timezone-aware."""
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        value = _number(value)  # unix seconds sent as a string
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    raise TypeError(f"expected a timestamp, got {type(value).__name__}")


def _bool_hook(value: Any, _: Any) -> bool:
    """Booleans, 0 / 1 and "true" / "false"; anything else is an error, never a guess."""
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"expected a boolean, got {value!r}")


def _number(value: Any) -> float | int:
    """A JSON number, or a string holding one (``"12"``, ``" 1.5e3 "``); finite only."""
    if isinstance(value, bool):
        raise TypeError("expected a number, got bool")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            value = float(text)  # ValueError when it is no number at all
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"expected a finite number, got {value}")
        return value
    if isinstance(value, int):
        return value
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _float_hook(value: Any, _: Any) -> float:
    if type(value) is float:
        return value
    return float(_number(value))


def _int_hook(value: Any, _: Any) -> int:
    """Integers as they come; floats (``1744857525.254391``) and numeric strings (``"12"``)
    where an int is declared are truncated toward zero, the exact value staying in ``raw``."""
    if type(value) is int:
        return value
    return int(_number(value))


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Model)


def _model_hook(cls: Any) -> Callable[[Any, Any], Any]:
    inner = make_dict_structure_fn(
        cls, converter, raw=override(omit=True), request_id=override(omit=True)
    )
    wire_keys: _WireKeys | None = cls.__dict__.get("_wire_keys")

    def structure_model(value: Any, _: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise TypeError(f"expected an object for {cls.__name__}, got {type(value).__name__}")
        obj = inner(value if wire_keys is None else wire_keys.apply(value), cls)
        object.__setattr__(obj, "raw", value)
        return obj

    return structure_model


converter.register_structure_hook_factory(_is_optional, _optional_hook)
converter.register_structure_hook_factory(_is_model, _model_hook)
converter.register_structure_hook(str, _str_hook)
converter.register_structure_hook(bool, _bool_hook)
converter.register_structure_hook(float, _float_hook)
converter.register_structure_hook(int, _int_hook)
converter.register_structure_hook(dt.datetime, _datetime_hook)
converter.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())


def accept_bare_url(cls: type[T]) -> type[T]:
    """Let a model with a ``url`` field also be read from a bare URL string."""
    structure_mapping = _model_hook(cls)

    def structure_url_model(value: Any, _: Any) -> Any:
        if isinstance(value, str):
            value = {"url": value}
        return structure_mapping(value, cls)

    converter.register_structure_hook(cls, structure_url_model)
    return cls


def camel_case_keys(cls: type[T]) -> type[T]:
    """Let a model read its snake_case fields from camelCase keys (``imageUrl`` → ``image_url``).

    For the Java-born APIs (midjourney-proxy). Either spelling is accepted; a ``null`` where a
    field has a factory default (a list) reads as that default: those APIs send ``null`` for
    "none".
    """
    renames: dict[str, str] = {}
    defaults: set[str] = set()
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        head, *rest = field.name.split("_")
        camel = head + "".join(part.title() for part in rest)
        if camel != field.name:
            renames[camel] = field.name
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            defaults.add(field.name)
    cls._wire_keys = _WireKeys(renames, frozenset(defaults))  # type: ignore[attr-defined]
    return cls


class _WireKeys(typing.NamedTuple):
    renames: Mapping[str, str]
    null_is_default: frozenset[str]

    def apply(self, value: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = self.renames.get(key, key)
            if item is None and name in self.null_is_default:
                continue
            out[name] = item
        return out


def read_with(
    prepare: Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> Callable[[type[T]], type[T]]:
    """Read a model from ``prepare(value)`` (one wire shape of several made canonical); the
    model's ``raw`` stays the object exactly as it arrived."""

    def decorate(cls: type[T]) -> type[T]:
        structure_mapping = _model_hook(cls)

        def structure_prepared(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise TypeError(
                    f"expected an object for {cls.__name__}, got {type(value).__name__}"
                )
            obj = structure_mapping(prepare(value), cls)
            object.__setattr__(obj, "raw", value)
            return obj

        converter.register_structure_hook(cls, structure_prepared)
        return cls

    return decorate


def fraction_from_percent(value: Any) -> float | None:
    """``"45%"``, ``"45"``, ``45`` or ``0.45``-style progress as 0.0–1.0; None if unreadable.

    A number above 1 (or any text) is read as a percentage.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        number /= 100
    elif isinstance(value, (int, float)):
        number = value / 100 if value > 1 else float(value)
    else:
        return None
    return min(max(number, 0.0), 1.0)


#: The generated structure function of each model, looked up once (this is the hot path).
_hooks_by_class: dict[Any, Callable[[Any, Any], Any]] = {}


def structure(data: Any, cls: type[T], *, request_id: str | None = None) -> T:
    """Decode wire data into ``cls``; any mismatch becomes a ``ResponseDecodeError``."""
    try:
        hook = _hooks_by_class.get(cls)
        if hook is None:
            hook = _hooks_by_class[cls] = converter.get_structure_hook(cls)
        obj: T = hook(data, cls)
        if request_id is not None:
            object.__setattr__(obj, "request_id", request_id)
        return obj
    except Exception as exc:
        detail = "; ".join(_flatten(exc)) or repr(exc)
        raise ResponseDecodeError(
            f"could not read the answer as {getattr(cls, '__name__', cls)}: {detail}",
            body=data,
            request_id=request_id,
        ) from exc


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)


def _flatten(exc: BaseException) -> list[str]:
    subs = getattr(exc, "exceptions", None)
    if isinstance(subs, (list, tuple)):
        out: list[str] = []
        for sub in subs:
            out.extend(_flatten(sub))
        return out
    notes = getattr(exc, "__notes__", [])
    return [f"{exc}" + (f" [{'; '.join(notes)}]" if notes else "")]
