"""Tile package write speed: Offload's GPKG and MBTiles writers against a bare sqlite3 peer.

Run: ``python bench/tile_package.py [--tiles 4096] [--kb 25] [--rounds 5]``.
One thread puts ``--tiles`` tiles of ~``--kb`` KB (incompressible bytes framed as a PNG:
the writer never decodes, so only the size matters) into a fresh package, commits and
closes; the peer inserts the same rows with one ``executemany`` in one transaction (no checks,
no batching: the most sqlite3 does here). Medians of ``--rounds``; the target is what the
tiles command needs to keep up with a fast download (issue 13: ≥ 400 tiles/s of ~25 KB).
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

from offload.net_tasks.tile_package import PackageMeta, open_package
from offload.net_tasks.tiles import Tile, tile_bounds

TARGET_TILES_S = 400.0
ZOOM = 14


def make_tiles(count: int, kb: float) -> List[Tuple[Tile, bytes]]:
    rng = random.Random(13)
    side = 2 ** ZOOM
    return [(Tile(i % side, i // side, ZOOM),
             b"\x89PNG\r\n\x1a\n" + rng.randbytes(int(rng.uniform(0.8, 1.2) * kb * 1024)) + b"\0\0\0\0IEND\xaeB`\x82")
            for i in range(count)]


def write_package(kind: str) -> Callable[[Path, List[Tuple[Tile, bytes]]], None]:
    def run(path: Path, tiles: List[Tuple[Tile, bytes]]) -> None:
        meta = PackageMeta("bench", tile_bounds(Tile(0, 0, 0)), ZOOM, ZOOM)
        with open_package(path, kind, meta) as package:
            for tile, body in tiles:
                package.put(tile, body)
    return run


def bare_sqlite(path: Path, tiles: List[Tuple[Tile, bytes]]) -> None:
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    with db:
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", ((t.z, t.x, t.y, body) for t, body in tiles))
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=4096)
    parser.add_argument("--kb", type=float, default=25.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tiles = make_tiles(args.tiles, args.kb)
    megabytes = sum(len(body) for _, body in tiles) / 1e6
    cases = [("GPKG", write_package("GPKG"), ".gpkg"), ("MBTiles", write_package("MBTiles"), ".mbtiles"),
             ("bare sqlite3 (peer)", bare_sqlite, ".sqlite")]
    seconds = {name: [] for name, _, _ in cases}
    with tempfile.TemporaryDirectory(prefix="offload-bench-pkg-") as folder:
        for round_number in range(args.rounds):  # rounds interleaved, so noise hits every case alike
            for name, run, suffix in cases:
                path = Path(folder) / f"r{round_number}{suffix}"
                started = time.perf_counter()
                run(path, tiles)
                seconds[name].append(time.perf_counter() - started)
                path.unlink()
    print(f"{args.tiles} tiles, {megabytes:.0f} MB, one thread, medians of {args.rounds} rounds")
    peer = statistics.median(seconds["bare sqlite3 (peer)"])
    for name, _, _ in cases:
        median = statistics.median(seconds[name])
        rate = args.tiles / median
        verdict = "" if name.endswith("(peer)") else (
            f"   target ≥ {TARGET_TILES_S:.0f} tiles/s: {'met' if rate >= TARGET_TILES_S else 'MISSED'}")
        print(f"{name:<22} {median:6.2f} s  {rate:8.0f} tiles/s  {megabytes / median:6.0f} MB/s  "
              f"{peer / median:5.2f}× the peer's speed{verdict}")


if __name__ == "__main__":
    main()
