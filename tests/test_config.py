"""A client is checked when it is built: a typo in the key or base URL fails at once, clearly."""

from __future__ import annotations

import pytest

from api4gpt_async import AsyncAPI4GPT
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("one.api4gpt.com", "needs a scheme: did you mean 'https://one.api4gpt.com'"),
        ("localhost:8080", "needs a scheme"),
        ("ftp://one.api4gpt.com", "must start with http:// or https://"),
        ("https://", "has no host"),
        ("http://:8080", "has no host"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("http://127.0.0.1:port", "not a valid URL"),
        ("http://127.0.0.1:0", "port 0"),
        ("https://one.api4gpt.com/?x=1", "query or fragment"),
        ("https://one api4gpt.com", "whitespace"),
        ("   ", "empty"),
    ],
)
def test_a_malformed_base_url_is_a_clear_value_error(base_url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AsyncAPI4GPT(api_key="sk-x", base_url=base_url)


def test_a_malformed_base_url_from_the_environment_is_caught_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API4GPT_BASE_URL", "one.api4gpt.com/v1")
    with pytest.raises(ValueError, match="needs a scheme"):
        AsyncAPI4GPT(api_key="sk-x")


@pytest.mark.parametrize(
    "base_url", [" https://one.api4gpt.com/v1/\n", "HTTP://127.0.0.1:8080", "https://[::1]:8443"]
)
def test_good_base_urls_are_accepted(base_url: str) -> None:
    client = AsyncAPI4GPT(api_key="sk-x", base_url=base_url)
    assert "v1" not in client.base_url and not client.base_url.endswith(("/", "\n"))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (" \n", "blank"),
        ("\t", "blank"),
        ("sk-one sk-two", "contains whitespace"),
        ("Bearer sk-abc", "drop the 'Bearer ' prefix"),
        ("sk-ab\ncd", "contains whitespace"),
        ("sk-\x00abc", "cannot carry"),
        ("sk-ключ", "cannot carry"),
    ],
)
def test_a_malformed_key_is_a_clear_value_error(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        AsyncAPI4GPT(api_key=key, base_url="http://127.0.0.1:1")
    assert key.strip() not in str(info.value) or not key.strip()  # never echoed


@pytest.mark.parametrize("padding", ["\n", "\r\n", "  ", "\t\n"])
async def test_a_key_with_surrounding_whitespace_is_stripped_and_works(padding: str) -> None:
    async with (
        Emulator(time_scale=0) as emu,
        AsyncAPI4GPT(api_key=emu.api_key + padding, base_url=emu.base_url) as client,
    ):
        await client.models.list()  # the emulator refuses any key but its own
    assert emu.requests[-1].status == 200
