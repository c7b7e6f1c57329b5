"""How a command fails: one line on stderr, ``error: ...``, and exit code 1 (2 for usage, 130
for Ctrl-C)."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer

from .. import API4GPTError

__all__ = ["UsageError", "fail", "run"]

T = TypeVar("T")


class UsageError(Exception):
    """The command line itself is wrong (exit code 2): a bad option value, a malformed ref."""


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print ``error: message`` as one line (never wrapped, whatever the terminal) and exit.

    A message of several lines (a server's, or the list of a batch file's bad lines) keeps its
    parts apart: ``invalid jobs: line 1: …; line 2: …``.
    """
    line = ""
    for part in (" ".join(text.split()) for text in message.splitlines()):
        if part:
            line += part if not line else (" " if line.endswith(":") else "; ") + part
    label = "\x1b[31merror:\x1b[0m" if sys.stderr.isatty() else "error:"
    sys.stderr.write(f"{label} {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def require_api_key(api_key: str | None) -> str:
    """``api_key`` (``--api-key``, or ``API4GPT_API_KEY`` as typer read it); without one, the
    same one-line error for every command (the library's own says ``api_key=...``)."""
    if not api_key:
        fail("no API key: pass --api-key or set API4GPT_API_KEY")
    return api_key


def run(
    make: Callable[[], Awaitable[T]],
    *,
    until_interrupted: bool = False,
    interrupted: str = "interrupted",
) -> T:
    """Run one command's coroutine; every expected failure becomes :func:`fail`.

    ``until_interrupted``: Ctrl-C is how the command ends (a server): exit 0, quietly.
    ``interrupted``: what Ctrl-C prints otherwise (after ``error:``; exit code 130).
    """
    try:
        if sys.version_info < (3, 11) and _ctrl_c_is_python_s():
            return asyncio.run(_cancelled_by_ctrl_c(make()))
        return asyncio.run(make())  # type: ignore[arg-type]
    except KeyboardInterrupt:  # Ctrl-C: said, and the shell's exit code for SIGINT
        if until_interrupted:
            raise typer.Exit(0) from None
        fail(interrupted, code=130)
    except (UsageError, ValueError) as exc:  # a bad argument, found by the CLI or the SDK
        fail(str(exc), code=2)
    except API4GPTError as exc:
        fail(f"{type(exc).__name__}: {exc}")
    except FileExistsError as exc:
        fail(f"{exc.filename} exists (use --overwrite to replace it)")
    except OSError as exc:  # an unwritable --out, a busy port, a missing file...
        fail(_describe_os_error(exc))


def _ctrl_c_is_python_s() -> bool:
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )


async def _cancelled_by_ctrl_c(main: Awaitable[T]) -> T:
    """Python 3.11's Ctrl-C on 3.10: the first one cancels the command (its cleanup runs, as
    ``asyncio.run`` does on 3.11+) and is then raised as ``KeyboardInterrupt``.

    On 3.10 ``asyncio.run`` lets ``KeyboardInterrupt`` land wherever the loop is: landing in an
    ``exec`` of source text (a dataclass's methods, made as a module is imported lazily), it
    makes CPython exit killed by SIGINT (-2) even once caught, not with our code 130.
    """
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    interrupted = False

    def on_ctrl_c(signum: int, frame: object) -> None:
        nonlocal interrupted
        if interrupted or task is None or task.done():
            raise KeyboardInterrupt  # a second Ctrl-C: at once, as on 3.11
        interrupted = True
        loop.call_soon_threadsafe(task.cancel)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        return await main
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)


def _describe_os_error(exc: OSError) -> str:
    if exc.strerror is None:
        return str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    return f"{exc.strerror}: {where}" if where is not None else exc.strerror
