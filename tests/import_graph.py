"""The import graph of profkit and profkit.analyses, read from the source with ast (nothing runs).

`python tests/import_graph.py [-v]` prints the figures docs/architecture.md quotes: modules,
imports between them, import cycles, and import statements inside functions.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"profkit": "profkit", "analyses": "profkit.analyses"}  # folder -> installed name


@dataclass(frozen=True)
class Import:
    """One module importing another: where, and whether the import runs inside a function."""

    source: str
    target: str
    line: int
    in_function: bool


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module's dotted name -> its file."""
    out = {}
    for folder, pkg in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = [pkg, *path.relative_to(root / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it sits in a function; `if TYPE_CHECKING:` bodies never run."""
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            continue
        yield child, in_function
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _walk(child, inner)


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(node: ast.AST, package: str, files: dict[str, Path]) -> set[str]:
    """The modules an import statement loads: `from a import b` loads a.b if it is a module."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = _resolve(node, package)
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names}


def _statements(files: dict[str, Path]) -> Iterator[tuple[str, ast.AST, bool]]:
    for name, path in files.items():
        for node, in_function in _walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield name, node, in_function


def imports(files: dict[str, Path] | None = None) -> list[Import]:
    """Every import of one profkit module by another."""
    files = files or module_files()
    out = []
    for name, node, in_function in _statements(files):
        package = name if files[name].name == "__init__.py" else name.rpartition(".")[0]
        for target in sorted(_targets(node, package, files)):
            if target in files and target != name:
                out.append(Import(name, target, node.lineno, in_function))
    return out


def function_imports(files: dict[str, Path] | None = None) -> list[tuple[str, int]]:
    """Every import statement inside a function (of any module, profkit's or not)."""
    files = files or module_files()
    return [(name, node.lineno) for name, node, inside in _statements(files) if inside]


class _Tarjan:
    """Strongly connected components of a directed graph (Tarjan's algorithm)."""

    def __init__(self, graph: dict[str, set[str]]):
        self.graph, self.index, self.low = graph, {}, {}
        self.stack: list[str] = []
        self.components: list[list[str]] = []
        for v in sorted(graph):
            if v not in self.index:
                self.visit(v)

    def visit(self, v: str) -> None:
        self.index[v] = self.low[v] = len(self.index)
        self.stack.append(v)
        for w in sorted(self.graph.get(v, ())):
            if w not in self.index:
                self.visit(w)
                self.low[v] = min(self.low[v], self.low[w])
            elif w in self.stack:
                self.low[v] = min(self.low[v], self.index[w])
        if self.low[v] == self.index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(self.stack.pop())
            self.components.append(sorted(component))


def cycles(edges: list[Import]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (each sorted)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
    return sorted(c for c in _Tarjan(graph).components if len(c) > 1)


def main() -> None:
    """Print modules, imports between them, cycles and imports inside functions."""
    files = module_files()
    edges = imports(files)
    print(f"modules: {len(files)}")
    print(f"imports between them (module pairs): {len({(e.source, e.target) for e in edges})}")
    found = cycles(edges)
    print(f"import cycles: {len(found)}")
    for c in found:
        print("  " + " <-> ".join(c))
    inside = function_imports(files)
    print(f"import statements inside functions: {len(inside)}")
    if "-v" in sys.argv:
        for name, line in inside:
            print(f"  {name}:{line}")


if __name__ == "__main__":
    main()
