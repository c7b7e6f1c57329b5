"""The models a key may use (``GET /v1/models``)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from ._base import Model

__all__ = ["ModelInfo", "ModelList"]


@attrs.frozen(kw_only=True)
class ModelInfo(Model):
    """One model. new-api adds fields such as ``supported_endpoint_types``: read ``raw``."""

    id: str
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None


@attrs.frozen(kw_only=True)
class ModelList(Model):
    """The answer of ``await client.models.list()``; iterate it for :class:`ModelInfo`."""

    object: str | None = None
    data: list[ModelInfo] = attrs.field(factory=list)

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def ids(self) -> list[str]:
        """The model ids, in the order listed."""
        return [model.id for model in self.data]
