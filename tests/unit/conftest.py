"""Unit tests are pure: `make test` runs them first with pytest-qgis off, and this checks that
none of them (nor what they import) loaded QGIS or Qt. Run with QGIS on, it checks nothing."""
from __future__ import annotations

import sys

import pytest

HEAVY = ("qgis", "PyQt5", "PyQt6")


@pytest.fixture(autouse=True)
def no_qgis_loaded(request):
    yield
    if request.config.pluginmanager.has_plugin("pytest_qgis"):
        return  # running beside the QGIS tests: QGIS is loaded on purpose
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in HEAVY)
    assert not loaded, f"a unit test loaded {', '.join(loaded[:5])}: it belongs in tests/qgis"
