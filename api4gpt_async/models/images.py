"""Images: the answer of ``images.generate`` and ``images.edit``.

Every image endpoint answers the same envelope, ``{"created", "data": [...], "usage"?}``. The
gateway fills each item's ``url``, ``b64_json`` and ``revised_prompt``, often with ``""``: an
empty string reads as absent (None). ``created`` may be in seconds or, from some models, in
milliseconds; both read as the same aware ``datetime``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from .._files import save_bytes
from ._base import Model

__all__ = ["Image", "ImageTokenDetails", "ImageUsage", "ImagesResponse"]

#: Saves a URL to a destination: bound by the service that returned the image.
#: ``(url, dest, timeout, overwrite) -> path``, bound by the service that returned the image.
Downloader = Callable[[str, "str | os.PathLike[str]", "float | None", bool], Awaitable[Path]]

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


def _image_extension(data: bytes) -> str:
    for signature, extension in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".png"


@attrs.frozen(kw_only=True)
class Image(Model):
    """One generated or edited image: a hosted ``url`` or inline ``b64_json`` (or both).

    ``await image.save(dest)`` writes it to a file, or into an existing folder.

    Why a method on the image: that is what a user of these APIs reaches for (openai-python's
    answers are plain data, so everyone writes the same decode-or-download helper). Saving a
    ``url`` needs the client's HTTP session; the service that returned the image binds its
    downloader to a private attribute (not part of ``__init__``, equality or ``repr``) right
    after decoding. An ``Image`` you build yourself, copy (``attrs.evolve``, ``copy``) or
    unpickle is not bound: ``save`` still writes ``b64_json`` data, and for a URL says to use
    ``client.download(image.url, dest)``, which is what the bound one calls.
    """

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None
    _downloader: Downloader | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def __getstate__(self) -> dict[str, Any]:
        # The binding to a client is not data: pickles and deep copies come out unbound.
        return {f.name: getattr(self, f.name) for f in attrs.fields(Image) if f.init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_downloader", None)

    def decode(self) -> bytes | None:
        """The decoded ``b64_json`` bytes (a ``data:`` URL prefix is accepted), or None."""
        if not self.b64_json:
            return None
        text = self.b64_json
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"b64_json is not valid base64: {exc}") from None

    async def save(
        self, dest: str | os.PathLike[str], *, timeout: float | None = None, overwrite: bool = False
    ) -> Path:
        """Write the image to ``dest`` (a file path, or a folder; ``~`` expanded) and return
        the path.

        ``b64_json`` is decoded and written; otherwise ``url`` is downloaded, streamed (and
        retried, like ``client.download``). Either way the file appears whole or not at all
        (``.part`` then rename). A ``dest`` ending in a separator, or an existing folder, is a
        folder (created if needed): the name comes from the URL, or for inline data from its
        content (``image-<hash>.png``), made unique (``-1``, ``-2``…) unless the same content is
        already there. An existing file raises ``FileExistsError`` unless ``overwrite=True``.
        The API key is sent only when the URL is on the API's own host.
        """
        data = self.decode()
        if data is not None:
            digest = hashlib.sha256(data).hexdigest()[:16]
            name = f"image-{digest}{_image_extension(data)}"
            return await save_bytes(data, dest, lambda: name, overwrite=overwrite)
        if not self.url:
            raise ValueError("this image has neither a url nor b64_json data to save")
        if self._downloader is None:
            raise RuntimeError(
                "this Image was not returned by a client, so it cannot download its url; "
                "use `await client.download(image.url, dest)`"
            )
        return await self._downloader(self.url, dest, timeout, overwrite)


@attrs.frozen(kw_only=True)
class ImageTokenDetails(Model):
    """Tokens by kind (input or output side of ``usage``)."""

    text_tokens: int | None = None
    image_tokens: int | None = None


@attrs.frozen(kw_only=True)
class ImageUsage(Model):
    """Token usage; sent for gpt-image models only."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    input_tokens_details: ImageTokenDetails | None = None
    output_tokens_details: ImageTokenDetails | None = None


@attrs.frozen(kw_only=True)
class ImagesResponse(Model):
    """The answer of ``images.generate`` / ``images.edit``.

    ``background``, ``output_format``, ``size`` and ``quality`` echo what gpt-image models
    used; other models leave them out.
    """

    created: dt.datetime | None = None
    data: list[Image] = attrs.field(factory=list)
    usage: ImageUsage | None = None
    background: str | None = None
    output_format: str | None = None
    size: str | None = None
    quality: str | None = None
