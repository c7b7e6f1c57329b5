"""The models a key may use: ``await client.models.list()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..models.model_list import ModelList
from ._openai_text import Headers, Query, send_json

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = ["ModelsService"]


class ModelsService:
    """``client.models``."""

    def __init__(self, transport: Transport, paths: Mapping[str, str]) -> None:
        self._transport = transport
        self._path = paths["models"]

    async def list(
        self,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        timeout: float | None = None,
    ) -> ModelList:
        """Every model this key may call (``for model in await client.models.list()``).

        A model missing here answers 503 ``model_not_found`` when called: use the exact id.
        A status query: retried on connection errors, 429 and 5xx.
        """
        return await send_json(
            self._transport,
            "GET",
            self._path,
            None,
            ModelList,
            billable=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )
