"""Text that is not UTF-8 reads as it was sent: error pages, refusals, text answers.

A CDN or firewall page in ``charset=gbk``, a Windows tool's UTF-16: every place that turns an
answer's bytes into text (an error's message and body, a 2xx that is not JSON, a text answer, a
stream that gives no event) decodes them the one way, ``_text.body_text``.
"""

from __future__ import annotations

import codecs
import encodings
import pkgutil

import pytest

from api4gpt_async import (
    AsyncAPI4GPT,
    AuthenticationError,
    NotFoundError,
    ResponseDecodeError,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async._text import body_text
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

TITLE = "访问被拒绝：请求过于频繁"  # "Access denied: too many requests"
PAGE = f"<!DOCTYPE html><html><head><title>{TITLE}</title></head><body>…</body></html>"

#: (bytes sent, Content-Type sent): each a way a sender says (or implies) its encoding.
ENCODED = {
    "charset-header": (PAGE.encode("gbk"), "text/html; charset=GBK"),
    "quoted-charset": (PAGE.encode("gb18030"), 'text/html; charset="gb18030"'),
    "meta-charset": (
        PAGE.replace("<head>", '<head><meta charset="gb2312">').encode("gbk"),
        "text/html",
    ),
    "meta-http-equiv": (
        PAGE.replace(
            "<head>",
            '<head><meta http-equiv="Content-Type" content="text/html; charset=gbk">',
        ).encode("gbk"),
        "text/html",
    ),
    "utf-16-bom": (codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"), "text/html"),
    "utf-16-no-bom": (PAGE.encode("utf-16-be"), "text/html"),
    "utf-8-bom": (codecs.BOM_UTF8 + PAGE.encode(), "text/html; charset=utf-8"),
    "utf-8": (PAGE.encode(), "text/html"),
}


@pytest.mark.parametrize("sent", list(ENCODED.values()), ids=list(ENCODED))
async def test_an_error_page_s_title_reads_in_its_own_encoding(
    client: AsyncAPI4GPT, emulator: Emulator, sent: tuple[bytes, str]
) -> None:
    raw, content_type = sent
    emulator.fail("models", status=502, body=raw, headers={"Content-Type": content_type},
                  times=None)  # fmt: skip
    with pytest.raises(ServerError) as info:
        await client.models.list()
    assert info.value.message == TITLE
    assert isinstance(info.value.body, str) and TITLE in info.value.body


@pytest.mark.parametrize(
    ("text", "encoding", "content_type"),
    [
        ("服务器繁忙，请稍后再试", "gbk", "text/plain; charset=gbk"),
        ("服务器繁忙，请稍后再试", "utf-16", "text/plain"),
        ("サーバーが混雑しています", "shift_jis", "text/plain; charset=Shift_JIS"),
        ("Сервер перегружен", "cp1251", "text/plain; charset=windows-1251"),
    ],
    ids=["gbk", "utf-16", "shift_jis", "windows-1251"],
)
async def test_a_text_refusal_reads_in_its_own_encoding(
    client: AsyncAPI4GPT, emulator: Emulator, text: str, encoding: str, content_type: str
) -> None:
    emulator.fail("chat.completions", status=503, body=text.encode(encoding),
                  headers={"Content-Type": content_type}, times=None)  # fmt: skip
    # A billable request answered by a proxy's text page: uncertain, the page quoted.
    with pytest.raises(SubmissionUncertainError) as info:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert f"got HTTP 503 ({text}) from a proxy" in info.value.message


async def test_a_2xx_that_is_not_json_quotes_it_in_its_own_encoding(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("models", status=200, body="维护中".encode("gbk"),
                  headers={"Content-Type": "text/plain; charset=gbk"})  # fmt: skip
    with pytest.raises(ResponseDecodeError) as info:
        await client.models.list()
    assert info.value.message == (
        "expected a JSON answer, got a body that is not valid JSON sent as "
        "text/plain; charset=gbk: '维护中'"
    )
    assert info.value.body == "维护中"


async def test_a_text_answer_reads_in_its_declared_charset(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("audio.transcriptions", status=200, body="你好，世界\n".encode("gb18030"),
                  headers={"Content-Type": "text/plain; charset=gb18030"})  # fmt: skip
    text = await client.audio.transcriptions.create(
        b"RIFF", model="whisper-1", response_format="text"
    )
    assert text == "你好，世界\n"


async def test_a_stream_without_events_quotes_its_body_in_its_own_encoding(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", status=200, body="上游繁忙".encode("utf-16"),
                  headers={"Content-Type": "text/event-stream"})  # fmt: skip
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        with pytest.raises(ResponseDecodeError) as info:
            _ = [chunk async for chunk in stream]
    assert info.value.message == "expected an event stream, got '上游繁忙'"


async def test_a_page_proving_no_handler_is_quoted_in_its_declared_charset(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # Both candidate paths answer with the gateway's own 404 page, in GBK: the error that
    # says no path serves the endpoint quotes the page as it reads.
    for route in ("suno.v3_5.generate", "suno.v3_5.generate.alt1"):
        emulator.fail(route, status=404, body="页面不存在".encode("gbk"),
                      headers={"Content-Type": "text/plain; charset=gbk"}, times=None)  # fmt: skip
    with pytest.raises(NotFoundError, match="no handler") as info:
        await client.suno.v3_5.generate(gpt_description_prompt="x")
    assert info.value.body == "页面不存在"


@pytest.mark.parametrize(
    ("raw", "content_type", "text"),
    [
        # A declared codec Python lacks, or one that is no text encoding: read as UTF-8.
        (b"caf\xc3\xa9", "text/plain; charset=x-made-up", "café"),
        (b"caf\xc3\xa9", "text/plain; charset=base64", "café"),
        (b"caf\xc3\xa9", "text/plain; charset=", "café"),
        # Bytes the encoding cannot read become U+FFFD; decoding never raises.
        (b"caf\xe9", "text/plain", "caf\ufffd"),
        (b"caf\xe9", "text/plain; charset=latin-1", "café"),
        (b"\xff\xfe", "text/plain", ""),  # a BOM alone
        (b"", "text/plain; charset=gbk", ""),
    ],
)
def test_body_text_falls_back_to_utf8_and_never_raises(
    raw: bytes, content_type: str, text: str
) -> None:
    assert body_text(raw, {"Content-Type": content_type}) == text


def test_body_text_without_headers_reads_utf8() -> None:
    assert body_text("naïve".encode()) == "naïve"


# -- JSON in a declared charset that is not UTF (a Java server's ``charset=GBK``) --------------


async def test_a_json_answer_in_a_declared_charset_is_read(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    text = '{"id": "m", "object": "model", "owned_by": "智谱"}'
    emulator.fail("models.retrieve", status=200, body=text.encode("gbk"),
                  headers={"Content-Type": "application/json;charset=GBK"})  # fmt: skip
    model = await client.models.retrieve("m")
    assert model.owned_by == "智谱"


async def test_a_json_error_in_a_declared_charset_keeps_its_meaning(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = '{"error": {"message": "无效的令牌", "type": "new_api_error", "code": "invalid_key"}}'
    emulator.fail("models", status=401, body=body.encode("gb18030"),
                  headers={"Content-Type": "application/json; charset=gb18030"})  # fmt: skip
    with pytest.raises(AuthenticationError) as info:
        await client.models.list()
    assert info.value.message.startswith("无效的令牌")
    assert info.value.code == "invalid_key"


async def test_json_that_is_no_json_in_its_declared_charset_either_is_a_decode_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("models", status=200, body="{不是".encode("gbk"),
                  headers={"Content-Type": "application/json; charset=gbk"})  # fmt: skip
    with pytest.raises(ResponseDecodeError) as info:
        await client.models.list()
    assert info.value.body == "{不是"


async def test_json_with_bytes_its_utf8_charset_cannot_read_is_a_decode_error(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    # Declared UTF-8 (or nothing): the bytes are not read again with replacement characters.
    for content_type in ("application/json; charset=utf-8", "application/json; charset=UTF-8"):
        emulator.fail("models.retrieve", status=200, body=b'{"id": "m", "owned_by": "\xff"}',
                      headers={"Content-Type": content_type})  # fmt: skip
        with pytest.raises(ResponseDecodeError):
            await client.models.retrieve("m")


async def test_a_stream_without_events_quotes_its_body_in_its_declared_charset(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("chat.completions", status=200, body="上游繁忙".encode("gbk"),
                  headers={"Content-Type": "text/plain; charset=gbk"})  # fmt: skip
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        with pytest.raises(ResponseDecodeError) as info:
            _ = [chunk async for chunk in stream]
    assert info.value.message == "expected an event stream, got '上游繁忙'"


@pytest.mark.parametrize(
    ("raw", "content_type", "text"),
    [
        # After a BOM, bytes its encoding cannot read become U+FFFD too.
        (codecs.BOM_UTF16_LE + "ok".encode("utf-16-le") + b"\x00", "text/plain", "ok\ufffd"),
        # In a declared charset too (not read again as UTF-8).
        ("中".encode("gbk") + b"\xff", "text/plain; charset=gbk", "中\ufffd"),
        # A declared charset wins over the NUL-byte guess.
        (b"a\x00b\x00", "text/plain; charset=latin-1", "a\x00b\x00"),
        (b"a\x00b\x00", "text/plain", "ab"),
        # An unusable charset falls back to UTF-8, replacing what that cannot read: no text
        # codec, one that refuses to replace, one that fails on these bytes.
        (b"caf\xe9", "text/plain; charset=base64", "caf\ufffd"),
        (b"caf\xc3\xa9 \xff", "text/plain; charset=idna", "café \ufffd"),
        (b"caf\xc3\xa9 \xff", "text/plain; charset=undefined", "café \ufffd"),
        (b"caf\xc3\xa9 \xff\x80", "text/plain; charset=punycode", "café \ufffd\ufffd"),
        # A declared UTF-16 or UTF-32 without a BOM: the byte order the NUL bytes show, else
        # big-endian (RFC 2781), never the machine's own.
        ("ok".encode("utf-16-be"), "text/plain; charset=UTF-16", "ok"),
        ("ok".encode("utf-16-le"), "text/plain; charset=utf-16", "ok"),
        ("ok".encode("utf-32-be"), "text/plain; charset=utf-32", "ok"),
        ("维护中".encode("utf-16-be"), "text/plain; charset=utf-16", "维护中"),
        # An unusable declared charset is no clue: the page's own <meta> charset decides.
        (
            '<meta charset="gbk"><title>维护中</title>'.encode("gbk"),
            "text/html; charset=idna",
            '<meta charset="gbk"><title>维护中</title>',
        ),
    ],
)
def test_body_text_edges(raw: bytes, content_type: str, text: str) -> None:
    assert body_text(raw, {"Content-Type": content_type}) == text


def test_a_meta_charset_counts_within_the_first_1024_bytes_only() -> None:
    tag = b'<meta charset="gbk">'
    title = "<title>中文</title>".encode("gbk")
    # The charset's name ends at byte 1,024: read; one byte later it is cut to "gb" (unknown).
    inside = b" " * (1024 - len(tag) + 2) + tag + title
    beyond = b" " * (1024 - len(tag) + 3) + tag + title
    assert body_text(inside).endswith("<title>中文</title>")
    assert body_text(beyond).endswith("<title>\ufffd\ufffd\ufffd\ufffd</title>")


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(encodings.__path__)))
def test_body_text_never_raises_whatever_charset_is_declared(name: str) -> None:
    # Every codec this Python has, as a declared charset, over bytes no codec reads whole: a
    # codec that refuses replacement (idna) or reads bytes as garbage (punycode) is no charset.
    for raw in (b"caf\xc3\xa9 \xff\x80", bytes(range(256)), b"\\x\\u12", b""):
        assert isinstance(body_text(raw, {"Content-Type": f"text/plain; charset={name}"}), str)
