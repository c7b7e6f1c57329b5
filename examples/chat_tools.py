"""A tool round trip: the model asks for a function call, we run it, and send the result back.

The assistant message the model returned is appended to the conversation as it is, like with
openai-python.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from _shared import open_client

MODEL = "gpt-4-0613"  # the model API4GPT users call tools with

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "unit"],
            },
        },
    }
]


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """Our local implementation of the tool (a real one would call a weather service)."""
    return {"city": city, "temperature": 21 if unit == "celsius" else 70, "unit": unit}


async def main() -> int:
    messages: list[Any] = [{"role": "user", "content": "What's the weather like in Paris?"}]
    async with open_client() as client:
        first = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        message = first.choices[0].message
        if not message.tool_calls:
            print("the model answered without calling a tool:", message.content)
            return 0
        messages.append(message)
        for call in message.tool_calls:
            arguments = call.function.parse_arguments()
            print(f"model calls {call.function.name}({arguments})")
            result = get_weather(**arguments)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
        final = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        print("answer:", final.choices[0].message.content)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
