"""Every Python block of the docs site and of the README runs as shown, against the emulator.

Every page under ``docs/`` and ``README.md`` (which ``docs/porting.md`` includes) is read; no
page is left out. A block titled ``conftest.py`` or ``test_*.py``
(```` ```python title="test_x.py" ````) is written to a folder with the page's other such blocks
and run with pytest; every other Python block is a complete script, run as a program of its own
with no key set, so nothing can reach the service. A script that imports a recipe the page
tells readers to copy (``from otel_hooks import OTelHooks  # copy examples/otel_hooks.py``)
gets that file, and that file alone, next to it.

A block that is not a complete script says so in the page source, on the line right before its
fence, with an HTML comment (invisible on the site and on GitHub):

- ``<!-- example: run against "api4gpt emulator" -->``: the script reads
  ``API4GPT_BASE_URL`` / ``API4GPT_API_KEY``; it runs as shown with them pointing at a
  standalone emulator (``api4gpt emulator``, its clock 100 times fast);
- ``<!-- example: excerpt of examples/x.py -->``: the block must be a verbatim part of that
  file (which its own tests run);
- ``<!-- example: not run: <why> -->``: only compiled (top-level ``await`` allowed); the reason
  is required, and should name where the same calls run in full.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python(?P<attrs>[^\n]*)\n(?P<code>.*?)^```\s*$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')
MARKER = re.compile(r"<!-- example: (?P<how>.*?) -->\s*\Z")
COPIED_RECIPE = re.compile(r"#\s*copy (examples/\w+\.py)")
AGAINST_EMULATOR = 'run against "api4gpt emulator"'
EXCERPT = re.compile(r"excerpt of (?P<file>examples/\w+\.py)")
NOT_RUN = re.compile(r"not run: (?P<why>\S.*)")


def _pages() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def _blocks(page: Path) -> list[tuple[int, str | None, str | None, str]]:
    """``(line, title, marker, code)`` of every Python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        title = TITLE.search(match.group("attrs"))
        previous_line = text[: match.start()].rstrip("\n").rpartition("\n")[2]
        marker = MARKER.search(previous_line)
        found.append(
            (
                line,
                title.group(1) if title else None,
                marker.group("how") if marker else None,
                match.group("code"),
            )
        )
    return found


def _is_test_file(title: str | None) -> bool:
    return title is not None and (title == "conftest.py" or title.startswith("test_"))


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


BLOCKS = [
    pytest.param(page, line, marker, code, id=f"{_name(page)}:{line}")
    for page in _pages()
    for line, title, marker, code in _blocks(page)
    if not _is_test_file(title)
]
TEST_PAGES = [
    pytest.param(page, id=_name(page))
    for page in _pages()
    if any(_is_test_file(title) for _, title, _, _ in _blocks(page))
]


def test_the_docs_have_examples() -> None:
    scripts = [p for p in BLOCKS if p.values[2] is None]
    assert len(scripts) >= 20
    assert TEST_PAGES
    names = {p.id.partition(":")[0] for p in BLOCKS}
    assert {"README.md", "docs/observability.md", "docs/index.md"} <= names


def _environment(**extra: str) -> dict[str, str]:
    """No key and no base URL, so nothing can reach the real service; this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return {**env, **extra}


@pytest.mark.parametrize(("page", "line", "marker", "code"), BLOCKS)
def test_example(page: Path, line: int, marker: str | None, code: str, tmp_path: Path) -> None:
    where = f"{_name(page)}:{line}"
    if marker is None:
        _run_script(where, code, tmp_path)
    elif marker == AGAINST_EMULATOR:
        with _standalone_emulator() as (base_url, api_key):
            _run_script(where, code, tmp_path, API4GPT_BASE_URL=base_url, API4GPT_API_KEY=api_key)
    elif excerpt := EXCERPT.fullmatch(marker):
        source = (ROOT / excerpt.group("file")).read_text(encoding="utf-8")
        assert any(textwrap.indent(code, " " * indent) in source for indent in (0, 4, 8, 12)), (
            f"{where} is not a verbatim excerpt of {excerpt.group('file')}"
        )
    elif NOT_RUN.fullmatch(marker):
        compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    else:
        pytest.fail(f"{where}: unknown marker <!-- example: {marker} -->")


def _run_script(where: str, code: str, folder: Path, **env: str) -> None:
    # A process of its own, as a reader would run it: a script may register things
    # process-wide (a taskiq task on its module), which must not leak into other tests.
    for recipe in COPIED_RECIPE.findall(code):
        (folder / Path(recipe).name).write_bytes((ROOT / recipe).read_bytes())
    script = folder / "example.py"
    script.write_text(f"# {where}\n{code}", encoding="utf-8")
    _run_python(["-W", "error", str(script)], folder, **env)


@contextlib.contextmanager
def _standalone_emulator() -> Iterator[tuple[str, str]]:
    """``api4gpt emulator`` in a process of its own: ``(base_url, api_key)`` while it runs."""
    command = [sys.executable, "-m", "api4gpt_async", "emulator", "--port", "0"]
    with subprocess.Popen(
        [*command, "--time-scale", "100"],
        env=_environment(COLUMNS="200"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:  # "  export API4GPT_BASE_URL=... API4GPT_API_KEY=..."
                if "export API4GPT_BASE_URL=" in line:
                    settings = dict(word.split("=", 1) for word in line.split()[1:])
                    yield settings["API4GPT_BASE_URL"], settings["API4GPT_API_KEY"]
                    return
            raise AssertionError(f"api4gpt emulator did not start (exit {process.wait()})")
        finally:
            process.kill()


@pytest.mark.parametrize("page", TEST_PAGES)
def test_pytest_examples_pass(page: Path, tmp_path: Path) -> None:
    for _, title, _, code in _blocks(page):
        if _is_test_file(title):
            assert title is not None
            (tmp_path / title).write_text(code, encoding="utf-8")
    _run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "."], tmp_path)


def _run_python(args: list[str], cwd: Path, **env: str) -> None:
    """Run this Python with ``args`` in ``cwd`` (no key set unless ``env`` sets one) and
    require success."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
