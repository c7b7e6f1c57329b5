"""What every service shares: the context it is built from, and the JSON body helper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .._task_handle import Tasks
    from .._transport import Transport

__all__ = ["ServiceContext", "body_of"]


@attrs.frozen(kw_only=True)
class ServiceContext:
    """Everything a service is wired from, built once by the client.

    ``transport`` sends requests, ``tasks`` is ``client.tasks`` (handles, kind registry,
    scheduler) and ``paths`` is the client's endpoint table (``_paths.DEFAULT_PATHS`` plus the
    caller's overrides).
    """

    transport: Transport
    tasks: Tasks
    paths: Mapping[str, str]


def body_of(fields: Mapping[str, Any], extra_body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON body: the fields the caller set (None means unset), then ``extra_body`` on top.

    Sending only what was set keeps requests exact; ``extra_body`` reaches fields the SDK does
    not know yet.
    """
    body = {key: value for key, value in fields.items() if value is not None}
    if extra_body:
        body.update(extra_body)
    return body
