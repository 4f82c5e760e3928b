"""The raster engine's modules imported on a background thread, before a user's first calculation.

In a fresh QGIS, the first ``offload:calc`` would otherwise wait for numpy, GDAL's numpy bridge
and the engine to import: 40-50 ms, more than a 1024² NDVI takes once they are loaded. The
plugin's load imports none of them (it must stay fast); the Processing provider starts this
thread as its algorithms are loaded, so the imports overlap the rest of QGIS's start-up. It
starts there, not when Qt's event loop next runs, because ``qgis_process`` and scripts that
call ``processing.run`` never run that loop: the warm-up then never happened at all.
Once per process; a run that comes first imports what is left itself (Python's import lock
makes the two wait for each other, not clash).

The cost, measured (fresh processes set up as bench/inqgis.py's, medians of 8): the provider's
load is unchanged (12-16 ms: starting a thread is free); the main thread's next ~50 ms of
start-up shares the interpreter lock with the imports, which made it 8 ms longer (41 -> 49 ms
to the layers loaded); numpy and the engine are in memory in every session that loads the
plugin, calculation or not (about 20 MB, 40-50 ms of one core once). When a calculation
follows start-up at once, whatever tool it uses shares the lock with the imports' tail
(20-30 ms at most): an offload:calc 1024² NDVI started at once took 82 ms instead of 99.
"""
from __future__ import annotations

import importlib
import threading
from typing import Optional

ENGINE_MODULES = ("numpy", "osgeo.gdal_array", f"{__package__}.calc")

_lock = threading.Lock()
_thread: Optional[threading.Thread] = None


def start_warm_up() -> threading.Thread:
    """Import the engine's modules on a daemon thread (once per process); returns that thread."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_engine, name="offload-warm-up", daemon=True)
            _thread.start()
        return _thread


def _import_engine() -> None:
    for name in ENGINE_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that fails here fails again, with its message, in the run
            return
