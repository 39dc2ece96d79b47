"""The layout shows the pipeline: no module imports one that imports it back; the command line is thin;
library code reports through return values and logging, not print."""
from __future__ import annotations

import ast

from conftest import ROOT

PACKAGE = ROOT / "countythemes"


def _imports(path) -> set[str]:
    """The package's modules a module imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("countythemes."):
            found.add(node.module.split(".")[1])
    return found


def test_no_module_imports_one_that_imports_it_back():
    graph = {path.stem: _imports(path) - {path.stem} for path in PACKAGE.glob("*.py")}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for other in sorted(graph.get(module, ())):
            if other in trail:
                cycles.append(trail[trail.index(other):] + [other])
            elif other in graph:
                visit(other, trail + [other])

    for module in sorted(graph):
        if module != "__init__":
            visit(module, [module])
    assert cycles == []
    # The ground floor imports nothing of the package but errors.
    for module in ("errors", "records", "codebook", "gazetteer"):
        assert graph[module] <= {"errors"}, module


def test_the_command_line_is_thin_and_the_library_does_not_print():
    assert len((PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()) <= 300
    printing = []
    for path in PACKAGE.glob("*.py"):
        if path.stem in ("cli", "progress"):  # the command line and what it shows of long work
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        main = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" \
                    and not any(node in ast.walk(block) for block in main):
                printing.append(f"{path.name}:{node.lineno}")
    assert printing == []
