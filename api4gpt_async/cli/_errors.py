"""How a command fails: one line on stderr, ``error: ...``, and exit code 1 (2 for usage, 130
for Ctrl-C)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer

from .. import API4GPTError

__all__ = ["UsageError", "fail", "run"]

T = TypeVar("T")


class UsageError(Exception):
    """The command line itself is wrong (exit code 2): a bad option value, a malformed ref."""


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print ``error: message`` as one line (never wrapped, whatever the terminal) and exit."""
    line = " ".join(message.split())  # newlines from server messages would break the one line
    label = "\x1b[31merror:\x1b[0m" if sys.stderr.isatty() else "error:"
    sys.stderr.write(f"{label} {line}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def run(make: Callable[[], Awaitable[T]], *, until_interrupted: bool = False) -> T:
    """Run one command's coroutine; every expected failure becomes :func:`fail`.

    ``until_interrupted``: Ctrl-C is how the command ends (a server): exit 0, quietly.
    """
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except KeyboardInterrupt:  # Ctrl-C: said, and the shell's exit code for SIGINT
        if until_interrupted:
            raise typer.Exit(0) from None
        fail("interrupted", code=130)
    except (UsageError, ValueError) as exc:  # a bad argument, found by the CLI or the SDK
        fail(str(exc), code=2)
    except API4GPTError as exc:
        fail(f"{type(exc).__name__}: {exc}")
    except FileExistsError as exc:
        fail(f"{exc.filename} exists (use --overwrite to replace it)")
    except OSError as exc:  # an unwritable --out, a busy port, a missing file...
        fail(_describe_os_error(exc))


def _describe_os_error(exc: OSError) -> str:
    if exc.strerror is None:
        return str(exc) or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    return f"{exc.strerror}: {where}" if where is not None else exc.strerror
