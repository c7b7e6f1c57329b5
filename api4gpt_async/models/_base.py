"""The base of every response model."""

from __future__ import annotations

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
    """

    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    request_id: str | None = attrs.field(default=None, repr=False, eq=False)
