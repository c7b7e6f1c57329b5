"""MkDocs hooks for the api4gpt_async site (see ``hooks:`` in mkdocs.yml).

- ``cli.md``: the marker ``<!-- cli-reference -->`` is replaced by a reference generated from
  the ``api4gpt`` command itself (every command, argument and option, with its help text), so
  the page cannot drift from the code.
- A line ``--8<-- "CHANGELOG.md"`` includes that file of the repository (``CONTRIBUTING.md``,
  ``CHANGELOG.md``); ``--8<-- "README.md#Heading"`` includes one ``##`` section of it. Links
  in included files are written relative to the file, and links in pages may point out of
  ``docs/``: a link to a page of the site is rewritten to work from the page, and a link to
  any other file of the repository becomes its path in code (the site has no page for it),
  so ``mkdocs build --strict`` stays clean.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_MARKER = "<!-- cli-reference -->"
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


INCLUDE = re.compile(r'^--8<-- "([^"]+)"[ \t]*$', re.M)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    page_dir = posixpath.dirname(page.file.src_uri)
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    markdown = LINK.sub(lambda match: _relink(match, DOCS / page_dir, page_dir), markdown)
    return INCLUDE.sub(lambda match: _include(match.group(1), page_dir), markdown)


def _include(name: str, page_dir: str) -> str:
    """A file of the repository (``--8<-- "CHANGELOG.md"``), or the body of one of its
    ``##`` sections (``--8<-- "README.md#Porting from openai-python"``), its links made to
    work here."""
    name, _, section = name.partition("#")
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    if section:
        heading = f"## {section}\n"
        start = text.index(heading) + len(heading)  # a missing section fails the build
        end = text.find("\n## ", start)
        text = text[start : end if end != -1 else len(text)].strip() + "\n"
    return LINK.sub(lambda match: _relink(match, path.parent, page_dir), text)


def _relink(match: re.Match[str], base: Path, page_dir: str) -> str:
    """A link written relative to ``base``, as a link from the page in ``page_dir``."""
    text, target = match.group(1), match.group(2)
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return match.group(0)
    path, _, anchor = target.partition("#")
    resolved = (base / path).resolve()
    if not resolved.exists():
        return match.group(0)  # let mkdocs report it
    if not resolved.is_relative_to(DOCS):
        return f"{text} (`{resolved.relative_to(ROOT).as_posix()}` in the repository)"
    new = posixpath.relpath(resolved.relative_to(DOCS).as_posix(), page_dir or ".")
    return f"[{text}]({new}{'#' + anchor if anchor else ''})"


def cli_reference() -> str:
    """Markdown for every ``api4gpt`` command, generated from the Typer app."""
    import importlib
    import pkgutil

    import click
    import typer.main

    import api4gpt_async.cli as cli

    # Command modules add their commands to the app when imported: import them all, as
    # ``api4gpt_async.cli.main`` does, so that a new one cannot be missed here.
    for module in pkgutil.iter_modules(cli.__path__):
        importlib.import_module(f"{cli.__name__}.{module.name}")
    from api4gpt_async.cli._app import app

    root = typer.main.get_command(app)
    out: list[str] = []

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        ctx = click.Context(command, info_name=path[-1], parent=parent)
        subcommands = getattr(command, "commands", {})
        if len(path) > 1:
            out.append(f"## `{' '.join(path)}`\n")
        if command.help:
            out.append(_dedent(command.help) + "\n")
        if not subcommands:
            usage = " ".join(["[OPTIONS]", *map(_metavar, _arguments(command))])
            out.append(f"```text\n{' '.join(path)} {usage}\n```\n")
            rows = [_row(param) for param in command.params if not getattr(param, "hidden", 0)]
            if rows:
                out.append("| argument / option | default | description |\n|---|---|---|")
                out.extend(rows)
                out.append("")
        for name in sorted(subcommands):
            walk(subcommands[name], [*path, name], ctx)

    walk(root, ["api4gpt"], None)
    return "\n".join(out)


def _arguments(command: Any) -> list[Any]:
    return [param for param in command.params if param.param_type_name == "argument"]


def _metavar(argument: Any) -> str:
    name = str(argument.metavar or argument.name).strip("{}[]").upper()
    name = f"{name}..." if argument.nargs != 1 else name
    return name if argument.required else f"[{name}]"


def _row(param: Any) -> str:
    names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
    if param.param_type_name == "argument":
        names = f"`{_metavar(param)}`"
    default = param.default
    shown = "" if default is None or param.required else f"`{default}`"
    if getattr(param, "is_flag", False) and default is False:
        shown = "off"
    help_text = _dedent(getattr(param, "help", None) or "").replace("\n", " ").replace("|", "\\|")
    if param.required:
        help_text = f"**required.** {help_text}".strip()
    return f"| {names} | {shown} | {help_text} |"


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)
