"""Small helpers every service shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["body_of"]


def body_of(fields: Mapping[str, Any], extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON body: the fields the caller set (None means unset), then ``extra_body`` on top.

    Sending only what was set keeps requests exact; ``extra_body`` reaches fields the SDK does
    not know yet.
    """
    body = {key: value for key, value in fields.items() if value is not None}
    if extra_body:
        body.update(extra_body)
    return body
