"""Stream[T] on the wire: what ends it, what raises, and that it always lets go."""

from __future__ import annotations

import pytest

from api4gpt_async import APIError, AsyncAPI4GPT, ResponseDecodeError
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "hello"}]


async def test_json_error_answer_to_a_stream_request_raises_it(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = {"error": {"message": "model does not stream", "type": "x", "code": "no_stream"}}
    emulator.fail("chat.completions", status=200, body=body)
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    with pytest.raises(APIError) as info:
        async for _ in stream:
            pass
    assert info.value.code == "no_stream"


async def test_plain_json_answer_to_a_stream_request_is_a_decode_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", status=200, body={"id": "x", "choices": []})
    async with await client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True
    ) as stream:
        with pytest.raises(ResponseDecodeError, match="single JSON object"):
            await stream.__anext__()


async def test_extra_query_reaches_a_streamed_request(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    stream = await client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True, extra_query={"trace": "1"}
    )
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks
    (request,) = emulator.requests
    assert request.query == {"trace": "1"}
