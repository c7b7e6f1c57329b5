"""Imagine a grid, upscale all four images in parallel, and save each as soon as it is ready.

A finished grid lists its buttons; ``upscale(grid, n)`` clicks U1–U4, each a task of its own.
(To save the four images without four more jobs, see ``client.midjourney.split_grid``.)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client


async def main() -> int:
    out = Path("midjourney-images")
    out.mkdir(exist_ok=True)
    async with open_client() as client:
        mj = client.midjourney
        job = await mj.imagine("a red fox in fresh snow, golden hour --ar 3:2")
        print(f"imagine task {job.id} submitted")
        grid = await job.wait()
        print("grid ready:", grid.image_url)
        print("buttons:", " ".join(b.label or b.emoji or "?" for b in grid.buttons))

        upscales = [await mj.upscale(grid, n) for n in range(1, 5)]
        failures = 0
        async for outcome in client.tasks.as_completed(upscales):
            if outcome.ok:
                name = f"{grid.id}-U{outcome.index + 1}.png"
                path = await outcome.handle.download(out / name, overwrite=True)  # runs twice
                print(f"saved {path} ({path.stat().st_size} bytes)")
            else:
                failures += 1
                print(f"U{outcome.index + 1} failed: {outcome.error}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
