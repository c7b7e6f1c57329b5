"""The emulator's magic words: markers in a prompt that make it misbehave on purpose.

Each is a bracketed token that ordinary text never contains (a prompt about "failing" or
"refusing" is answered normally). They are public as ``api4gpt_async.testing.<NAME>`` and as
attributes of :class:`~api4gpt_async.testing.Emulator` (``Emulator.FAIL`` ...).

==================  ==========================================================================
marker              effect
==================  ==========================================================================
``[fail]``          a task-family prompt (Luma ``user_prompt``) makes the job end ``failed``,
                    with the failure reason :data:`FAILURE_REASON`
``[refuse]``        a chat reply is a refusal (``message.refusal`` set, no ``content``)
``[stream-error]``  a stream sends a few content chunks, then an error event, and no ``[DONE]``
``[stream-cut]``    a stream sends a few content chunks and ends without ``[DONE]``
``[huge]``          the reply is about 3 MB of text, streamed as one event
``[slow]``          an image route first sends two interim ``102 Processing`` answers
==================  ==========================================================================

The chat and completions markers are looked for in the last user message of a chat (or the
first completions prompt); matching is case-sensitive and exact.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "FAIL",
    "FAILURE_REASON",
    "HUGE",
    "REFUSE",
    "SLOW",
    "STREAM_CUT",
    "STREAM_ERROR",
    "wants_failure",
]

FAIL: Final = "[fail]"
REFUSE: Final = "[refuse]"
STREAM_ERROR: Final = "[stream-error]"
STREAM_CUT: Final = "[stream-cut]"
HUGE: Final = "[huge]"
SLOW: Final = "[slow]"
#: The failure reason of a job whose prompt carries :data:`FAIL`.
FAILURE_REASON: Final = "emulated failure: prompt asked for it"


def wants_failure(prompt: str | None) -> bool:
    """Whether a job with this prompt is to fail (it carries :data:`FAIL`)."""
    return prompt is not None and FAIL in prompt
