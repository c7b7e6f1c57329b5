"""OpenAI-compatible text routes: chat, completions, embeddings, models.

The emulator's registrar for them; each route lives in its own module (:mod:`._chat`,
:mod:`._completions`, :mod:`._embeddings`, :mod:`._models`); what they
share is in :mod:`._validate`, :mod:`._sampling`, :mod:`._words` and :mod:`._events`.

=======================  ===========================  ==========================================
route name               path                         answer
=======================  ===========================  ==========================================
``chat.completions``     POST /v1/chat/completions    ``chat.completion`` or an SSE stream of
                                                      ``chat.completion.chunk``
``completions``          POST /v1/completions         ``text_completion`` (or its SSE stream)
``embeddings``           POST /v1/embeddings          a ``list`` of ``embedding`` objects
``models``               GET /v1/models               a ``list`` of ``model`` objects
=======================  ===========================  ==========================================

Answers are deterministic and validate against OpenAI's OpenAPI description (every chunk
choice has ``finish_reason``, every message ``content`` and ``refusal``, …). Invalid requests get
a 400 ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _chat, _completions, _embeddings, _models
from ._models import MODELS
from ._words import HUGE_SIZE

if TYPE_CHECKING:
    from aiohttp import web

    from ._emulator import Emulator

__all__ = ["HUGE_SIZE", "MODELS", "register"]


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``chat.completions``, ``completions``, ``embeddings`` and ``models`` routes."""
    _chat.register(emu, app)
    _completions.register(emu, app)
    _embeddings.register(emu, app)
    _models.register(emu, app)
