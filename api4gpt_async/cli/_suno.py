"""``api4gpt suno …``: songs from a description or lyrics, and lyrics on a theme."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..models.suno import SunoTask
from ._app import ApiKey, BaseUrl, Commands, _client, _run, app, console, expand_home
from ._jobs import follow, lines

suno_app = Commands(help="Suno songs and lyrics.", no_args_is_help=True)
app.add_typer(suno_app, name="suno")


def _describe(song: SunoTask) -> str:
    return lines(
        *(
            f"{clip.title or clip.id}: {clip.audio_url}"
            + (f" ({clip.duration:.0f}s)" if clip.duration else "")
            for clip in song.clips
        )
    )


@suno_app.command("generate")
def suno_generate(
    description: Annotated[
        str | None, typer.Argument(help="What the song is about (Suno writes the lyrics).")
    ] = None,
    lyrics: Annotated[
        str | None, typer.Option(help="Your own lyrics ([Verse], [Chorus]…) instead.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Song title (with --lyrics).")] = None,
    tags: Annotated[str | None, typer.Option(help="Styles, e.g. 'synthwave, female vocals'.")] = (
        None
    ),
    mv: Annotated[str | None, typer.Option("--mv", help="Model, e.g. chirp-v4.")] = None,
    instrumental: Annotated[bool, typer.Option("--instrumental", help="No vocals.")] = False,
    version: Annotated[str, typer.Option(help="API version: v4 (default), v3.0 or v3.5.")] = "v4",
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the songs.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Save every song and cover into this folder (waits).", callback=expand_home
        ),
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Make two songs; print the job's id and ref (and wait / save them if asked)."""
    if (description is None) == (lyrics is None):
        raise typer.BadParameter("give a DESCRIPTION or --lyrics (one of them)")
    if version not in ("v4", "v3.0", "v3.5"):
        raise typer.BadParameter("--version must be v4, v3.0 or v3.5")

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            common = {
                "gpt_description_prompt": description,
                "prompt": lyrics,
                "title": title,
                "tags": tags,
                "mv": mv,
                "make_instrumental": instrumental or None,
            }
            if version == "v4":
                handle = await client.suno.generate(**common)  # type: ignore[arg-type]
            else:
                service = client.suno.v3_0 if version == "v3.0" else client.suno.v3_5
                handle = await service.generate(**common)  # type: ignore[arg-type]
            await follow(handle, console, wait=wait, out=out, describe=_describe)

    _run(go)


@suno_app.command("lyrics")
def suno_lyrics(
    prompt: Annotated[str, typer.Argument(help="The theme of the lyrics.")],
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Write lyrics on a theme and print them."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            handle = await client.suno.lyrics(prompt)
            result = await handle.wait()
            text = result.lyrics
            shown = lines(text.title, "", text.text) if text is not None else "(no lyrics)"
            console.print(shown, markup=False, highlight=False)

    _run(go)
