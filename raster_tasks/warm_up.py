"""The raster engine's modules imported on a background thread, before a user's first calculation.

In a fresh QGIS, the first ``offload:calc`` would otherwise wait for numpy, GDAL's numpy bridge
and the engine to import: about 40 ms, more than a 1024² NDVI takes once they are loaded. The
plugin's load imports none of them (it must stay fast), so the Processing provider starts this
when Qt's event loop next runs after its algorithms load, seconds before a user can click Run;
the import runs on another thread (it shares the GIL in slices of a few milliseconds, so the
main thread never waits for it as a whole). Once per process; a run that comes first imports what it
needs itself, as before (Python's import lock makes the two wait for each other, not clash).
The cost: numpy and the engine are loaded in every session that loads the plugin, calculation or
not (about 20 MB of memory, 40 ms of one core once).
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
