"""OpenAI-style image and audio routes (OpenAI API reference "Images" and "Audio", as relayed
by new-api ``relay/channel/openai``).

The emulator's registrar for them; the image routes live in :mod:`._images`, the audio routes
in :mod:`._audio`, their request checks in :mod:`._validate`.

=======================  ==============================  ===============================
route name               endpoint                        body
=======================  ==============================  ===============================
``images.generate``      POST /v1/images/generations     JSON
``images.edit``          POST /v1/images/edits           multipart (``image`` / ``image[]``
                                                         / ``images``, ``mask``, ``prompt``…)
``audio.transcriptions`` POST /v1/audio/transcriptions   multipart (``file``, ``model``…)
``audio.translations``   POST /v1/audio/translations     multipart (``file``, ``model``…)
``audio.speech``         POST /v1/audio/speech           JSON → audio bytes
=======================  ==============================  ===============================

Answers follow OpenAI's OpenAPI description, with the gateway's habits (see each module).
Invalid requests get OpenAI's 400 ``{"error": {"message", "type": "invalid_request_error",
"param", "code"}}``, naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _audio, _images
from ._audio import PCM_SAMPLE_RATE, TRANSCRIPT, TRANSLATION, speech_seconds
from ._images import SLOW_WORD

if TYPE_CHECKING:
    from aiohttp import web

    from ._emulator import Emulator

__all__ = [
    "PCM_SAMPLE_RATE",
    "SLOW_WORD",
    "TRANSCRIPT",
    "TRANSLATION",
    "register",
    "speech_seconds",
]


def register(emu: Emulator, app: web.Application) -> None:
    """Add the image and audio routes to ``app``."""
    _images.register(emu, app)
    _audio.register(emu, app)
