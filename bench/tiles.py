"""Tile download speed in QGIS on imagery-like tiles (issue 13, item 2): Offload against a bare pool and GDAL.

Run: ``make bench-tiles`` (``python bench/tiles.py [--rounds 3] [--tiles 1024] [--big 16384]
[--latency-ms 30] [--only KIND|FORMAT|speed|memory]… [--workers 8|16]… [--base CHECKOUT]``).

An A/B of two versions of Offload: ``--base /path/to/other/checkout`` runs each Offload case a
second time with that checkout's ``offload`` package (first on the child's ``PYTHONPATH``), right
after this one's in every round, and prints each case's speed and CPU against the base's. E.g.
the mosaic lines alone: ``--only png --only GTiff --only COG --only speed --workers 16 --base …``.

Tiles (bench/tiles_data.py, kept in /tmp/offload-bench-tiles-data between runs): noisy RGB PNG
of ~20 KB and JPEG of ~25 KB, each tile distinct, served from a folder by the project's
``TileServer`` (in this process, 127.0.0.1) with ``--latency-ms`` per answer; ``--tiles`` of
one zoom (a square block).

Each timed run is a fresh process. Offload: QGIS, Processing, Offload's provider and its tile
engine's modules (requests, numpy: ~0.1 s) are loaded untimed, then ONE
``processing.run("offload:tiles", …)`` is timed, with an empty cache folder of its own (kept to
the end of the bench: see run_case). GDAL: the WMS driver (TMS ``<GDAL_WMS>``,
``MaxConnections``, no cache) copied by ``gdal.Translate`` into an uncompressed tiled 3-band
GeoTIFF of the same area, in the same kind of process; for the COG, also into a COG doing the
work Offload's COG does (``GDAL_COG_OPTIONS``: the same format, as issue 13 words the line; its
output checked like Offload's, and no tile fetched twice). The COG is given against both. The reference: a bare ``requests`` pool
(one session per worker thread, bodies read and dropped; a plain Python process), the most a
Python client gets; the ceiling is workers ÷ latency. Cases run round-robin; medians of ``--rounds``. Outputs of the first round are checked against the served
tiles (bench/tiles_check.py). Memory: one run per format of ``--big`` tiles (no latency, so the
download outruns the writer if anything does), peak RSS the run added to its process.

Formats other than GTiff are measured when ``offload:tiles`` has a FORMAT parameter offering them
(asked at run time); otherwise their lines say "not available yet". The default run takes
~12 minutes on 2 cores, ~4 of them the memory runs (``--big 0`` leaves them out).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

PLUGINS = "/usr/share/qgis/python/plugins"
DATA = Path(tempfile.gettempdir()) / "offload-bench-tiles-data"
RESULT_MARK = "TILES-RESULT "
ZOOM = 14
LON_LAT = (7.0, 46.0)  # the block's top-left corner
WORKERS = (8, 16)
FORMATS = ("GTiff", "COG", "GPKG", "MBTiles")
FORMAT_LABEL = {"GTiff": r"gtiff|geotiff mosaic|^geotiff", "COG": r"\bcog\b|cloud", "GPKG": r"gpkg|geopackage",
                "MBTiles": r"mbtiles"}  # how the FORMAT enum's options name each (matched case-insensitively)
SUFFIX = {"GTiff": ".tif", "COG": ".tif", "GPKG": ".gpkg", "MBTiles": ".mbtiles"}
KIND_NAMES = {"png": "noisy PNG ~20 KB", "jpeg": "JPEG ~25 KB"}
MEMORY_KIND = "png"
MEMORY_LIMIT_MB = 250.0
TARGETS_OF_POOL = {("GPKG", 8): 0.95, ("GPKG", 16): 0.95, ("MBTiles", 8): 0.95, ("MBTiles", 16): 0.95,
                   ("GTiff", 8): 0.90, ("COG", 8): 0.90}
OVERVIEW_LEVELS = 4  # the memory run of a GeoTIFF with overviews: zooms ZOOM-4..ZOOM
OVERVIEWS_KEY = ("memory", MEMORY_KIND, "GTiff", 16, "overviews")
TARGET_OVER_GDAL = 1.5  # GTiff/COG at 16 workers ÷ GDAL's WMS driver at 16 connections
# GDAL writing the COG itself (issue 13: "GDAL's WMS driver ... writing the same format"), doing
# Offload's COG's work: its codec (ZSTD 1), its overviews (AVERAGE, built from the finest zoom, not
# fetched from the pyramid's coarser zooms: the WMS dataset's own overviews ignored), its block
# size, and GDAL's compression on every core. GDAL's defaults would be slower (LZW, CUBIC).
GDAL_COG_OPTIONS = ("COMPRESS=ZSTD", "LEVEL=1", "BLOCKSIZE=256", "OVERVIEW_RESAMPLING=AVERAGE",
                    "OVERVIEWS=IGNORE_EXISTING", "NUM_THREADS=ALL_CPUS")


# ---------------------------------------------------------------------------------------------
# The child: one timed run in a fresh process.

def child(spec: Dict[str, Any]) -> Dict[str, Any]:
    import resource

    from peak_memory import PeakMemory

    sys.path.remove(str(Path(__file__).resolve().parent))  # bench/tiles.py is no module of QGIS's
    kind = spec["kind"]
    if kind == "pool":
        return bare_pool(spec)
    sys.path.append(PLUGINS)
    from offload.core.runner import headless_app

    headless_app(full=True)
    from qgis.core import QgsApplication

    from osgeo import gdal
    from processing.core.Processing import Processing

    Processing.initialize()
    import processing
    from offload.provider import OffloadProvider

    provider = OffloadProvider()  # kept referenced: the registry does not keep the Python object alive
    assert QgsApplication.processingRegistry().addProvider(provider)
    if kind == "formats":
        return {"formats": offered_formats(QgsApplication.processingRegistry().algorithmById("offload:tiles"))}
    if kind == "offload":  # start-up, untimed as the pool's `import requests` is: ~0.1 s, once per QGIS session
        import offload.net_tasks.tile_download  # noqa: F401  (the provider imports its engine at the first run)
    if kind in ("gdal", "gdal-cog"):
        gdal.SetConfigOption("GDAL_ENABLE_WMS_CACHE", "NO")
        xml = Path(spec["output"]).with_suffix(".xml")
        xml.write_text(gdal_wms_xml(spec["template"], spec["workers"]))
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    with PeakMemory() as peak:
        started = time.perf_counter()
        if kind == "gdal":
            done = gdal.Translate(spec["output"], str(xml), srcWin=spec["src_win"], creationOptions=["TILED=YES"])
            done = None  # closed: on disk before the clock stops
        elif kind == "gdal-cog":
            done = gdal.Translate(spec["output"], str(xml), srcWin=spec["src_win"], format="COG",
                                  creationOptions=list(GDAL_COG_OPTIONS))
            done = None
        else:
            processing.run("offload:tiles", spec["params"])  # as a user types it in the console
        seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "added_mb": peak.added_mb,
            "cpu_s": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime}


def bare_pool(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The reference: ``workers`` threads, a ``requests`` session each, every body read and dropped."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    local = threading.local()

    def get(url: str) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.get(url, timeout=30)
        response.raise_for_status()
        return len(response.content)

    with ThreadPoolExecutor(spec["workers"]) as warm:  # threads started untimed, as Offload's imports are
        list(warm.map(lambda _: None, range(spec["workers"])))
        started = time.perf_counter()
        cpu = time.process_time()
        sizes = list(warm.map(get, spec["urls"]))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "bytes": sum(sizes)}


def offered_formats(algorithm) -> Dict[str, int]:
    """Format name -> index of the FORMAT enum of ``offload:tiles`` ({} when it has none)."""
    parameter = algorithm.parameterDefinition("FORMAT")
    if parameter is None:
        return {}
    options = list(parameter.options())
    offered = {}
    for name, pattern in FORMAT_LABEL.items():
        for index, label in enumerate(options):
            if label == name or re.search(pattern, label, re.IGNORECASE):
                offered.setdefault(name, index)
                break
    return offered


def gdal_wms_xml(template: str, workers: int) -> str:
    from offload.net_tasks.tiles import ORIGIN_M

    url = template.replace("{z}", "${z}").replace("{x}", "${x}").replace("{y}", "${y}")
    return (f"<GDAL_WMS><Service name='TMS'><ServerUrl>{url}</ServerUrl></Service><DataWindow>"
            f"<UpperLeftX>{-ORIGIN_M}</UpperLeftX><UpperLeftY>{ORIGIN_M}</UpperLeftY>"
            f"<LowerRightX>{ORIGIN_M}</LowerRightX><LowerRightY>{-ORIGIN_M}</LowerRightY>"
            f"<TileLevel>{ZOOM}</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin>"
            f"</DataWindow><Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>"
            f"<BandsCount>3</BandsCount><MaxConnections>{workers}</MaxConnections></GDAL_WMS>")


# ---------------------------------------------------------------------------------------------
# The parent: the tiles, the cases, the rounds, the checks and the table.

@dataclass
class Block:
    """A square block of tiles of one kind, served from ``folder``."""
    kind: str
    folder: Path
    first: Any  # Tile
    side: int

    @property
    def count(self) -> int:
        return self.side * self.side

    def extent(self) -> str:
        """The block's extent as Processing takes it, 1 m inside so exactly its tiles are touched."""
        from offload.net_tasks.tiles import Tile, tile_bounds

        x_min, _, _, y_max = tile_bounds(self.first)
        _, y_min, x_max, _ = tile_bounds(Tile(self.first.x + self.side - 1, self.first.y + self.side - 1, ZOOM))
        return f"{x_min + 1},{x_max - 1},{y_min + 1},{y_max - 1} [EPSG:3857]"

    def template(self, base_url: str) -> str:
        from tiles_data import KINDS

        return f"{base_url}/{{z}}/{{x}}/{{y}}.{KINDS[self.kind]}"

    def urls(self, base_url: str) -> List[str]:
        return [self.template(base_url).format(z=ZOOM, x=self.first.x + dx, y=self.first.y + dy)
                for dy in range(self.side) for dx in range(self.side)]


@dataclass
class Case:
    key: Tuple  # (what, kind, flavour, workers): what in pool / offload / gdal / memory
    label: str
    block: Block
    workers: int
    flavour: str = ""  # a format name, or GDAL's
    latency_ms: float = 30.0
    every_round: bool = True
    min_zoom: Optional[int] = None  # a zoom range: a GeoTIFF then builds overviews
    results: List[Dict[str, Any]] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    check: Optional[Tuple[bool, str]] = None
    size_bytes: Optional[int] = None
    codec: str = ""  # a GeoTIFF's compression, as GDAL reports it
    base_path: Optional[Path] = None  # a folder holding an "offload" link to the --base checkout (what: base)

    def median(self, what: str = "seconds") -> float:
        return statistics.median(r[what] for r in self.results) if self.results else float("nan")

    def tiles_s(self) -> float:
        return self.block.count / self.median()


def tile_server(folder: Path, latency_ms: float):
    """The project's ``TileServer`` with a listen backlog for 16 clients connecting at once.

    Its default (socketserver's 5) drops the SYNs of a burst of new connections, each then
    retried by the kernel a second later: GDAL's WMS driver, which opens 16 at once for every
    batch, ran at ~13 tiles/s instead of ~450."""
    from offload.demo.tile_server import Faults, TileServer

    class BenchServer(TileServer):
        request_queue_size = 128

    return BenchServer(str(folder), Faults(latency_ms=latency_ms))


def run_case(case: Case, work: Path, formats: Dict[str, int]) -> Dict[str, Any]:

    output = work / f"{'-'.join(str(k) for k in case.key)}{SUFFIX.get(case.flavour, '.tif')}"
    # A new (empty) cache folder per run, as a first download has; all removed with ``work`` at the end.
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    for stale in (output, Path(f"{output}.aux.xml")):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDAL_ENABLE_WMS_CACHE="NO")
    if case.base_path is not None:  # the other checkout's offload package ahead of this one's
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(case.base_path), env.get("PYTHONPATH"))))
    with tile_server(case.block.folder, case.latency_ms) as server:
        template = case.block.template(server.base_url)
        what = case.key[0]
        if what == "pool":
            spec = {"kind": "pool", "workers": case.workers, "urls": case.block.urls(server.base_url)}
        elif what == "gdal":
            first, side = case.block.first, case.block.side
            spec = {"kind": "gdal-cog" if case.flavour == "GDAL-COG" else "gdal", "template": template, "workers": case.workers, "output": str(output),
                    "src_win": [first.x * 256, first.y * 256, side * 256, side * 256]}
        else:
            params = {"URL": template, "EXTENT": case.block.extent(), "ZOOM": ZOOM, "WORKERS": case.workers,
                      "MAX_TILES": max(case.block.count, 10_000), "CACHE": str(cache), "OUTPUT": str(output)}
            if formats:
                params["FORMAT"] = formats[case.flavour]
            if case.min_zoom is not None:
                params["MIN_ZOOM"] = case.min_zoom
            spec = {"kind": "offload", "params": params}
        os.sync()  # the previous run's output is on the disk, not still being written behind this one
        done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
                              env=env, timeout=900)
        served = sum(server.requests.values())
    marked = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode or not marked:
        raise RuntimeError(f"{case.label} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(marked[-1][len(RESULT_MARK):])
    result["requests"] = served
    result["output"] = str(output)
    return result


def describe_codec(path: Path) -> str:
    from osgeo import gdal

    dataset = gdal.Open(str(path))
    if dataset is None or dataset.GetDriver().ShortName != "GTiff":
        return ""
    structure = dataset.GetMetadata("IMAGE_STRUCTURE")
    return " ".join(f"{k}={structure[k]}" for k in ("COMPRESSION", "PREDICTOR") if k in structure) or "uncompressed"


def probe_formats() -> Dict[str, int]:
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps({"kind": "formats"})], capture_output=True,
                          text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=300)
    marked = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode or not marked:
        raise RuntimeError(f"offload:tiles could not be loaded:\n{done.stderr[-3000:]}")
    return json.loads(marked[-1][len(RESULT_MARK):])["formats"]


def build_cases(args, blocks: Dict[str, Block], big: Optional[Block], formats: List[str],
                base_path: Optional[Path] = None) -> Dict[Tuple, Case]:
    cases: Dict[Tuple, Case] = {}

    def add(case: Case) -> None:
        cases[case.key] = case

    for kind, block in blocks.items():
        if "speed" not in args.groups:
            break
        name = KIND_NAMES[kind]
        for workers in args.workers:
            add(Case(("pool", kind, "", workers), f"{name}: bare requests pool", block, workers,
                     latency_ms=args.latency_ms))
        for flavour in formats:
            for workers in args.workers:
                add(Case(("offload", kind, flavour, workers), f"{name}: Offload {flavour}", block, workers, flavour,
                         latency_ms=args.latency_ms))
                if base_path is not None:  # right after this checkout's run, in every round
                    add(Case(("base", kind, flavour, workers), f"{name}: Offload {flavour} (--base)", block, workers,
                             flavour, latency_ms=args.latency_ms, base_path=base_path))
        add(Case(("gdal", kind, "GDAL", 16), f"{name}: GDAL WMS driver → GeoTIFF", block, 16, "GDAL",
                 latency_ms=args.latency_ms))
        if "COG" in formats:
            add(Case(("gdal", kind, "GDAL-COG", 16), f"{name}: GDAL WMS driver → COG", block, 16, "GDAL-COG",
                     latency_ms=args.latency_ms))
    if big is not None and "memory" in args.groups:
        for flavour in formats:
            add(Case(("memory", big.kind, flavour, 16), f"{KIND_NAMES[big.kind]}: Offload {flavour}, "
                     f"{big.count:,} tiles, no latency", big, 16, flavour, latency_ms=0.0, every_round=False))
        if "GTiff" in formats:  # overviews pass the whole mosaic through GDAL's block cache again
            add(Case(OVERVIEWS_KEY, f"{KIND_NAMES[big.kind]}: Offload GTiff, zooms {ZOOM - OVERVIEW_LEVELS}-{ZOOM}, "
                     f"{big.count:,} tiles, no latency", big, 16, "GTiff", latency_ms=0.0, every_round=False,
                     min_zoom=ZOOM - OVERVIEW_LEVELS))
    return cases


class Report:
    """The verdict rows: a line is left out when its cases did not run, FAILED when a run failed."""

    def __init__(self, cases: Dict[Tuple, Case]):
        self.cases = cases
        self.rows: List[Tuple[str, str, str, str]] = []  # line, figure, target, verdict

    def line(self, what: str, keys: Tuple, figure, unit: str, target: Optional[Tuple[str, float]],
             digits: int = 2) -> None:
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
        holds = {"≥": value >= bound, "<": value < bound}[op]
        self.rows.append((what, f"{value:.{digits}f}{unit}", target_text, "HOLDS" if holds else "MISSES"))

    def missing(self, what: str, target: str) -> None:
        self.rows.append((what, "not available yet", target, ""))


def report(cases: Dict[Tuple, Case], args, blocks: Dict[str, Block], big: Optional[Block],
           formats: List[str], offered: List[str]) -> None:
    """``formats``: measured in this run; ``offered``: what offload:tiles has (the others: "not available yet")."""
    print(f"\nMedians of {args.rounds} round(s), one run on this machine; latency {args.latency_ms:g} ms per tile; "
          "peak: RSS the run added to its process (largest of the rounds):\n")
    print(f"{'case':<62} {'workers':>7} {'median s':>9} {'tiles/s':>8} {'of ceiling':>10} {'CPU s':>6} "
          f"{'peak MB':>8}  {'each round s':<20}")
    for case in cases.values():
        if not case.results:
            print(f"{case.label:<62} {case.workers:>7}  FAILED: {case.failures[-1] if case.failures else ''}")
            continue
        ceiling = case.workers / (case.latency_ms / 1000.0) if case.latency_ms else float("nan")
        cpu = case.median("cpu_s") if "cpu_s" in case.results[0] else float("nan")
        peak = max(r.get("added_mb") or 0.0 for r in case.results) if "added_mb" in case.results[0] else float("nan")
        each = " ".join(f"{r['seconds']:.2f}" for r in case.results)
        print(f"{case.label:<62} {case.workers:>7} {case.median():9.2f} {case.tiles_s():8.0f} "
              f"{'' if ceiling != ceiling else f'{case.tiles_s() / ceiling:.0%}':>10} "
              f"{'' if cpu != cpu else f'{cpu:.1f}':>6} {'' if peak != peak else f'{peak:.0f}':>8}  {each:<20}")
    print("\nOutputs checked against the served tiles (first round):")
    for case in cases.values():
        if case.check is not None:
            print(f"  {'sane' if case.check[0] else 'WRONG'}: {case.label} ({case.workers} workers): {case.check[1]}")

    r = Report(cases)
    for workers in args.workers if blocks and "speed" in args.groups else ():
        print(f"ceiling at {workers} workers: {workers} ÷ {args.latency_ms:g} ms = "
              f"{workers / (args.latency_ms / 1000.0):.0f} tiles/s", end="; " if workers != args.workers[-1] else "\n")
    for kind, block in blocks.items():
        name = KIND_NAMES[kind]
        for workers in args.workers:
            pool = ("pool", kind, "", workers)
            r.line(f"{name}: bare pool, {workers} workers, share of the ceiling", (pool,),
                   lambda p=pool, w=workers: cases[p].tiles_s() / (w / (args.latency_ms / 1000.0)) * 100, " %",
                   None, 0)
        for flavour in FORMATS:
            for workers in args.workers:
                target = TARGETS_OF_POOL.get((flavour, workers))
                what = f"{name}: Offload {flavour} ÷ bare pool, {workers} workers"
                if flavour in offered and flavour not in formats:
                    continue  # left out by --only
                if flavour not in formats:
                    if target is not None:
                        r.missing(what, f"≥ {target * 100:g} %")
                    continue
                key, pool = ("offload", kind, flavour, workers), ("pool", kind, "", workers)
                r.line(what, (key, pool), lambda k=key, p=pool: cases[k].tiles_s() / cases[p].tiles_s() * 100, " %",
                       ("≥", target * 100) if target else None, 1)
        for flavour in ("GTiff", "COG"):
            what = f"{name}: Offload {flavour} ÷ GDAL WMS driver, 16 workers/connections"
            if flavour in offered and flavour not in formats:
                continue
            if flavour not in formats:
                r.missing(what, f"≥ {TARGET_OVER_GDAL:g}×")
                continue
            # a COG against both peers: GDAL writing a COG (the same format, the same work) and the
            # stricter one, GDAL writing an uncompressed GeoTIFF with no overviews
            peers = [("GDAL-COG", " → COG")] if flavour == "COG" else []
            peers.append(("GDAL", " → uncompressed GeoTIFF" if flavour == "COG" else ""))
            for peer_flavour, writes in peers:
                key, peer = ("offload", kind, flavour, 16), ("gdal", kind, peer_flavour, 16)
                r.line(f"{what.split(', 16')[0]}{writes}, 16 workers/connections", (key, peer),
                       lambda k=key, p=peer: cases[k].tiles_s() / cases[p].tiles_s(), "×", ("≥", TARGET_OVER_GDAL))
                base = ("base", kind, flavour, 16)
                r.line(f"{name}: --base {flavour} ÷ GDAL WMS driver{writes}, 16 workers/connections", (base, peer),
                       lambda k=base, p=peer: cases[k].tiles_s() / cases[p].tiles_s(), "×", ("≥", TARGET_OVER_GDAL))
        for flavour in formats:
            for workers in args.workers:
                key, base = ("offload", kind, flavour, workers), ("base", kind, flavour, workers)
                r.line(f"{name}: Offload {flavour} ÷ --base, {workers} workers: speed (median wall)", (key, base),
                       lambda k=key, b=base: cases[b].median() / cases[k].median(), "×", None, 3)
                r.line(f"{name}: Offload {flavour} ÷ --base, {workers} workers: CPU (median, all threads)",
                       (key, base),
                       lambda k=key, b=base: cases[k].median("cpu_s") / cases[b].median("cpu_s"), "×", None, 3)
        default = ("offload", kind, "GTiff", 8)
        codec = cases[default].codec if default in cases else ""
        r.line(f"{name}: GTiff default ({codec}), file ÷ uncompressed RGBA", (default,),
               lambda k=default, b=block: cases[k].size_bytes / (b.count * 256 * 256 * 4) * 100, " %", None, 0)
        for workers in args.workers:
            key = ("offload", kind, "GTiff", workers)
            r.line(f"{name}: GTiff default, {workers} workers: wall ms per tile", (key,),
                   lambda k=key: cases[k].median() / cases[k].block.count * 1000, " ms", None)
            r.line(f"{name}: GTiff default, {workers} workers: CPU ms per tile (all threads)", (key,),
                   lambda k=key: cases[k].median("cpu_s") / cases[k].block.count * 1000, " ms", None)
    if big is not None:
        for flavour in FORMATS:
            what = f"{KIND_NAMES[big.kind]}: Offload {flavour}, {big.count:,} tiles, peak added memory"
            if flavour in offered and flavour not in formats:
                continue
            if flavour not in formats:
                r.missing(what, f"< {MEMORY_LIMIT_MB:g} MB")
                continue
            key = ("memory", big.kind, flavour, 16)
            r.line(what, (key,), lambda k=key: max(x["added_mb"] for x in cases[k].results), " MB",
                   ("<", MEMORY_LIMIT_MB), 0)
        r.line(f"{KIND_NAMES[big.kind]}: Offload GTiff with overviews (zooms {ZOOM - OVERVIEW_LEVELS}-{ZOOM}), "
               f"{big.count:,} tiles, peak added memory", (OVERVIEWS_KEY,),
               lambda: max(x["added_mb"] for x in cases[OVERVIEWS_KEY].results), " MB", ("<", MEMORY_LIMIT_MB), 0)
    if r.rows:
        print("\n| line (issue 13, item 2) | figure | target | |\n|---|---|---|---|")
        for what, figure, target, verdict in r.rows:
            print(f"| {what} | {figure} | {target} | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choices = tuple(KIND_NAMES) + FORMATS + ("speed", "memory")
    parser.add_argument("--only", action="append", choices=choices,
                        help="restrict to these tile kinds / formats / groups (repeatable)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every case, round-robin (medians reported)")
    parser.add_argument("--tiles", type=int, default=1024, help="tiles per speed run (a square block)")
    parser.add_argument("--big", type=int, default=16384, help="tiles of the memory runs (0: none)")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--workers", type=int, action="append", choices=WORKERS,
                        help="the speed runs' workers (repeatable; default: each of 8 and 16); GDAL's run keeps 16 "
                             "connections")
    parser.add_argument("--base", type=Path, help="another Offload checkout: each Offload case also runs with its "
                                                  "offload package, alternating with this one's (an A/B in one run)")
    parser.add_argument("--keep", action="store_true", help="keep the outputs of the last round (their folder is "
                                                            "printed)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child: one timed run
    args = parser.parse_args()
    if args.one:
        print(RESULT_MARK + json.dumps(child(json.loads(args.one))), flush=True)
        os._exit(0)  # the figure is out: skip QGIS's teardown, which crashes with Processing loaded

    from offload.net_tasks.tiles import ORIGIN_M, Tile, lonlat_to_mercator
    from tiles_check import check_output
    from tiles_data import make_block, make_repeated_block

    only = set(args.only or ())
    args.workers = sorted(set(args.workers or WORKERS))
    if args.base is not None and not (args.base / "net_tasks" / "tile_download.py").is_file():
        parser.error(f"--base {args.base}: no Offload checkout there")
    kinds = [k for k in KIND_NAMES if k in only] or list(KIND_NAMES)
    wanted_formats = [f for f in FORMATS if f in only] or list(FORMATS)
    args.groups = [g for g in ("speed", "memory") if g in only] or ["speed", "memory"]
    if "speed" not in args.groups:
        kinds = [MEMORY_KIND]
    began, load = time.perf_counter(), os.getloadavg()

    def progress(text: str) -> None:
        print(f"[{time.perf_counter() - began:5.0f} s] {text}", file=sys.stderr, flush=True)

    side = math.isqrt(args.tiles)
    big_side = math.isqrt(args.big) if args.big else 0
    x, y = lonlat_to_mercator(*LON_LAT)
    first = Tile(int((x + ORIGIN_M) / (2 * ORIGIN_M) * 2 ** ZOOM), int((ORIGIN_M - y) / (2 * ORIGIN_M) * 2 ** ZOOM),
                 ZOOM)
    blocks = {}
    for kind in kinds:
        folder = DATA / f"{kind}-{side}"
        progress(f"tiles: {side}×{side} {KIND_NAMES[kind]} in {folder}")
        make_block(folder, kind, first, side)
        blocks[kind] = Block(kind, folder, first, side)
    big = None
    if big_side and "memory" in args.groups and MEMORY_KIND in blocks:
        folder = DATA / f"{MEMORY_KIND}-{big_side}-of-{side}"
        progress(f"tiles: {big_side}×{big_side} {KIND_NAMES[MEMORY_KIND]} (hard links) in {folder}")
        make_repeated_block(folder, blocks[MEMORY_KIND].folder, MEMORY_KIND, first, big_side, side)
        big = Block(MEMORY_KIND, folder, first, big_side)
    offered = probe_formats()
    formats = [f for f in wanted_formats if f in offered or (f == "GTiff" and not offered)]
    progress("offload:tiles offers " + (", ".join(offered) if offered else "no FORMAT parameter (GTiff only)"))
    sizes = {kind: [f.stat().st_size for f in block.folder.rglob("*.*") if f.name != "complete"]
             for kind, block in blocks.items()}
    for kind, values in sizes.items():
        progress(f"{KIND_NAMES[kind]}: {len(values)} tiles, median {statistics.median(values) / 1024:.1f} KB")

    work = Path(tempfile.mkdtemp(prefix="offload-bench-tiles-"))
    base_path = None
    if args.base is not None:  # a folder whose "offload" is the other checkout, for the child's PYTHONPATH
        base_path = work / "base"
        base_path.mkdir()
        (base_path / "offload").symlink_to(args.base.resolve(), target_is_directory=True)
    cases = build_cases(args, blocks, big, formats, base_path)
    try:
        for round_number in range(1, args.rounds + 1):
            for case in cases.values():
                if round_number > 1 and not case.every_round:
                    continue
                try:
                    result = run_case(case, work, offered)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:  # the other cases still get measured
                    case.failures.append(str(exc).strip().splitlines()[-1])
                    progress(f"round {round_number}/{args.rounds}  {case.label} ({case.workers}): FAILED\n{exc}")
                    continue
                case.results.append(result)
                output = Path(result["output"])
                if case.check is None and case.key[0] != "pool":
                    if output.exists():
                        case.size_bytes = output.stat().st_size
                        case.codec = describe_codec(output)
                        case.check = check_output(output, case.block.folder, case.block.kind, case.block.first,
                                                  case.block.side, case.flavour)
                    else:
                        case.check = (False, f"no output at {output}")
                    progress(f"check: {case.label} ({case.workers}): {case.check[1]}")
                if case.key[0] == "pool" and result["requests"] != case.block.count:
                    case.check = (False, f"{result['requests']} requests for {case.block.count} tiles")
                added = f"  +{result['added_mb']:.0f} MB" if result.get("added_mb") is not None else ""
                progress(f"round {round_number}/{args.rounds}  {case.label:<62} {case.workers:>2} workers "
                         f"{result['seconds']:7.2f} s  {case.block.count / result['seconds']:5.0f} tiles/s{added}"
                         f"  ({result['requests']} requests)")
                if not (args.keep and round_number == args.rounds):
                    for stale in (output, Path(f"{output}.aux.xml")):
                        if stale.exists():
                            stale.unlink()
        report(cases, args, blocks, big, formats, list(offered) or ["GTiff"])
        print(f"\n(whole run {time.perf_counter() - began:.0f} s; load average at the start {load[0]:.1f}, at the "
              f"end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores)")
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
