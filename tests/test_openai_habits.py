"""openai-python habits work on ``AsyncAPI4GPT``: a script written for ``openai`` runs with only
its import changed, and each thin alias behaves as openai-python's does."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import api4gpt_async
from api4gpt_async import APIStatusError, AsyncAPI4GPT, InternalServerError, ServerError
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

OPENAI_IMPORT = "import openai\nfrom openai import AsyncOpenAI\n"
PORTED_IMPORT = (
    "import api4gpt_async as openai\nfrom api4gpt_async import AsyncAPI4GPT as AsyncOpenAI\n"
)

#: A typical openai-python script; it prints what it sees, for both SDKs to be compared.
SCRIPT = """
async def main(base_url, api_key, out, emu, show):
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=3,
                         default_headers={"X-App": "ported"}, timeout=30)
    messages = [{"role": "user", "content": "Hello there"}]
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    show("content", completion.choices[0].message.content)
    show("dump", completion.model_dump()["choices"][0]["message"]["content"])
    show("dump_json", json.loads(completion.model_dump_json())["model"])
    show("to_dict", completion.to_dict()["object"])
    show("to_json", json.loads(completion.to_json())["usage"]["total_tokens"] > 0)
    show("request_id", type(completion._request_id) in (str, type(None)))

    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=messages
    )
    show("raw_status", raw.status_code)
    show("raw_header", raw.headers.get("content-type", "").split(";")[0])
    show("raw_parse", raw.parse().choices[0].message.content)

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True
    )
    pieces = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    show("stream", "".join(pieces))

    show("models", "gpt-4o-mini" in [m.id async for m in client.models.list()])
    show("retrieve", (await client.models.retrieve("gpt-4o")).owned_by)
    embedding = await client.embeddings.create(model="text-embedding-3-small", input="hi")
    show("embedding", len(embedding.data[0].embedding) > 0)

    speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="Hello")
    speech.write_to_file(out / "speech.mp3")
    show("speech", (out / "speech.mp3").stat().st_size > 0)

    fast = client.with_options(max_retries=0, timeout=10)
    emu.fail("chat.completions", status=500)
    try:
        await fast.chat.completions.create(model="gpt-4o-mini", messages=messages)
    except openai.InternalServerError as e:
        show("5xx", (type(e).__name__ in ("InternalServerError", "ServerError"), e.status_code))
    emu.fail("chat.completions", status=400)
    try:
        await fast.chat.completions.create(model="gpt-4o-mini", messages=messages)
    except openai.BadRequestError as e:
        show("4xx", e.status_code)
    except openai.APIStatusError as e:
        show("4xx-other", e.status_code)
    await client.close()
"""


async def _run(import_lines: str, emu: Emulator, out: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    namespace: dict[str, Any] = {"json": json}
    exec(compile(import_lines + textwrap.dedent(SCRIPT), "<script>", "exec"), namespace)
    out.mkdir()
    await namespace["main"](
        emu.base_url + "/v1", emu.api_key, out, emu, lambda key, value: seen.__setitem__(key, value)
    )
    return seen


async def test_an_openai_script_runs_with_only_the_import_changed(
    emulator: Emulator, tmp_path: Path
) -> None:
    pytest.importorskip("openai")
    expected = await _run(OPENAI_IMPORT, emulator, tmp_path / "openai")
    assert expected["4xx"] == 400 and expected["5xx"] == (True, 500)  # the script is genuine
    emulator.clear_requests()
    ported = await _run(PORTED_IMPORT, emulator, tmp_path / "ported")
    assert ported == expected
    assert all(r.headers.get("X-App") == "ported" for r in emulator.requests)


async def test_close_is_aclose(make_client: Any) -> None:
    client: AsyncAPI4GPT = make_client()
    await client.models.list()
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.models.list()


async def test_with_options_changes_only_the_copy_and_shares_the_session(
    emulator: Emulator, make_client: Any
) -> None:
    async with make_client(default_headers={"X-A": "1"}, max_retries=4) as client:
        copy = client.with_options(timeout=3, max_retries=0, default_headers={"X-B": "2"})
        assert (copy.timeout, copy.max_retries) == (3, 0)
        assert (client.timeout, client.max_retries) == (10, 4)
        assert copy.retry.initial_delay == client.retry.initial_delay
        await client.models.list()
        await copy.models.list()
        first, second = emulator.requests[-2:]
        assert (first.headers.get("X-A"), first.headers.get("X-B")) == ("1", None)
        assert (second.headers.get("X-A"), second.headers.get("X-B")) == ("1", "2")
        assert copy._transport._get_session() is client._transport._get_session()
        other = client.with_options(base_url="http://127.0.0.1:1")
        assert other.base_url == "http://127.0.0.1:1" and client.base_url == emulator.base_url
        handle = await copy.luma.generate("a cat")  # task families work on a copy too
        emulator.advance(60)
        assert (await handle.wait(timeout=5)).video_url


async def test_max_retries_counts_retries(emulator: Emulator, make_client: Any) -> None:
    async with make_client(max_retries=3) as client:
        emulator.fail("models", status=503, times=None)
        with pytest.raises(ServerError):
            await client.models.list()
    assert emulator.count("models") == 4


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (400, APIStatusError),
        (401, APIStatusError),
        (403, APIStatusError),
        (404, APIStatusError),
        (429, APIStatusError),
    ],
)
async def test_status_code_and_internal_server_error(
    emulator: Emulator, make_client: Any, status: int, cls: type[APIStatusError]
) -> None:
    emulator.fail("models", status=status, times=None)
    async with make_client(max_retries=0) as client:
        with pytest.raises(cls) as info:
            await client.models.list()
    assert info.value.status_code == status == info.value.status
    assert isinstance(info.value, InternalServerError) == (status >= 500)


async def test_with_raw_response_wraps_every_kind_of_call(
    emulator: Emulator, client: AsyncAPI4GPT
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    calls = [
        client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages),
        client.with_raw_response.chat.completions.create(model="gpt-4o-mini", messages=messages),
        client.models.with_raw_response.list(),
        client.models.with_raw_response.retrieve("gpt-4o"),
        client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="x"),
        client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="x"),
        client.luma.with_raw_response.generate("a cat"),
    ]
    ids = []
    for call in calls:
        raw = await call
        assert raw.status_code == 200
        assert raw.request_id is not None
        ids.append(raw.request_id)
        assert raw.headers.get("Content-Type")
        parsed = raw.parse()
        assert parsed is not None
        assert getattr(parsed, "request_id", raw.request_id) == raw.request_id
    assert len(set(ids)) == len(calls)  # each call's own answer


async def test_with_raw_response_of_a_stream(client: AsyncAPI4GPT) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert raw.headers["Content-Type"].startswith("text/event-stream")
    async with raw.parse() as stream:
        assert [c async for c in stream]


async def test_model_dump_and_to_dict(client: AsyncAPI4GPT) -> None:
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    dumped = reply.model_dump()
    assert "raw" not in dumped and "request_id" not in dumped
    assert "raw" not in dumped["choices"][0]["message"]
    assert dumped["choices"][0]["message"]["content"] == "You said: hi"
    assert json.loads(reply.model_dump_json()) == dumped
    assert None not in _values(reply.model_dump(exclude_none=True))
    assert reply.to_dict() == dict(reply.raw)
    assert json.loads(reply.to_json()) == reply.to_dict()
    assert reply._request_id == reply.request_id is not None


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _values(v)]
    if isinstance(value, list):
        return [x for v in value for x in _values(v)]
    return [value]


async def test_speech_write_to_file_and_stream_to_file(
    client: AsyncAPI4GPT, tmp_path: Path
) -> None:
    speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="hello")
    speech.write_to_file(tmp_path / "a.mp3")
    speech.stream_to_file(str(tmp_path / "b.mp3"))
    assert (tmp_path / "a.mp3").read_bytes() == (tmp_path / "b.mp3").read_bytes() == speech.read()


async def test_models_retrieve(client: AsyncAPI4GPT) -> None:
    model = await client.models.retrieve("text-embedding-3-small")
    assert model.id == "text-embedding-3-small" and model.owned_by == "openai"
    with pytest.raises(api4gpt_async.APIError, match="does not exist"):
        await client.models.retrieve("no-such-model")
    with pytest.raises(ValueError, match=r"cannot be looked up by path .* models\.list\(\)"):
        await client.models.retrieve("Qwen/Qwen2.5-7B-Instruct")
    for empty in ("", ".", ".."):
        with pytest.raises(ValueError, match="model cannot be"):
            await client.models.retrieve(empty)
    with pytest.raises(TypeError, match="model must be a string"):
        await client.models.retrieve(None)  # type: ignore[arg-type]
