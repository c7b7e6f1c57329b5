"""Import layering: no runtime import cycle, and the emulator built on the public API only.

Read from the source (every module's runtime imports, ``if TYPE_CHECKING:`` blocks and
imports inside functions left out), so an order-dependent cycle fails here even when the
usual import order happens to work.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import api4gpt_async

PACKAGE = Path(api4gpt_async.__file__).parent
ROOT = "api4gpt_async"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, *, runtime_only: bool) -> set[str]:
    """The package modules ``module`` imports (at import time, with ``runtime_only``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                if not runtime_only:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in MODULES else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not runtime_only:
                    visit(node.body)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.ClassDef)):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(ast.parse(path.read_text()).body)
    return {name for name in found if name in MODULES and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    return found


def test_the_module_graph_is_read() -> None:
    assert "api4gpt_async._task_handle" in _imports("api4gpt_async.tasks", runtime_only=True)
    assert "api4gpt_async._transport" not in _imports("api4gpt_async._task_kind", runtime_only=True)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_runtime_import_cycle() -> None:
    graph = {name: _imports(name, runtime_only=True) for name in MODULES}
    assert _cycles(graph) == []


def _is_private_core(name: str) -> bool:
    if name.startswith(f"{ROOT}.testing"):
        return False
    return any(part.startswith("_") for part in name.split(".")[1:])


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith(f"{ROOT}.testing")])
def test_the_emulator_uses_only_the_public_api(module: str) -> None:
    """``testing/`` may import the public API and its own modules, never the SDK's private
    modules: an emulator sharing the SDK's internals (paths, parsers) cannot catch their bugs."""
    private = {name for name in _imports(module, runtime_only=False) if _is_private_core(name)}
    assert private == set()


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("api4gpt_async._task_kind", "api4gpt_async._scheduler"),
        ("api4gpt_async._task_kind", "api4gpt_async._task_handle"),
        ("api4gpt_async._scheduler", "api4gpt_async._task_handle"),
        ("api4gpt_async._task_kind", "api4gpt_async.services._task_family"),
    ],
)
def test_task_machinery_is_layered(lower: str, upper: str) -> None:
    """The contract knows nothing above it; the scheduler sees a ``JobRecord``, never a handle."""
    assert upper not in _imports(lower, runtime_only=False)
