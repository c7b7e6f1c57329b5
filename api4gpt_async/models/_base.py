"""The base of every response model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Model"]


@attrs.frozen(kw_only=True)
class Model:
    """A decoded answer: frozen, keyword-only, and never lossy.

    ``raw`` is the JSON object it was read from (unknown fields included); ``request_id`` is the
    gateway's id for the request that returned it, when known (quote it in support requests).
    Read a field the SDK does not model yet with ``model.raw["name"]``.

    openai-python's habits work too: ``model_dump()`` / ``model_dump_json()`` give the modelled
    fields as JSON-ready data, ``to_dict()`` / ``to_json()`` the answer as it was sent (every
    field, unknown ones included), and ``_request_id`` is ``request_id``.
    """

    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    request_id: str | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def _request_id(self) -> str | None:
        """``request_id``, under openai-python's name."""
        return self.request_id

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """The modelled fields as a JSON-ready ``dict`` (nested models too; no ``raw``)."""
        data: dict[str, Any] = _dump(self)
        return _without_none(data) if exclude_none else data

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False) -> str:
        """:meth:`model_dump` as JSON text."""
        return json.dumps(self.model_dump(exclude_none=exclude_none), indent=indent, default=str)

    def to_dict(self) -> dict[str, Any]:
        """The answer as the service sent it (``raw``), or the modelled fields if it has none."""
        return json.loads(json.dumps(self.raw, default=str)) if self.raw else self.model_dump()

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (indented by 2, like openai-python)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)


_META = frozenset({"raw", "request_id"})


def _dump(value: Any) -> Any:
    if attrs.has(type(value)):
        skip = _META if isinstance(value, Model) else frozenset()
        return {
            field.name: _dump(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if field.name not in skip
        }
    if isinstance(value, Mapping):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    from .._convert import unstructure  # enums, dates...; the converter imports the models

    return unstructure(value)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
