"""Re-exported names report the public module they are imported from (as httpx does)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function in ``names`` to ``module``.

    Tracebacks, ``repr`` and documentation then show ``api4gpt_async.TaskHandle`` rather than
    the private module it is written in. Other values (constants, aliases) are left alone.
    """
    for name in names:
        value = namespace[name]
        if isinstance(value, type) or (callable(value) and hasattr(value, "__module__")):
            with contextlib.suppress(AttributeError, TypeError):  # some C types refuse
                value.__module__ = module
