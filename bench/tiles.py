"""Tiled-download benchmark: Offload vs GDAL's WMS/TMS driver vs a sequential requests loop.

Run: ``make bench-tiles`` (``python bench/tiles.py [--tiles 1024] [--latency-ms 30] [--big 16384]``).
The embedded server (in this process, 127.0.0.1) serves a folder of pre-made tiles with a fixed
latency per answer; every client runs in its own process and writes its mosaic. The table gives
tiles/s, the share of the ceiling (workers ÷ latency), connections the server saw, peak RSS.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from osgeo import gdal

from offload.demo.tile_server import Faults, TileServer
from offload.demo.tile_images import encode_png
from offload.net_tasks.tiles import ORIGIN_M, Tile, lonlat_to_mercator, tile_bounds

ZOOM = 14
MEASURE = r"""
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if done.returncode:
    sys.stderr.write(done.stderr.decode()[-1500:])
print(done.returncode, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0)
"""
SEQUENTIAL = r"""
import sys, requests
template, tiles = sys.argv[1], [t.split("/") for t in sys.argv[2].split(",")]
session = requests.Session()
session.headers["User-Agent"] = "offload-bench/sequential"
for z, x, y in tiles:
    response = session.get(template.format(z=z, x=x, y=y), timeout=30)
    response.raise_for_status()
"""


def make_tiles(folder: Path, first: Tile, side: int, distinct: bool) -> None:
    """``side``×``side`` tiles from ``first``: distinct cheap images, or one image hard-linked."""
    shared = None
    for dy in range(side):
        for dx in range(side):
            tile = Tile(first.x + dx, first.y + dy, first.z)
            path = folder / str(tile.z) / str(tile.x) / f"{tile.y}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            if distinct or shared is None:
                grid = np.add.outer(np.arange(256), np.arange(256))
                rgb = np.stack([(grid + tile.x) % 256, (grid * 2 + tile.y) % 256, (grid // 2) % 256]).astype(np.uint8)
                path.write_bytes(encode_png(rgb))
                shared = shared or path
            else:
                os.link(shared, path)


def measure(command: List[str]) -> Tuple[int, float, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDAL_ENABLE_WMS_CACHE="NO")
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], env=env, capture_output=True, text=True)
    code, seconds, rss = done.stdout.split()
    if int(code) and "--expect-failure" not in command:
        print(done.stderr, file=sys.stderr)
    return int(code), float(seconds), float(rss)


def gdal_wms_xml(template: str, workers: int) -> str:
    url = template.replace("{z}", "${z}").replace("{x}", "${x}").replace("{y}", "${y}")
    return (f"<GDAL_WMS><Service name='TMS'><ServerUrl>{url}</ServerUrl></Service><DataWindow>"
            f"<UpperLeftX>{-ORIGIN_M}</UpperLeftX><UpperLeftY>{ORIGIN_M}</UpperLeftY>"
            f"<LowerRightX>{ORIGIN_M}</LowerRightX><LowerRightY>{-ORIGIN_M}</LowerRightY>"
            f"<TileLevel>{ZOOM}</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin>"
            f"</DataWindow><Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>"
            f"<BandsCount>4</BandsCount><MaxConnections>{workers}</MaxConnections></GDAL_WMS>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=1024)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--big", type=int, default=16384, help="tiles for the peak-RSS run (0 to skip)")
    parser.add_argument("--runs", type=int, default=3, help="runs of Offload's first-download cases (median)")
    args = parser.parse_args()
    side = int(math.isqrt(args.tiles))
    work = Path(tempfile.mkdtemp(prefix="offload-bench-tiles-"))
    x, y = lonlat_to_mercator(7.0, 46.0)
    first = Tile(int((x + ORIGIN_M) / (2 * ORIGIN_M) * 2 ** ZOOM), int((ORIGIN_M - y) / (2 * ORIGIN_M) * 2 ** ZOOM), ZOOM)
    big_side = int(math.isqrt(args.big)) if args.big else 0
    make_tiles(work / "tiles", first, max(side, big_side), distinct=not big_side)
    inset = 1.0  # metres inside the tile grid, so exactly side × side tiles are touched
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + side - 1, first.y + side - 1, ZOOM))
    bbox = f"{x_min + inset},{y_min + inset},{x_max - inset},{y_max - inset}"
    rows: List[Dict] = []

    def run_case(label: str, workers: int, faults: Faults, make_command, expect_exact=True, tiles: int = 0,
                 repeat: int = 1, cache: Optional[Path] = None) -> Dict:
        """Run a case ``repeat`` times (each from an empty ``cache``); the median wall time counts."""
        results = []
        for _ in range(repeat):
            if cache is not None:
                shutil.rmtree(cache, ignore_errors=True)
            with TileServer(str(work / "tiles"), faults) as server:
                code, seconds, rss = measure(make_command(server, workers))
                results.append(dict(code=code, seconds=seconds, rss=rss, connections=server.connections_opened,
                                    requests=sum(server.requests.values())))
            print(f"  {label:<46} {workers:>3} workers {seconds:6.2f} s  exit {code}", file=sys.stderr)
        seconds = statistics.median(r["seconds"] for r in results)
        row = dict(label=label, runs=repeat, workers=workers,
                   code=max(r["code"] for r in results), seconds=seconds, rss=max(r["rss"] for r in results),
                   tiles_s=(tiles or side * side) / seconds, connections=max(r["connections"] for r in results),
                   requests=results[-1]["requests"])
        rows.append(row)
        return row

    def offload(out: str, extra: Tuple[str, ...] = ()):
        return lambda server, workers: [sys.executable, "-m", "offload", "tiles", "--url", server.template,
                                        "--bbox", bbox, "--bbox-crs", "EPSG:3857", "--zoom", str(ZOOM),
                                        "--workers", str(workers), "--output", str(work / out), "--overwrite",
                                        "--cache", str(work / f"cache-{out}"), *extra]

    def gdal_driver(out: str):
        def command(server, workers):
            xml = work / f"wms-{workers}.xml"
            xml.write_text(gdal_wms_xml(server.template, workers))
            return ["gdal_translate", "-q", "-srcwin", str(first.x * 256), str(first.y * 256), str(side * 256),
                    str(side * 256), "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", str(xml), str(work / out)]
        return command

    def sequential(server, _workers):
        tiles = ",".join(f"{ZOOM}/{first.x + dx}/{first.y + dy}" for dy in range(side) for dx in range(side))
        return [sys.executable, "-c", SEQUENTIAL, server.template, tiles]

    latency = Faults(latency_ms=args.latency_ms)
    run_case("sequential requests loop (no mosaic)", 1, latency, sequential)
    for workers in (8, 16):
        run_case("Offload tiles (mosaic written)", workers, latency, offload(f"o{workers}.tif"), repeat=args.runs,
                 cache=work / f"cache-o{workers}.tif")
        run_case("GDAL WMS driver via gdal_translate", workers, latency, gdal_driver(f"g{workers}.tif"))
    second = run_case("Offload second run (cache)", 16, latency, offload("o16.tif"))
    faults = Faults(latency_ms=args.latency_ms, fail_rate=0.10, rate_429=0.05, slow_rate=0.05, seed=7)
    faulty = run_case("Offload with faults (10% 500, 5% 429, 5% slow)", 16, faults, offload("of.tif"))
    gdal_faulty = run_case("GDAL WMS driver with the same faults", 16, faults, gdal_driver("gf.tif"))
    exact = faulty["code"] == 0 and np.array_equal(gdal.Open(str(work / "of.tif")).ReadAsArray(),
                                                   gdal.Open(str(work / "o16.tif")).ReadAsArray())
    if big_side:
        big_bbox_tile = Tile(first.x + big_side - 1, first.y + big_side - 1, ZOOM)
        _, by_min, bx_max, _ = tile_bounds(big_bbox_tile)
        big = f"{x_min + inset},{by_min + inset},{bx_max - inset},{y_max - inset}"
        run_case(f"Offload {big_side * big_side} tiles (peak RSS)", 16, Faults(),
                 lambda server, workers: [sys.executable, "-m", "offload", "tiles", "--url", server.template,
                                          "--bbox", big, "--bbox-crs", "EPSG:3857", "--zoom", str(ZOOM),
                                          "--workers", str(workers), "--max-tiles", str(big_side ** 2),
                                          "--output", str(work / "big.tif"), "--cache", str(work / "cache-big")],
                 tiles=big_side * big_side)
    report(rows, args.latency_ms, second, faulty, gdal_faulty, exact)
    shutil.rmtree(work)


def report(rows, latency_ms, second, faulty, gdal_faulty, exact) -> None:
    print(f"\n{'case':<48} {'workers':>7} {'wall s':>7} {'tiles/s':>8} {'of ceiling':>10} {'conns':>6} {'peak MB':>8}")
    for row in rows:
        ceiling = row["workers"] / (latency_ms / 1000.0)
        print(f"{row['label']:<48} {row['workers']:>7} {row['seconds']:7.2f} {row['tiles_s']:8.0f} "
              f"{row['tiles_s'] / ceiling:10.0%} {row['connections']:>6} {row['rss']:8.0f}"
              + ("" if row["runs"] == 1 else f"  (median of {row['runs']})")
              + ("" if row["code"] == 0 else f"  (exit {row['code']})"))
    by = {(r["label"], r["workers"]): r for r in rows}
    ratio = by[("Offload tiles (mosaic written)", 16)]["tiles_s"] / by[("GDAL WMS driver via gdal_translate", 16)]["tiles_s"]
    print(f"\nOffload ÷ GDAL driver at 16 workers (target ≥ 1.7): {ratio:.2f}")
    print(f"second run: {second['requests']} requests to the server (target 0 new downloads)")
    print(f"with faults: Offload exit {faulty['code']}, mosaic exact: {exact}, {faulty['tiles_s']:.0f} tiles/s; "
          f"GDAL driver exit {gdal_faulty['code']}")


if __name__ == "__main__":
    main()
