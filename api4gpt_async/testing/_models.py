"""The ``models`` routes: GET /v1/models answers a ``list`` of ``model`` objects.

It lists :data:`MODELS`. GET /v1/models/{model} answers one of them, or, for an unknown id, a
200 carrying an OpenAI error object with code ``model_not_found``, as one-api's
``controller/model.go`` ``RetrieveModel`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from ._http import json_response

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["MODELS", "register"]

#: ``(id, owned_by, created)`` of every model ``GET /v1/models`` lists.
MODELS: Final[tuple[tuple[str, str, int], ...]] = (
    ("gpt-4o-mini", "openai", 1721172741),
    ("gpt-4o", "openai", 1715367049),
    ("gpt-4-0613", "openai", 1686588896),
    ("gpt-3.5-turbo", "openai", 1677610602),
    ("gpt-3.5-turbo-instruct", "openai", 1692901427),
    ("gpt-4-all", "openai", 1700000000),
    ("gpt-4-gizmo-*", "openai", 1700000000),
    ("gpt-4-vision-preview", "openai", 1698894917),
    ("o3-mini", "openai", 1737146383),
    ("deepseek-reasoner", "deepseek", 1737331200),
    ("gemini-pro", "google", 1702339200),
    ("gemini-3-pro-preview", "google", 1763424000),
    ("stable-diffusion", "stability-ai", 1700000000),
    ("text-embedding-3-small", "openai", 1705948997),
    ("text-embedding-3-large", "openai", 1705953180),
    ("text-embedding-ada-002", "openai", 1671217299),
    ("dall-e-3", "openai", 1698785189),
    ("whisper-1", "openai", 1677532384),
    ("tts-1", "openai", 1681940951),
)


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``models`` route to ``app``."""
    app.router.add_get("/v1/models", _models, name="models")
    app.router.add_get("/v1/models/{model}", _model, name="models.retrieve")


async def _models(request: web.Request) -> web.Response:
    return json_response(
        {"object": "list", "data": [_model_object(*model) for model in MODELS], "success": True}
    )


async def _model(request: web.Request) -> web.Response:
    wanted = request.match_info["model"]
    for model in MODELS:
        if model[0] == wanted:
            return json_response(_model_object(*model))
    error = {
        "message": f"The model '{wanted}' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    return json_response({"error": error})


def _model_object(model_id: str, owner: str, created: int) -> dict[str, object]:
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": owner,
        "supported_endpoint_types": [_endpoint_type(model_id)],
    }


def _endpoint_type(model_id: str) -> str:
    if model_id.startswith("text-embedding"):
        return "embeddings"
    if model_id.startswith(("dall-e", "stable-diffusion")):
        return "image-generation"
    return "openai"
