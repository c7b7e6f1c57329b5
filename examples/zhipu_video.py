"""Make a CogVideoX video from a prompt and save it with its cover.

For image-to-video add ``image_url=``: a URL, a local file path or bytes (sent as base64). The
gateway's path for Zhipu is found among the known candidates on the first request and then
remembered: ``client.paths_in_use`` shows which.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client

from api4gpt_async import TaskFailedError


async def main() -> int:
    async with open_client() as client:
        job = await client.zhipu_video.generate(
            prompt="the waves roll in slowly at dusk, a lighthouse blinking", model="cogvideox"
        )
        print(f"submitted {job.kind} job {job.id}")
        try:
            video = await job.wait()
        except TaskFailedError as exc:
            print(f"the video failed: {exc.reason}")
            return 1
        print(f"video: {video.video_url}")
        for path in await job.download_all(Path("zhipu-videos")):
            print(f"saved {path} ({path.stat().st_size} bytes)")
        print(f"paths in use: {dict(client.paths_in_use)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
