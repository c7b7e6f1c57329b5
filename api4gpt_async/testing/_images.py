"""The ``images.generate`` and ``images.edit`` routes: POST /v1/images/generations (JSON) and
POST /v1/images/edits (multipart: ``image`` / ``image[]`` / ``images``, ``mask``, ``prompt``…).

Answers follow OpenAI's OpenAPI description, with the gateway's habits:

- every image item carries ``url``, ``b64_json`` and ``revised_prompt``, the unused ones as
  ``""``. Items are hosted URLs (``emu.file_url("<id>.png")``, served by the ``files`` route)
  unless ``response_format="b64_json"``, then inline PNGs. gpt-image models add ``usage`` and
  echo ``size`` / ``quality`` / ``background`` / ``output_format``; ``dall-e-3`` revises the
  prompt; ``stable-diffusion*`` models answer ``b64_json`` with ``created`` in **milliseconds**.
- a prompt containing ``[slow]`` makes image routes send two interim ``HTTP/1.1 102
  Processing`` answers before the real one, as new-api does every ~25 s on slow image models.
"""

from __future__ import annotations

import base64
import datetime as _dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .. import FormFile
from . import _magic as magic
from . import _media
from ._http import json_response, read_json_object
from ._validate import (
    Invalid,
    choice_param,
    file_param,
    form_body,
    invalid_response_with_id,
    missing_param,
    required_param,
    single_fields,
    string_param,
)

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["SLOW_WORD", "register"]

#: A prompt containing this makes image routes send interim ``102 Processing`` answers first.
SLOW_WORD: Final = magic.SLOW
#: How many interim answers a ``[slow]`` prompt gets.
INTERIM_ANSWERS: Final = 2
_GPT_IMAGE_SIZES: Final = ("1024x1024", "1024x1536", "1536x1024")
_IMAGE_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_MAX_EDIT_IMAGES: Final = 16
#: The colours of the n inline images of one answer (each image differs from its neighbours).
_PALETTE: Final = ((0x2B, 0x59, 0xC3), (0xE0, 0x6C, 0x2D), (0x3C, 0xA5, 0x5C), (0x9B, 0x4D, 0xCA))


def register(emu: Emulator, app: web.Application) -> None:
    """Add the ``images.generate`` and ``images.edit`` routes to ``app``."""
    routes = _ImageRoutes(emu)
    app.router.add_post("/v1/images/generations", routes.generate, name="images.generate")
    app.router.add_post("/v1/images/edits", routes.edit, name="images.edit")


# --------------------------------------------------------------------------- validation


def _integer(
    fields: Mapping[str, Any], name: str, low: int, high: int, *, form: bool = False
) -> int | None:
    """An integer field: a JSON number, or (``form``) the digits of a form field."""
    value = fields.get(name)
    if value is None:
        return None
    if form and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise Invalid(f"'{name}' must be an integer.", name, "invalid_type") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"'{name}' must be an integer.", name, "invalid_type")
    if not low <= value <= high:
        raise Invalid(f"'{name}' must be between {low} and {high}.", name, "invalid_value")
    return value


# --------------------------------------------------------------------------- answers


def _png(index: int) -> bytes:
    return _media.png_bytes(64, 64, color=_PALETTE[index % len(_PALETTE)])


def _image_items(emu: Emulator, *, n: int, b64: bool, revised_prompt: str) -> list[dict[str, str]]:
    """The ``data`` items: every key present, the unused ones ``""`` as the gateway sends."""
    items = []
    for index in range(n):
        url = "" if b64 else emu.file_url(f"img-{uuid.uuid4().hex[:20]}.png")
        inline = base64.b64encode(_png(index)).decode("ascii") if b64 else ""
        items.append({"url": url, "b64_json": inline, "revised_prompt": revised_prompt})
    return items


def _images_answer(
    emu: Emulator,
    *,
    model: str,
    prompt: str,
    n: int,
    response_format: str | None,
    fields: Mapping[str, Any],
    input_images: int = 0,
) -> dict[str, Any]:
    family = model.lower()
    millis = family.startswith(("stable-diffusion", "sd-", "sd3"))
    b64 = response_format == "b64_json" or millis
    revised = (
        f"{prompt.replace(SLOW_WORD, '').strip()}, in vivid detail" if "dall-e-3" in family else ""
    )
    instant = _dt.datetime.fromisoformat(emu.timestamp().replace("Z", "+00:00"))
    created = int(instant.timestamp() * 1000) if millis else int(instant.timestamp())
    answer: dict[str, Any] = {
        "created": created,
        "data": _image_items(emu, n=n, b64=b64, revised_prompt=revised),
    }
    if family.startswith(("gpt-image", "chatgpt-image")):
        text_tokens = max(1, len(prompt.split()))
        image_tokens = 65 * input_images
        output_tokens = 1056 * n
        answer["usage"] = {
            "input_tokens": text_tokens + image_tokens,
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        }
        size = fields.get("size")
        answer["size"] = size if size in _GPT_IMAGE_SIZES else "1024x1024"
        quality = fields.get("quality")
        answer["quality"] = quality if quality in ("low", "medium", "high") else "medium"
        answer["background"] = (
            "transparent" if fields.get("background") == "transparent" else "opaque"
        )
        output_format = fields.get("output_format")
        answer["output_format"] = output_format if output_format in ("jpeg", "webp") else "png"
    return answer


async def _interim_processing(request: web.Request, prompt: str) -> None:
    """For a ``[slow]`` prompt: raw ``102 Processing`` answers ahead of the real one."""
    if SLOW_WORD not in prompt:
        return
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    for _ in range(INTERIM_ANSWERS):
        transport.write(b"HTTP/1.1 102 Processing\r\n\r\n")


# --------------------------------------------------------------------------- routes


class _ImageRoutes:
    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    async def generate(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
            if body is None:
                raise Invalid(
                    "We could not parse the JSON body of your request.", None, "invalid_json"
                )
            prompt = required_param(body, "prompt")
            model = string_param(body, "model") or "dall-e-2"
            n = _integer(body, "n", 1, 10) or 1
            if model.startswith("dall-e-3") and n != 1:
                raise Invalid("You must provide n=1 for this model.", "n", "invalid_value")
            response_format = choice_param(body, "response_format", ("url", "b64_json"))
            for name in (
                "size",
                "quality",
                "style",
                "background",
                "moderation",
                "user",
                "output_format",
                "aspect_ratio",
            ):
                string_param(body, name)
            _integer(body, "output_compression", 0, 100)
        except Invalid as exc:
            return invalid_response_with_id(self._emu, request, exc)
        await _interim_processing(request, prompt)
        answer = _images_answer(
            self._emu,
            model=model,
            prompt=prompt,
            n=n,
            response_format=response_format,
            fields=body,
        )
        return json_response(answer)

    async def edit(self, request: web.Request) -> web.Response:
        try:
            form = form_body(await request.read(), request.headers.get("Content-Type", ""))
            images = [*form.getall("image", []), *form.getall("image[]", [])]
            images.extend(form.getall("images", []))
            if not images:
                raise missing_param("image")
            if len(images) > _MAX_EDIT_IMAGES:
                raise Invalid(
                    f"Too many images: at most {_MAX_EDIT_IMAGES}.", "image", "invalid_value"
                )
            for index, image in enumerate(images, 1):
                if not isinstance(image, FormFile):
                    raise Invalid("'image' must be a file upload.", "image", "invalid_type")
                if not image.content.startswith(_IMAGE_SIGNATURES) and not (
                    image.content[:4] == b"RIFF" and image.content[8:12] == b"WEBP"
                ):
                    raise Invalid(
                        f"Invalid image file or mode for image {index}, please check your "
                        "image file.",
                        "image",
                        "invalid_image_file",
                    )
            fields = single_fields(form)
            prompt = required_param(fields, "prompt")
            mask = file_param(fields, "mask")
            if mask is not None and not mask.content.startswith(b"\x89PNG\r\n\x1a\n"):
                raise Invalid("Invalid mask: it must be a PNG image.", "mask", "invalid_image")
            model = string_param(fields, "model") or "dall-e-2"
            n = _integer(fields, "n", 1, 10, form=True) or 1
            response_format = choice_param(fields, "response_format", ("url", "b64_json"))
            _integer(fields, "output_compression", 0, 100, form=True)
            choice_param(fields, "input_fidelity", ("high", "low"))
        except Invalid as exc:
            return invalid_response_with_id(self._emu, request, exc)
        await _interim_processing(request, prompt)
        answer = _images_answer(
            self._emu,
            model=model,
            prompt=prompt,
            n=n,
            response_format=response_format,
            fields=fields,
            input_images=len(images),
        )
        return json_response(answer)
