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


def _help(path: tuple[str, ...]) -> str:
    return CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output


def test_every_out_that_may_name_a_file_comes_with_overwrite() -> None:
    # The CLI's "<file> exists (use --overwrite to replace it)" must never point at an option
    # the command lacks. An --out read as text may name a file; one read as a path is a folder
    # (names made unique, so nothing is ever in the way).
    helps = {path: _help(path) for path in COMMANDS}
    text_out = re.compile(r"--out +(-o +)?<str>")
    may_name_a_file = [path for path, text in helps.items() if text_out.search(text)]
    assert ("task", "download") in may_name_a_file and ("luma", "generate") in may_name_a_file
    assert [path for path in may_name_a_file if "--overwrite" not in helps[path]] == []


def test_help_paragraphs_are_wrapped_by_the_terminal_not_the_source() -> None:
    # The docstring breaks "…--text with --voice-id and" / "--audio-id." across source lines;
    # at 200 columns the sentence is one line.
    result = CliRunner().invoke(app, ["avatar", "create", "--help"], env={"COLUMNS": "200"})
    assert "--text with --voice-id and --audio-id." in result.output, result.output
