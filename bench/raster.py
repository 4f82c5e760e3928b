"""Raster calculator benchmark: Offload vs gdal_calc.py, QgsRasterCalculator and gdaldem.

Run: ``make bench-raster`` (``python bench/raster.py [--size 8192] [--big 16384] [--keep DIR]``).
Every tool runs in its own process on the same inputs (two Float32 rasters, tiled 256, with
nodata) with the same output options; the table gives wall time, that process's peak RSS,
Mpixel/s and ratios measured in this one run. Timings on a shared machine are noisy: compare
the ratios, and rerun for medians.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from osgeo import gdal, osr

TILED = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
NODATA = -9999.0

QGIS_CALC = r"""
import sys
from qgis.core import QgsApplication, QgsRasterLayer
from qgis.analysis import QgsRasterCalculator, QgsRasterCalculatorEntry
app = QgsApplication([], False); app.initQgis()
entries, layers = [], []
for name, path in (("A", sys.argv[1]), ("B", sys.argv[2])):
    layer = QgsRasterLayer(path, name)
    layers.append(layer)  # the entries do not keep their layers alive
    entry = QgsRasterCalculatorEntry(); entry.ref = f"{name}@1"; entry.raster = layer; entry.bandNumber = 1
    entries.append(entry)
calc = QgsRasterCalculator('("A@1" - "B@1") / ("A@1" + "B@1")', sys.argv[3], "GTiff",
                           entries[0].raster.extent(), entries[0].raster.width(), entries[0].raster.height(), entries)
sys.exit(calc.processCalculation())
"""


# Offload's engine in a process that is already up, as inside QGIS: no QGIS start-up, GDAL's
# cache left at its default. Prints the engine's own seconds.
ENGINE = r"""
import sys, time
from pathlib import Path
from offload.core.control import Control
from offload.raster_tasks.calc import run_calc, validate_calc_request
from offload.raster_tasks.request import CalcRequest, parse_input
expr, out, *inputs = sys.argv[1:]
plan = validate_calc_request(CalcRequest((expr,), tuple(map(parse_input, inputs)), Path(out), overwrite=True,
                                         creation_options=("COMPRESS=NONE",)))
started = time.perf_counter()
run_calc(plan, Path(out), Control())
print(time.perf_counter() - started)
"""


def make_input(path: Path, size: int, seed: int) -> None:
    """A Float32 raster, tiled 256, with a smooth surface, noise and nodata holes."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Float32, TILED)
    dataset.SetGeoTransform((500_000.0, 10.0, 0.0, 6_000_000.0, 0.0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    rng = np.random.default_rng(seed)
    cols = np.arange(size, dtype=np.float32)
    for row in range(0, size, 256):
        rows = np.arange(row, min(row + 256, size), dtype=np.float32)[:, None]
        values = 500 + 300 * np.sin(rows / 700.0) * np.cos(cols / 900.0) + rng.random((len(rows), size), np.float32) * 20
        values[rng.random(values.shape) < 0.01] = NODATA
        band.WriteArray(values.astype(np.float32), 0, row)
    dataset = None


# A small process runs each command, so the peak RSS it reads is the command's own: a child
# forked straight from this (large) process would count this process's pages too.
MEASURE = r"""
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - started
if done.returncode:
    sys.stderr.write(done.stderr.decode()[-2000:])
    sys.exit(done.returncode)
own = done.stdout.decode().split()[-1:] if sys.argv[1].endswith("python3") and "-c" in sys.argv[2:3] else []
print(*own, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0)
"""


def run(command: List[str], env: Optional[Dict[str, str]] = None) -> Tuple[float, float]:
    """Run ``command``; return (wall seconds, peak RSS MB of that process)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… failed: {done.stderr[-2000:]}")
    *engine_seconds, seconds, rss_mb = done.stdout.split()
    return float(engine_seconds[-1] if engine_seconds else seconds), float(rss_mb)


def offload(expr: str, inputs: List[str], out: Path, options: List[str]) -> List[str]:
    command = [sys.executable, "-m", "offload", "calc", "--expr", expr, "--output", str(out), "--overwrite"]
    for binding in inputs:
        command += ["--input", binding]
    for option in options:
        command += ["--co", option]
    return command


def gdal_calc(a: Path, b: Path, out: Path, options: List[str]) -> List[str]:
    command = [sys.executable, shutil.which("gdal_calc.py") or "/usr/bin/gdal_calc.py", "-A", str(a), "-B", str(b),
               "--calc=(A-B)/(A+B)", f"--outfile={out}", "--overwrite", "--quiet", "--type=Float32"]
    return command + [f"--co={o}" for o in options]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--big", type=int, default=16384, help="size for the peak-RSS run (0 to skip)")
    parser.add_argument("--keep", type=Path, help="folder to keep inputs in between runs")
    parser.add_argument("--runs", type=int, default=3, help="rounds of every case (medians are reported: "
                                                             "the same case moves by up to 2x between runs here)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="offload-bench-raster-"))
    work.mkdir(parents=True, exist_ok=True)
    a, b = work / f"a{args.size}.tif", work / f"b{args.size}.tif"
    for path, seed in ((a, 1), (b, 2)):
        if not path.exists():
            make_input(path, args.size, seed)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cache64 = dict(env, GDAL_CACHEMAX="64")
    mpix = args.size * args.size / 1e6
    ndvi = "(A-B)/(A+B)"
    samples: Dict[Tuple[str, str], List[Tuple[float, float]]] = {}  # (group, label) -> [(seconds, rss)], in order

    def case(label: str, command: List[str], group: str, run_env=None) -> None:
        seconds, rss = run(command, run_env or env)
        samples.setdefault((group, label), []).append((seconds, rss))
        print(f"  {group:<12} {label:<48} {seconds:7.2f} s {rss:7.0f} MB", file=sys.stderr)

    plain = TILED + ["COMPRESS=NONE"]
    deflate = TILED + ["COMPRESS=DEFLATE", "PREDICTOR=3"]
    for round_number in range(1, args.runs + 1):  # every case once per round: slow spells hit all of them
        print(f"round {round_number} of {args.runs}", file=sys.stderr)
        case("I/O floor: gdal_translate block copy (cache 64 MB)",
             ["gdal_translate", "-q", *sum((["-co", o] for o in plain), []), str(a), str(work / "copy.tif")],
             "uncompressed", cache64)
        case("Offload calc", offload(ndvi, [f"A={a}", f"B={b}"], work / "o1.tif", ["COMPRESS=NONE"]), "uncompressed")
        case("Offload engine in-process (as in QGIS)",
             [sys.executable, "-c", ENGINE, ndvi, str(work / "e1.tif"), f"A={a}", f"B={b}"], "uncompressed")
        case("gdal_calc.py (as users run it)", gdal_calc(a, b, work / "g1.tif", plain), "uncompressed")
        case("gdal_calc.py GDAL_CACHEMAX=64", gdal_calc(a, b, work / "g2.tif", plain), "uncompressed", cache64)
        case("QgsRasterCalculator", [sys.executable, "-c", QGIS_CALC, str(a), str(b), str(work / "q1.tif")],
             "uncompressed")
        case("Offload calc (DEFLATE, predictor 3)", offload(ndvi, [f"A={a}", f"B={b}"], work / "o2.tif", []), "deflate")
        case("gdal_calc.py (DEFLATE)", gdal_calc(a, b, work / "g3.tif", deflate), "deflate")
        case("gdal_calc.py (DEFLATE, NUM_THREADS=ALL_CPUS)",
             gdal_calc(a, b, work / "g4.tif", deflate + ["NUM_THREADS=ALL_CPUS"]), "deflate")
        case("Offload slope(A)", offload("slope(A)", [f"A={a}"], work / "o3.tif", ["COMPRESS=NONE"]), "slope")
        case("Offload slope engine in-process (as in QGIS)",
             [sys.executable, "-c", ENGINE, "slope(A)", str(work / "e3.tif"), f"A={a}"], "slope")
        case("gdaldem slope",
             ["gdaldem", "slope", "-q", *sum((["-co", o] for o in plain), []), str(a), str(work / "d1.tif")], "slope")
    if args.big:
        big_a, big_b = work / f"a{args.big}.tif", work / f"b{args.big}.tif"
        for path, seed in ((big_a, 3), (big_b, 4)):
            if not path.exists():
                make_input(path, args.big, seed)
        case(f"Offload calc on {args.big}² (peak RSS)", offload(ndvi, [f"A={big_a}", f"B={big_b}"], work / "o4.tif",
                                                                  ["COMPRESS=NONE"]), "big")
    rows = [(group, label, statistics.median(t for t, _ in runs), max(r for _, r in runs))
            for (group, label), runs in samples.items()]
    report(rows, mpix, args.runs)
    if not args.keep:
        shutil.rmtree(work)


def report(rows, mpix: float, runs: int) -> None:
    times = {label: seconds for _, label, seconds, _ in rows}
    print(f"\nMedians of {runs} rounds (peak RSS: the largest):")
    print(f"\n{'case':<62} {'wall s':>7} {'peak MB':>8} {'Mpx/s':>7}")
    for group, label, seconds, rss in rows:
        print(f"{group + ': ' + label:<62} {seconds:7.2f} {rss:8.0f} {mpix / seconds:7.1f}")
    ours, ours_deflate = times["Offload calc"], times["Offload calc (DEFLATE, predictor 3)"]
    ratios = [
        ("gdal_calc.py as users run it ÷ Offload (target ≥ 3)", times["gdal_calc.py (as users run it)"] / ours),
        ("gdal_calc.py with 64 MB cache ÷ Offload (target ≥ 1.5)", times["gdal_calc.py GDAL_CACHEMAX=64"] / ours),
        ("QgsRasterCalculator ÷ Offload (target ≥ 5)", times["QgsRasterCalculator"] / ours),
        ("Offload ÷ I/O floor (target ≤ 1.3)", ours / times["I/O floor: gdal_translate block copy (cache 64 MB)"]),
        ("DEFLATE: gdal_calc.py ÷ Offload (target ≥ 2)", times["gdal_calc.py (DEFLATE)"] / ours_deflate),
        ("DEFLATE: gdal_calc.py threaded ÷ Offload (target ≥ 1.4)",
         times["gdal_calc.py (DEFLATE, NUM_THREADS=ALL_CPUS)"] / ours_deflate),
        ("gdaldem slope ÷ Offload slope (target ≥ 1.5)", times["gdaldem slope"] / times["Offload slope(A)"]),
        ("in QGIS: gdal_calc.py 64 MB ÷ Offload engine", times["gdal_calc.py GDAL_CACHEMAX=64"]
         / times["Offload engine in-process (as in QGIS)"]),
        ("in QGIS: Offload engine ÷ I/O floor", times["Offload engine in-process (as in QGIS)"]
         / times["I/O floor: gdal_translate block copy (cache 64 MB)"]),
        ("in QGIS: gdaldem slope ÷ Offload slope engine", times["gdaldem slope"]
         / times["Offload slope engine in-process (as in QGIS)"]),
    ]
    print()
    for label, value in ratios:
        print(f"{label:<62} {value:7.2f}")
    peaks = [rss for group, label, _, rss in rows if label.startswith("Offload")]
    print(f"{'Offload peak RSS, all runs (target < 300 MB)':<62} {max(peaks):7.0f} MB")


if __name__ == "__main__":
    main()
