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
_UTC = dt.timezone.utc
#: The fraction of seconds of an ISO time: the digits after the seconds' dot.
_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)")


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
    kind = type(value)
    if kind is int or kind is float:  # the common case, checked first
        # ``tz`` passed by position: the keyword costs this hot call half again.
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, _UTC)
    if kind is str and value[4:5] == "-":  # a date first (a numeric string has no dash there)
        try:
            parsed = dt.datetime.fromisoformat(value)  # Python 3.11+ also reads "Z"
        except ValueError:
            pass  # "Z" on 3.10, a space, a lower-case "z"…: the general reading below
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        value = _number(value)  # unix seconds sent as a string
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return dt.datetime.fromtimestamp(seconds, _UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Python 3.10 reads a fraction of exactly 3 or 6 digits only: ".5" becomes ".500000".
        text = _FRACTION.sub(lambda m: "." + m.group(1).ljust(6, "0")[:6], text, count=1)
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)
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


#: The hooks ``_model_hook`` made (no custom reading on top), by the class they read.
_plain_model_hooks: dict[Callable[[Any, Any], Any], type[Any]] = {}
#: The hooks ``read_with`` made: the class, and how an answer is prepared for it.
_prepared_hooks: dict[
    Callable[[Any, Any], Any], tuple[type[Any], Callable[[Mapping[str, Any]], Mapping[str, Any]]]
] = {}


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

    _plain_model_hooks[structure_model] = cls
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
        _prepared_hooks[structure_prepared] = (cls, prepare)
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
#: Its fast reader (see below), or None.
_fast_by_class: dict[Any, Callable[[Any], Any] | None] = {}


def structure(data: Any, cls: type[T], *, request_id: str | None = None) -> T:
    """Decode wire data into ``cls``; any mismatch becomes a ``ResponseDecodeError``."""
    try:
        hook = _hooks_by_class.get(cls)
        if hook is None:
            hook = _hooks_by_class[cls] = converter.get_structure_hook(cls)
            _fast_by_class[cls] = _fast_reader(hook)
        fast = _fast_by_class[cls]
        obj: T
        try:
            obj = fast(data) if fast is not None else hook(data, cls)
        except Exception:  # not the common shape (see _NotFast): the generic path decides
            obj = hook(data, cls)
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


# -- the fast path ------------------------------------------------------------------------------
#
# Reading a streamed chat costs one model tree per chunk, so the converter's generic path (one
# hook call per field) is most of the SDK's CPU there. For a model read by a plain
# ``_model_hook`` this generates, once, a function that reads a well-formed answer with inline
# type checks: a value already of its field's exact type (``str``, ``int``, ``float``, ``bool``;
# ``None`` or ``""`` for an optional) is taken as is, which is what the hooks above return for
# it, and any other field type goes through its own hook. Anything else (a dict subclass, a
# number as a string, a missing required key, a hook that raises) raises ``_NotFast`` and the
# whole answer is read again by the generic path, so results and errors are exactly its own.


class _NotFast(Exception):
    """The answer is not in the common shape: read it with the generic path."""


_LEAVES = (str, int, float, bool)
#: Fast readers by model class, and by ``read_with`` hook.
_fast_readers: dict[Any, Callable[[Any], Any] | None] = {}


def _fast_reader(hook: Callable[[Any, Any], Any]) -> Callable[[Any], Any] | None:
    """The fast reader of the model ``hook`` reads, or None when it is no model hook of this
    module (a plain one, or one of ``read_with``)."""
    cls = _plain_model_hooks.get(hook)
    if cls is not None:
        return _class_reader(cls)
    prepared = _prepared_hooks.get(hook)
    if prepared is None:
        return None
    if hook not in _fast_readers:
        cls, prepare = prepared
        inner = _class_reader(cls)

        def read_prepared(value: Any) -> Any:
            # As ``read_with`` does: the prepared copy is read, ``raw`` is the answer as sent.
            if type(value) is not dict or inner is None:
                raise _NotFast
            obj = inner(prepare(value))
            object.__setattr__(obj, "raw", value)
            return obj

        _fast_readers[hook] = read_prepared if inner is not None else None
    return _fast_readers[hook]


def _class_reader(cls: type[Any]) -> Callable[[Any], Any] | None:
    if cls not in _fast_readers:
        _fast_readers[cls] = None  # a model that contains itself takes the generic path
        try:
            _fast_readers[cls] = _generate_reader(cls)
        except Exception:  # a field type this cannot look at: the generic path reads it
            _fast_readers[cls] = None
    return _fast_readers[cls]


def _generate_reader(cls: type[Any]) -> Callable[[Any], Any] | None:
    import attrs

    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    factory_type: type[Any] = type(attrs.Factory(dict))  # attrs types Factory as a function
    # A plain attrs class (no validator, converter or init hook) is built without its
    # ``__init__``, by setting its slots: the same object at a third of the cost.
    direct = (
        not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.validator is None and f.converter is None for f in fields)
        and all(type(getattr(cls, f.name, None)).__name__ == "member_descriptor" for f in fields)
        and not any(isinstance(f.default, factory_type) and f.default.takes_self for f in fields)
    )
    # A camelCase model (``camel_case_keys``) reads each field from its wire spelling here,
    # instead of from a renamed copy of the answer; both spellings at once take the generic
    # path, which decides between them.
    wire_keys: _WireKeys | None = cls.__dict__.get("_wire_keys")
    camel_of = {name: camel for camel, name in wire_keys.renames.items()} if wire_keys else {}
    null_is_default = wire_keys.null_is_default if wire_keys else frozenset()
    names: dict[str, Any] = {"_cls": cls, "_NotFast": _NotFast, "_new": object.__new__}
    names["_setattr"] = object.__setattr__
    lines = ["def read(o):", "    if type(o) is not dict: raise _NotFast"]
    lines.append("    obj = _new(_cls)" if direct else "    kw = {}")

    def store(number: int, field: Any, expr: str) -> str:
        if direct:
            names[f"_s{number}"] = getattr(cls, field.name).__set__
            return f"_s{number}(obj, {expr})"
        return f"kw[{field.alias!r}] = {expr}"

    def default(number: int, field: Any) -> str:
        if isinstance(field.default, factory_type):
            names[f"_f{number}"] = field.default.factory
            return store(number, field, f"_f{number}()")
        names[f"_d{number}"] = field.default
        return store(number, field, f"_d{number}")

    for number, field in enumerate(fields):
        if field.name == "raw":
            if direct:
                lines.append("    " + store(number, field, "o"))
            continue
        if field.name == "request_id" or not field.init:
            if direct:
                lines.append("    " + default(number, field))
            continue
        tp, key = field.type, field.name
        optional = _is_optional(tp)
        inner_tp = tp
        if optional:
            args = [a for a in typing.get_args(tp) if a is not _NoneType]
            if len(args) != 1:
                return None
            inner_tp = args[0]
        camel = camel_of.get(key)
        if camel is None:
            lines.append(f"    v = o.get({key!r}, _NotFast)")
        else:
            lines.append(f"    v = o.get({camel!r}, _NotFast)")
            lines.append(f"    if v is _NotFast: v = o.get({key!r}, _NotFast)")
            lines.append(f"    elif {key!r} in o: raise _NotFast")
        if key in null_is_default:
            lines.append("    if v is None: v = _NotFast")
        if inner_tp in _LEAVES:
            # The usual value first: already of its type ("" of an optional str excepted).
            names[f"_t{number}"] = inner_tp
            usual = " and v" if optional and inner_tp is str else ""
            lines.append(f"    if type(v) is _t{number}{usual}: {store(number, field, 'v')}")
            lines.append("    el" + _when_absent(number, field, direct, default))
            if optional:
                lines.append(f"    elif v is None or v == '': {store(number, field, 'None')}")
            lines.append("    else: raise _NotFast")
            continue
        lines.append("    " + _when_absent(number, field, direct, default))
        if optional:
            lines.append(f"    elif v is None or v == '': {store(number, field, 'None')}")
        origin = typing.get_origin(inner_tp)
        type_args = typing.get_args(inner_tp)
        item = type_args[0] if origin is list and type_args else None
        item_reader = _fast_reader(converter.get_structure_hook(item)) if item is not None else None
        model_reader = (
            _fast_reader(converter.get_structure_hook(inner_tp)) if origin is None else None
        )
        if item_reader is not None:
            names[f"_r{number}"] = item_reader
            lines.append(
                f"    elif type(v) is list: {store(number, field, f'[_r{number}(x) for x in v]')}"
            )
            lines.append("    else: raise _NotFast")
        elif model_reader is not None:
            names[f"_r{number}"] = model_reader
            lines.append(f"    else: {store(number, field, f'_r{number}(v)')}")
        else:
            names[f"_h{number}"] = converter.get_structure_hook(inner_tp)
            names[f"_t{number}"] = inner_tp
            lines.append(f"    else: {store(number, field, f'_h{number}(v, _t{number})')}")
    if not direct:
        lines += ["    obj = _cls(**kw)", "    _setattr(obj, 'raw', o)"]
    lines.append("    return obj")
    exec("\n".join(lines), names)  # the code is generated from the model's own fields
    reader: Callable[[Any], Any] = names["read"]
    return reader


def _when_absent(number: int, field: Any, direct: bool, default: Callable[[int, Any], str]) -> str:
    """The generated ``if`` for a key the answer lacks: its default, or the generic path."""
    if field.default is attrs.NOTHING:
        return "if v is _NotFast: raise _NotFast"
    return f"if v is _NotFast: {default(number, field) if direct else 'pass'}"


def _raise_not_fast() -> Any:
    raise _NotFast
