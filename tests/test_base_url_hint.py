"""A base URL ending in ``/V1`` is kept as a path (it may be a relay's own), so every ``/v1``
path doubles it and the gateway answers 404: that 404 says so, and names the likely base URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from api4gpt_async import AsyncAPI4GPT, AuthenticationError, NotFoundError
from api4gpt_async._paths import DEFAULT_PATHS
from api4gpt_async._transport import base_url_hint
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "hi"}]


async def _stream(client: AsyncAPI4GPT) -> Any:
    return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


CALLS: dict[str, Callable[[AsyncAPI4GPT], Awaitable[Any]]] = {
    "models": lambda client: client.models.list(),
    "chat": lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
    "stream": _stream,
}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
async def test_a_404_under_a_v1_base_url_names_the_likely_one(
    emulator: Emulator, call: Callable[[AsyncAPI4GPT], Awaitable[Any]]
) -> None:
    async with AsyncAPI4GPT(api_key=emulator.api_key, base_url=emulator.base_url + "/V1") as c:
        with pytest.raises(NotFoundError) as info:
            await call(c)
    hint = "; the base URL ends in /V1, a version the paths name themselves: did you mean"
    assert info.value.message.startswith("Invalid URL (")  # the gateway's words, then the hint
    assert info.value.message.endswith(f"{hint} {emulator.base_url!r}?")
    assert info.value.message in str(info.value)


async def test_a_404_under_the_host_root_has_no_hint(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("models", status=404, body="404 page not found", times=None)
    with pytest.raises(NotFoundError) as info:
        await client.models.list()
    assert "did you mean" not in info.value.message


@pytest.mark.parametrize(
    ("base_url", "hinted"),
    [
        ("https://gw.example/V1", "https://gw.example"),
        ("https://gw.example/relay/V1", "https://gw.example/relay"),
        ("https://gw.example", None),
        ("https://gw.example/v2", None),
        ("http://v1", None),  # a host named v1 is no path
        ("http://v1:8080/api", None),
    ],
)
def test_which_base_urls_are_hinted(base_url: str, hinted: str | None) -> None:
    hint = base_url_hint(base_url)
    assert hint.endswith(f"did you mean {hinted!r}?") if hinted else hint == ""


@pytest.mark.parametrize("unknown_path", ["404 page", "Invalid URL"])
async def test_no_handler_at_any_candidate_under_a_v1_base_url_names_the_likely_one(
    emulator: Emulator, unknown_path: str
) -> None:
    # A gateway that answers unknown paths with a plain 404 page, or with its router's JSON
    # "Invalid URL (POST /V1/…)" (the emulator's own answer): every candidate is tried.
    candidates = DEFAULT_PATHS["suno.v3_5.generate"]
    assert isinstance(candidates, tuple)
    if unknown_path == "404 page":
        for path in candidates:
            emulator.fail("/V1" + path, status=404, body="404 page not found", times=None)
    async with AsyncAPI4GPT(api_key=emulator.api_key, base_url=emulator.base_url + "/V1") as c:
        with pytest.raises(NotFoundError, match=r"no handler for suno\.v3_5\.generate") as info:
            await c.suno.v3_5.generate(gpt_description_prompt="x")
    assert len(emulator.requests) == len(candidates) > 1
    assert info.value.message.endswith(f"did you mean {emulator.base_url!r}?")


async def test_only_a_404_carries_the_hint(emulator: Emulator) -> None:
    emulator.fail("/V1/v1/models", status=401, body={"error": {"message": "bad key"}})
    async with AsyncAPI4GPT(api_key=emulator.api_key, base_url=emulator.base_url + "/V1") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.models.list()
    assert info.value.message == "bad key"
