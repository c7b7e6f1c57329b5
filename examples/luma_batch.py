"""Generate several Luma videos at once and save each as soon as it is ready.

One failed job, or one refused submit, does not disturb the others: ``submit_many`` yields
every outcome, and never loses the handle of an accepted (billed) job.
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
        jobs = [lambda p=p: client.luma.generate(p, aspect_ratio="16:9") for p in PROMPTS]
        failures = 0
        # At most two jobs run on the service at once; a refused submit is an outcome too.
        async for outcome in client.tasks.submit_many(jobs, max_running=2):
            if outcome.ok and outcome.handle is not None:
                path = await outcome.handle.download(out)
                print(f"saved {path} ({path.stat().st_size} bytes)")
            else:
                failures += 1
                print(f"job {outcome.key} {outcome.status}: {outcome.error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
