"""The house's floors, read from the code's imports (function-level ones included).

core/ (1) <- the families raster_tasks/, net_tasks/, vector_tasks/ (2; none imports another)
<- the front ends ui/, api.py, cli.py, provider.py, demo/ (3) <- plugin.py (4)
<- __init__.py, __main__.py (5). Nothing imports upward or sideways, and no files import
each other in a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("raster_tasks", "net_tasks", "vector_tasks")
FRONT_ENDS = ("ui", "api.py", "cli.py", "provider.py", "demo")
NOT_SHIPPED = ("tests", "bench", "tools", "i18n", ".venv", "docs", "resources", "demo-output", "dist")


def floor(rel: Path) -> int:
    top = rel.parts[0]
    if top == "core":
        return 1
    if top in FAMILIES:
        return 2
    if top in FRONT_ENDS:
        return 3
    if top == "plugin.py":
        return 4
    return 5


def modules() -> Dict[Path, ast.Module]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_SHIPPED or rel.parts[0].startswith("."):
            continue
        found[rel] = ast.parse(path.read_text())
    return found


def resolve(rel: Path, level: int, module: Optional[str], name: Optional[str], known: Set[Path]) -> Optional[Path]:
    """The project file a relative import names (``from ..core import task`` → core/task.py)."""
    base = rel.parent
    for _ in range(level - 1):
        base = base.parent
    parts = [p for p in (module or "").split(".") if p]
    target = base.joinpath(*parts) if parts else base
    for candidate in ([target.joinpath(name).with_suffix(".py")] if name else []) + [
            target.with_suffix(".py"), target / "__init__.py"]:
        if candidate in known:
            return candidate
    return None


def project_imports(rel: Path, tree: ast.Module, known: Set[Path]) -> Set[Path]:
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                target = resolve(rel, node.level, node.module, alias.name, known)
                if target is not None and target != rel:
                    targets.add(target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name == "offload" or name.startswith("offload."):
                    target = resolve(Path("x.py"), 1, name.partition(".")[2], None, known)
                    if target is not None and target != rel:
                        targets.add(target)
    return targets


def graph() -> Dict[Path, Set[Path]]:
    trees = modules()
    known = set(trees)
    return {rel: project_imports(rel, tree, known) for rel, tree in trees.items()}


def test_the_house_is_read_whole():
    edges = graph()
    assert Path("core/task.py") in edges and Path("cli.py") in edges
    assert Path("core/task.py") in edges[Path("core/chain.py")]  # relative imports are followed


def test_nothing_imports_upward_or_across_families():
    problems = []
    for source, targets in graph().items():
        for target in targets:
            if target.parent == source.parent or target.name == "__init__.py" and target.parent in source.parents:
                continue
            up = floor(target) > floor(source)
            across = floor(source) == floor(target) == 2 and source.parts[0] != target.parts[0]
            if up or across:
                problems.append(f"{source} (floor {floor(source)}) imports {target} (floor {floor(target)})")
    assert problems == []


def test_no_files_import_each_other_in_a_cycle():
    edges = graph()
    index: Dict[Path, int] = {}
    low: Dict[Path, int] = {}
    stack: List[Path] = []
    on_stack: Set[Path] = set()
    cycles: List[List[Path]] = []

    def visit(node: Path) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_exit_codes_live_in_core():
    from offload.core import errors

    assert (errors.EXIT_OK, errors.EXIT_FAILED, errors.EXIT_USAGE, errors.EXIT_CANCELED) == (0, 1, 2, 130)
