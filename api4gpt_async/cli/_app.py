"""Command definitions. Each command is a thin async function run with ``asyncio.run``."""

from __future__ import annotations

import asyncio
import inspect
import json
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import attrs
import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from .. import AsyncAPI4GPT, TaskHandle, __version__
from .._convert import unstructure
from .._files import check_writable, is_folder, user_path
from ..models.luma import LumaGeneration
from ._errors import UsageError, fail, require_api_key, run
from ._jobs import follow

T = TypeVar("T")
PathT = TypeVar("PathT", str, Path)
Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def _plain_flags(params: list[Any]) -> list[Any]:
    """``params`` with every on/off flag (``--help`` included) given an empty metavar.

    Typer's rich help prints a type after each option, ``--wait <bool>`` too, as if a flag took
    a value; an empty metavar leaves that cell blank. Options with a value keep their type.
    """
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    return params


def _reflow(text: str | None) -> str | None:
    """A docstring's paragraphs as one line each, for the terminal to wrap.

    Typer's rich help keeps the source's line breaks, so a narrow terminal showed a sentence
    broken twice ("--voice-id and" / "--audio-id."). A paragraph with an indented line (an
    example) is kept as written.
    """
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if any(line[:1].isspace() for line in p.splitlines()) else " ".join(p.split())
        for p in paragraphs
    )


class _PlainHelp:
    """What commands and groups alike change in typer's help: reflowed text, plain flags."""

    help: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _reflow(self.help)

    # The parameters help is made of, with the --help option typer only makes when asked.
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))  # type: ignore[misc]


class _Command(_PlainHelp, TyperCommand):
    pass


class _Group(_PlainHelp, TyperGroup):
    pass


class Commands(typer.Typer):
    """A ``typer.Typer`` whose help shows on/off flags as plain flags (``--wait``, not
    ``--wait <bool>``) and docstring paragraphs wrapped by the terminal, not at the source's
    line breaks. Every command group of the CLI is one, so no command can miss it."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(cls=_Group, **settings)

    def command(self, name: str | None = None, **settings: Any) -> Callable[[Decorated], Decorated]:
        return super().command(name, cls=_Command, **settings)


app = Commands(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
luma_app = Commands(help="Luma video jobs.", no_args_is_help=True)
task_app = Commands(help="Look up, wait for or download any job.", no_args_is_help=True)
app.add_typer(luma_app, name="luma")
app.add_typer(task_app, name="task")

#: Soft wrap: a line is never broken at the terminal's width (or at 80 columns in a pipe), so
#: an id, a ref, a path or a command printed to be copied stays whole.
console = Console(soft_wrap=True)

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar="API4GPT_BASE_URL", help="API root (default: API4GPT)."),
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="API4GPT_API_KEY", help="API key.", show_default=False),
]


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run one command's coroutine; errors become one line ``error: ...`` and exit code 1/2."""
    return run(make)


def expand_home(value: PathT | None) -> PathT | None:
    """The callback of every option and argument naming a file or folder: a leading ``~`` is
    the home folder, by the library's own rule (``user_path``).

    A shell leaves ``--out=~/videos/`` and a quoted ``'~/jobs.jsonl'`` as typed; expanded
    here, the CLI's own checks and folders see the path the library writes to.
    """
    return None if value is None else type(value)(user_path(value))


def existing_file(value: Path) -> Path:
    """The callback of a file argument that must exist: ``~`` expanded (:func:`expand_home`),
    then checked (typer's ``exists=True`` would test the ``~`` as typed, before any callback)."""
    path = Path(user_path(value))
    if not path.is_file():
        raise typer.BadParameter(f"no file at {str(value)!r}")
    return path


#: ``--out``: a str, not a Path, so that a trailing separator ("videos/") still means a folder.
_OUT_HELP = "File to save to, or folder (ending in / or existing; names made unique)."
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace files of the same name where --out saves.")
]


def _refuse_to_overwrite(out: str | None, overwrite: bool) -> None:
    """Refuse an empty or existing ``--out`` file before anything billable is sent."""
    if out == "":
        raise UsageError('--out is empty: name a file, or a folder ("." for this one)')
    if out is not None:
        check_writable(out, overwrite=overwrite)  # the library's own rule, before paying


def _client(api_key: str | None, base_url: str | None) -> AsyncAPI4GPT:
    try:
        return AsyncAPI4GPT(api_key=require_api_key(api_key), base_url=base_url)
    except ValueError as exc:  # a malformed --base-url or --api-key
        raise UsageError(str(exc)) from None


def _show_version(value: bool) -> None:
    if value:
        console.print(f"api4gpt-async {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """API4GPT from the command line. Try `api4gpt demo`: it needs no key and no network."""


def _print_json(value: Any) -> None:
    """A status or result as JSON, for reading: the fields that hold something, without the
    ``raw`` answer each model keeps (it repeats them all, nested ones again)."""
    data = unstructure(value) if attrs.has(type(value)) else value
    console.print_json(json.dumps(_set_fields(data), default=str, ensure_ascii=False))


def _set_fields(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            key: _set_fields(item)
            for key, item in data.items()
            if key != "raw" and item not in (None, "", [], {})
        }
    if isinstance(data, list):
        return [_set_fields(item) for item in data]
    return data


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the downloaded videos.", callback=expand_home)
    ] = Path("api4gpt-demo"),
    jobs: Annotated[int, typer.Option(min=1, max=50, help="How many videos to generate.")] = 4,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Run against this server instead of the emulator."),
    ] = None,
    api_key: ApiKey = None,
) -> None:
    """Generate several Luma videos at once, live, against the built-in emulator."""
    from ._demo import run_demo

    _run(lambda: run_demo(out=out, jobs=jobs, base_url=base_url, api_key=api_key, console=console))


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8080,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    time_scale: Annotated[float, typer.Option(help="Emulated seconds per real second.")] = 1.0,
    api_key: Annotated[str, typer.Option(help="The key clients must send.")] = "sk-emulator",
) -> None:
    """Serve the API4GPT emulator until interrupted (for your own tests and tools)."""
    from ..testing import Emulator

    if not 0 <= port <= 65535:
        fail(f"--port must be between 0 and 65535, got {port}", code=2)
    if time_scale < 0:
        fail(f"--time-scale must not be negative, got {time_scale:g}", code=2)

    async def serve() -> None:
        emu = Emulator(api_key=api_key, time_scale=time_scale, host=host, port=port)
        await emu.start()
        console.print(f"API4GPT emulator on [bold]{emu.base_url}[/bold] (Ctrl-C to stop)")
        # Pasted into a POSIX shell as printed (the emulator's key is no secret).
        exports = " ".join(
            f"{name}={shlex.quote(value)}"
            for name, value in (
                ("API4GPT_BASE_URL", emu.base_url),
                ("API4GPT_API_KEY", emu.api_key),
            )
        )
        console.print(f"  export {exports}", markup=False, highlight=False)
        try:
            await asyncio.Event().wait()
        finally:
            await emu.stop()

    run(serve, until_interrupted=True)


@app.command()
def chat(
    prompt: str,
    model: Annotated[str, typer.Option(help="e.g. gpt-4o-mini, gpt-4-all, gemini-pro.")] = (
        "gpt-4o-mini"
    ),
    stream: Annotated[bool, typer.Option("--stream", help="Print the reply as it comes.")] = False,
    system: Annotated[str | None, typer.Option(help="A system message to send first.")] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Send one chat message and print the reply."""
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "user", "content": prompt})

    def show(text: str, end: str = "\n") -> None:  # as is: a reply is not rich markup
        console.print(text, end=end, markup=False, highlight=False, emoji=False)

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            if not stream:
                reply = await client.chat.completions.create(model=model, messages=messages)
                message = reply.choices[0].message if reply.choices else None
                text = message and (message.content or message.refusal)
                show(text or "")
                return
            answer = await client.chat.completions.create(
                model=model, messages=messages, stream=True
            )
            async with answer:
                try:
                    async for chunk in answer:
                        for choice in chunk.choices:
                            piece = choice.delta.content or choice.delta.refusal
                            if piece and choice.index == 0:
                                show(piece, end="")
                finally:
                    show("")  # the reply's line ends, also before the error of a broken stream

    _run(go)


@luma_app.command("generate")
def luma_generate(
    prompt: str,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the video.")] = False,
    out: Annotated[
        str | None, typer.Option(help=f"{_OUT_HELP} Implies --wait.", callback=expand_home)
    ] = None,
    overwrite: Overwrite = False,
    vip: Annotated[bool, typer.Option("--vip", help="Use the lumvip flavour.")] = False,
    aspect_ratio: Annotated[str | None, typer.Option(help="e.g. 16:9, 9:16, 1:1.")] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Submit a Luma video job; print its id and ref (and wait / download if asked)."""

    async def go() -> None:
        _refuse_to_overwrite(out, overwrite)
        async with _client(api_key, base_url) as client:
            service = client.lumvip if vip else client.luma
            handle = await service.generate(prompt, aspect_ratio=aspect_ratio)

            async def save(video: LumaGeneration, dest: str) -> list[Path]:
                return [await handle.download(dest, overwrite=overwrite)]  # the main file

            await follow(
                handle,
                console,
                wait=wait,
                out=out,
                describe=lambda video: f"done: {video.video_url}",
                save=save,
            )

    _run(go)


@task_app.command("get")
def task_get(
    ref: RefArg,
    task_id: IdArg = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Print a job's current state and raw status."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            handle = _resume(client, _ref_of(ref, task_id))
            snap = await handle.refresh()
            console.print(
                f"{snap.kind} {snap.id}: [bold]{snap.state.value}[/bold]"
                + (f" (eta {snap.eta_seconds:g}s)" if snap.eta_seconds else "")
                + (f" — {snap.failure_reason}" if snap.failure_reason else "")
            )
            _print_json(snap.raw)

    _run(go)


def _resume(client: AsyncAPI4GPT, ref: str | dict[str, str]) -> TaskHandle[Any]:
    """The job a ref names (printed JSON, ``kind:id``, or a mapping); a bad one is a usage error."""
    try:
        return client.tasks.resume(ref)
    except ValueError as exc:  # malformed, or an unknown kind
        raise UsageError(str(exc)) from None


async def _finished(
    client: AsyncAPI4GPT, ref: str | dict[str, str], timeout: float | None
) -> tuple[TaskHandle[Any], Any]:
    """The job a printed ``ref`` names, and its result once it has ended well."""
    handle = _resume(client, ref)
    with console.status(f"waiting for {handle.kind} job {handle.id}…"):
        return handle, await handle.wait(timeout=timeout)


RefArg = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        help='A printed ref: {"kind": "luma", "id": "..."} or luma:ID; or a KIND followed by ID.',
    ),
]
IdArg = Annotated[str | None, typer.Argument(metavar="ID", help="The job id, after a KIND.")]


def _ref_of(ref: str, task_id: str | None) -> str | dict[str, str]:
    """``REF``, or ``KIND ID`` as two words: every ``task`` command takes both forms."""
    return ref if task_id is None else {"kind": ref, "id": task_id}


TimeoutOpt = Annotated[
    float | None, typer.Option(help="Seconds to wait at most (default: the poll timeout).")
]


@task_app.command("wait")
def task_wait(
    ref: RefArg,
    task_id: IdArg = None,
    timeout: TimeoutOpt = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Wait for a job to end; print its result (exit 1 if it failed)."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            handle, result = await _finished(client, _ref_of(ref, task_id), timeout)
            console.print(f"{handle.kind} {handle.id}: [bold]succeeded[/bold]")
            _print_json(result)

    _run(go)


@task_app.command("download")
def task_download(
    ref: RefArg,
    task_id: IdArg = None,
    *,
    out: Annotated[str, typer.Option("--out", "-o", help=_OUT_HELP, callback=expand_home)],
    overwrite: Overwrite = False,
    timeout: TimeoutOpt = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Wait for a job if needed, then save its media: into a folder (--out ending in / or
    existing) every media file of the job (both songs of a Suno job, their covers…); to a file
    name, the main one."""

    async def go() -> None:
        _refuse_to_overwrite(out, overwrite)
        async with _client(api_key, base_url) as client:
            handle, _ = await _finished(client, _ref_of(ref, task_id), timeout)
            if is_folder(out):
                paths = await handle.download_all(out, overwrite=overwrite)
            else:
                paths = [await handle.download(out, overwrite=overwrite)]
            for path in paths:
                console.print(f"saved {path} ({path.stat().st_size} bytes)")

    _run(go)


@app.command()
def models(base_url: BaseUrl = None, api_key: ApiKey = None) -> None:
    """List the models your key may call, one id per line."""

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            async for model in client.models.list():
                console.print(model.id, markup=False, highlight=False)

    _run(go)


_SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
_TRANSCRIPT_FORMATS = ("text", "json", "verbose_json", "srt", "vtt")


@app.command()
def image(
    prompt: str,
    out: Annotated[str, typer.Option("--out", "-o", help=_OUT_HELP, callback=expand_home)],
    model: Annotated[
        str | None, typer.Option(help="e.g. dall-e-3, gpt-image-1, flux-kontext-pro.")
    ] = None,
    overwrite: Overwrite = False,
    size: Annotated[str | None, typer.Option(help="e.g. 1024x1024, or 1:1 (nano-banana).")] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Generate an image from a prompt and save it."""

    async def go() -> None:
        _refuse_to_overwrite(out, overwrite)
        async with _client(api_key, base_url) as client:
            with console.status("generating the image…"):
                answer = await client.images.generate(prompt, model=model, size=size)
            if not answer.data:
                fail("the service returned no image")
            first = answer.data[0]
            path = await first.save(out, overwrite=overwrite)
            console.print(f"saved {path} ({path.stat().st_size} bytes)")
            if first.revised_prompt:
                console.print(f"revised prompt: {first.revised_prompt}", markup=False)

    _run(go)


@app.command()
def speak(
    text: str,
    out: Annotated[str, typer.Option("--out", "-o", help=_OUT_HELP, callback=expand_home)],
    overwrite: Overwrite = False,
    voice: Annotated[str, typer.Option(help="e.g. alloy, nova, onyx, shimmer.")] = "alloy",
    model: Annotated[str, typer.Option(help="e.g. tts-1, tts-1-hd, gpt-4o-mini-tts.")] = "tts-1",
    audio_format: Annotated[
        str | None, typer.Option("--format", help="mp3 (default), wav, opus, aac, flac or pcm.")
    ] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Turn text into speech, streamed straight to a file."""
    if audio_format is not None and audio_format not in _SPEECH_FORMATS:
        fail(f"--format must be one of {', '.join(_SPEECH_FORMATS)}", code=2)
    response_format: Any = audio_format

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            path = await client.audio.speech.stream_to_file(
                out,
                model=model,
                input=text,
                voice=voice,
                response_format=response_format,
                overwrite=overwrite,
            )
            console.print(f"saved {path} ({path.stat().st_size} bytes)")

    _run(go)


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(callback=existing_file)],
    model: Annotated[str, typer.Option(help="e.g. whisper-1, gpt-4o-transcribe.")] = "whisper-1",
    transcript_format: Annotated[
        str, typer.Option("--format", help="text, json, verbose_json, srt or vtt.")
    ] = "text",
    language: Annotated[str | None, typer.Option(help="ISO-639-1 code, e.g. en.")] = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Transcribe an audio file and print the transcript."""
    if transcript_format not in _TRANSCRIPT_FORMATS:
        fail(f"--format must be one of {', '.join(_TRANSCRIPT_FORMATS)}", code=2)
    response_format: Any = transcript_format

    async def go() -> None:
        async with _client(api_key, base_url) as client:
            result = await client.audio.transcriptions.create(
                file, model=model, response_format=response_format, language=language
            )
            if isinstance(result, str):
                console.print(result.rstrip("\n"), markup=False, highlight=False)
            else:
                _print_json(dict(result.raw))  # the answer as sent

    _run(go)
