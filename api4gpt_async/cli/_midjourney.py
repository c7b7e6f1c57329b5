"""``api4gpt mj ...``: Midjourney from the command line (imagine, click a button, look up)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import AsyncAPI4GPT, TaskHandle
from ..models.midjourney import MidjourneyTask
from ._app import (
    ApiKey,
    BaseUrl,
    Overwrite,
    _client,
    _print_json,
    _run,
    app,
    console,
)
from ._errors import UsageError, fail

mj_app = typer.Typer(
    help="Midjourney tasks: imagine, click buttons, look up.", no_args_is_help=True
)

Wait = Annotated[bool, typer.Option("--wait", help="Wait for the task, with live progress.")]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="Folder to save the image in (implies --wait)."),
]


def _submitted(handle: TaskHandle[MidjourneyTask]) -> None:
    console.print(f"submitted {handle.kind} task [bold]{handle.id}[/bold]")
    console.print(f"ref: {json.dumps(handle.ref)}")


async def _follow(
    client: AsyncAPI4GPT,
    handle: TaskHandle[MidjourneyTask],
    out: Path | None,
    *,
    split: bool = False,
    overwrite: bool = False,
) -> None:
    """Wait with a live status line, then print the result and save what was asked."""
    _submitted(handle)
    with console.status("waiting…") as status:
        async for snap in handle.watch():
            progress = f" {snap.progress:.0%}" if snap.progress is not None else ""
            status.update(f"{snap.state.value}{progress}")
    task = await handle.wait()  # the result, or the failure / needs-action error
    console.print(f"done: {task.image_url or task.final_prompt or task.status}", markup=False)
    labels = " ".join(b.label or b.emoji or "?" for b in task.buttons)
    if labels:
        console.print(f"buttons: {labels}", markup=False)
    if task.final_prompt and not task.image_url:
        console.print(task.final_prompt, markup=False)
    folder = out or Path(".")
    if out is not None and task.image_url:
        folder.mkdir(parents=True, exist_ok=True)
        path = await handle.download(folder / f"{task.id}.png", overwrite=overwrite)
        console.print(f"saved {path} ({path.stat().st_size} bytes)")
    if split:
        for path in await client.midjourney.split_grid(task, folder, overwrite=overwrite):
            console.print(f"saved {path}")


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
            if wait or split or out is not None:
                await _follow(client, handle, out, split=split, overwrite=overwrite)
            else:
                _submitted(handle)

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
            if wait or out is not None:
                await _follow(client, handle, out, overwrite=overwrite)
            else:
                _submitted(handle)

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
