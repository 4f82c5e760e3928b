"""Pure modules import no Qt, QGIS, GDAL or network library: they run anywhere, fast."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "osgeo", "requests", "urllib3", "sip")
MUST_BE_PURE = [
    "core/errors.py", "core/progress.py", "core/control.py", "core/outputs.py",
    "core/terminal.py", "core/metadata.py", "net_tasks/synthetic.py",
]


def declared_pure() -> list:
    """Modules whose docstring says 'Pure:'."""
    found = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if "tests" in path.parts or "bench" in path.parts or ".venv" in path.parts:
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if "Pure:" in docstring:
            found.append(str(path.relative_to(ROOT)))
    return found


def imported_roots(path: Path) -> set:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            roots.add(f"relative:{node.module}")
    return roots


def test_the_known_pure_modules_still_say_so():
    assert set(MUST_BE_PURE) <= set(declared_pure())


@pytest.mark.parametrize("module", declared_pure())
def test_pure_module_imports_nothing_heavy(module):
    roots = imported_roots(ROOT / module)
    assert not roots & set(FORBIDDEN), f"{module} imports {sorted(roots & set(FORBIDDEN))}"
    for relative in (r for r in roots if r.startswith("relative:")):
        sibling = relative.split(":", 1)[1] or ""
        target = (ROOT / module).parent / (sibling.replace(".", "/") + ".py")
        assert str(target.relative_to(ROOT)) in declared_pure(), f"{module} imports non-pure {target.name}"
