"""The models a key may use: ``await client.models.list()``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from .._paths import path_segment
from .._raw_response import WithRawResponse
from ..models.model_list import ModelInfo, ModelList
from ._openai_text import Headers, Query, send_json

if TYPE_CHECKING:
    from ._common import ServiceContext

__all__ = ["ModelListRequest", "ModelsService"]


class ModelsService(WithRawResponse):
    """``client.models``: ``list()`` and ``retrieve(model)``."""

    def __init__(self, context: ServiceContext) -> None:
        self._transport = context.transport
        self._path = context.paths["models"]

    def list(
        self,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        timeout: float | None = None,
    ) -> ModelListRequest:
        """Every model this key may call: ``await`` it for a ``ModelList``, or iterate it
        directly with ``async for model in client.models.list()`` as in openai-python.

        A model missing here answers 503 ``model_not_found`` when called: use the exact id.
        A status query: retried on connection errors, 429 and 5xx.
        """
        return ModelListRequest(
            lambda: send_json(
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
        )

    async def retrieve(
        self,
        model: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        timeout: float | None = None,
    ) -> ModelInfo:
        """One model by id (``GET /v1/models/{model}``), as in openai-python.

        An unknown id raises an ``APIError`` with code ``model_not_found`` (one-api answers it
        as an error object in a 200). An id with a ``/`` (``Qwen/Qwen2.5-7B-Instruct``) raises
        ``ValueError``: the path cannot hold it, so look for it in :meth:`list`.
        A status query: retried on connection errors, 429, 5xx.
        """
        segment = path_segment("model", model)
        if "/" in model:  # gateways route /v1/models/{model} by segment: "org/name" has none
            raise ValueError(
                f"{model!r} cannot be looked up by path (it holds a '/'): find it in "
                "models.list() instead"
            )
        return await send_json(
            self._transport,
            "GET",
            f"{self._path}/{segment}",
            None,
            ModelInfo,
            billable=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )


class ModelListRequest(Awaitable[ModelList]):
    """The model list request: awaitable, and async-iterable for code ported from openai.

    Nothing is sent until it is awaited or iterated (each time it is).
    """

    def __init__(self, send: Callable[[], Awaitable[ModelList]]) -> None:
        self._send = send

    def __await__(self) -> Generator[Any, None, ModelList]:
        return self._send().__await__()

    async def __aiter__(self) -> AsyncIterator[ModelInfo]:
        for model in await self._send():
            yield model
