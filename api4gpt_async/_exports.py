"""Re-exported names report a public module they are imported from (as httpx does)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function in ``names`` written in a private module
    (``api4gpt_async._client``) to ``module``.

    Tracebacks, ``repr`` and documentation then show ``api4gpt_async.AsyncAPI4GPT`` rather than
    the private module it is written in. Names already in a public module keep it; other values
    (constants, aliases) are left alone.
    """
    for name in names:
        value = namespace[name]
        if not (isinstance(value, type) or callable(value)):
            continue
        home = getattr(value, "__module__", None) or ""
        if any(part.startswith("_") for part in home.split(".")[1:]):
            with contextlib.suppress(AttributeError, TypeError):  # some C types refuse
                value.__module__ = module
