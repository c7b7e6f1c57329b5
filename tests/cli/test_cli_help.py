"""Every command's ``--help`` shows on/off flags as plain flags: ``--wait``, never
``--wait <bool>`` (typer's rich help prints a type after every option, as if a flag took a
value). Options that take a value keep their type."""

from __future__ import annotations

import importlib
import pkgutil
import re

import click
import pytest
import typer.main
from typer.testing import CliRunner

import api4gpt_async.cli as cli

# Each command module adds its commands when imported, as `api4gpt` itself does.
for _module in pkgutil.iter_modules(cli.__path__):
    importlib.import_module(f"{cli.__name__}.{_module.name}")

from api4gpt_async.cli._app import app  # noqa: E402  (after every command is added)


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command and group, the root's ``()`` first."""
    found = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _commands(sub, (*path, name))
    return found


ROOT = typer.main.get_command(app)
COMMANDS = _commands(ROOT)


def _command(path: tuple[str, ...]) -> click.Command:
    command = ROOT
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def test_every_command_is_checked() -> None:
    assert {("luma", "generate"), ("batch", "run"), ("mj", "imagine"), ("doctor",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "api4gpt")
def test_flags_are_plain_in_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    flags = [p for p in _command(path).params if getattr(p, "is_flag", False)]
    for name in ["--help", *(opt for p in flags for opt in p.opts)]:
        assert name in result.output
        assert re.search(rf"{re.escape(name)} +<", result.output) is None, name


def test_options_with_a_value_keep_their_type() -> None:
    result = CliRunner().invoke(app, ["luma", "generate", "--help"], env={"COLUMNS": "200"})
    assert re.search(r"--out +<str>", result.output), result.output
