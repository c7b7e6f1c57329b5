"""``api4gpt zhipu generate …``: CogVideoX videos from text or a first frame."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..models.zhipu_video import ZhipuVideoTask
from ._app import ApiKey, BaseUrl, Commands, _client, _run, app, console, expand_home
from ._jobs import follow, lines

zhipu_app = Commands(help="Zhipu CogVideoX videos.", no_args_is_help=True)
app.add_typer(zhipu_app, name="zhipu")


def _describe(video: ZhipuVideoTask) -> str:
    return lines(f"video: {video.video_url}", f"cover: {video.cover_image_url or ''}")


@zhipu_app.command("generate")
def zhipu_generate(
    prompt: Annotated[str | None, typer.Argument(help="What the video shows.")] = None,
    image: Annotated[
        str | None,
        typer.Option(help="First frame: an image URL or a local file.", callback=expand_home),
    ] = None,
    model: Annotated[str, typer.Option(help="cogvideox, cogvideox-flash, -2 or -3.")] = (
        "cogvideox"
    ),
    quality: Annotated[str | None, typer.Option(help="speed or quality.")] = None,
    with_audio: Annotated[bool, typer.Option("--with-audio", help="Add sound.")] = False,
    size: Annotated[str | None, typer.Option(help="e.g. 1920x1080.")] = None,
    fps: Annotated[int | None, typer.Option(help="30 or 60.")] = None,
    duration: Annotated[int | None, typer.Option(help="5 or 10 seconds.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the video.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Save the video and its cover into this folder (waits).", callback=expand_home
        ),
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Start a video; print the job's id and ref (and wait / save it if asked)."""
    if prompt is None and image is None:
        raise typer.BadParameter("give a PROMPT, an --image, or both")
    frame: str | Path | None = image
    if image is not None and not image.startswith(("http://", "https://", "data:")):
        frame = Path(image)
        if not frame.is_file():
            raise typer.BadParameter(f"--image {image!r} is neither a URL nor a file")

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            handle = await client.zhipu_video.generate(
                prompt=prompt,
                model=model,
                image_url=frame,
                quality=quality,
                with_audio=with_audio or None,
                size=size,
                fps=fps,
                duration=duration,
            )
            await follow(handle, console, wait=wait, out=out, describe=_describe)

    _run(go)
