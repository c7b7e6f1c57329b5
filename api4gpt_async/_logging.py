"""The SDK's logger: silent until the application configures logging (a library's
``NullHandler``, as the logging HOWTO asks), or ``API4GPT_LOG=debug|info|warning`` turns on
the SDK's own output, once."""

from __future__ import annotations

import logging
import os

__all__ = ["setup_logging_from_env"]

logger = logging.getLogger("api4gpt_async")
# Without it, Python's last-resort handler would print the SDK's warnings to the stderr of an
# application that set no logging up.
logger.addHandler(logging.NullHandler())
_configured = False


def setup_logging_from_env() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    level = os.environ.get("API4GPT_LOG", "").strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
