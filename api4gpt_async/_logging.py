"""``API4GPT_LOG=debug|info|warning`` turns on the SDK's own log output, once."""

from __future__ import annotations

import logging
import os

__all__ = ["setup_logging_from_env"]

logger = logging.getLogger("api4gpt_async")
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
