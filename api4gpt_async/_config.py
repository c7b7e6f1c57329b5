"""Checks on what a client is built with, so that a typo fails at once and says what is wrong."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["check_api_key", "check_base_url"]


def check_base_url(url: str) -> str:
    """``url`` without surrounding whitespace, if it is an absolute http(s) URL with a host.

    Raises ``ValueError`` naming the problem: no scheme (``one.api4gpt.com``), another scheme,
    no host (``https://``), a port that is not a number in 1–65535, a query or a fragment.
    """
    text = url.strip()
    if not text:
        raise ValueError("base_url is empty; e.g. https://one.api4gpt.com")
    if "://" not in text:
        raise ValueError(f"base_url needs a scheme: did you mean 'https://{text}'?")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a non-number or one out of range
    except ValueError as exc:
        raise ValueError(f"base_url {text!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"base_url must start with http:// or https://, got {text!r}")
    if not parts.hostname:
        raise ValueError(f"base_url {text!r} has no host; e.g. https://one.api4gpt.com")
    if port == 0:
        raise ValueError(f"base_url {text!r}: port 0 cannot be connected to")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url {text!r} must not have a query or fragment")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"base_url {text!r} contains whitespace")
    return parts.scheme.lower() + text[len(parts.scheme) :]


def check_api_key(key: str) -> str:
    """``key`` without surrounding whitespace (a trailing newline from a file or ``echo``).

    Raises ``ValueError`` when nothing is left, or when whitespace is left inside (two keys
    pasted together, or ``Bearer sk-…``): such a key can only be refused by the service. The
    message never repeats the key.
    """
    stripped = key.strip()
    if not stripped:
        raise ValueError("api_key is blank (only whitespace)")
    if any(ch.isspace() for ch in stripped):
        hint = " (drop the 'Bearer ' prefix)" if stripped.lower().startswith("bearer") else ""
        raise ValueError(f"api_key contains whitespace{hint}")
    if not stripped.isprintable() or not stripped.isascii():
        raise ValueError("api_key contains characters an HTTP header cannot carry")
    return stripped
