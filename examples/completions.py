"""List the models your key may use, then complete a prompt, whole and streamed.

``GET /v1/models`` answers with the exact ids the gateway routes for your key's group: a
model missing there is the usual cause of a 503 "no available channel".
"""

from __future__ import annotations

import asyncio
import sys

from _shared import open_client

MODEL = "gpt-3.5-turbo-instruct"


async def main() -> int:
    async with open_client() as client:
        models = await client.models.list()
        print(f"{len(models)} models available, e.g.:", ", ".join(models.ids()[:5]))

        completion = await client.completions.create(
            model=MODEL, prompt="Write a haiku about the sea.", max_tokens=40
        )
        print("whole:", completion.choices[0].text.strip())

        print("streamed: ", end="")
        stream = await client.completions.create(
            model=MODEL, prompt="Count to five.", max_tokens=20, stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    print(chunk.choices[0].text, end="", flush=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
