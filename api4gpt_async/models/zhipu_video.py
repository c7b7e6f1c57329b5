"""Zhipu CogVideoX video jobs, in Zhipu's own shape (no task envelope).

Sources: docs.bigmodel.cn "生成视频异步" and docs.z.ai (async result), relayed as is by the
gpt-best family and 302.ai. Submit answers ``{"id", "model", "request_id", "task_status":
"PROCESSING"}``; the result answers ``{"model", "request_id", "task_status", "video_result":
[{"url", "cover_image_url"}]}`` with ``task_status`` ``PROCESSING``, ``SUCCESS`` or ``FAIL``.
A failed job may carry an ``error`` object (``code``, ``message``). Poll with ``id``, never
``request_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._convert import read_with
from ._base import Model

__all__ = ["ZhipuVideo", "ZhipuVideoError", "ZhipuVideoTask"]


@attrs.frozen(kw_only=True)
class ZhipuVideo(Model):
    """One generated video and its cover image."""

    url: str | None = None
    cover_image_url: str | None = None


@attrs.frozen(kw_only=True)
class ZhipuVideoError(Model):
    """Why a job failed, as Zhipu says it."""

    code: str | None = None
    message: str | None = None


def _task_fields(value: Mapping[str, Any]) -> Mapping[str, Any]:
    out = dict(value)
    out["client_request_id"] = value.get("request_id")
    error = out.get("error")
    if isinstance(error, str):
        out["error"] = {"message": error}
    elif error is not None and not isinstance(error, Mapping):
        out["error"] = None
    return out


@read_with(_task_fields)
@attrs.frozen(kw_only=True)
class ZhipuVideoTask(Model):
    """A CogVideoX job as the service reports it; also the result of a finished one.

    ``id`` is the job id (the result answer may omit it). Zhipu's ``request_id`` field (the
    caller's own id, echoed, *not* a job id) reads as ``client_request_id``; ``request_id``
    stays the gateway's id of the HTTP request, as on every model.
    """

    id: str | None = None
    model: str | None = None
    task_status: str | None = None
    video_result: list[ZhipuVideo] = attrs.field(factory=list)
    error: ZhipuVideoError | None = None
    client_request_id: str | None = None

    @property
    def video_url(self) -> str | None:
        """The first video's URL, once the job succeeded."""
        return next((v.url for v in self.video_result if v.url), None)

    @property
    def cover_image_url(self) -> str | None:
        """The first video's cover image URL."""
        return next((v.cover_image_url for v in self.video_result if v.cover_image_url), None)
