"""Transcription and translation answers decode per format; speech results save atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.audio import (
    SpeechResponse,
    Transcription,
    TranscriptionVerbose,
    Translation,
    TranslationVerbose,
)
from api4gpt_async.testing._media import mp3_bytes

#: OpenAI's documented verbose_json transcription (segments and words).
VERBOSE = {
    "task": "transcribe",
    "language": "english",
    "duration": 8.470000267028809,
    "text": "The beach was a popular spot on a hot summer day.",
    "words": [
        {"word": "The", "start": 0.0, "end": 0.23999999463558197},
        {"word": "beach", "start": 0.23999999463558197, "end": 0.6499999761581421},
    ],
    "segments": [
        {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": 3.319999933242798,
            "text": " The beach was a popular spot on a hot summer day.",
            "tokens": [50364, 440, 7534, 390, 257, 3743, 4008, 322, 257, 2368, 4266, 786, 13],
            "temperature": 0.0,
            "avg_logprob": -0.2860786020755768,
            "compression_ratio": 1.2363636493682861,
            "no_speech_prob": 0.00985979475080967,
        }
    ],
    "usage": {"type": "duration", "seconds": 9},
}


def test_json_transcription() -> None:
    answer = structure(
        {"text": "hello", "usage": {"type": "duration", "seconds": 2}}, Transcription
    )
    assert answer.text == "hello"
    assert answer.raw["usage"] == {"type": "duration", "seconds": 2}


def test_verbose_transcription() -> None:
    answer = structure(VERBOSE, TranscriptionVerbose, request_id="rid")
    assert (answer.task, answer.language) == ("transcribe", "english")
    assert answer.duration == pytest.approx(8.47)
    (segment,) = answer.segments
    assert (segment.id, segment.start, segment.tokens[:2] if segment.tokens else None) == (
        0,
        0.0,
        [50364, 440],
    )
    assert segment.text == " The beach was a popular spot on a hot summer day."
    assert [w.word for w in answer.words] == ["The", "beach"]
    assert answer.words[1].end == pytest.approx(0.65)
    assert answer.request_id == "rid"


def test_verbose_without_words_or_segments() -> None:
    answer = structure({"text": "hi", "language": "", "duration": "1.5"}, TranscriptionVerbose)
    assert (answer.segments, answer.words, answer.language) == ([], [], None)
    assert answer.duration == 1.5


def test_translations() -> None:
    assert structure({"text": "Hello"}, Translation).text == "Hello"
    verbose = structure(
        {"task": "translate", "language": "english", "duration": 2, "text": "Hi",
         "segments": VERBOSE["segments"]},
        TranslationVerbose,
    )  # fmt: skip
    assert verbose.task == "translate"
    assert verbose.segments[0].no_speech_prob == pytest.approx(0.00986, rel=1e-3)


def test_missing_text_reads_empty_but_a_wrong_type_is_an_error() -> None:
    assert structure({}, Transcription).text == ""
    with pytest.raises(ResponseDecodeError):
        structure({"text": "x", "segments": [{"start": "soon"}]}, TranscriptionVerbose)


def test_speech_response_repr_hides_the_bytes() -> None:
    speech = SpeechResponse(content=b"\xff\xfb" * 1000, content_type="audio/mpeg")
    assert "<2000 bytes>" in repr(speech)
    assert "\\xff" not in repr(speech)


@pytest.mark.anyio
async def test_speech_save_to_a_file_and_into_a_folder(tmp_path: Path) -> None:
    audio = mp3_bytes(0.5)
    speech = SpeechResponse(content=audio, content_type="audio/mpeg")
    path = await speech.save(tmp_path / "hello.mp3")
    assert path.read_bytes() == audio
    wav = SpeechResponse(content=b"RIFF....WAVE", content_type="audio/wav; charset=binary")
    in_folder = await wav.save(tmp_path)
    assert in_folder.parent == tmp_path
    assert in_folder.name.startswith("speech-")
    assert in_folder.suffix == ".wav"
    assert not list(tmp_path.glob("*.part"))
