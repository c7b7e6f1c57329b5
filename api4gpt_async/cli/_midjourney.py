"""``api4gpt mj ...``: Midjourney from the command line (imagine, click a button, look up)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .. import AsyncAPI4GPT, TaskHandle
from ..models.midjourney import MidjourneyTask
from ._app import (
    ApiKey,
    BaseUrl,
    Commands,
    Overwrite,
    _client,
    _print_json,
    _run,
    app,
    console,
    expand_home,
)
from ._errors import UsageError, fail
from ._jobs import follow, lines

mj_app = Commands(help="Midjourney tasks: imagine, click buttons, look up.", no_args_is_help=True)

Wait = Annotated[bool, typer.Option("--wait", help="Wait for the task, with live progress.")]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Folder to save the image in (implies --wait).", callback=expand_home
    ),
]


async def _follow(
    client: AsyncAPI4GPT,
    handle: TaskHandle[MidjourneyTask],
    out: Path | None,
    *,
    wait: bool,
    split: bool = False,
    overwrite: bool = False,
) -> None:
    """Print the new task; with ``wait``, ``out`` or ``split`` wait with a live status line,
    print the result and save what was asked: the image as ``<id>.png`` in ``out``, and with
    ``split`` its four parts (in ``out``, else here)."""

    async def save(task: MidjourneyTask, folder: Path) -> list[Path]:
        paths = []
        if out is not None and task.image_url:
            folder.mkdir(parents=True, exist_ok=True)
            paths.append(await handle.download(folder / f"{task.id}.png", overwrite=overwrite))
        if split:
            paths += await client.midjourney.split_grid(task, folder, overwrite=overwrite)
        return paths

    folder = out if out is not None else (Path(".") if split else None)
    await follow(handle, console, wait=wait, out=folder, describe=_describe, save=save, noun="task")


def _describe(task: MidjourneyTask) -> str:
    labels = " ".join(b.label or b.emoji or "?" for b in task.buttons)
    prompt = task.final_prompt if task.final_prompt and not task.image_url else None
    return lines(
        f"done: {task.image_url or task.final_prompt or task.status}",
        f"buttons: {labels}" if labels else None,
        prompt,
    )


def _run_task(make: Any) -> None:
    """``_run``, plus the missing-extra error of ``--split`` as one line."""
    try:
        _run(make)
    except ImportError as exc:
        fail(str(exc))


@mj_app.command("imagine")
def imagine(
    prompt: str,
    wait: Wait = False,
    split: Annotated[
        bool, typer.Option("--split", help="Cut the grid into four images (needs Pillow).")
    ] = False,
    out: Out = None,
    overwrite: Overwrite = False,
    speed: Annotated[str | None, typer.Option(help="fast, relax or turbo (best effort).")] = None,
    niji: Annotated[bool, typer.Option("--niji", help="Use the Niji bot.")] = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Start a 2x2 grid from a prompt; print its id (and wait, save, split if asked)."""
    if speed not in (None, "fast", "relax", "turbo"):
        fail("--speed must be fast, relax or turbo", code=2)

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            chosen: Any = speed  # checked above
            bot: Any = "NIJI_JOURNEY" if niji else None
            handle = await client.midjourney.imagine(prompt, speed=chosen, bot_type=bot)
            await _follow(client, handle, out, wait=wait, split=split, overwrite=overwrite)

    _run_task(go)


@mj_app.command("action")
def action(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="A finished task.")],
    label: Annotated[str, typer.Argument(help="The button: U1, V2, 🔄, 'Zoom Out 2x'…")],
    wait: Wait = False,
    out: Out = None,
    overwrite: Overwrite = False,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Click a button of a finished task; print the new task's id (and wait / save)."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            try:
                handle = await client.midjourney.click(task_id, label)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            await _follow(client, handle, out, wait=wait, overwrite=overwrite)

    _run_task(go)


@mj_app.command("task")
def task(
    task_id: Annotated[str, typer.Argument(metavar="ID")],
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Print a task's status, progress, buttons and the task as sent."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            status = await client.midjourney.get(task_id)
            progress = status.progress_fraction
            console.print(
                f"midjourney {status.id}: [bold]{status.status or 'pending'}[/bold]"
                + (f" {progress:.0%}" if progress is not None else "")
                + (f" — {status.fail_reason}" if status.fail_reason else "")
            )
            _print_json(dict(status.raw))

    _run_task(go)


app.add_typer(mj_app, name="mj")
