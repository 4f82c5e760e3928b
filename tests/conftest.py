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
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# No deadline per example: Hypothesis's default (200 ms) is a wall-clock bound, and a property
# that writes files failed on it once while a benchmark loaded the machine. Tests assert behaviour.
settings.register_profile("offload", deadline=None)
settings.load_profile("offload")


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


@pytest.fixture(autouse=True, scope="session")
def garbage_collected_before_qgis_exits(request):
    """Collect Python's cyclic garbage while QGIS is still up. pytest-qgis calls ``exitQgis()``
    as the session ends; a QGIS object left in a reference cycle (a test's frames, a Processing
    context) and collected after that crashed the process at exit (rc 139, after every test
    passed: tests/qgis/test_calc_algorithm.py with test_calc_limits.py)."""
    if request.config.pluginmanager.hasplugin("pytest_qgis"):
        request.getfixturevalue("qgis_app")  # set up before this fixture: torn down after it
    yield
    import gc

    gc.collect()


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


@pytest.fixture
def browser_connections():
    """Writes XYZ connections into QGIS's settings as the Browser (QGIS 3.22) stores them; removes them after."""
    from qgis.core import QgsSettings

    settings = QgsSettings()
    written = []

    def add(name: str, **values) -> None:
        written.append(name)
        for key, value in values.items():
            settings.setValue(f"qgis/connections-xyz/{name}/{key}", value)

    yield add
    for name in written:
        settings.remove(f"qgis/connections-xyz/{name}")


@pytest.fixture
def basic_auth_config():
    """A Basic auth configuration (user ann, password ``qgis_helpers.AUTH_PASSWORD``) in QGIS's auth
    database (the temporary profile's); its id."""
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    from qgis_helpers import AUTH_PASSWORD

    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword("offload-test-master", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("tiles login")
    config.setConfig("username", "ann")
    config.setConfig("password", AUTH_PASSWORD)
    ok, config = manager.storeAuthenticationConfig(config)
    assert ok
    yield config.id()
    manager.removeAuthenticationConfig(config.id())
