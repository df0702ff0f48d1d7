"""The layering rule of docs/architecture.md: no import cycles, no upward imports, lazy imports
only with a reason, and the torch-free front doors stay torch-free."""

from __future__ import annotations

import ast

import pytest
from import_graph import Import, cycles, function_imports, imports, module_files

# docs/architecture.md's table: a module may import its own layer and the layers below.
LAYERS = {
    "profkit._version": 0, "profkit.validation": 0, "profkit.schema": 0, "profkit.phases": 0,
    "profkit.env": 0, "profkit.exitcodes": 0, "profkit.implementation": 0,
    "profkit.locks": 0,
    "profkit.model": 1, "profkit.lsh": 1, "profkit.dwta": 1, "profkit.lsh_stats": 1,
    "profkit.sampling": 1, "profkit.methods": 1, "profkit.data": 1,
    "profkit.config": 2,
    "profkit.recorder": 3, "profkit.store": 3, "profkit.summary": 3, "profkit.evaluate": 3,
    "profkit.probes": 3, "profkit.capabilities": 3,
    "profkit.compact": 3, "profkit.attempts": 3, "profkit.loading": 3,
    "profkit.train": 4, "profkit.hogwild": 4,
    "profkit.instrumented": 5, "profkit.errorprop": 5, "profkit.alsh_study": 5,
    "profkit.sweep": 5,
    "profkit.analyses": 6,
    "profkit.commands": 7, "profkit.cli": 7, "profkit.__main__": 7, "profkit": 7,
}
# What analyses may use of the rest of profkit: torch-free modules only (invariant I6).
ANALYSES_MAY_IMPORT = {"profkit.schema", "profkit.store", "profkit.summary", "profkit.validation",
                       "profkit._version"}  # _version: the report footer names it
# Where the command line imports lazily on purpose (start-up stays fast, torch only if needed).
LAZY_ANYWHERE = ("profkit.cli", "profkit.commands")
# Every other import of a profkit module inside a function, with its reason.
LAZY_IMPORTS = {
    ("profkit", "profkit.train"):
        "`import profkit` stays torch-free; profkit.run imports the trainer when called",
    ("profkit", "profkit.store"):
        "`import profkit` stays pandas-free; profkit.load imports the store on first use",
    ("profkit.config", "profkit.data.registry"):
        "the dataset registry imports torch; a config looks it up only when built",
    ("profkit.sweep.executors", "profkit.train"):
        "warms each Dask worker up by importing the trainer before the first timed run",
    ("profkit.sweep.task", "profkit.train"):
        "the sweep client plans and schedules without torch; a task imports the trainer",
}
TORCH_FREE = ("profkit", "profkit.config", "profkit.store", "profkit.analyses",
              "profkit.analyses.computed", "profkit.analyses.report")

FILES = module_files()
EDGES = imports(FILES)


def layer(module: str) -> int:
    """The layer of the longest LAYERS prefix naming `module` or a package holding it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise KeyError(f"{module} has no layer: add it to LAYERS and to docs/architecture.md")


def test_every_module_has_a_layer():
    assert [m for m in FILES if layer(m) is None] == []


def test_no_import_cycles():
    assert cycles(EDGES) == []


def _upward(e: Import) -> bool:
    return layer(e.target) > layer(e.source)


def test_no_module_imports_a_higher_layer():
    bad = [f"{e.source}:{e.line} imports {e.target}" for e in EDGES if _upward(e)]
    assert bad == []


def test_nothing_inside_imports_the_package_root():
    bad = [f"{e.source}:{e.line}" for e in EDGES if e.target == "profkit"]
    assert bad == []


def test_analyses_use_only_torch_free_profkit_modules():
    bad = [f"{e.source}:{e.line} imports {e.target}" for e in EDGES
           if e.source.startswith("profkit.analyses")
           and not e.target.startswith("profkit.analyses")
           and e.target not in ANALYSES_MAY_IMPORT]
    assert bad == []


def test_lazy_imports_have_a_reason_and_each_reason_is_still_needed():
    lazy = {(e.source, e.target) for e in EDGES if e.in_function
            and not e.source.startswith(LAZY_ANYWHERE)}
    assert sorted(lazy - set(LAZY_IMPORTS)) == [], "a new lazy import: say why in LAZY_IMPORTS"
    assert sorted(set(LAZY_IMPORTS) - lazy) == [], "a stale LAZY_IMPORTS entry: remove it"


def _module_level_closure(start: str) -> set[str]:
    """Modules that importing `start` runs (module-level imports, parent packages included)."""
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts))]
        todo += [e.target for e in EDGES if e.source == m and not e.in_function]
    return seen


def _third_party(module: str) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(FILES[module].read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("start", TORCH_FREE)
def test_front_doors_do_not_import_torch(start):
    """Read from the source: no module that importing `start` runs has a top-level torch import
    (in-function imports are not run by importing, so they are allowed)."""
    heavy = []
    for m in sorted(_module_level_closure(start)):
        tree = ast.parse(FILES[m].read_text())
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module.split(".")[0] for n in top
                  if isinstance(n, ast.ImportFrom) and not n.level and n.module}
        if "torch" in names:
            heavy.append(m)
    assert heavy == []


def test_graph_tells_lazy_imports_from_module_level_ones():
    """The graph builder's own oracle: two imports whose kind the source makes plain."""
    kinds = {(e.source, e.target): e.in_function for e in EDGES}
    assert kinds[("profkit", "profkit.train")] is True  # inside profkit.run
    assert kinds[("profkit.store", "profkit.schema")] is False
    assert "profkit" in {m for m, _ in function_imports(FILES)}
