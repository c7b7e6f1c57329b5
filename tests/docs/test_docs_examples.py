"""Every Python block of the docs site runs as shown, against the emulator.

A block titled ``conftest.py`` or ``test_*.py`` (```` ```python title="test_x.py" ````) is written
to a folder with the page's other such blocks and run with pytest; every other Python block is a
complete script, run as a program of its own. No key is set: nothing can reach the service.
The pages in ``EXCERPT_PAGES`` quote excerpts of complete files kept elsewhere (and run there):
their blocks are only compiled (top-level ``await`` allowed).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```python(?P<attrs>[^\n]*)\n(?P<code>.*?)^```\s*$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')


#: Pages whose blocks are excerpts, and where the complete, tested files are.
EXCERPT_PAGES = {
    "observability.md": "examples/otel_hooks.py, examples/structlog_hooks.py",
}


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "reference" not in p.relative_to(DOCS).parts)


def _blocks(page: Path) -> list[tuple[int, str | None, str]]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        title = TITLE.search(match.group("attrs"))
        found.append((line, title.group(1) if title else None, match.group("code")))
    return found


def _is_test_file(title: str | None) -> bool:
    return title is not None and (title == "conftest.py" or title.startswith("test_"))


def _name(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


SCRIPTS = [
    pytest.param(page, line, code, id=f"{_name(page)}:{line}")
    for page in _pages()
    if _name(page) not in EXCERPT_PAGES
    for line, title, code in _blocks(page)
    if not _is_test_file(title)
]
EXCERPTS = [
    pytest.param(page, line, code, id=f"{_name(page)}:{line}")
    for page in _pages()
    if _name(page) in EXCERPT_PAGES
    for line, _, code in _blocks(page)
]
TEST_PAGES = [
    pytest.param(page, id=_name(page))
    for page in _pages()
    if any(_is_test_file(title) for _, title, _ in _blocks(page))
]


def test_the_docs_have_examples() -> None:
    assert len(SCRIPTS) >= 15
    assert TEST_PAGES


def _environment() -> dict[str, str]:
    """No key and no base URL, so nothing can reach the real service; this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("API4GPT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(DOCS.parent), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize(("page", "line", "code"), SCRIPTS)
def test_script_runs(page: Path, line: int, code: str, tmp_path: Path) -> None:
    # A process of its own, as a reader would run it: a script may register things
    # process-wide (a taskiq task on its module), which must not leak into other tests.
    script = tmp_path / "example.py"
    script.write_text(f"# {page}:{line}\n{code}", encoding="utf-8")
    _run_python(["-W", "error", str(script)], tmp_path)


@pytest.mark.parametrize(("page", "line", "code"), EXCERPTS)
def test_excerpt_compiles(page: Path, line: int, code: str) -> None:
    compile(code, f"{page}:{line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


@pytest.mark.parametrize("page", TEST_PAGES)
def test_pytest_examples_pass(page: Path, tmp_path: Path) -> None:
    for _, title, code in _blocks(page):
        if _is_test_file(title):
            assert title is not None
            (tmp_path / title).write_text(code, encoding="utf-8")
    _run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "."], tmp_path)


def _run_python(args: list[str], cwd: Path) -> None:
    """Run this Python with ``args`` in ``cwd`` (no key set) and require success."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
