"""The special chat models API4GPT documents, all through the one chat call.

- gpts: a GPT-store bot addressed as ``gpt-4-gizmo-<gizmo id>``;
- ``gemini-pro``: a plain chat body, converted to Gemini by the gateway;
- ``gpt-4-all`` image analysis: the image URL goes inside the string content, before the
  question (the OpenAI ``image_url`` part format works too, see ``chat_images.py``).
"""

from __future__ import annotations

import asyncio
import sys

from _shared import open_client

PHOTO = "https://upload.wikimedia.org/wikipedia/commons/3/3a/Cat03.jpg"


async def main() -> int:
    async with open_client() as client:
        for model, content in [
            ("gpt-4-gizmo-g-2fkFE8rbu", "Suggest a name for a seaside bakery."),
            ("gemini-pro", "In one sentence: why is the sky blue?"),
            ("gpt-4-all", f"{PHOTO} What animal is in this picture?"),
        ]:
            reply = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": content}]
            )
            print(f"{model}: {reply.choices[0].message.content}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
