"""Where a small ``offload:calc`` spends its time, beside ``qgis:rastercalculator`` (issue 12, line 4).

Run: ``python bench/small_breakdown.py [--rounds 5] [--size 1024] [--idle]``. Each measurement is a fresh
process set up as ``bench/inqgis.py``'s (QGIS, Processing, Offload's provider, the inputs as
layers; untimed), then:
- ``qgis``: one ``processing.run("qgis:rastercalculator")``, timed;
- ``offload``: the imports the first ``offload:calc`` pays (numpy, osgeo.gdal_array, the engine's
  modules), each timed, then one ``processing.run("offload:calc")`` timed in its parts:
  Processing's context, ``checkParameterValues`` (the one validation: the run reuses its plan),
  ``run_calc``, and the rest (parameters, the atomic output). The sum of the imports and the run
  is what ``make bench-inqgis`` measures as one run. The run's minor page faults (the calling
  thread's) are counted too: in a fresh process they are most of what a first run pays over a warm one.
With ``--idle``, QGIS idles ``inqgis.IDLE_SECONDS`` before the run (the raster engine's warm-up
has imported its modules then, so the imports cost nothing left). Medians of the rounds, in milliseconds.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import inqgis

FAULTS = "page faults"  # minor faults of the calling thread: a first run's fresh memory, page by page
IMPORTS = ("numpy", "osgeo.gdal_array", "offload.raster_tasks.calc")
PARTS = (  # (module, attribute): timed where the run calls them
    ("processing.tools.dataobjects", "createContext"),
    ("offload.core.algorithm", "OffloadAlgorithm.checkParameterValues"),
    ("offload.raster_tasks.calc", "run_calc"),
)


def timed(owner, name: str, into: Dict[str, float]) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into[name] = into.get(name, 0.0) + (time.perf_counter() - started) * 1000

    setattr(owner, name, wrapper)


def child(spec: Dict) -> Dict[str, float]:
    sys.path.remove(str(Path(__file__).resolve().parent))
    for path in spec["warm"]:
        Path(path).read_bytes()
    processing, params = inqgis.start_qgis(spec)
    if spec.get("idle"):
        inqgis.idle(spec["idle"])
    figures: Dict[str, float] = {}
    if spec["alg"] == "offload:calc":
        for module in IMPORTS:
            started = time.perf_counter()
            importlib.import_module(module)
            figures[f"import {module}"] = (time.perf_counter() - started) * 1000
        for module, attribute in PARTS:
            owner = importlib.import_module(module)
            *classes, name = attribute.split(".")
            for cls in classes:
                owner = getattr(owner, cls)
            timed(owner, name, figures)
    faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    started = time.perf_counter()
    processing.run(spec["alg"], params)
    figures["processing.run"] = (time.perf_counter() - started) * 1000
    figures[FAULTS] = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--idle", action="store_true", help="QGIS idles before the run (the warm-up done)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(inqgis.RESULT_MARK + json.dumps(child(json.loads(args.one))), flush=True)
        os._exit(0)  # as bench/inqgis.py: QGIS's teardown crashes with Processing loaded
    import data as inputs

    inqgis.compile_offload()

    folder = inqgis.CACHE if inqgis.CACHE.exists() else Path(tempfile.mkdtemp(prefix="offload-breakdown-"))
    out = Path(tempfile.mkdtemp(prefix="offload-breakdown-out-"))
    a, b = inputs.random_pair(folder, args.size)
    pair = {"a": a, "b": b}
    cases = {"offload": inqgis.offload_calc("offload", "", inqgis.NDVI_NUMPY, pair, out / "offload.tif",
                                            inqgis.OFFLOAD_PLAIN).spec,
             "qgis": inqgis.qgis_calc("qgis", "", pair, out / "qgis.tif").spec}
    if args.idle:
        cases = {key: dict(spec, idle=inqgis.IDLE_SECONDS) for key, spec in cases.items()}
    results: Dict[str, List[Dict[str, float]]] = {key: [] for key in cases}
    for _ in range(args.rounds):
        for key, spec in cases.items():
            inqgis.remove(Path(spec["output"]))
            done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True,
                                  text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=600)
            marked = [line for line in done.stdout.splitlines() if line.startswith(inqgis.RESULT_MARK)]
            if not marked:
                raise SystemExit(f"{key} failed:\n{done.stderr[-2000:]}")
            results[key].append(json.loads(marked[-1][len(inqgis.RESULT_MARK):]))

    def median(key: str, part: str) -> float:
        return statistics.median(r.get(part, 0.0) for r in results[key])

    ours = {part: median("offload", part) for part in results["offload"][0]}
    run, faults = ours.pop("processing.run"), ours.pop(FAULTS)
    imports = sum(v for k, v in ours.items() if k.startswith("import "))
    rest = run - sum(v for k, v in ours.items() if not k.startswith("import "))
    qgis = median("qgis", "processing.run")
    print(f"NDVI {args.size}², medians of {args.rounds} fresh processes (ms):\n")
    print(f"{'qgis:rastercalculator: processing.run':62} {qgis:7.1f}")
    for part, value in ours.items():
        print(f"{'offload:calc: ' + part:62} {value:7.1f}")
    print(f"{'offload:calc: rest of processing.run (parameters, output)':62} {rest:7.1f}")
    print(f"{'offload:calc: processing.run, imports done':62} {run:7.1f}")
    print(f"{'offload:calc: first processing.run (imports + run)':62} {imports + run:7.1f}")
    print(f"{'offload:calc: minor page faults in processing.run (count)':62} {faults:7.0f}   "
          f"(qgis:rastercalculator: {median('qgis', FAULTS):.0f})")
    print(f"\nqgis ÷ Offload: {qgis / (imports + run):.2f}× as the benchmark measures it; {qgis / run:.2f}× with "
          f"the imports done before the run. 1.5× needs Offload ≤ {qgis / 1.5:.1f} ms; numpy's import alone takes "
          f"{ours['import numpy']:.1f} ms and Processing's context {ours['createContext']:.1f} ms.")


if __name__ == "__main__":
    main()
