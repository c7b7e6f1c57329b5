"""Generate several Luma videos at once and save each as soon as it is ready.

One failed job does not disturb the others: ``as_completed`` yields every outcome.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client

PROMPTS = [
    "a paper boat drifting down a rainy street",
    "a cat surfing a wave at sunset",
    "a hummingbird hovering, slow motion",
]


async def main() -> int:
    out = Path("luma-videos")
    out.mkdir(exist_ok=True)
    async with open_client() as client:
        handles = [await client.luma.generate(prompt, aspect_ratio="16:9") for prompt in PROMPTS]
        print(f"submitted {len(handles)} jobs:", ", ".join(h.id[:8] for h in handles))
        failures = 0
        async for outcome in client.tasks.as_completed(handles, concurrency=8):
            if outcome.ok:
                path = await outcome.handle.download(out)
                print(f"saved {path} ({path.stat().st_size} bytes)")
            else:
                failures += 1
                print(f"job {outcome.handle.id} failed: {outcome.error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
