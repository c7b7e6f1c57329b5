"""Word-level text of the OpenAI text routes: token counts, cuts, logprobs, huge replies, ids.

Token counts are word counts. The magic word ``[huge]`` in the last user message of a chat (or
the first completions prompt) makes the reply about 3 MB of text (:data:`HUGE_SIZE` characters),
streamed as one single event.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import attrs

from . import _magic as magic
from ._task_record import unix_time

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = [
    "HUGE_SIZE",
    "MAGIC_HUGE",
    "TextState",
    "count_tokens",
    "created",
    "cut_text",
    "huge_text",
    "logprob_entries",
    "word_pieces",
]

#: Characters in a ``[huge]`` reply (one SSE event of about 3 MB).
HUGE_SIZE: Final = 3 * 1024 * 1024
MAGIC_HUGE: Final = magic.HUGE

_PIECE: Final = re.compile(r"\s*\S+|\s+")


@attrs.define
class TextState:
    """Id counters, kept by the emulator across restarts."""

    chat_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))
    completion_ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))


def created(emu: Emulator) -> int:
    """The ``created`` time of an answer: Unix seconds on the emulator clock."""
    return unix_time(emu.now)


def count_tokens(text: str | None) -> int:
    return len(text.split()) if text else 0


def word_pieces(text: str) -> list[str]:
    """Word-sized pieces of ``text`` (each word with the spaces before it); they join to it."""
    return _PIECE.findall(text)


def cut_text(text: str, stop: list[str], limit: int | None) -> tuple[str, str]:
    """The text cut at the first stop string or after ``limit`` words, and the finish reason."""
    finish = "stop"
    for word in stop:
        if word and word in text:
            text = text[: text.index(word)]
    if limit is not None and count_tokens(text) > limit:
        pieces = word_pieces(text)
        kept: list[str] = []
        words = 0
        for piece in pieces:
            if piece.strip():
                if words == limit:
                    break
                words += 1
            kept.append(piece)
        text, finish = "".join(kept).rstrip(), "length"
    return text, finish


def huge_text(text: str) -> str:
    filler = "All work and no play makes a huge event. "
    body = text + " " + filler * (HUGE_SIZE // len(filler) + 1)
    return body[:HUGE_SIZE]


def logprob_entries(text: str, top: int) -> list[dict[str, Any]]:
    entries = []
    for i, piece in enumerate(word_pieces(text)):
        logprob = -round(0.01 * (i % 7 + 1), 4)
        alternatives = [
            {"token": piece, "logprob": logprob, "bytes": list(piece.encode())},
            *(
                {"token": f"{piece.strip()}{k}", "logprob": logprob - k, "bytes": None}
                for k in range(1, top)
            ),
        ]
        entries.append(
            {
                "token": piece,
                "logprob": logprob,
                "bytes": list(piece.encode()),
                "top_logprobs": alternatives[:top],
            }
        )
    return entries
