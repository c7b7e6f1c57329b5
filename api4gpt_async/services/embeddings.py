"""Embeddings: ``client.embeddings.create(...)``, as in openai-python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._raw_response import WithRawResponse
from ..models.embeddings import CreateEmbeddingResponse
from ._common import body_of
from ._openai_text import Headers, Query, listed, send_json

if TYPE_CHECKING:
    from ._common import ServiceContext

__all__ = ["EmbeddingInput", "EmbeddingsService"]

#: A text, several texts, a text as token ids, or several texts as token ids.
EmbeddingInput = str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]]


class EmbeddingsService(WithRawResponse):
    """``client.embeddings``."""

    def __init__(self, context: ServiceContext) -> None:
        self._transport = context.transport
        self._path = context.paths["embeddings"]

    async def create(
        self,
        *,
        input: EmbeddingInput,
        model: str,
        dimensions: int | None = None,
        encoding_format: Literal["float", "base64"] | None = None,
        user: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> CreateEmbeddingResponse:
        """Embed one or more inputs.

        ``embedding`` is always a ``list[float]``: with ``encoding_format="base64"`` (about a
        quarter of the bytes on the wire) the SDK decodes the little-endian float32 values.
        ``data[i].index`` is the position of the input; ``.embeddings`` lists the vectors in
        input order.
        """
        fields = {
            "input": listed(input),
            "model": model,
            "dimensions": dimensions,
            "encoding_format": encoding_format,
            "user": user,
        }
        body = body_of(fields, extra_body)
        return await send_json(
            self._transport,
            "POST",
            self._path,
            body,
            CreateEmbeddingResponse,
            billable=True,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )
