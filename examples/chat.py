"""Chat three ways: one answer, a streamed answer printed as it arrives, and a stream folded
back into one completion (text, usage and all)."""

from __future__ import annotations

import asyncio
import sys

from _shared import open_client

from api4gpt_async.models.chat import ChatCompletionChunk, accumulate_chat

MODEL = "gpt-4o-mini"


def show(chunk: ChatCompletionChunk) -> None:
    for choice in chunk.choices:
        print(choice.delta.content or "", end="", flush=True)


async def main() -> int:
    async with open_client() as client:
        reply = await client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": "You answer in one short sentence."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        )
        print("answer:", reply.choices[0].message.content)
        if reply.usage is not None:
            print(f"tokens: {reply.usage.prompt_tokens} in, {reply.usage.completion_tokens} out")

        print("streamed: ", end="")
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Count from one to five in words."}],
            stream=True,
        )
        async with stream:  # the connection is released even if we stop early
            async for chunk in stream:
                show(chunk)
        print()

        print("streamed, then folded: ", end="")
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Say hello to the stream."}],
            stream=True,
            stream_options={"include_usage": True},
        )
        whole = await accumulate_chat(stream, on_chunk=show)
        print()
        tokens = whole.usage.total_tokens if whole.usage else "?"
        print(f"finish reason: {whole.choices[0].finish_reason}, tokens: {tokens}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
