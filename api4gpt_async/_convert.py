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
import keyword
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeGuard, TypeVar

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
    "is_mapping",
    "read_with",
    "read_with_fallbacks",
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


def _is_empty(value: Any) -> bool:
    """The gateways' "none": null or ``""``."""
    return value is None or value == ""


class Fallbacks(typing.NamedTuple):
    """Where a model's fields are read from when the answer leaves them empty (null, ``""``).

    First a field's own key; then, for ``nested_fields``, the same key in the object under
    ``nested`` (a Suno clip's ``metadata``); then its alias in ``aliases`` (``clip_id`` for
    ``id``). The generic path reads ``apply(answer)``; the fast reader looks in the same places
    itself, so the common answer is read without a reshaped copy.
    """

    aliases: Mapping[str, str]
    nested: str | None
    nested_fields: frozenset[str]

    def apply(self, value: Mapping[str, Any]) -> Mapping[str, Any]:
        """``value`` with each empty field filled from its fallbacks (a copy, if any is)."""
        out: dict[str, Any] | None = None
        inner = value.get(self.nested) if self.nested is not None else None
        if is_mapping(inner):
            for name, found in inner.items():
                if (
                    name in self.nested_fields
                    and not _is_empty(found)
                    and _is_empty((value if out is None else out).get(name))
                ):
                    out = dict(value) if out is None else out
                    out[name] = found
        for name, alias in self.aliases.items():
            found = value.get(alias)
            if not _is_empty(found) and _is_empty((value if out is None else out).get(name)):
                out = dict(value) if out is None else out
                out[name] = found
        return value if out is None else out


def read_with_fallbacks(
    *,
    aliases: Mapping[str, str] | None = None,
    nested: str | None = None,
    nested_fields: typing.Iterable[str] = (),
) -> Callable[[type[T]], type[T]]:
    """Read a model whose empty fields may be found elsewhere in the answer (see
    :class:`Fallbacks`); ``raw`` stays the object exactly as it arrived."""
    fallbacks = Fallbacks(dict(aliases or {}), nested, frozenset(nested_fields))

    def decorate(cls: type[T]) -> type[T]:
        cls._fallbacks = fallbacks  # type: ignore[attr-defined]
        return read_with(fallbacks.apply)(cls)

    return decorate


def is_mapping(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, with a JSON object, null, list or string answered first:
    the ABC check costs ten type checks, and ``read_with`` preparations run on every answer."""
    kind = type(value)
    if kind is dict:
        return True
    if value is None or kind is list or kind is str:
        return False
    return isinstance(value, Mapping)


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
    if not math.isfinite(number):  # "NaN%", "inf": no figure
        return None
    return min(max(number, 0.0), 1.0)


#: The generated structure function of each model, looked up once (this is the hot path).
_hooks_by_class: dict[Any, Callable[[Any, Any], Any]] = {}
#: Its fast reader (see below), or None.
_fast_by_class: dict[Any, Callable[..., Any] | None] = {}


def structure(data: Any, cls: type[T], *, request_id: str | None = None) -> T:
    """Decode wire data into ``cls``; any mismatch becomes a ``ResponseDecodeError``."""
    try:
        hook = _hooks_by_class.get(cls)
        if hook is None:
            hook = _hooks_by_class[cls] = converter.get_structure_hook(cls)
            _fast_by_class[cls] = _fast_reader(hook)
        fast = _fast_by_class[cls]
        if fast is not None:
            try:
                return fast(data, request_id)  # type: ignore[no-any-return]
            except Exception:  # not the common shape (see _NotFast): the generic path decides
                pass
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


# -- the fast path ------------------------------------------------------------------------------
#
# Reading a streamed chat costs one model tree per chunk and a status query one per poll, so the
# converter's generic path (one hook call per field, wrapped in error bookkeeping) would be most
# of the SDK's CPU. For each model read by ``_model_hook`` (plain, ``camel_case_keys`` or
# ``read_with``) this generates, once, a reader of straight-line code, one short block per field:
#
# - a value of its field's exact type (``str``, ``int``, ``float``, ``bool``) is stored as is
#   (an optional string's ``""`` as None), null or a missing key as None or the field's default,
#   a nested object or list of objects by the nested model's own fast reader, a timestamp by the
#   common reading of ``_datetime_hook`` (unix seconds, ISO 8601), and any other value by the
#   field's converter hook: the very function the generic path calls for it;
# - the values are stored into the slots of a *twin* of the class (the same bases and slots, but
#   plain ``object.__setattr__``), where a store is a bytecode slot write instead of a call of
#   the frozen class's slot descriptor (a tenth of the cost); the object then becomes an
#   instance of the class itself (``__class__`` assignment, which Python allows between classes
#   of the same layout): the very object ``__init__`` would build.
#
# A ``read_with_fallbacks`` model's reader looks in the fallbacks itself (a Suno clip's
# ``metadata``), so its answer is read without the reshaped copy the generic path reads.
#
# Whatever it cannot decide raises ``_NotFast`` (or the hook's own error) and ``structure`` reads
# the whole answer again by the generic path, so results and errors are exactly its own: a
# required key missing, a camelCase field in its snake_case spelling, a dict subclass; a model
# with validators, converters or init hooks has no fast reader.


class _NotFast(Exception):
    """The answer is not in the common shape: read it with the generic path."""


class _Absent:
    """What the fast reader's ``dict.get`` gives for a missing key where that is not null."""

    __slots__ = ()


_ABSENT = _Absent()
_LEAVES = (str, int, float, bool)
_FACTORY: type[Any] = type(attrs.Factory(dict))  # attrs types Factory as a function
#: Fast readers by model class, and by ``read_with`` hook.
_fast_readers: dict[Any, Callable[..., Any] | None] = {}


def _fast_reader(hook: Callable[[Any, Any], Any]) -> Callable[..., Any] | None:
    """The fast reader of the model ``hook`` reads, or None when it is no model hook of this
    module (a plain one, or one of ``read_with``).

    A reader is called as ``read(value, request_id=None)`` and returns the model or raises.
    """
    cls = _plain_model_hooks.get(hook)
    if cls is not None:
        return _class_reader(cls)
    prepared = _prepared_hooks.get(hook)
    if prepared is None:
        return None
    if hook not in _fast_readers:
        cls, prepare = prepared
        inner = _class_reader(cls)
        if inner is not None and cls.__dict__.get("_fallbacks") is not None:
            _fast_readers[hook] = inner  # it looks in the fallbacks itself: nothing to prepare
            return inner

        def read_prepared(value: Any, request_id: str | None = None) -> Any:
            # As ``read_with`` does: the prepared copy is read, ``raw`` is the answer as sent.
            if type(value) is not dict:
                raise _NotFast
            return inner(prepare(value), request_id, value)  # type: ignore[misc]

        _fast_readers[hook] = read_prepared if inner is not None else None
    return _fast_readers[hook]


def _class_reader(cls: type[Any]) -> Callable[..., Any] | None:
    if cls not in _fast_readers:
        _fast_readers[cls] = None  # a model that contains itself takes the generic path
        try:
            _fast_readers[cls] = _generate_reader(cls)
        except Exception:  # a field type this cannot look at: the generic path reads it
            _fast_readers[cls] = None
    return _fast_readers[cls]


def _twin(cls: type[Any]) -> type[Any] | None:
    """A class of ``cls``'s layout whose slots plain attribute stores write, or None.

    ``__delattr__`` is reset too: a class overriding either keeps Python from writing its
    slots directly (the store would call the override). ``_twin()`` makes an empty instance
    (``object.__init__``; a class with its own ``__new__`` has no twin), cheaper than
    ``object.__new__(_twin)``.
    """
    new: Any = cls.__new__
    if new is not object.__new__:
        return None
    namespace = {
        "__slots__": cls.__dict__.get("__slots__", ()),
        "__init__": object.__init__,
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": cls.__module__,
        "__qualname__": f"{cls.__qualname__}.<fast reader's twin>",
    }
    twin = type(cls.__name__, cls.__bases__, namespace)
    probe: Any = twin()
    try:
        probe.__class__ = cls
    except TypeError:  # "object layout differs"
        return None
    return twin


def _generate_reader(cls: type[Any]) -> Callable[..., Any] | None:
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    # A plain attrs class (no validator, converter or init hook) is built without its
    # ``__init__``, by setting its slots: the same object at a fraction of the cost.
    direct = (
        not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.validator is None and f.converter is None and f.init for f in fields)
        and all(type(getattr(cls, f.name, None)).__name__ == "member_descriptor" for f in fields)
        and not any(isinstance(f.default, _FACTORY) and f.default.takes_self for f in fields)
        and not any(keyword.iskeyword(f.name) for f in fields)
    )
    twin = _twin(cls) if direct else None
    if twin is None:
        return None
    # A camelCase model (``camel_case_keys``) reads each field from its wire spelling; an answer
    # with the other one takes the generic path, which decides between them.
    wire_keys: _WireKeys | None = cls.__dict__.get("_wire_keys")
    camel_of: dict[str, str] = (
        {name: camel for camel, name in wire_keys.renames.items()} if wire_keys else {}
    )
    null_is_default = wire_keys.null_is_default if wire_keys else frozenset()
    fallbacks: Fallbacks | None = cls.__dict__.get("_fallbacks")
    names: dict[str, Any] = {
        "_cls": cls,
        "_twin": twin,
        "_NotFast": _NotFast,
        "_ABSENT": _ABSENT,
        "_other_spellings": frozenset(camel_of),
        "_timestamp": dt.datetime.fromtimestamp,
        "_isoformat": dt.datetime.fromisoformat,
        "_UTC": _UTC,
        "_is_mapping": is_mapping,
        "_NO_NESTED": MappingProxyType({}),
    }
    lines = [
        "def read(o, request_id=None, raw=None):",
        "    if type(o) is not dict: raise _NotFast",
        "    obj = _twin()",
        "    obj.raw = o if raw is None else raw",
        "    obj.request_id = request_id",
    ]
    if camel_of:
        lines.insert(2, "    if not o.keys().isdisjoint(_other_spellings): raise _NotFast")
    if fallbacks is not None and fallbacks.nested is not None:
        lines += [  # the nested object the fallbacks look in (a Mapping of another type: slow)
            f"    m = o.get({fallbacks.nested!r})",
            "    if type(m) is not dict:",
            "        if _is_mapping(m): raise _NotFast",
            "        m = _NO_NESTED",
        ]
    for n, field in enumerate(fields):
        name: str = field.name
        if name not in ("raw", "request_id"):
            key = camel_of.get(name, name)
            lines += _field_lines(n, field, key, name in null_is_default, names, fallbacks)
    lines += ["    obj.__class__ = _cls", "    return obj"]
    exec("\n".join(lines), names)  # the code is generated from the model's own fields
    reader: Callable[..., Any] = names["read"]
    return reader


def _field_lines(
    n: int,
    field: Any,
    key: str,
    null_is_default: bool,
    names: dict[str, Any],
    fallbacks: Fallbacks | None = None,
) -> list[str]:
    """The code that reads ``field`` (number ``n``) from the answer ``o`` into ``obj``."""
    tp, default = field.type, field.default
    optional = _is_optional(tp)
    args = [a for a in typing.get_args(tp) if a is not _NoneType] if optional else [tp]
    inner = args[0] if len(args) == 1 else None
    origin, type_args = typing.get_origin(inner), typing.get_args(inner)
    names[f"_h{n}"], names[f"_t{n}"] = converter.get_structure_hook(tp), tp
    if isinstance(default, _FACTORY):
        names[f"_f{n}"] = default.factory
        default_value = f"_f{n}()"
    else:
        names[f"_d{n}"] = default
        default_value = f"_d{n}"
    # What a missing key gives: null where it reads as null, the default where that is a value
    # of the field's own type (read as such), else _ABSENT.
    look_elsewhere = _fallback_lines(field.name, fallbacks)
    if default is None and optional and not null_is_default:
        lines = [f"    v = o.get({key!r})"]
        absent = None
    elif not optional and inner in _LEAVES and type(default) is inner and not look_elsewhere:
        lines = [f"    v = o.get({key!r}, _d{n})"]
        absent = None
    else:
        lines = [f"    v = o.get({key!r}, _ABSENT)"]
        absent = (
            "raise _NotFast" if default is attrs.NOTHING else f"obj.{field.name} = {default_value}"
        )
    lines += look_elsewhere
    store = f"obj.{field.name} = "
    branches: list[tuple[str, str]] = []  # (condition, statement), the usual value first
    if inner in _LEAVES:
        names[f"_l{n}"] = inner
        branches.append(
            (f"type(v) is _l{n}", store + ("v or None" if optional and inner is str else "v"))
        )
    elif inner is dt.datetime:  # unix seconds and ISO 8601 with an offset, as _datetime_hook
        branches.append(("type(v) is int and v <= 100000000000", store + "_timestamp(v, _UTC)"))
        iso = "type(v) is str and v[4:5] == '-' and (parsed := _isoformat(v)).tzinfo is not None"
        branches.append((iso, store + "parsed"))
    elif inner is not None and origin is None:
        reader = _fast_reader(converter.get_structure_hook(inner))
        if reader is not None:
            names[f"_r{n}"] = reader
            branches.append(("type(v) is dict", store + f"_r{n}(v)"))
    elif origin is list and type_args:
        item_reader = _fast_reader(converter.get_structure_hook(type_args[0]))
        if item_reader is not None:
            names[f"_r{n}"] = item_reader
            branches.append(("type(v) is list", store + f"[_r{n}(x) for x in v]"))
    if absent is not None:
        branches.append(("v is _ABSENT", absent))
    if null_is_default:
        branches.append(("v is None", store + default_value))
    elif optional:
        branches.append(("v is None", store + "None"))
    for number, (condition, statement) in enumerate(branches):
        lines.append(f"    {'el' if number else ''}if {condition}: {statement}")
    lines.append(f"    {'else: ' if branches else ''}{store}_h{n}(v, _t{n})")
    return lines


def _fallback_lines(name: str, fallbacks: Fallbacks | None) -> list[str]:
    """The code that fills an empty ``v`` from ``name``'s fallbacks, in ``Fallbacks.apply``'s
    order (the nested object ``m``, then the alias); none for a field without any."""
    if fallbacks is None:
        return []
    places = []
    if name in fallbacks.nested_fields and fallbacks.nested is not None:
        places.append(f"m.get({name!r})")
    if name in fallbacks.aliases:
        places.append(f"o.get({fallbacks.aliases[name]!r})")
    lines = []
    for place in places:
        lines += [
            "    if v is None or v is _ABSENT or v == '':",
            f"        w = {place}",
            "        if w is not None and w != '': v = w",
        ]
    return lines
