"""Deterministic synthetic terrain, for the embedded server, the demo, tests and benchmarks.

Heights are a smooth function of Web Mercator metres (fractal value noise on a hashed
integer lattice, plus a few hills), so any tile or raster cut from it agrees with every
other one at the same place. Pure: numpy only.
"""
from __future__ import annotations

import numpy as np

BASE_HEIGHT_M = 300.0
RELIEF_M = 4000.0
BASE_WAVELENGTH_M = 16_000.0
OCTAVES = 6
SEED = 2026

# Hills: (x_m, y_m, height_m, radius_m) in the demo area (about 7.0° E, 46.0° N).
_HILLS = (
    (779_000.0, 5_785_000.0, 900.0, 6_000.0),
    (797_000.0, 5_794_000.0, 600.0, 5_000.0),
)


def _lattice_values(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random value in [-1, 1] for each integer lattice point (a fixed hash)."""
    with np.errstate(over="ignore"):
        h = ix.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        h ^= np.uint64(seed) * np.uint64(0x165667B19E3779F9)
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


def value_noise(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Smooth noise in [-1, 1] with features one unit apart."""
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    ux = fx * fx * fx * (fx * (fx * 6.0 - 15.0) + 10.0)  # quintic fade: no creases at cell edges
    uy = fy * fy * fy * (fy * (fy * 6.0 - 15.0) + 10.0)
    ix, iy = x0.astype(np.int64), y0.astype(np.int64)
    v00, v10 = _lattice_values(ix, iy, seed), _lattice_values(ix + 1, iy, seed)
    v01, v11 = _lattice_values(ix, iy + 1, seed), _lattice_values(ix + 1, iy + 1, seed)
    top = v00 + (v10 - v00) * ux
    bottom = v01 + (v11 - v01) * ux
    return top + (bottom - top) * uy


def terrain_height(x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """Height in metres at Web Mercator coordinates (broadcasting like numpy)."""
    x, y = np.broadcast_arrays(np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64))
    relief = np.zeros(x.shape)
    amplitude, total = 1.0, 0.0
    for octave in range(OCTAVES):
        scale = (2.0**octave) / BASE_WAVELENGTH_M
        angle = 0.7 * octave  # turn each octave, so the lattice's axes never line up
        u = (x * np.cos(angle) - y * np.sin(angle)) * scale
        v = (x * np.sin(angle) + y * np.cos(angle)) * scale
        relief += amplitude * value_noise(u, v, SEED + octave)
        total += amplitude
        amplitude *= 0.5
    relief = (0.5 + 0.5 * relief / total) ** 1.7  # in 0..1 (noise is in -1..1): broad valleys, steep peaks
    height = BASE_HEIGHT_M + RELIEF_M * relief
    for hill_x, hill_y, hill_h, radius in _HILLS:
        height += hill_h * np.exp(-((x - hill_x) ** 2 + (y - hill_y) ** 2) / (2.0 * radius**2))
    return height


def terrain_grid(x_min: float, y_max: float, pixel_m: float, width: int, height: int) -> np.ndarray:
    """Heights at the pixel centres of a north-up grid, as Float32 (rows, cols)."""
    xs = x_min + (np.arange(width) + 0.5) * pixel_m
    ys = y_max - (np.arange(height) + 0.5) * pixel_m
    return terrain_height(xs[np.newaxis, :], ys[:, np.newaxis]).astype(np.float32)
