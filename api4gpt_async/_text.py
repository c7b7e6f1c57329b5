"""Bytes of an answer as text, in the encoding it was sent in.

Error pages are not always UTF-8: a CDN or firewall in front of a gateway may send
``text/html; charset=gbk``, a Windows tool UTF-16 with a BOM. Decoding those as UTF-8 turns
the one useful line (the page's title, the proxy's message) into replacement characters. The
order is the browsers' (WHATWG "encoding sniffing", simplified): a byte order mark, then the
``charset`` of the Content-Type, then an HTML ``<meta charset>``, then the NUL-byte pattern of
UTF-16/32 without a BOM (as ``json`` detects it), then UTF-8; a UTF-16/32 ``charset`` without
a BOM takes its byte order from that NUL pattern too, else big-endian. Undecodable bytes
become U+FFFD; this never raises.
"""

from __future__ import annotations

import codecs
import email.message
import json
import re
from collections.abc import Mapping

__all__ = ["body_text", "declared_charset"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Python's text codecs that are no character set a body is sent in: host names (punycode
#: reads any bytes as *something*, on 3.13 without an error), Python's string escapes (which
#: warn on a stray backslash), and the codec that refuses everything.
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})
#: ``<meta charset="gbk">`` or ``<meta http-equiv=… content="text/html; charset=gbk">``,
#: looked for in the first 1,024 bytes as browsers do.
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)


def body_text(raw: bytes, headers: Mapping[str, str] | None = None) -> str:
    """``raw`` decoded as its sender encoded it (see the module's docstring for the order)."""
    for bom, with_bom in _BOMS:
        if raw.startswith(bom):
            return raw.decode(with_bom, "replace")
    # ``json.detect_encoding``: UTF-16/32 by the pattern of NUL bytes, else UTF-8.
    encoding = declared_charset(headers) or _meta_charset(raw[:1024]) or json.detect_encoding(raw)
    if encoding in ("utf-16", "utf-32"):  # no BOM, so no byte order: the NUL pattern's guess,
        guess = json.detect_encoding(raw)  # else big-endian (RFC 2781 section 4.3)
        encoding = guess if guess.startswith(encoding) else f"{encoding}-be"
    return raw.decode(encoding, "replace")  # every codec _known accepts replaces (tested)


def declared_charset(headers: Mapping[str, str] | None) -> str | None:
    """The Content-Type's ``charset``, by Python's name for it; None if absent or unknown."""
    content_type = (headers or {}).get("Content-Type")
    if not content_type:
        return None
    message = email.message.Message()
    message["Content-Type"] = content_type
    return _known(message.get_content_charset())


def _meta_charset(head: bytes) -> str | None:
    found = _META_CHARSET.search(head)
    return _known(found.group(1).decode()) if found else None


def _known(encoding: str | None) -> str | None:
    """Python's name for ``encoding`` if it has a text codec of that name that can replace
    what it cannot read and is a character set, else None (``base64`` is no text encoding,
    ``idna`` refuses to replace, ``punycode`` encodes host names, ``unicode_escape`` is
    Python's)."""
    if not encoding:
        return None
    try:
        b"a".decode(encoding, "replace")
        name = codecs.lookup(encoding).name
    except (LookupError, UnicodeError):
        return None
    return None if name in _NOT_CHARSETS else name
