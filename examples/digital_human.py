"""Make a portrait speak a line of text in a cloned voice, then save the video.

Exactly one voice source is given: here ``use_voice`` (a voice cloned before); ``audio_url``
(an existing track) and ``create_voice`` (clone from a sample) are the others. Against the real
service, put your own portrait URL and voice ids below.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client

from api4gpt_async.models.digital_human import UseVoice

PORTRAIT = "https://filesystem.site/cdn/20250612/portrait.png"  # a photo with a face
VOICE: UseVoice = {
    "voice_engine_id": "nina",
    "audio_id": "0f3c1b2a9d8e7f6a5b4c3d2e1f0a9b8c",
    "language": "en",
    "text": "Welcome aboard. The tour starts in five minutes.",
}


async def main() -> int:
    async with open_client() as client:
        job = await client.digital_human.create(PORTRAIT, use_voice=VOICE, no_watermark=True)
        print(f"submitted {job.kind} job {job.id}")
        async for snap in job.watch():
            progress = f" {snap.progress:.0%}" if snap.progress is not None else ""
            print(f"  {snap.state.value}{progress}")
        result = await job.wait()
        print(f"video: {result.video_url}")
        for path in await job.download_all(Path("digital-human")):
            print(f"saved {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
