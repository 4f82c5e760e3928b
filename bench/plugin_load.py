"""How long QGIS takes to load Offload: import + classFactory() + initGui(), in fresh processes.

Run: ``make bench-plugin-load`` (or ``python bench/plugin_load.py [--runs N] [--json]``).
Each run is a new Python with QGIS already initialised, as in the desktop; it also lists
any heavy module (GDAL, numpy, requests, the task machinery) that loading pulled in.
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

iface = Iface()
before = set(sys.modules)
started = time.perf_counter()
import offload
plugin = offload.classFactory(iface)
plugin.initGui()
elapsed_ms = (time.perf_counter() - started) * 1000
heavy = sorted(m for m in set(sys.modules) - before
               if m.split(".")[0] in ("osgeo", "numpy", "requests", "urllib3")
               or m in ("offload.core.task", "offload.cli", "offload.ui.dialog")
               or m.startswith("offload.ui.forms"))
plugin.unload()
print(json.dumps({"load_ms": elapsed_ms, "heavy": heavy, "toolbar": len(iface.toolbar.actions())}))
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
    print(f"heavy modules imported at load: {results[0]['heavy'] or 'none'}")


if __name__ == "__main__":
    main()
