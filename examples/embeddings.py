"""Embed a few sentences and rank them by similarity to a question.

``encoding_format="base64"`` moves about a quarter of the bytes; the SDK decodes it, so the
vectors are ``list[float]`` either way. (The emulator's vectors are random but stable: the
ranking only means something against the real service.)
"""

from __future__ import annotations

import asyncio
import math
import sys

from _shared import open_client

MODEL = "text-embedding-3-small"

DOCUMENTS = [
    "The cat sat on the warm windowsill all afternoon.",
    "Stock markets fell sharply after the announcement.",
    "A kitten chased a ball of yarn across the floor.",
    "The recipe needs two cups of flour and one egg.",
]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


async def main() -> int:
    async with open_client() as client:
        documents = await client.embeddings.create(
            model=MODEL, input=DOCUMENTS, encoding_format="base64"
        )
        question = await client.embeddings.create(model=MODEL, input="Tell me about cats")
        query = question.data[0].embedding
        print(f"{len(documents.data)} vectors of {len(query)} floats")
        ranked = sorted(
            zip(DOCUMENTS, documents.embeddings, strict=True),
            key=lambda pair: cosine(query, pair[1]),
            reverse=True,
        )
        for text, vector in ranked:
            print(f"{cosine(query, vector):+.3f}  {text}")
        if documents.usage is not None:
            print("tokens used:", documents.usage.total_tokens)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
