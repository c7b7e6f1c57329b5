"""Checked by mypy and pyright (``.ci/run``, ``tests/test_typing.py``), never run: the types an
IDE shows for the public API. Each ``assert_type`` fails the check if a type regresses."""

from __future__ import annotations

from pathlib import Path

from typing_extensions import assert_type

from api4gpt_async import AsyncAPI4GPT, TaskHandle
from api4gpt_async.models.audio import Transcription
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.tasks import TaskNotSucceeded, TaskSucceeded


async def gather_is_typed(client: AsyncAPI4GPT, handles: list[TaskHandle[LumaGeneration]]) -> None:
    assert_type(await client.tasks.gather(handles), list[LumaGeneration])
    assert_type(
        await client.tasks.gather(handles, return_exceptions=True),
        list[LumaGeneration | BaseException],
    )


async def outcomes_narrow(client: AsyncAPI4GPT, handles: list[TaskHandle[LumaGeneration]]) -> None:
    async for outcome in client.tasks.as_completed(handles):
        if outcome.error is None:
            assert_type(outcome.result, LumaGeneration)
        else:
            assert_type(outcome.error, BaseException)
        if outcome.ok is True:
            assert_type(outcome, TaskSucceeded[LumaGeneration])
        else:
            assert_type(outcome, TaskNotSucceeded[LumaGeneration])


def resume_is_typed(client: AsyncAPI4GPT, ref: dict[str, str]) -> None:
    assert_type(client.tasks.resume(ref, LumaGeneration), TaskHandle[LumaGeneration])
    assert_type(client.luma.task("id"), TaskHandle[LumaGeneration])


async def uploads_are_known(client: AsyncAPI4GPT, path: Path) -> None:
    # FileInput is a real union: a path, bytes, a file object or a tuple are all accepted.
    text = await client.audio.transcriptions.create(path, model="whisper-1")
    assert_type(text, Transcription)
    await client.audio.transcriptions.create(b"...", model="whisper-1")
    await client.audio.transcriptions.create(("a.mp3", b"...", "audio/mpeg"), model="whisper-1")
