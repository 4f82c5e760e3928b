"""Speed where users choose: ``processing.run()`` inside QGIS, Offload against the Toolbox's tools.

Run: ``make bench-inqgis`` (``python bench/inqgis.py [--only GROUP]… [--rounds 3] [--size 8192]
[--count 100000] [--keep]``). Groups: raster, slope, default, small, small-first, buffer, startup
(issue 12). ``small-first`` is the small job's ratio alone (Offload and qgis:rastercalculator straight
after start-up): the quick A/B of a change to the small job's first run.

Each timed run is a fresh process that starts QGIS, initialises Processing as the desktop does
(its plugin's modules loaded, which in QGIS 3.22 import numpy: a desktop user always finds numpy
loaded) and adds Offload's provider (untimed), reads its inputs once (the page cache is warm for every tool alike) and
loads them as layers, as they are in a user's project, then times ONE ``processing.run(alg,
params)`` from the call to its return, with the output on disk. Peak memory is what the run
added to that process and the processes it started (gdal:rastercalculator runs gdal_calc.py).
The tools run round-robin, every other round backwards (no case always follows the same one); the
table gives medians and the ratios from this one run, each against its target (HOLDS / MISSES).
The machine is shared: each run waits (a few seconds at most) for other processes to go quiet, and
a run during which they used more than --busy-limit of the cores is repeated (at most RERUNS times,
the quietest kept), for every tool alike; the table's "others" column says how much they still
took. The machine is a VM that hands freed memory back to its host, so a run on rasters of
BACKED_FROM_SIDE and over first touches and frees BACKED_MEMORY_MB (untimed), for every tool alike:
a peer that takes hundreds of MB then no longer pays host faults no physical machine has. Outputs
of the first round are checked against the peer's. Inputs are made into a
temporary folder removed at the end; with --keep, into /tmp/offload-bench-inqgis-data, which every
later run uses while it exists (no generation).
Offload's modules are byte-compiled first, as an installed plugin's are after its first load
(with PYTHONDONTWRITEBYTECODE set, every fresh process would compile them again). The small
job also runs a second time after QGIS has idled for IDLE_SECONDS (its event loop running), as
it does between start-up and a user's first click: then the raster engine's warm-up
(raster_tasks/warm_up.py) has imported numpy and the engine, and the run no longer waits for them.
Timed straight after start-up, that warm-up (started as Offload's provider loads) is still running
in every tool's process, Offload's and its peers' alike, and shares the interpreter with the run.
The small job runs a third time with Processing loaded without its plugin, as a script or
``qgis_process`` has it (numpy not yet imported): a line with no target.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from contention import wait_until_quiet

PLUGINS = "/usr/share/qgis/python/plugins"
CACHE = Path(tempfile.gettempdir()) / "offload-bench-inqgis-data"  # inputs kept by --keep, named by their parameters
RESULT_MARK = "INQGIS-RESULT "
TILED_256 = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
PEER_TILED = "|".join(TILED_256)  # GDAL algorithms' OPTIONS: '|'-separated
OFFLOAD_PLAIN = " ".join(TILED_256 + ["COMPRESS=NONE"])  # offload:calc's CREATION_OPTIONS: space-separated
NDVI_NUMPY = "(A - B) / (A + B)"
NDVI_QGIS = '("a@1" - "b@1") / ("a@1" + "b@1")'  # qgis:rastercalculator names layers by their layer name
IDLE_SECONDS = 0.5  # QGIS idle before the timed run, in the small job's "idle" cases
NDVI_TOLERANCE = 1e-6  # float32 arithmetic in one tool, float64 in another
SLOPE_TOLERANCE = 1e-3  # degrees: float32 Horn differences of heights in the hundreds
# Other processes on the machine: a run during which they used more than BUSY_LIMIT of all cores is
# repeated (at most RERUNS times, the quietest kept), and each run waits, at most QUIET_WAIT_SECONDS,
# for a quiet machine. Runs shorter than DECIDES_AFTER_SECONDS are not repeated: /proc/stat's 10 ms
# ticks make their share too rough to judge.
BUSY_LIMIT = 0.10
RERUNS = 2
QUIET_WAIT_SECONDS = 5.0
DECIDES_AFTER_SECONDS = 0.2
# This machine is a VM whose kernel hands freed memory back to the host (virtio-balloon free page
# reporting, ~2 s after it is freed); the next first touch of such a page is a host fault, charged as
# the run's CPU: 857 MB touched in a fresh process took 2.6-5.5 s a few seconds after the last run,
# 0.1-0.5 s straight after. gdal_calc.py (857 MB) paid it in some rounds (5.1-5.6 s instead of
# 1.7-2.7 s), Offload (35-50 MB) hardly. No physical machine pays this: each raster run first touches
# and frees this much memory, so every tool starts with the same host-backed free pages.
BACKED_MEMORY_MB = 1024
BACKED_FROM_SIDE = 4096  # rasters this wide and wider: the peers then take hundreds of MB (small jobs, a few)
GROUPS = ("raster", "slope", "default", "small", "small-first", "buffer", "startup")
BUFFER_LAYERS = (  # name, what ({n}: features), features per --count, distance (m), segments
    ("light", "{n:,} polygons of 5 vertices (bench-buffer's), 5 m, 5 segments", 1.0, 5.0, 5),
    ("stars", "{n:,} random star polygons of 12 vertices, 5 m, 8 segments", 1.0, 5.0, 8),
    ("lines", "{n:,} random-walk lines of 50 vertices, 10 m, 8 segments", 0.2, 10.0, 8),
)


# ---------------------------------------------------------------------------------------------
# The child: one timed run in a fresh process.

def child(spec: Dict[str, Any]) -> Dict[str, Any]:
    from contention import OthersShare
    from peak_memory import PeakMemory

    sys.path.remove(str(Path(__file__).resolve().parent))  # bench/raster.py is no module of QGIS's
    for path in spec.get("warm", []):  # the page cache is warm for every tool alike
        with open(path, "rb") as stream:
            while stream.read(1 << 22):
                pass
    kind = spec["kind"]
    if kind == "startup":
        with OthersShare() as others:
            started = time.perf_counter()
            subprocess.run(spec["command"], check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
        return {"seconds": seconds, "cpu_s": others.own_cpu, "others_share": others.share}
    if kind == "floor":
        from osgeo import gdal  # imported before the clock starts, as QGIS has it loaded

        gdal.SetCacheMax(64 << 20)
        gdal.SetConfigOption("GDAL_NUM_THREADS", "1")
        back_free_memory(spec.get("backed_mb", 0))
        with PeakMemory() as peak, OthersShare() as others:
            started = time.perf_counter()
            io_floor(spec["rasters"]["a"], spec["rasters"]["b"], spec["output"])
            seconds = time.perf_counter() - started
        return {"seconds": seconds, "cpu_s": others.own_cpu, "added_mb": peak.added_mb, "others_share": others.share}

    processing, params = start_qgis(spec)
    if spec.get("idle"):
        idle(spec["idle"])
    back_free_memory(spec.get("backed_mb", 0))
    with PeakMemory() as peak, OthersShare() as others:
        started = time.perf_counter()
        processing.run(spec["alg"], params)  # as a user types it in the console
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_s": others.own_cpu, "added_mb": peak.added_mb, "others_share": others.share}


def back_free_memory(megabytes: int) -> None:
    """Touch ``megabytes`` of fresh memory in huge pages, as numpy's large arrays are (it asks for
    them), and free it (see BACKED_MEMORY_MB). Small pages would not do: they left the huge pages'
    first touch as slow."""
    if not megabytes:
        return
    import mmap

    region = mmap.mmap(-1, megabytes << 20)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        region.madvise(mmap.MADV_HUGEPAGE)
    for offset in range(0, len(region), mmap.PAGESIZE):
        region[offset] = 1
    region.close()  # unmapped: its pages are free, and backed by the host, for the next seconds


KEPT: List[Any] = []  # Python objects QGIS uses but does not keep alive


def start_qgis(spec: Dict[str, Any]):
    """QGIS with Processing and Offload's provider, the spec's inputs loaded as layers of the
    project (as the Toolbox offers them); returns ``processing`` and the run's parameters."""
    sys.path.append(PLUGINS)
    from offload.core.runner import headless_app

    headless_app(full=True)
    from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer
    from processing.core.Processing import Processing

    Processing.initialize()
    if spec.get("desktop", True):
        # The desktop loads Processing's plugin (the Toolbox) at start-up, and with it numpy (QGIS 3.22's
        # processing/gui/TestTools.py): every tool a user picks finds numpy loaded. Its initGui needs a
        # main window; importing it is what brings the modules in.
        import processing.ProcessingPlugin  # noqa: F401
    import processing
    from offload.provider import OffloadProvider

    KEPT.append(OffloadProvider())  # kept referenced: the registry does not keep the Python object alive
    assert QgsApplication.processingRegistry().addProvider(KEPT[-1])
    layers = {name: QgsRasterLayer(path, name) for name, path in spec.get("rasters", {}).items()}
    layers.update({name: QgsVectorLayer(source, name, "ogr") for name, source in spec.get("vectors", {}).items()})
    assert all(layer.isValid() for layer in layers.values()), spec
    QgsProject.instance().addMapLayers(list(layers.values()))  # in the project, as the Toolbox offers them

    def value(v):
        if isinstance(v, list):
            return [value(item) for item in v]
        return layers[v[len("layer:"):]] if isinstance(v, str) and v.startswith("layer:") else v

    return processing, {key: value(v) for key, v in spec["params"].items()}


def idle(seconds: float) -> None:
    """Let QGIS's event loop run for ``seconds``, as it does between start-up and a user's click."""
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()


def io_floor(a: str, b: str, output: str) -> None:
    """The work without the math: 256² windows read from A and B, A's written (the caller sets
    GDAL's cache to 64 MB and one thread)."""
    from osgeo import gdal

    source_a, source_b = gdal.Open(a), gdal.Open(b)
    band_a, band_b = source_a.GetRasterBand(1), source_b.GetRasterBand(1)
    width, height = source_a.RasterXSize, source_a.RasterYSize
    out = gdal.GetDriverByName("GTiff").Create(output, width, height, 1, gdal.GDT_Float32,
                                               TILED_256 + ["COMPRESS=NONE"])
    out.SetGeoTransform(source_a.GetGeoTransform())
    out.SetProjection(source_a.GetProjection())
    out_band = out.GetRasterBand(1)
    out_band.SetNoDataValue(band_a.GetNoDataValue())
    for row in range(0, height, 256):
        for col in range(0, width, 256):
            size = (col, row, min(256, width - col), min(256, height - row))
            window = band_a.ReadAsArray(*size)
            band_b.ReadAsArray(*size)
            out_band.WriteArray(window, col, row)
    out = None


# ---------------------------------------------------------------------------------------------
# The parent: the cases, the rounds, the checks and the table.

@dataclass
class Case:
    key: str
    label: str
    spec: Dict[str, Any]
    every_round: bool = True  # False: first round only (a size or a memory figure, not a ratio)
    results: List[Dict[str, Any]] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    size_bytes: Optional[int] = None
    layout: str = ""
    reruns: int = 0  # runs repeated because other processes competed with them

    @property
    def output(self) -> Optional[Path]:
        return Path(self.spec["output"]) if "output" in self.spec else None

    def median(self) -> float:
        return statistics.median(r["seconds"] for r in self.results) if self.results else float("nan")

    def cpu_seconds(self) -> float:
        """The median CPU time of the runs (the process and its children, every thread)."""
        cpu = [r["cpu_s"] for r in self.results if r.get("cpu_s") is not None]
        return statistics.median(cpu) if cpu else float("nan")

    def others_share(self) -> float:
        """The median share of the cores other processes used during the kept runs."""
        shares = [r["others_share"] for r in self.results if r.get("others_share") is not None]
        return statistics.median(shares) if shares else float("nan")

    def peak_mb(self) -> float:
        peaks = [r["added_mb"] for r in self.results if r.get("added_mb") is not None]
        return max(peaks) if peaks else float("nan")


def processing_case(key: str, label: str, alg: str, params: Dict[str, Any], output: Path,
                    rasters: Optional[Dict[str, Path]] = None, vectors: Optional[Dict[str, str]] = None,
                    every_round: bool = True) -> Case:
    backed = bool(rasters) and any(raster_side(p) >= BACKED_FROM_SIDE for p in rasters.values())
    rasters, vectors = rasters or {}, vectors or {}
    warm = [str(p) for p in rasters.values()] + [v.split("|")[0] for v in vectors.values()]
    spec = {"kind": "run", "alg": alg, "params": dict(params, OUTPUT=str(output)), "output": str(output),
            "rasters": {n: str(p) for n, p in rasters.items()}, "vectors": vectors, "warm": warm,
            "backed_mb": BACKED_MEMORY_MB if backed else 0}
    return Case(key, label, spec, every_round)


def offload_calc(key: str, label: str, expression: str, rasters: Dict[str, Path], output: Path,
                 options: Optional[str], every_round: bool = True) -> Case:
    params = {"EXPRESSION": expression, "INPUTS": [f"layer:{n}" for n in rasters]}
    if options is not None:
        params["CREATION_OPTIONS"] = options
    return processing_case(key, label, "offload:calc", params, output, rasters, every_round=every_round)


def gdal_calc(key: str, label: str, rasters: Dict[str, Path], output: Path, options: str) -> Case:
    params = {"INPUT_A": "layer:a", "BAND_A": 1, "INPUT_B": "layer:b", "BAND_B": 1, "FORMULA": "(A-B)/(A+B)",
              "RTYPE": 5, "OPTIONS": options, "EXTRA": ""}
    return processing_case(key, label, "gdal:rastercalculator", params, output, rasters)


def qgis_calc(key: str, label: str, rasters: Dict[str, Path], output: Path) -> Case:
    params = {"EXPRESSION": NDVI_QGIS, "LAYERS": ["layer:a", "layer:b"], "CELLSIZE": 0, "EXTENT": None, "CRS": None}
    return processing_case(key, label, "qgis:rastercalculator", params, output, rasters)


def floor_case(key: str, label: str, rasters: Dict[str, Path], output: Path) -> Case:
    backed = any(raster_side(p) >= BACKED_FROM_SIDE for p in rasters.values())
    spec = {"kind": "floor", "rasters": {n: str(p) for n, p in rasters.items()}, "output": str(output),
            "warm": [str(p) for p in rasters.values()], "backed_mb": BACKED_MEMORY_MB if backed else 0}
    return Case(key, label, spec)


def raster_side(path: Path) -> int:
    from osgeo import gdal

    dataset = gdal.Open(str(path))
    return max(dataset.RasterXSize, dataset.RasterYSize)


def small_size(size: int) -> int:
    return min(1024, size)


def build_cases(groups: List[str], args, data: Path, out: Path) -> Tuple[Dict[str, Case], List[Tuple[str, str, Any]]]:
    """The cases the chosen groups need (each once, however many groups use it), and the pairs
    of outputs to check against each other: (key, peer key, largest pixel difference allowed;
    None for vector outputs)."""
    import data as inputs

    cases: Dict[str, Case] = {}
    checks: List[Tuple[str, str, Any]] = []

    def add(case: Case) -> None:
        cases.setdefault(case.key, case)

    def note(what: str) -> None:
        print(f"inputs: {what}…", file=sys.stderr, flush=True)

    size, big, small = args.size, 2 * args.size, small_size(args.size)
    if {"raster", "slope", "default"} & set(groups):
        note(f"random pair {size}²")
        a, b = inputs.random_pair(data, size)
        pair = {"a": a, "b": b}
    if "raster" in groups or "default" in groups:
        add(offload_calc("offload", "offload:calc, COMPRESS=NONE, tiled 256", NDVI_NUMPY, pair,
                         out / "offload.tif", OFFLOAD_PLAIN))
    if "raster" in groups:
        add(floor_case("floor", "I/O floor (in process, 64 MB cache, 1 thread)", pair, out / "floor.tif"))
        add(qgis_calc("qgis", "qgis:rastercalculator (writes its own GTiff)", pair, out / "qgis.tif"))
        add(gdal_calc("gdal", "gdal:rastercalculator, OPTIONS tiled 256", pair, out / "gdal.tif", PEER_TILED))
        note(f"random pair {big}²")
        big_a, big_b = inputs.random_pair(data, big)
        add(offload_calc("offload_big", f"offload:calc {big}², COMPRESS=NONE, tiled 256", NDVI_NUMPY,
                         {"a": big_a, "b": big_b}, out / "offload-big.tif", OFFLOAD_PLAIN, every_round=False))
        checks += [("offload", "gdal", NDVI_TOLERANCE), ("offload", "qgis", NDVI_TOLERANCE)]
    if "slope" in groups:
        add(offload_calc("offload_slope", "offload:calc slope(A), COMPRESS=NONE, tiled 256", "slope(A)", {"a": a},
                         out / "offload-slope.tif", OFFLOAD_PLAIN))
        add(processing_case("gdal_slope", "gdal:slope, OPTIONS tiled 256", "gdal:slope",
                            {"INPUT": "layer:a", "BAND": 1, "SCALE": 1.0, "AS_PERCENT": False, "COMPUTE_EDGES": False,
                             "ZEVENBERGEN": False, "OPTIONS": PEER_TILED, "EXTRA": ""},
                            out / "gdal-slope.tif", {"a": a}))
        checks.append(("offload_slope", "gdal_slope", SLOPE_TOLERANCE))
    if "default" in groups:
        add(offload_calc("offload_default", "offload:calc, its default output", NDVI_NUMPY, pair,
                         out / "offload-default.tif", None))
        add(gdal_calc("gdal_default", "gdal:rastercalculator, its defaults", pair, out / "gdal-default.tif", ""))
        note(f"smooth fields {size}²")
        nir, red = inputs.fields_pair(data, size)
        fields = {"a": nir, "b": red}
        add(offload_calc("offload_fields", "fields NDVI: offload:calc, its default output", NDVI_NUMPY, fields,
                         out / "offload-fields.tif", None))
        add(gdal_calc("gdal_fields", "fields NDVI: gdal:rastercalculator, its defaults", fields,
                      out / "gdal-fields.tif", ""))
        note(f"the demo's terrain {size}²")
        dem = {"a": inputs.dem(data, size)}
        add(offload_calc("offload_dem", "DEM (A): offload:calc, its default output", "A", dem,
                         out / "offload-dem.tif", None, every_round=False))
        add(offload_calc("offload_dem_slope", "slope(DEM): offload:calc, its default output", "slope(A)", dem,
                         out / "offload-dem-slope.tif", None, every_round=False))
        checks += [("offload_default", "gdal_default", NDVI_TOLERANCE), ("offload_default", "offload", 0.0),
                   ("offload_fields", "gdal_fields", NDVI_TOLERANCE)]
    if "small" in groups or "small-first" in groups:
        note(f"random pair {small}²")
        small_a, small_b = inputs.random_pair(data, small)
        pair_small = {"a": small_a, "b": small_b}
        add(offload_calc("offload_small", f"offload:calc {small}², COMPRESS=NONE, tiled 256", NDVI_NUMPY, pair_small,
                         out / "offload-small.tif", OFFLOAD_PLAIN))
        add(qgis_calc("qgis_small", f"qgis:rastercalculator {small}²", pair_small, out / "qgis-small.tif"))
        checks.append(("offload_small", "qgis_small", NDVI_TOLERANCE))
    if "small" in groups:
        add(floor_case("floor_small", f"I/O floor {small}²", pair_small, out / "floor-small.tif"))
        add(offload_calc("offload_small_default", f"offload:calc {small}², its default output", NDVI_NUMPY,
                         pair_small, out / "offload-small-default.tif", None))
        for key, case in (("offload_small_idle", cases["offload_small"]), ("qgis_small_idle", cases["qgis_small"])):
            idle_spec = dict(case.spec, idle=IDLE_SECONDS, output=str(out / f"{key}.tif"),
                             params=dict(case.spec["params"], OUTPUT=str(out / f"{key}.tif")))
            add(Case(key, f"{case.label}, QGIS idle {IDLE_SECONDS:g} s first", idle_spec))
        for key, case in (("offload_small_script", cases["offload_small"]), ("qgis_small_script", cases["qgis_small"])):
            script_spec = dict(case.spec, desktop=False, output=str(out / f"{key}.tif"),
                               params=dict(case.spec["params"], OUTPUT=str(out / f"{key}.tif")))
            add(Case(key, f"{case.label}, Processing without its plugin (a script)", script_spec))
    if "buffer" in groups:
        make = {"light": inputs.light_polygons, "stars": inputs.stars, "lines": inputs.lines}
        for name, what, per_count, distance, segments in BUFFER_LAYERS:
            count = int(args.count * per_count)
            note(what.format(n=count))
            source = make[name](data, count)
            params = {"INPUT": "layer:v", "DISTANCE": distance, "SEGMENTS": segments, "END_CAP_STYLE": 0,
                      "JOIN_STYLE": 0, "MITER_LIMIT": 2.0, "DISSOLVE": False}
            for tool in ("native", "offload"):
                add(processing_case(f"{tool}_{name}", f"{name}: {tool}:buffer → GPKG", f"{tool}:buffer", params,
                                    out / f"{tool}-{name}.gpkg", vectors={"v": source}))
            checks.append((f"offload_{name}", f"native_{name}", None))
    if "startup" in groups:
        tiny = inputs.random_pair(data, 256)[0]
        add(Case("startup", "python -m offload calc on one 256² window", {
            "kind": "startup", "warm": [str(tiny)], "output": str(out / "startup.tif"),
            "command": [sys.executable, "-m", "offload", "calc", "--expr", "A * 2", "--input", f"A={tiny}",
                        "--output", str(out / "startup.tif"), "--overwrite"]}))
    return cases, checks


def measure(case: Case, busy_limit: float) -> Dict[str, Any]:
    """One round of ``case``. A run during which other processes used more than ``busy_limit`` of
    the cores is repeated, at most RERUNS times, and the quietest run is kept: for every tool
    alike, whatever its time (the choice looks at the others' share, never at the figure)."""
    kept: Optional[Dict[str, Any]] = None
    for attempt in range(RERUNS + 1):
        if attempt:
            case.reruns += 1
        result = run_case(case, busy_limit)
        share = result.get("others_share")
        if kept is None or (share is not None and share < kept["others_share"]):
            kept = result
        if share is None or share <= busy_limit or result["seconds"] < DECIDES_AFTER_SECONDS:
            break
    return kept


def run_case(case: Case, busy_limit: float = 1.0) -> Dict[str, Any]:
    if case.output is not None:
        remove(case.output)
    os.sync()  # the previous run's output is on the disk, not still being written behind this one
    wait_until_quiet(busy_limit, QUIET_WAIT_SECONDS)
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(case.spec)], capture_output=True, text=True,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=1200)
    marked = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode or not marked:
        raise RuntimeError(f"{case.label} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(marked[-1][len(RESULT_MARK):])


def remove(path: Path) -> None:
    for sidecar in (path, Path(f"{path}.aux.xml"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        if sidecar.exists():
            sidecar.unlink()


def describe_raster(path: Path) -> str:
    from osgeo import gdal

    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    x, y = band.GetBlockSize()
    if (x, y) == (dataset.RasterXSize, dataset.RasterYSize):
        blocks = "one block"
    else:
        blocks = f"tiled {x}×{y}" if x < dataset.RasterXSize else f"strips of {y} row(s)"
    structure = dataset.GetMetadata("IMAGE_STRUCTURE")
    codec = structure.get("COMPRESSION", "uncompressed")
    if "PREDICTOR" in structure:
        codec += f" predictor {structure['PREDICTOR']}"
    return f"{blocks}, {codec}"


def compare_rasters(ours: Path, peer: Path, tolerance: float) -> Tuple[bool, str]:
    """Pixels and nodata: the same valid pixels, values within ``tolerance``."""
    import numpy as np
    from osgeo import gdal

    a, b = gdal.Open(str(ours)), gdal.Open(str(peer))
    if (a.RasterXSize, a.RasterYSize) != (b.RasterXSize, b.RasterYSize):
        return False, f"sizes differ: {a.RasterXSize}×{a.RasterYSize} vs {b.RasterXSize}×{b.RasterYSize}"
    band_a, band_b = a.GetRasterBand(1), b.GetRasterBand(1)
    nodata_a, nodata_b = band_a.GetNoDataValue(), band_b.GetNoDataValue()
    mismatched, largest, valid = 0, 0.0, 0
    for row in range(0, a.RasterYSize, 512):
        rows = min(512, a.RasterYSize - row)
        x = band_a.ReadAsArray(0, row, a.RasterXSize, rows).astype(np.float64)
        y = band_b.ReadAsArray(0, row, a.RasterXSize, rows).astype(np.float64)
        valid_x = np.isfinite(x) & (x != nodata_a) if nodata_a is not None else np.isfinite(x)
        valid_y = np.isfinite(y) & (y != nodata_b) if nodata_b is not None else np.isfinite(y)
        mismatched += int(np.count_nonzero(valid_x != valid_y))
        both = valid_x & valid_y
        valid += int(np.count_nonzero(both))
        if both.any():
            largest = max(largest, float(np.abs(x[both] - y[both]).max()))
    masks = "nodata masks equal" if not mismatched else f"{mismatched:,} pixels valid in one only"
    return (not mismatched and largest <= tolerance and valid > 0,
            f"{masks}, {valid:,} valid pixels, largest |difference| {largest:.2g}")


def vector_summary(path: Path) -> Tuple[int, float]:
    from osgeo import ogr

    source = ogr.Open(str(path))
    layer = source.GetLayer(0)
    count, area = 0, 0.0
    for feature in layer:
        geometry = feature.GetGeometryRef()
        count += 1
        area += geometry.GetArea() if geometry is not None else 0.0
    return count, area


def compare_vectors(ours: Path, peer: Path) -> Tuple[bool, str]:
    (count, area), (peer_count, peer_area) = vector_summary(ours), vector_summary(peer)
    relative = abs(area - peer_area) / peer_area if peer_area else float("inf")
    return (count == peer_count and relative < 1e-9,
            f"features {count:,} vs {peer_count:,}, total area {area:,.1f} vs {peer_area:,.1f} m² "
            f"(relative difference {relative:.1g})")


# ---------------------------------------------------------------------------------------------
# The report: each line of issue 12 with its figure, its target and HOLDS / MISSES.

class Report:
    """The verdict rows: a line is left out when its group did not run, FAILED when a run of it failed."""

    def __init__(self, cases: Dict[str, Case]):
        self.cases = cases
        self.rows: List[Tuple[str, str, str, str]] = []  # line, figure, target, verdict

    def t(self, key: str) -> float:
        return self.cases[key].median()

    def line(self, what: str, keys: Tuple[str, ...], figure: Callable[[], float], unit: str,
             target: Optional[Tuple[str, float]], digits: int = 2) -> None:
        if not all(k in self.cases for k in keys):
            return
        target_text = f"{target[0]} {target[1]:g}{unit}" if target else "(no target)"
        if not all(self.cases[k].results for k in keys):
            self.rows.append((what, "a run failed", target_text, "FAILED"))
            return
        value = figure()
        if target is None:
            self.rows.append((what, f"{value:.{digits}f}{unit}", target_text, ""))
            return
        op, bound = target
        holds = {"≥": value >= bound, "≤": value <= bound, "<": value < bound}[op]
        self.rows.append((what, f"{value:.{digits}f}{unit}", target_text, "HOLDS" if holds else "MISSES"))


def report(cases: Dict[str, Case], checks: List[Tuple[str, str, bool, str]], rounds: int, size: int,
           count: int, busy_limit: float) -> None:
    print(f"\nMedians of {rounds} round(s), one run on this machine (peak: added RSS of the run and its children, "
          "the largest of the rounds):\n")
    print(f"{'case':<62} {'median s':>9} {'peak MB':>8} {'file MB':>8} {'CPU s':>6} {'others':>7}  {'each round s':<20}  output")
    for case in cases.values():
        file_mb = f"{case.size_bytes / 2**20:8.0f}" if case.size_bytes is not None else f"{'':8}"
        peak = case.peak_mb()
        each = " ".join(f"{r['seconds']:.2f}" for r in case.results)
        others = case.others_share()
        others = f"{others:7.0%}" if others == others else f"{'':7}"
        cpu = case.cpu_seconds()
        cpu = f"{cpu:6.2f}" if cpu == cpu else f"{'':6}"
        print(f"{case.label:<62} {case.median():9.3f} {'' if peak != peak else f'{peak:8.0f}':>8} {file_mb} {cpu} {others}  "
              f"{each:<20}  {case.layout}")
    runs = sum(len(case.results) for case in cases.values())
    reruns = sum(case.reruns for case in cases.values())
    print(f"\nCPU s: the median CPU time of a case's timed runs, every thread and child process. "
          f"others: the median share of all cores that other processes used during a case's kept runs. {reruns} "
          f"repeat(s) for the {runs} runs kept: a run is repeated when other processes used more than {busy_limit:.0%} "
          f"of the cores during it (at most {RERUNS} times, the quietest kept).")
    for key in ("qgis", "qgis_small"):
        if key in cases and cases[key].layout:
            print(f"\n{cases[key].label}: it takes no creation options and writes {cases[key].layout}.")
            break
    if checks:
        print("\nOutputs checked (first round):")
        for key, peer, ok, text in checks:
            print(f"  {'same' if ok else 'DIFFERENT'}: {cases[key].label} vs {cases[peer].label}: {text}")
    for case in cases.values():
        for failure in dict.fromkeys(case.failures):  # each message once
            print(f"\nFAILED: {case.label}: {failure}")

    r = Report(cases)
    t, small = r.t, small_size(size)
    r.line(f"1. NDVI {size}²: Offload ÷ I/O floor", ("offload", "floor"), lambda: t("offload") / t("floor"), "×",
           ("≤", 1.3))
    r.line(f"1. NDVI {size}²: qgis:rastercalculator ÷ Offload", ("offload", "qgis"),
           lambda: t("qgis") / t("offload"), "×", ("≥", 5))
    r.line(f"1. NDVI {size}²: gdal:rastercalculator (tiled 256) ÷ Offload", ("offload", "gdal"),
           lambda: t("gdal") / t("offload"), "×", ("≥", 3))
    r.line(f"1. NDVI: Offload's peak added memory at {size}²", ("offload", "floor"),  # with the raster group only
           lambda: cases["offload"].peak_mb(), " MB", ("<", 300), 0)
    r.line(f"1. NDVI: Offload's peak added memory at {2 * size}²", ("offload_big",),
           lambda: cases["offload_big"].peak_mb(), " MB", ("<", 300), 0)
    r.line(f"2. slope(A) {size}²: gdal:slope ÷ Offload", ("offload_slope", "gdal_slope"),
           lambda: t("gdal_slope") / t("offload_slope"), "×", ("≥", 2))
    r.line(f"3. NDVI {size}², default output, random inputs: gdal defaults ÷ Offload default",
           ("offload_default", "gdal_default"), lambda: t("gdal_default") / t("offload_default"), "×", ("≥", 2))
    r.line(f"3. NDVI {size}², default output, smooth fields: gdal defaults ÷ Offload default",
           ("offload_fields", "gdal_fields"), lambda: t("gdal_fields") / t("offload_fields"), "×", ("≥", 2))
    r.line(f"3. NDVI {size}², default output, random inputs: file ÷ uncompressed file",
           ("offload_default", "offload"), lambda: cases["offload_default"].size_bytes / cases["offload"].size_bytes, "×", ("≤", 1.0))
    r.line(f"3. NDVI {size}², default output, random inputs: time ÷ uncompressed time (≈ 1)",
           ("offload_default", "offload"), lambda: t("offload_default") / t("offload"), "×", ("≤", 1.1))
    for key, what in (("offload_fields", "NDVI of smooth fields"), ("offload_dem", "the demo's terrain (DEM)"),
                      ("offload_dem_slope", "slope of the DEM")):
        r.line(f"3. {size}², default output, {what}: file ÷ raw pixel bytes", (key,),
               lambda k=key: cases[k].size_bytes / raw_bytes(cases[k].output), "×", ("≤", 0.7))
    r.line(f"4. NDVI {small}²: Offload − I/O floor", ("offload_small", "floor_small"),
           lambda: (t("offload_small") - t("floor_small")) * 1000, " ms", ("≤", 50), 0)
    r.line(f"4. NDVI {small}²: qgis:rastercalculator ÷ Offload", ("offload_small", "qgis_small"),
           lambda: t("qgis_small") / t("offload_small"), "×", ("≥", 1.5))
    r.line(f"4. NDVI {small}², Processing loaded without its plugin (a script, no numpy yet): "
           "qgis:rastercalculator ÷ Offload", ("offload_small_script", "qgis_small_script"),
           lambda: t("qgis_small_script") / t("offload_small_script"), "×", None)
    r.line(f"4. NDVI {small}², QGIS idle {IDLE_SECONDS:g} s before the run (the warm-up done): "
           "qgis:rastercalculator ÷ Offload", ("offload_small_idle", "qgis_small_idle"),
           lambda: t("qgis_small_idle") / t("offload_small_idle"), "×", ("≥", 1.5))
    for name, what, per_count, _distance, _segments in BUFFER_LAYERS:
        r.line(f"5. buffer, {what.format(n=int(count * per_count))}: native ÷ Offload",
               (f"native_{name}", f"offload_{name}"), lambda n=name: t(f"native_{n}") / t(f"offload_{n}"), "×",
               ("≥", 1.8))
    r.line("6. CLI start-up: interpreter start to first pixel (python -m offload calc, one 256² window)",
           ("startup",), lambda: t("startup"), " s", None)
    if r.rows:
        print("\n| line (issue 12) | figure | target | |\n|---|---|---|---|")
        for what, figure, target, verdict in r.rows:
            print(f"| {what} | {figure} | {target} | {verdict} |")


def raw_bytes(path: Path) -> int:
    from osgeo import gdal

    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    return dataset.RasterXSize * dataset.RasterYSize * dataset.RasterCount * gdal.GetDataTypeSize(band.DataType) // 8


def compile_offload() -> None:
    """Byte-compile Offload's modules, as an installed plugin has them after its first load."""
    import compileall
    import re

    from offload import __file__ as package_init

    compileall.compile_dir(str(Path(package_init).resolve().parent), quiet=1, rx=re.compile(r"[/\\]\.venv[/\\]"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=GROUPS, help="run only this group (repeatable)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every tool, round-robin (medians reported)")
    parser.add_argument("--size", type=int, default=8192, help="raster side (the memory line also runs twice it)")
    parser.add_argument("--count", type=int, default=100_000, help="polygons per buffer layer (lines: a fifth)")
    parser.add_argument("--keep", action="store_true", help=f"keep the inputs in {CACHE} for later runs (which "
                                                            "use it while it exists; delete it to start afresh)")
    parser.add_argument("--busy-limit", type=float, default=BUSY_LIMIT,
                        help="repeat a run during which other processes used more than this share of the cores "
                             f"(default {BUSY_LIMIT:g}; 1 never repeats)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child: one timed run
    args = parser.parse_args()
    if args.one:
        print(RESULT_MARK + json.dumps(child(json.loads(args.one))), flush=True)
        os._exit(0)  # the figure is out: skip QGIS's teardown, which crashes with Processing loaded
    groups = [g for g in GROUPS if g in (args.only or GROUPS)]
    data = CACHE if args.keep or CACHE.exists() else Path(tempfile.mkdtemp(prefix="offload-bench-inqgis-data-"))
    data.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="offload-bench-inqgis-out-"))
    began, load = time.perf_counter(), os.getloadavg()
    compile_offload()
    try:
        cases, pairs = build_cases(groups, args, data, out)
        checks = []
        for round_number in range(1, args.rounds + 1):
            # Every other round runs the cases backwards: no case always follows the same one.
            for case in list(cases.values())[::1 if round_number % 2 else -1]:
                if round_number > 1 and not case.every_round:
                    continue
                try:
                    result = measure(case, args.busy_limit)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:  # the other tools still get measured
                    case.failures.append(str(exc).strip().splitlines()[-1])
                    print(f"[{time.perf_counter() - began:5.0f} s] round {round_number}/{args.rounds}  "
                          f"{case.label}: FAILED\n{exc}", file=sys.stderr, flush=True)
                    continue
                case.results.append(result)
                if case.size_bytes is None and case.output is not None and case.output.exists():
                    case.size_bytes = case.output.stat().st_size
                    if case.output.suffix == ".tif":
                        case.layout = describe_raster(case.output)
                added = f"  +{result['added_mb']:.0f} MB" if result.get("added_mb") is not None else ""
                if result.get("others_share") is not None:
                    added += f"  CPU {result['cpu_s']:.2f} s  others {result['others_share']:.0%}"
                print(f"[{time.perf_counter() - began:5.0f} s] round {round_number}/{args.rounds}  {case.label:<62} "
                      f"{result['seconds']:7.3f} s{added}", file=sys.stderr, flush=True)
            if round_number == 1:
                for key, peer, tolerance in pairs:
                    if not (cases[key].results and cases[peer].results):
                        continue  # a run failed: the table says so
                    ok, text = (compare_vectors(cases[key].output, cases[peer].output) if tolerance is None else
                                compare_rasters(cases[key].output, cases[peer].output, tolerance))
                    checks.append((key, peer, ok, text))
                    print(f"check: {cases[key].label} vs {cases[peer].label}: {text}", file=sys.stderr, flush=True)
        report(cases, checks, args.rounds, args.size, args.count, args.busy_limit)
        print(f"\n(whole run {time.perf_counter() - began:.0f} s, inputs in {data}; load average at the start "
              f"{load[0]:.1f}, at the end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores)")
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if data != CACHE:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
