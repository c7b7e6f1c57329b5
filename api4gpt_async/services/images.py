"""Images: ``client.images.generate`` (JSON) and ``client.images.edit`` (multipart).

One pair of methods serves every image model the gateway routes: gpt-image-1, DALL·E 3, Flux,
Flux Kontext, seedream, nano-banana, Stable Diffusion (images style). Only the arguments that
are set are sent, so each model gets exactly the fields it knows; ``extra_body`` reaches the
rest (Stable Diffusion's ``negative_prompt``, ``num_inference_steps``…).

Image calls are billable and slow (minutes, for some models): they are never re-sent once they
may have reached the server, and the gateway's interim ``102 Processing`` answers are skipped by
the HTTP client before the real one arrives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._convert import structure
from .._files import download
from .._raw_response import WithRawResponse
from .._uploads import FileInput, form_text, to_form_file, to_form_files
from ..models.images import ImagesResponse
from ._common import body_of

if TYPE_CHECKING:
    from .._transport import FormValue, Reply, Transport
    from ._common import ServiceContext

__all__ = ["ImagesService"]

ResponseFormat = Literal["url", "b64_json"]


class ImagesService(WithRawResponse):
    """``client.images``: generate and edit images."""

    def __init__(self, context: ServiceContext) -> None:
        self._transport = context.transport
        self._generate_path = context.paths["images.generate"]
        self._edit_path = context.paths["images.edit"]

    async def generate(
        self,
        prompt: str,
        *,
        model: str | None = None,
        n: int | None = None,
        size: str | None = None,
        quality: str | None = None,
        style: str | None = None,
        response_format: ResponseFormat | None = None,
        background: str | None = None,
        moderation: str | None = None,
        output_format: str | None = None,
        output_compression: int | None = None,
        aspect_ratio: str | None = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ImagesResponse:
        """Create images from a prompt (``POST /v1/images/generations``).

        ``size`` is free text: ``"1024x1024"`` for OpenAI models, ratio strings such as
        ``"1:1"`` for nano-banana, odd sizes like ``"1024x819"`` for seedream. ``aspect_ratio``
        is the Flux Kontext extension (``"16:9"``…). ``style`` is DALL·E 3's; ``background``,
        ``moderation``, ``output_format`` and ``output_compression`` are gpt-image's.
        """
        body = body_of(
            {
                "prompt": prompt,
                "model": model,
                "n": n,
                "size": size,
                "quality": quality,
                "style": style,
                "response_format": response_format,
                "background": background,
                "moderation": moderation,
                "output_format": output_format,
                "output_compression": output_compression,
                "aspect_ratio": aspect_ratio,
                "user": user,
            },
            extra_body,
        )
        reply = await self._transport.request(
            "POST",
            self._generate_path,
            json_body=body,
            billable=True,
            timeout=timeout,
            headers=extra_headers,
        )
        return self._decode(reply)

    async def edit(
        self,
        image: FileInput | Sequence[FileInput],
        prompt: str,
        *,
        mask: FileInput | None = None,
        model: str | None = None,
        n: int | None = None,
        size: str | None = None,
        quality: str | None = None,
        background: str | None = None,
        input_fidelity: str | None = None,
        output_format: str | None = None,
        output_compression: int | None = None,
        response_format: ResponseFormat | None = None,
        aspect_ratio: str | None = None,
        user: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ImagesResponse:
        """Edit one image, or combine several (``POST /v1/images/edits``, multipart).

        ``image`` is one file or a list of files; a file is a path, bytes, a binary file object
        or a ``(filename, content[, content_type])`` tuple. One image is sent as the ``image``
        part. Several are sent as repeated ``image[]`` parts, the form OpenAI documents and
        openai-python sends; the gateway reads ``image``, ``image[]`` and ``images`` alike and
        passes the parts on as named. ``mask`` (a PNG whose transparent area is edited) applies
        to the first image. ``extra_body`` values are sent as extra text parts (non-strings as
        their JSON text: numbers and booleans as ``3``, ``true``).
        """
        images = await to_form_files(image, default_stem="image")
        form: list[tuple[str, FormValue]] = []
        name = "image" if len(images) == 1 else "image[]"
        form.extend((name, part) for part in images)
        form.append(("prompt", prompt))
        if mask is not None:
            form.append(("mask", await to_form_file(mask, default_stem="mask")))
        fields = body_of(
            {
                "model": model,
                "n": n,
                "size": size,
                "quality": quality,
                "background": background,
                "input_fidelity": input_fidelity,
                "output_format": output_format,
                "output_compression": output_compression,
                "response_format": response_format,
                "aspect_ratio": aspect_ratio,
                "user": user,
            },
            extra_body,
        )
        form.extend((key, form_text(value)) for key, value in fields.items())
        reply = await self._transport.request(
            "POST",
            self._edit_path,
            form=form,
            billable=True,
            timeout=timeout,
            headers=extra_headers,
        )
        return self._decode(reply)

    def _decode(self, reply: Reply) -> ImagesResponse:
        answer = structure(reply.data, ImagesResponse, request_id=reply.request_id)
        downloader = partial(_download_image, self._transport)
        for image in answer.data:
            object.__setattr__(image, "_downloader", downloader)
        return answer


async def _download_image(
    transport: Transport,
    url: str,
    dest: str | os.PathLike[str],
    timeout: float | None,
    overwrite: bool,
) -> Path:
    return await download(
        transport, url, dest, timeout=timeout, fallback_stem="image", overwrite=overwrite
    )
