"""Does the map canvas stay responsive while Offload tasks run? A real QgsMapCanvas is panned
and refreshed every 50 ms while each task family works; we measure how late each pan event
is handled (the main thread's availability: target under 50 ms) and how long each refresh
takes to render (rendering shares the 2 cores with the task, so it may be slower, never frozen).
Then each task runs again and is canceled past 20 %: how soon it answers (target under 1 s)
and whether it leaves any temporary file.

Run: ``make bench-canvas`` (or ``python bench/canvas.py``). Prints a table.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional

from qgis.core import QgsRasterLayer
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QEventLoop, Qt, QTimer

from offload.core.runner import headless_app
from offload.core.task import start

sys.path.insert(0, str(Path(__file__).resolve().parent))
from buffer import make_data  # noqa: E402  (the buffer benchmark's 100,000 polygons)
from raster import make_input  # noqa: E402  (the raster benchmark's input)

PAN_EVERY_MS = 50
IDLE_S = 3.0
RASTER_SIZE = 6144


class PanDriver:
    """Pans the canvas a little and refreshes it every 50 ms; records how late each pan event
    ran and how long each refresh took to render."""

    def __init__(self, canvas: QgsMapCanvas) -> None:
        self.canvas = canvas
        self.late_ms: List[float] = []
        self.render_ms: List[float] = []
        self._due = 0.0
        self._refresh_started: Optional[float] = None
        self._step = 1
        canvas.mapCanvasRefreshed.connect(self._rendered)

    def run(self, until: Callable[[], bool], timeout_s: float) -> None:
        loop = QEventLoop()
        deadline = time.monotonic() + timeout_s

        def pan() -> None:
            now = time.perf_counter()
            self.late_ms.append(max(0.0, (now - self._due) * 1000.0))
            if until() or time.monotonic() > deadline:
                loop.quit()
                return
            centre = self.canvas.center()
            width = self.canvas.extent().width()
            self._step = -self._step if abs(centre.x() - self._home) > width else self._step
            centre.setX(centre.x() + self._step * width * 0.02)
            self.canvas.setCenter(centre)
            if self._refresh_started is None:
                self._refresh_started = time.perf_counter()
            self.canvas.refresh()
            self._schedule(pan)

        self._home = self.canvas.center().x()
        self._schedule(pan)
        loop.exec()

    def _schedule(self, pan: Callable[[], None]) -> None:
        self._due = time.perf_counter() + PAN_EVERY_MS / 1000.0
        QTimer.singleShot(PAN_EVERY_MS, Qt.TimerType.PreciseTimer, pan)

    def _rendered(self) -> None:
        if self._refresh_started is not None:
            self.render_ms.append((time.perf_counter() - self._refresh_started) * 1000.0)
            self._refresh_started = None


def main() -> None:
    headless_app(full=True)
    from offload.demo.tile_server import Faults, TileServer
    from offload.net_tasks.tile_task import TileDownloadTask
    from offload.net_tasks.request import TileRequest
    from offload.raster_tasks.calc_task import RasterCalcTask
    from offload.raster_tasks.request import CalcInput, CalcRequest
    from offload.vector_tasks.buffer import BufferRequest
    from offload.vector_tasks.buffer_task import BufferTask

    with tempfile.TemporaryDirectory(prefix="offload-bench-canvas-") as folder:
        folder = Path(folder)
        print(f"preparing data in {folder} …", file=sys.stderr)
        dem = folder / "dem.tif"
        make_input(dem, RASTER_SIZE, seed=1)
        polygons = make_data(folder, 100_000)["polygons"]
        layer = QgsRasterLayer(str(dem), "dem")
        canvas = QgsMapCanvas()
        canvas.resize(900, 600)
        canvas.setDestinationCrs(layer.crs())
        canvas.setLayers([layer])
        extent = layer.extent()
        extent.scale(0.5)
        canvas.setExtent(extent)
        canvas.show()
        rows, cancels = [], []
        with TileServer("terrain", Faults(latency_ms=20)) as server:
            cases = [
                ("idle (no task)", None),
                ("calc slope(A), 6144² raster", lambda: RasterCalcTask(CalcRequest(
                    ("slope(A)",), (CalcInput("A", str(dem)),), folder / "slope.tif", overwrite=True),
                    load_outputs=False)),
                ("tiles z13, 4 workers (20 ms latency)", lambda: TileDownloadTask(TileRequest(
                    server.template, (6.8, 45.8, 7.3, 46.2), 13, folder / "tiles.tif", cache_dir=folder / "cache",
                    overwrite=True), load_outputs=False)),
                ("buffer 100,000 polygons", lambda: BufferTask(BufferRequest(
                    polygons, folder / "buffered.gpkg", distance=5, overwrite=True), load_outputs=False)),
            ]
            for name, make_task in cases:
                driver = PanDriver(canvas)
                started = time.perf_counter()
                if make_task is None:
                    driver.run(lambda: time.perf_counter() - started > IDLE_S, IDLE_S + 5)
                    ok = True
                else:
                    task = start(make_task())
                    driver.run(lambda: task.result is not None, 300)
                    ok = task.result
                canvas.mapCanvasRefreshed.disconnect(driver._rendered)
                rows.append((name, time.perf_counter() - started, ok, driver))
            for name, make_task in cases[1:]:  # again, canceled mid-run: how soon it answers, what it leaves
                driver = PanDriver(canvas)
                task = start(make_task())
                begun = time.perf_counter()
                driver.run(lambda: task.fraction > 0.2 or time.perf_counter() - begun > 5, 60)
                asked = time.perf_counter()
                task.cancel()
                driver.run(lambda: task.result is not None, 60)
                canvas.mapCanvasRefreshed.disconnect(driver._rendered)
                left = sorted(p.name for p in folder.iterdir() if ".offload-" in p.name)
                cancels.append((name, (time.perf_counter() - asked) * 1000, task.canceled, left))
        canvas.setLayers([])
        del layer  # before its folder goes (it would write statistics beside the raster)
        report(rows)
        report_cancels(cancels)


def report(rows) -> None:
    print(f"\nMap canvas panned and refreshed every {PAN_EVERY_MS} ms while each task runs (2 cores):\n")
    print("| while | s | task ok | pans | pan event late: max ms | p99 ms | refreshes | render median ms | max ms |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds, ok, driver in rows:
        late = sorted(driver.late_ms)
        p99 = late[min(len(late) - 1, int(0.99 * len(late)))]
        renders = driver.render_ms or [0.0]
        print(f"| {name} | {seconds:.1f} | {ok} | {len(late)} | {max(late):.1f} | {p99:.1f} | {len(driver.render_ms)} "
              f"| {statistics.median(renders):.0f} | {max(renders):.0f} |")
    worst = max(max(driver.late_ms) for _, _, _, driver in rows)
    print(f"\nLargest delay of a pan event: {worst:.1f} ms (target: under 50 ms).")


def report_cancels(cancels) -> None:
    print("\nEach task canceled once past 20 % (or 5 s), the canvas still panned:\n")
    print("| task | cancel answered in ms | canceled | temporary files left | target |")
    print("|---|---:|---|---|---|")
    for name, answered_ms, canceled, left in cancels:
        holds = answered_ms < 1000 and canceled and not left
        print(f"| {name} | {answered_ms:.0f} | {canceled} | {', '.join(left) or 'none'} | "
              f"< 1000 ms, nothing left: {'HOLDS' if holds else 'MISSES'} |")


if __name__ == "__main__":
    main()
