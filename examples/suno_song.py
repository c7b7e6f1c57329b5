"""Write lyrics with Suno, turn them into two songs, and save both with their covers.

A music job makes two clips; ``download_all`` saves each one's audio and cover art, named after
the job so that files of two jobs never collide.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client


async def main() -> int:
    out = Path("suno-songs")
    async with open_client() as client:
        words = await (await client.suno.lyrics("a lighthouse keeper's last night")).wait()
        if words.lyrics is None or not words.lyrics.text:
            print("no lyrics came back")
            return 1
        print(f"lyrics: {words.lyrics.title}\n{words.lyrics.text}\n")
        job = await client.suno.generate(
            prompt=words.lyrics.text,
            title=words.lyrics.title,
            tags="folk, acoustic guitar, warm male vocals",
            mv="chirp-v4",
        )
        print(f"submitted {job.kind} job {job.id}; resume it later with {job.ref}")
        song = await job.wait()
        for clip in song.clips:
            print(f"{clip.title}: {clip.duration or 0:.0f}s, {clip.audio_url}")
        for path in await job.download_all(out):
            print(f"saved {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
