"""Deterministic tile images for the embedded server: Terrarium-encoded terrain, and imagery.

Each tile is cut from ``synthetic.terrain_height`` at its own place, so neighbouring tiles
join without seams and any tile can be recomputed to check a mosaic pixel for pixel.
"""
from __future__ import annotations

import numpy as np
from osgeo import gdal

from .synthetic import terrain_grid
from ..net_tasks.tiles import TILE_PX, Tile, pixel_size_m, tile_bounds


def tile_heights(tile: Tile) -> np.ndarray:
    """Heights (m) at the pixel centres of a tile."""
    x_min, _, _, y_max = tile_bounds(tile)
    return terrain_grid(x_min, y_max, pixel_size_m(tile.z), TILE_PX, TILE_PX)


def terrarium_rgb(heights: np.ndarray) -> np.ndarray:
    """Encode heights as Terrarium RGB: h = R·256 + G + B/256 − 32768 (3, rows, cols) uint8."""
    value = np.clip(np.asarray(heights, dtype=np.float64) + 32768.0, 0, 65535.996)
    red = np.floor(value / 256.0)
    green = np.floor(value - red * 256.0)
    blue = np.floor((value - red * 256.0 - green) * 256.0)
    return np.stack([red, green, blue]).astype(np.uint8)


def imagery_rgb(heights: np.ndarray) -> np.ndarray:
    """A plausible-looking image of the terrain: green valleys, brown slopes, white peaks."""
    normalised = np.clip((heights - 300.0) / 3000.0, 0.0, 1.0)
    red = 60 + 170 * normalised
    green = 120 + 100 * normalised - 40 * normalised ** 2
    blue = 60 + 180 * normalised ** 3
    return np.stack([red, green, blue]).astype(np.uint8)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of a (3, rows, cols) uint8 array (GDAL's PNG driver, in memory)."""
    name = f"/vsimem/offload-tile-{id(rgb)}.png"
    memory = gdal.GetDriverByName("MEM").Create("", rgb.shape[2], rgb.shape[1], 3, gdal.GDT_Byte)
    for band in range(3):
        memory.GetRasterBand(band + 1).WriteArray(rgb[band])
    gdal.GetDriverByName("PNG").CreateCopy(name, memory)
    try:
        return bytes(gdal.VSIGetMemFileBuffer_unsafe(name))
    finally:
        gdal.Unlink(name)
