"""Neighbourhood kernels on numpy arrays: slope, aspect and hillshade as gdaldem computes
them (Horn's method), and NaN-aware focal mean/min/max.

Each takes a float surface (float32 or float64: results keep it) where NaN marks missing data (outside the raster, nodata) and
returns ``(values, invalid)``: a pixel whose window is not complete is invalid, which is
what gdaldem writes as nodata (its border row and column, nodata neighbours). Memory stays
a small multiple of the input: shifted views, no window stacks.

Pure: numpy only.
"""
from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

Result = Tuple[np.ndarray, np.ndarray]


def _window(z: np.ndarray):
    """The 3×3 neighbours of every interior pixel, as views (a b c / d e f / g h i)."""
    return (z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:],
            z[1:-1, :-2], z[1:-1, 1:-1], z[1:-1, 2:],
            z[2:, :-2], z[2:, 1:-1], z[2:, 2:])


def _horn(z: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Horn's weighted differences (west minus east, south minus north), not yet scaled."""
    a, b, c, d, _e, f, g, h, i = _window(z)
    return _weighted_difference(a, d, g, c, f, i), _weighted_difference(g, h, i, a, b, c)


def _weighted_difference(p: np.ndarray, q: np.ndarray, r: np.ndarray,
                         s: np.ndarray, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``(p + 2q + r) - (s + 2t + u)`` in that order, in two temporaries instead of seven."""
    first = np.multiply(q, 2.0)
    np.add(p, first, out=first)
    np.add(first, r, out=first)
    second = np.multiply(t, 2.0)
    np.add(s, second, out=second)
    np.add(second, u, out=second)
    return np.subtract(first, second, out=first)


def _interior(z: np.ndarray, interior: np.ndarray) -> Result:
    """Place interior values in a full-size array; the border, non-finite values and pixels
    that are themselves missing (Horn's formula does not look at the centre) are invalid."""
    out = np.full(z.shape, np.nan, dtype=z.dtype)
    out[1:-1, 1:-1] = interior
    out[~np.isfinite(z)] = np.nan
    return out, ~np.isfinite(out)


def slope(z: np.ndarray, x_res_m: np.ndarray, y_res_m: float) -> Result:
    """Slope in degrees (gdaldem slope, Horn). ``x_res_m`` has one value per row."""
    dz_dx, dz_dy = _horn(z)  # divided in place below: each step is numpy's, in the same order
    np.true_divide(dz_dx, 8.0 * np.asarray(x_res_m, dtype=z.dtype)[1:-1, np.newaxis], out=dz_dx)
    np.true_divide(dz_dy, 8.0 * y_res_m, out=dz_dy)
    slope_degrees = np.hypot(dz_dx, dz_dy, out=dz_dx)
    return _interior(z, np.degrees(np.arctan(slope_degrees, out=slope_degrees), out=slope_degrees))


def aspect(z: np.ndarray) -> Result:
    """Aspect in degrees clockwise from north (gdaldem aspect); flat pixels are invalid."""
    west_east, south_north = _horn(z)
    angle = np.degrees(np.arctan2(south_north, west_east))  # counter-clockwise from east
    azimuth = np.where(angle > 90.0, 450.0 - angle, 90.0 - angle)
    azimuth[azimuth == 360.0] = 0.0
    azimuth[(west_east == 0) & (south_north == 0)] = np.nan  # gdaldem: flat has no aspect
    return _interior(z, azimuth)


def hillshade(z: np.ndarray, x_res_m: np.ndarray, y_res_m: float,
              azimuth_deg: float = 315.0, altitude_deg: float = 45.0) -> Result:
    """Shaded relief, 1..255 (gdaldem hillshade's scale; 0 is left for nodata).

    Computed in float64 whatever the input: the result is rounded to bytes, and float32's
    error moves pixels across the rounding edge.
    """
    dtype, z = z.dtype, z.astype(np.float64)
    west_east, south_north = _horn(z)
    x = west_east / (8.0 * np.asarray(x_res_m, dtype=z.dtype)[1:-1, np.newaxis])
    y = -south_north / (8.0 * y_res_m)  # north minus south: gdaldem's orientation
    azimuth, altitude = np.radians(azimuth_deg), np.radians(altitude_deg)
    shade = (np.sin(altitude) - (y * np.cos(azimuth) * np.cos(altitude) - x * np.sin(azimuth) * np.cos(altitude)))
    shade /= np.sqrt(1.0 + x * x + y * y)
    values, invalid = _interior(z, np.where(shade <= 0.0, 1.0, 1.0 + 254.0 * shade))
    return values.astype(dtype), invalid


POLL_EVERY = 32  # passes of a focal window between calls of ``poll`` (a 1001 window: seconds)


def _sliding(z: np.ndarray, size: int, combine: Callable, empty: float, poll: Callable[[], None]) -> np.ndarray:
    """Combine each pixel's ``size``×``size`` window (separably: rows, then columns)."""
    radius = size // 2
    rows = np.pad(z, [(radius, radius), (0, 0)], constant_values=empty)
    height, width = z.shape
    by_rows = rows[0:height].copy()
    for offset in range(1, size):
        combine(by_rows, rows[offset:offset + height], out=by_rows)
        if offset % POLL_EVERY == 0:
            poll()
    cols = np.pad(by_rows, [(0, 0), (radius, radius)], constant_values=empty)
    result = cols[:, 0:width].copy()
    for offset in range(1, size):
        combine(result, cols[:, offset:offset + width], out=result)
        if offset % POLL_EVERY == 0:
            poll()
    return result


def _never() -> None:
    pass


def focal(z: np.ndarray, size: int, statistic: str, poll: Callable[[], None] = _never) -> Result:
    """Mean, min or max over each pixel's ``size``×``size`` window, ignoring missing values.

    :param poll: called every few passes; it may raise to stop (cancel), as a large window
        takes seconds.
    """
    if statistic == "mean":
        finite = np.isfinite(z)
        sums = _sliding(np.where(finite, z, 0.0), size, np.add, 0.0, poll)
        counts = _sliding(finite.astype(z.dtype), size, np.add, 0.0, poll)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = sums / counts
    elif statistic in ("min", "max"):
        values = _sliding(z, size, np.fmin if statistic == "min" else np.fmax, np.nan, poll)
    else:
        raise ValueError(f"focal statistic {statistic!r} is not mean, min or max")
    return values, ~np.isfinite(values)
