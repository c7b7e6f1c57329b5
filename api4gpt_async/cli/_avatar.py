"""``api4gpt avatar create …``: a portrait made to speak (digital human)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..models.digital_human import CreateVoice, DigitalHumanTask, UseVoice
from ._app import ApiKey, BaseUrl, Commands, _client, _run, app, console, expand_home
from ._jobs import follow

avatar_app = Commands(help="Digital-human videos.", no_args_is_help=True)
app.add_typer(avatar_app, name="avatar")


def _describe(task: DigitalHumanTask) -> str:
    return f"video: {task.video_url}"


@avatar_app.command("create")
def avatar_create(
    avatar_url: Annotated[str, typer.Argument(help="A portrait with a face, or a video.")],
    audio_url: Annotated[str | None, typer.Option(help="Speak this audio track.")] = None,
    text: Annotated[str | None, typer.Option(help="Or say this text, in a voice from:")] = None,
    voice_sample: Annotated[
        str | None, typer.Option(help="…a voice sample to clone (≥ 20 s), or")
    ] = None,
    voice_id: Annotated[str | None, typer.Option(help="…a voice engine id (e.g. nina),")] = None,
    audio_id: Annotated[str | None, typer.Option(help="…with the cloned voice's audio id.")] = (
        None
    ),
    language: Annotated[str, typer.Option(help="Language of --text: zh or en.")] = "en",
    no_watermark: Annotated[bool, typer.Option("--no-watermark", help="Ask for no watermark.")] = (
        False
    ),
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the video.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Save the video and its preview into this folder (waits).", callback=expand_home
        ),
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Make a talking video; print the job's id and ref (and wait / save it if asked).

    One voice: --audio-url, or --text with --voice-sample, or --text with --voice-id and
    --audio-id.
    """
    create_voice: CreateVoice | None = None
    use_voice: UseVoice | None = None
    if text is not None and voice_sample is not None:
        create_voice = {"audio_url": voice_sample, "language": language, "text": text}
    elif text is not None and voice_id is not None and audio_id is not None:
        use_voice = {
            "voice_engine_id": voice_id,
            "audio_id": audio_id,
            "language": language,
            "text": text,
        }
    voices = [v for v in (audio_url, create_voice, use_voice) if v is not None]
    if len(voices) != 1:
        raise typer.BadParameter(
            "give exactly one voice: --audio-url, or --text with --voice-sample, "
            "or --text with --voice-id and --audio-id"
        )

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            handle = await client.digital_human.create(
                avatar_url,
                audio_url=audio_url,
                create_voice=create_voice,
                use_voice=use_voice,
                no_watermark=no_watermark or None,
            )
            await follow(handle, console, wait=wait, out=out, describe=_describe)

    _run(go)
