"""Server-sent event streams of the OpenAI text routes, with their failure magic words.

Streams send ``: PING`` comment lines between events and end with ``data: [DONE]``. **Magic
words** in the last user message of a chat (or the first completions prompt):

- ``[stream-error]`` — a stream sends the role chunk (chat only) and 3 content chunks, then the
  error event ``data: {"error": {"message": "emulated upstream failure…", "type":
  "upstream_error", "param": null, "code": "stream_interrupted"}}`` and closes without
  ``[DONE]``;
- ``[stream-cut]`` — a stream sends the role chunk (chat only) and 3 content chunks, then ends
  without ``[DONE]``.

Without ``stream``, ``[stream-error]`` and ``[stream-cut]`` change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from aiohttp import web

from . import _magic as magic

__all__ = ["sse_response"]

#: Events between two ``: PING`` comments in a stream.
_PING_EVERY: Final = 3
#: Content chunks a ``[stream-error]`` / ``[stream-cut]`` stream sends before failing.
_CHUNKS_BEFORE_FAILURE: Final = 3

_MAGIC_ERROR: Final = magic.STREAM_ERROR
_MAGIC_CUT: Final = magic.STREAM_CUT

_STREAM_ERROR: Final = {
    "error": {
        "message": "emulated upstream failure in the middle of the stream",
        "type": "upstream_error",
        "param": None,
        "code": "stream_interrupted",
    }
}


async def sse_response(
    request: web.Request, events: Iterator[dict[str, Any]], magic: str
) -> web.StreamResponse:
    """Send ``events`` as an SSE stream, failing as the magic words in ``magic`` ask."""
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
        }
    )
    await response.prepare(request)
    failure = _MAGIC_ERROR if _MAGIC_ERROR in magic else _MAGIC_CUT if _MAGIC_CUT in magic else None
    try:
        await response.write(b": PING\n\n")
        content_chunks = 0
        for sent, event in enumerate(events, 1):
            await response.write(_sse(event))
            if sent % _PING_EVERY == 0:
                await response.write(b": PING\n\n")
            if failure is not None and _carries_text(event):
                content_chunks += 1
                if content_chunks == _CHUNKS_BEFORE_FAILURE:
                    break
        if failure == _MAGIC_ERROR:
            await response.write(_sse(_STREAM_ERROR))
        elif failure is None:
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    except ConnectionResetError:  # the client stopped reading and went away: fine
        pass
    return response


def _sse(payload: dict[str, Any]) -> bytes:
    return (
        b"data: "
        + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        + b"\n\n"
    )


def _carries_text(event: dict[str, Any]) -> bool:
    for choice in event.get("choices", ()):
        delta = choice.get("delta")
        if delta is not None and (delta.get("content") or delta.get("reasoning_content")):
            return True
        if delta is None and choice.get("text"):
            return True
    return False
