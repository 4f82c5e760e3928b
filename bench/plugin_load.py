"""How long QGIS takes to load Offload: import + classFactory() + initGui(), in fresh processes.

Run: ``make bench-plugin-load`` (or ``python bench/plugin_load.py [--runs N] [--json]``).
Each run is a new Python with QGIS already initialised, as in the desktop; it also lists
any heavy module (GDAL, numpy, requests, the task machinery) that loading made the main thread
import, and apart, those the raster warm-up's thread had imported by then
(``raster_tasks/warm_up.py``: started with the Processing provider, it never holds up the load).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QMainWindow, QMenu, QToolBar
app = QgsApplication([], True); app.initQgis()

class Iface:
    '''The part of QgisInterface a plugin's initGui()/unload() use, on real Qt objects.'''
    def __init__(self):
        self.window, self.menu, self.toolbar = QMainWindow(), QMenu("Plugins"), QToolBar("Plugins")
    def mainWindow(self): return self.window
    def messageBar(self): return None
    def addToolBarIcon(self, action): self.toolbar.addAction(action)
    def removeToolBarIcon(self, action): self.toolbar.removeAction(action)
    def addPluginToMenu(self, name, action): self.menu.addAction(action)
    def removePluginMenu(self, name, action): self.menu.removeAction(action)
    addPluginToRasterMenu = addPluginToVectorMenu = addPluginToWebMenu = addPluginToMenu
    removePluginRasterMenu = removePluginVectorMenu = removePluginWebMenu = removePluginMenu

import threading
main_thread_imports = set()

class ImportWatch:
    '''Notes each module first imported by the main thread (the raster warm-up imports on its own).'''
    @staticmethod
    def find_spec(name, path=None, target=None):
        if threading.current_thread() is threading.main_thread():
            main_thread_imports.add(name)
        return None  # the usual finders import it

def is_heavy(m):
    return (m.split(".")[0] in ("osgeo", "numpy", "requests", "urllib3")
            or m in ("offload.core.task", "offload.cli", "offload.ui.dialog") or m.startswith("offload.ui.forms"))

iface = Iface()
before = set(sys.modules)
sys.meta_path.insert(0, ImportWatch)
started = time.perf_counter()
import offload
plugin = offload.classFactory(iface)
plugin.initGui()
elapsed_ms = (time.perf_counter() - started) * 1000
sys.meta_path.remove(ImportWatch)
def named(modules):  # a package once, Offload's modules each
    return sorted({m if m.startswith("offload") else m.split(".")[0] for m in modules if is_heavy(m)})

heavy = named(main_thread_imports)
background = named(set(sys.modules) - before - main_thread_imports)
plugin.unload()
print(json.dumps({"load_ms": elapsed_ms, "heavy": heavy, "background": background,
                  "toolbar": len(iface.toolbar.actions())}))
"""


def probe_once() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    if child.returncode != 0:
        raise RuntimeError(f"plugin load probe failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one probe's JSON and exit")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(probe_once()))
        return
    results = [probe_once() for _ in range(args.runs)]
    times = [r["load_ms"] for r in results]
    print(f"{'plugin load (import + classFactory + initGui)':48} {'median ms':>10} {'max ms':>8} {'target':>8}")
    print(f"{'Offload':48} {statistics.median(times):10.1f} {max(times):8.1f} {'< 100':>8}")
    print(f"heavy modules imported at load, on the main thread: {results[0]['heavy'] or 'none'}")
    print(f"imported by then on the warm-up's thread: {results[0]['background'] or 'none'}")


if __name__ == "__main__":
    main()
