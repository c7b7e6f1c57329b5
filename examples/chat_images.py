"""Images through chat: ask about pictures, and let ``gpt-4-all`` draw one.

- ``gpt-4-vision-preview`` (and most models) take ``image_url`` parts: an ``https`` URL or a
  ``data:`` URL with the picture inline;
- ``gpt-4-all`` also takes the image URL at the start of the text itself;
- ``gpt-4-all`` and the chat-style ``stable-diffusion`` models answer drawings with Markdown
  image links: ``reply.image_urls()`` finds them, ``client.download`` saves them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from _shared import open_client

PHOTO_URL = "https://upload.wikimedia.org/wikipedia/commons/3/3a/Cat03.jpg"
# A 1x1 red PNG, inline.
TINY_PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


async def main() -> int:
    async with open_client() as client:
        vision = await client.chat.completions.create(
            model="gpt-4-vision-preview",
            max_tokens=300,  # set it explicitly for this model
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in these two images?"},
                        {"type": "image_url", "image_url": {"url": PHOTO_URL, "detail": "low"}},
                        {"type": "image_url", "image_url": {"url": TINY_PNG}},
                    ],
                }
            ],
        )
        print("vision:", vision.choices[0].message.content)

        analysis = await client.chat.completions.create(
            model="gpt-4-all",
            messages=[{"role": "user", "content": f"{PHOTO_URL} What animal is this?"}],
        )
        print("gpt-4-all:", analysis.choices[0].message.content)

        drawing = await client.chat.completions.create(
            model="gpt-4-all",
            messages=[{"role": "user", "content": "Draw a cat surfing a wave at sunset"}],
        )
        urls = drawing.image_urls()
        print(f"gpt-4-all drew {len(urls)} image(s)")
        out = Path(tempfile.mkdtemp(prefix="chat-images-"))
        for url in urls:
            path = await client.download(url, out)
            print(f"saved {path} ({path.stat().st_size} bytes)")
    return 0 if urls else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
