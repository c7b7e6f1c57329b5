"""``extend`` sends exactly the options it was given, by their wire names, for both flavours."""

from __future__ import annotations

from typing import Any

import pytest

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


async def _finished(service: Any, emulator: Emulator) -> LumaGeneration:
    first = await service.generate("a paper boat")
    emulator.advance(60)
    video: LumaGeneration = await first.wait()
    return video


@pytest.mark.parametrize("flavour", ["luma", "lumvip"])
async def test_extend_with_every_option_sends_the_exact_body(
    client: AsyncAPI4GPT, emulator: Emulator, flavour: str
) -> None:
    service = getattr(client, flavour)
    video = await _finished(service, emulator)
    more = await service.extend(
        video,
        prompt="it sails away",
        aspect_ratio="9:16",
        expand_prompt=False,  # falsy, yet set: it must be sent
        image_end_url="https://x/last.png",
        notify_hook="https://example.com/hook",
        extra_body={"loop": True},
    )
    (request,) = [r for r in emulator.requests if r.route == f"{flavour}.extend"]
    assert request.method == "POST"
    assert request.json == {
        "video_url": video.video_url,
        "user_prompt": "it sails away",
        "aspect_ratio": "9:16",
        "expand_prompt": False,
        "image_end_url": "https://x/last.png",
        "notify_hook": "https://example.com/hook",
        "loop": True,
    }
    assert more.kind == flavour and more.id != video.id


@pytest.mark.parametrize("flavour", ["luma", "lumvip"])
async def test_extend_without_options_sends_only_the_video(
    client: AsyncAPI4GPT, emulator: Emulator, flavour: str
) -> None:
    service = getattr(client, flavour)
    await service.extend(video := await _finished(service, emulator))
    (request,) = [r for r in emulator.requests if r.route == f"{flavour}.extend"]
    assert request.json == {"video_url": video.video_url}
