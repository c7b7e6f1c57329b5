"""Which model names the emulator serves, and the gateway's answer for any other.

A real gateway (new-api, one-api) routes a request by its ``model`` to a channel of the key's
group; a name no channel serves is refused before anything is billed, with **503** and
``{"error": {"message": "当前分组 default 下对于模型 X 无可用渠道 (request id: …)", "type":
"new_api_error", "param": "", "code": "model_not_found"}}`` (new-api ``middleware/distributor.go``
and ``types/error.go``). The emulator does the same for every route whose request names a
model (JSON or multipart ``model`` field); a request without one is left to the route's own
validation.

The accepted names are :data:`DEFAULT_MODELS` (a trailing ``*`` accepts any suffix, e.g.
``gpt-4-gizmo-*`` for GPTs). Extend them with ``Emulator(models=[...])`` (which adds to the
defaults) or :meth:`Emulator.accept_models` at any time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from aiohttp import web

from . import _multipart
from ._http import json_response

__all__ = ["DEFAULT_MODELS", "MODEL_ROUTES", "ModelNames"]

#: The model names (and ``prefix*`` patterns) the emulator serves out of the box.
DEFAULT_MODELS: Final[frozenset[str]] = frozenset(
    {
        # chat and completions
        "gpt-4o-mini", "gpt-4o", "gpt-4-0613", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct",
        "gpt-4-all", "gpt-4-gizmo-*", "gpt-4-vision-preview", "gpt-4o-audio-preview",
        "o3-mini", "deepseek-reasoner", "gemini-pro", "gemini-3-pro-preview",
        # image models (through images and through chat)
        "dall-e-2", "dall-e-3", "gpt-image-1", "flux", "flux-dev", "flux-kontext-pro",
        "flux-kontext-max", "nano-banana", "seedream-4", "stable-diffusion",
        "stable-diffusion-3.5", "stable-diffusion-3.5-large-turbo",
        # embeddings
        "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
        # audio
        "whisper-1", "gpt-4o-transcribe", "tts-1", "tts-1-hd", "gpt-4o-mini-tts",
    }
)  # fmt: skip

#: Routes whose request names a model.
MODEL_ROUTES: Final[frozenset[str]] = frozenset(
    {
        "chat.completions",
        "completions",
        "embeddings",
        "images.generate",
        "images.edit",
        "audio.transcriptions",
        "audio.translations",
        "audio.speech",
    }
)


class ModelNames:
    """A set of accepted model names; a name ending in ``*`` accepts any suffix."""

    def __init__(self, names: Iterable[str] = DEFAULT_MODELS) -> None:
        self._exact: set[str] = set()
        self._prefixes: set[str] = set()
        self.add(names)

    def add(self, names: Iterable[str]) -> None:
        for name in names:
            if not isinstance(name, str) or not name.strip("*"):
                raise ValueError(f"not a model name: {name!r}")
            if name.endswith("*"):
                self._prefixes.add(name[:-1])
            else:
                self._exact.add(name)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._exact or any(name.startswith(p) for p in self._prefixes)

    def refusal(self, request: web.BaseRequest, body: bytes, rid: str) -> web.Response | None:
        """The gateway's 503 ``model_not_found`` if ``request`` names a model not served."""
        model = _model_of(request, body)
        if model is None or model in self:
            return None
        message = f"当前分组 default 下对于模型 {model} 无可用渠道 (request id: {rid})"
        return json_response(
            {
                "error": {
                    "message": message,
                    "type": "new_api_error",
                    "param": "",
                    "code": "model_not_found",
                }
            },
            status=503,
        )


def _model_of(request: web.BaseRequest, body: bytes) -> str | None:
    """The ``model`` a JSON or multipart body names (None: none, or unreadable)."""
    content_type = _multipart.content_type_of(request.headers)
    try:
        if content_type.startswith("multipart/"):
            value = _multipart.parse_form(body, content_type).get("model")
        else:
            parsed = json.loads(body) if body else None
            value = parsed.get("model") if isinstance(parsed, dict) else None
    except ValueError:
        return None
    return value if isinstance(value, str) and value else None
