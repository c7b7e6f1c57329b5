"""Callbacks (``notify_hook``) that resolve waiting handles at once; polling stays the fallback.

::

    receiver = WebhookReceiver(client, url="https://me.example/hooks", token=secret)
    job = await client.luma.generate("a cat", notify_hook=receiver.url_for("luma"))
    app.router.add_post("/hooks/{kind}", receiver.aiohttp_handler)   # aiohttp
    fastapi_app.mount("/hooks", receiver)                             # any ASGI framework
"""

from __future__ import annotations

from ._exports import publish
from ._webhooks import BODY_SHAPES, DEFAULT_MAX_BODY, Callback, CallbackRejected, WebhookReceiver

__all__ = ["BODY_SHAPES", "DEFAULT_MAX_BODY", "Callback", "CallbackRejected", "WebhookReceiver"]

publish(__name__, globals(), __all__)
