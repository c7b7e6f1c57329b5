"""Text to speech streamed straight to a file, then the file transcribed back to text.

Writes into ``media-output/``. Runs offline against the built-in emulator (whose transcripts
are canned), or against the real service when API4GPT_API_KEY is set (billed there).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _shared import open_client

OUT = Path("media-output")
TEXT = (
    "Good morning. This is a short test of text to speech, "
    "saved to disk as it arrives and then transcribed back to text."
)


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    async with open_client() as client:
        # Written chunk by chunk into greeting.mp3.part, renamed only once complete.
        path = await client.audio.speech.stream_to_file(
            OUT / "greeting.mp3", model="tts-1", input=TEXT, voice="alloy"
        )
        print(f"saved {path} ({path.stat().st_size} bytes)")

        transcript = await client.audio.transcriptions.create(
            path, model="whisper-1", response_format="verbose_json"
        )
        print(f"heard ({transcript.duration or 0:.1f} s, {transcript.language}):")
        print(f"  {transcript.text}")
        for segment in transcript.segments:
            print(f"  [{segment.start or 0:6.2f} → {segment.end or 0:6.2f}] {segment.text}")

        subtitles = await client.audio.transcriptions.create(
            path, model="whisper-1", response_format="srt"
        )
        srt = (OUT / "greeting.srt").write_text(subtitles, encoding="utf-8")
        print(f"saved {OUT / 'greeting.srt'} ({srt} characters)")

        # Translations turn speech in any language into English text.
        english = await client.audio.translations.create(path, model="whisper-1")
        print(f"in English: {english.text}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
