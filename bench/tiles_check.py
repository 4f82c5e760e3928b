"""Outputs of bench/tiles.py checked against the served tiles (untimed, first round).

A mosaic (GeoTIFF, COG, GDAL's WMS copy): its size and origin are the block's, and every tile's
window holds that tile decoded (RGB bands). A package (GPKG, MBTiles): it holds exactly the
block's tiles, each byte for byte the file the server sent.
"""
from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Tuple

import numpy as np
from osgeo import gdal

from offload.net_tasks.tiles import ORIGIN_M, Tile, tile_bounds
from tiles_data import KINDS, tile_path

TILE = 256
FULL_CHECK_TILES = 4096
JPEG_TOLERANCE = 4  # another decoder than GDAL's libjpeg may round its IDCT differently


def decoded(path: Path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()[:3].astype(np.int16)


def check_mosaic(output: Path, served: Path, kind: str, first: Tile, side: int) -> Tuple[bool, str]:
    dataset = gdal.Open(str(output))
    if dataset is None:
        return False, "does not open"
    width, height, bands = dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount
    x_min, _, _, y_max = tile_bounds(first)
    origin = dataset.GetGeoTransform()
    if (width, height) != (side * TILE, side * TILE) or bands < 3:
        return False, f"{width}×{height}×{bands}, expected {side * TILE}² × 3 or 4 bands"
    if abs(origin[0] - x_min) > 0.01 or abs(origin[3] - y_max) > 0.01:
        return False, f"origin {origin[0]:.2f},{origin[3]:.2f}, expected {x_min:.2f},{y_max:.2f}"
    largest, blank, compared = 0, 0, 0
    stride = 1 if side * side <= FULL_CHECK_TILES else 13  # a big block: every tile's presence, 1 in 13 decoded
    for dy in range(side):
        strip = dataset.ReadAsArray(0, dy * TILE, width, TILE, band_list=[1, 2, 3]).astype(np.int16)
        for dx in range(side):
            window = strip[:, :, dx * TILE:(dx + 1) * TILE]
            if not window.any():
                blank += 1
            if (dy * side + dx) % stride:
                continue
            compared += 1
            expected = decoded(tile_path(served, Tile(first.x + dx, first.y + dy, first.z), KINDS[kind]))
            largest = max(largest, int(np.abs(window - expected).max()))
    overviews = dataset.GetRasterBand(1).GetOverviewCount()
    codec = dataset.GetMetadata("IMAGE_STRUCTURE").get("COMPRESSION", "uncompressed")
    text = (f"{side * side} tiles, {bands} bands, {codec}, {overviews} overview(s), {blank} blank, "
            f"largest |pixel difference| {largest} over {compared} tiles compared")
    tolerance = 0 if kind == "png" else JPEG_TOLERANCE
    return blank == 0 and largest <= tolerance, text


def check_package(output: Path, served: Path, kind: str, first: Tile, side: int, flavour: str) -> Tuple[bool, str]:
    db = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        metadata_ok, said = True, ""
        if flavour == "MBTiles":
            meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
            metadata_ok = meta.get("format") == KINDS[kind]  # the server says image/png for every tile: sniffed
            said = f", metadata format {meta.get('format')!r} (expected {KINDS[kind]!r})"
            rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
            placed = [(z, col, (1 << z) - 1 - row, data) for z, col, row, data in rows]  # TMS rows count up
        else:
            table, = db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'tiles'").fetchone()
            min_x, max_y = db.execute("SELECT min_x, max_y FROM gpkg_tile_matrix_set WHERE table_name = ?",
                                      (table,)).fetchone()
            matrices = {level: pixel_x * width for level, pixel_x, width in db.execute(
                "SELECT zoom_level, pixel_x_size, tile_width FROM gpkg_tile_matrix WHERE table_name = ?", (table,))}
            placed = []
            for level, col, row, data in db.execute(f'SELECT zoom_level, tile_column, tile_row, tile_data '
                                                    f'FROM "{table}"'):
                tile_m = matrices[level]
                z = round(math.log2(2 * ORIGIN_M / tile_m))
                placed.append((z, col + round((min_x + ORIGIN_M) / tile_m), row + round((ORIGIN_M - max_y) / tile_m),
                               data))
    finally:
        db.close()
    expected = {(first.z, first.x + dx, first.y + dy) for dy in range(side) for dx in range(side)}
    found = {(z, x, y) for z, x, y, _ in placed}
    differing = sum(1 for z, x, y, data in placed if (z, x, y) in expected
                    and bytes(data) != tile_path(served, Tile(x, y, z), KINDS[kind]).read_bytes())
    text = (f"{len(placed)} tiles ({len(found & expected)} of the {len(expected)} expected, "
            f"{len(found - expected)} others), {differing} differing from the served bytes{said}")
    return found == expected and len(placed) == len(expected) and differing == 0 and metadata_ok, text


def check_output(output: Path, served: Path, kind: str, first: Tile, side: int, flavour: str) -> Tuple[bool, str]:
    if flavour in ("GPKG", "MBTiles"):
        return check_package(output, served, kind, first, side, flavour)
    return check_mosaic(output, served, kind, first, side)
