"""Shared test set-up: import this checkout as ``offload``, whatever its folder is called.

Kept free of ``qgis`` imports at module level so the pure unit tests run anywhere.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _make_importable_as_offload() -> Path:
    """Put a folder holding a link ``offload -> ROOT`` first on sys.path and PYTHONPATH."""
    link_parent = Path(tempfile.mkdtemp(prefix="offload-import-"))
    atexit.register(shutil.rmtree, link_parent, True)  # the link only, never what it points to
    (link_parent / "offload").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(link_parent))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(link_parent), os.environ.get("PYTHONPATH")]))
    return link_parent


IMPORT_ROOT = _make_importable_as_offload()
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helper modules


@pytest.fixture
def subprocess_env() -> dict:
    """Environment for child Pythons: ``offload`` importable, no screen needed."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.fixture(autouse=True)
def private_caches(tmp_path_factory, monkeypatch):
    """Tile caches and resumable downloads go to a temporary folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def offload_provider(qgis_processing):
    """Offload's Processing provider, registered for the test (as the plugin registers it)."""
    from qgis.core import QgsApplication

    from offload.provider import OffloadProvider

    registry = QgsApplication.processingRegistry()
    ours = OffloadProvider() if registry.providerById("offload") is None else None  # referenced: kept alive
    if ours is not None:
        registry.addProvider(ours)
    yield registry.providerById("offload")
    if ours is not None:
        registry.removeProvider("offload")
