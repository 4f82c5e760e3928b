"""Tiles that compress like imagery, for bench/tiles.py: a folder ``z/x/y.ext`` the tile server serves.

Two kinds, each tile distinct (a smooth colour field continued across tiles, plus noise drawn
per tile), encoded by GDAL's own drivers:

- ``png``: RGB PNG of ~20 KB: the field with ±1 luminance noise on ~4 % of the pixels (noise
  on every pixel makes a 256² PNG ~40-65 KB; photos served as PNG sit near 20 KB);
- ``jpeg``: RGB JPEG of ~25 KB: the field with ±24 noise on every sample, quality 90.

The big block (the memory runs) is the small block repeated by hard links: a tile's bytes,
not its uniqueness, are what a download holds in memory.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

import numpy as np
from osgeo import gdal

from offload.demo.tile_images import encode_png
from offload.net_tasks.tiles import Tile

KINDS: Dict[str, str] = {"png": "png", "jpeg": "jpg"}  # kind -> file extension
PNG_NOISE_SHARE = 0.04
JPEG_NOISE = 24
JPEG_QUALITY = 90


def colour_field(tile: Tile) -> np.ndarray:
    """(3, 256, 256) float: a smooth colour field, continuous across neighbouring tiles."""
    rows, cols = np.mgrid[0:256, 0:256].astype(np.float32)
    x, y = tile.x + cols / 256.0, tile.y + rows / 256.0
    v = 0.5 * np.sin(1.3 * x + 0.4 * y) + 0.3 * np.sin(0.31 * x - 1.7 * y + 1) + 0.2 * np.sin(3.1 * x + 2.3 * y)
    return np.stack([100 + 60 * v, 120 + 50 * np.sin(0.9 * x - 0.6 * y), 80 + 40 * v * np.cos(0.8 * y)])


def encode_jpeg(rgb: np.ndarray) -> bytes:
    """JPEG bytes of a (3, rows, cols) uint8 array (GDAL's JPEG driver, libjpeg, in memory)."""
    name = f"/vsimem/offload-bench-{id(rgb)}.jpg"
    memory = gdal.GetDriverByName("MEM").Create("", rgb.shape[2], rgb.shape[1], 3, gdal.GDT_Byte)
    for band in range(3):
        memory.GetRasterBand(band + 1).WriteArray(rgb[band])
    gdal.GetDriverByName("JPEG").CreateCopy(name, memory, options=[f"QUALITY={JPEG_QUALITY}"])
    try:
        return bytes(gdal.VSIGetMemFileBuffer_unsafe(name))
    finally:
        gdal.Unlink(name)


def tile_bytes(kind: str, tile: Tile) -> bytes:
    rng = np.random.default_rng([tile.z, tile.x, tile.y])
    field = colour_field(tile)
    if kind == "png":
        noise = (rng.random(field.shape[1:]) < PNG_NOISE_SHARE) * rng.choice([-1, 1], field.shape[1:])
        return encode_png(np.clip(field + noise, 0, 255).astype(np.uint8))
    noise = rng.integers(-JPEG_NOISE, JPEG_NOISE + 1, field.shape)
    return encode_jpeg(np.clip(field + noise, 0, 255).astype(np.uint8))


def tile_path(folder: Path, tile: Tile, extension: str) -> Path:
    return folder / str(tile.z) / str(tile.x) / f"{tile.y}.{extension}"


def make_block(folder: Path, kind: str, first: Tile, side: int) -> None:
    """``side``×``side`` distinct tiles from ``first`` (kept: a folder marked complete is re-used)."""
    done = folder / "complete"
    if done.exists():
        return
    for dy in range(side):
        for dx in range(side):
            path = tile_path(folder, Tile(first.x + dx, first.y + dy, first.z), KINDS[kind])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tile_bytes(kind, Tile(first.x + dx, first.y + dy, first.z)))
    done.touch()


def make_repeated_block(folder: Path, source: Path, kind: str, first: Tile, side: int, source_side: int) -> None:
    """``side``×``side`` tiles from ``first``, hard links to the ``source_side`` block tiled over it."""
    done = folder / "complete"
    if done.exists():
        return
    extension = KINDS[kind]
    for dy in range(side):
        for dx in range(side):
            path = tile_path(folder, Tile(first.x + dx, first.y + dy, first.z), extension)
            path.parent.mkdir(parents=True, exist_ok=True)
            original = tile_path(source, Tile(first.x + dx % source_side, first.y + dy % source_side, first.z),
                                 extension)
            if not path.exists():
                os.link(original, path)
    done.touch()
