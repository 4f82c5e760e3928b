"""Pure modules import no Qt, QGIS, GDAL or network library: they run anywhere, fast."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "osgeo", "requests", "urllib3", "sip")
MUST_BE_PURE = [
    "core/errors.py", "core/progress.py", "core/control.py", "core/outputs.py",
    "core/terminal.py", "core/metadata.py", "demo/synthetic.py",
    "raster_tasks/expression.py", "raster_tasks/kernels.py", "raster_tasks/blocks.py", "raster_tasks/grid.py",
    "raster_tasks/request.py", "net_tasks/tiles.py", "net_tasks/templates.py", "core/paths.py",
    "vector_tasks/gpkg_rtree.py", "vector_tasks/gpkg_sql.py", "core/vocabulary.py", "core/ordered_writer.py",
    "core/gpkg_tables.py", "raster_tasks/array_pool.py",
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


def imports_of(path: Path):
    """(absolute top-level module names, project files imported relatively) of a module."""
    roots, relative_files = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            package = path.parent
            for _ in range(node.level - 1):
                package = package.parent
            if node.module:
                relative_files.add(package.joinpath(*node.module.split(".")).with_suffix(".py"))
            else:  # from . import kernels
                relative_files.update(package / f"{alias.name}.py" for alias in node.names)
    return roots, relative_files


def test_the_known_pure_modules_still_say_so():
    assert set(MUST_BE_PURE) <= set(declared_pure())


@pytest.mark.parametrize("module", declared_pure())
def test_pure_module_imports_nothing_heavy(module):
    roots, relative_files = imports_of(ROOT / module)
    assert not roots & set(FORBIDDEN), f"{module} imports {sorted(roots & set(FORBIDDEN))}"
    pure = set(declared_pure())
    for target in relative_files:
        assert str(target.relative_to(ROOT)) in pure, f"{module} imports non-pure {target.relative_to(ROOT)}"
