"""raster_tasks/warm_up.py: the engine's modules imported once, on one background thread."""
from __future__ import annotations

import sys

from offload.raster_tasks import warm_up


def test_the_warm_up_runs_once_on_a_daemon_thread_and_imports_the_engine():
    first = warm_up.start_warm_up()
    assert warm_up.start_warm_up() is first  # asked again (the provider reloads): the same thread
    assert first.daemon and first.name == "offload-warm-up"  # never holds up QGIS's exit
    first.join(60)
    assert all(name in sys.modules for name in warm_up.ENGINE_MODULES)
