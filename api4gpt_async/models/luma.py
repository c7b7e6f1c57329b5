"""Luma video generations (both the ``luma`` and ``lumvip`` flavours)."""

from __future__ import annotations

import datetime as dt

import attrs

from .._convert import accept_bare_url
from ._base import Model

__all__ = ["LumaGeneration", "LumaImage", "LumaVideo"]


@accept_bare_url
@attrs.frozen(kw_only=True)
class LumaImage(Model):
    """A still image (thumbnail, last frame); some flavours send just its URL."""

    url: str | None = None
    width: int | None = None
    height: int | None = None


@attrs.frozen(kw_only=True)
class LumaVideo(Model):
    """The finished video; ``download_url`` appears on some flavours only."""

    url: str | None = None
    width: int | None = None
    height: int | None = None
    thumbnail: LumaImage | None = None
    download_url: str | None = None


@attrs.frozen(kw_only=True)
class LumaGeneration(Model):
    """One generation as the service reports it; also the result of a finished Luma job.

    The GoAmz-style ``luma`` flavour adds ``thumbnail``, ``last_frame``, ``video_raw``,
    ``queue_state`` and ``batch_id``; ``request`` and ``artifact`` stay in ``raw``.
    """

    id: str
    state: str | None = None
    prompt: str | None = None
    created_at: dt.datetime | None = None
    video: LumaVideo | None = None
    thumbnail: LumaImage | None = None
    liked: bool | None = None
    estimate_wait_seconds: float | None = None
    failure_reason: str | None = None
    aspect_ratio: str | None = None
    last_frame: LumaImage | None = None
    video_raw: LumaVideo | None = None
    queue_state: str | None = None
    batch_id: str | None = None
    server_id: str | None = None

    @property
    def video_url(self) -> str | None:
        """The best URL of the finished video, if any."""
        if self.video is None:
            return None
        return self.video.url or self.video.download_url
