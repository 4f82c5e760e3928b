"""Pixel grids: when inputs share one, and the grid to compute on when they do not.

Pure: stdlib only. Coordinates are in the reference CRS; transforming other inputs'
bounds into it is ``gdal_io``'s job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ..core.errors import InputError

GeoTransform = Tuple[float, float, float, float, float, float]
Bounds = Tuple[float, float, float, float]  # x_min, y_min, x_max, y_max

_TOLERANCE = 1e-9  # relative: grids this close are the same grid


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid: origin, pixel size, size in pixels, CRS (WKT)."""

    geotransform: GeoTransform
    width: int
    height: int
    crs_wkt: str = ""

    @property
    def x_res(self) -> float:
        return self.geotransform[1]

    @property
    def y_res(self) -> float:
        return -self.geotransform[5]

    @property
    def bounds(self) -> Bounds:
        x_min, x_res, _, y_max, _, y_neg = self.geotransform
        return (x_min, y_max + self.height * y_neg, x_min + self.width * x_res, y_max)

    def is_rotated(self) -> bool:
        return self.geotransform[2] != 0 or self.geotransform[4] != 0

    def is_north_up(self) -> bool:
        """Columns run west to east and rows north to south (what bounds and alignment assume)."""
        return not self.is_rotated() and self.x_res > 0 and self.y_res > 0

    def differences(self, other: "Grid") -> str:
        """What differs between two grids, for a message; '' when they are the same."""
        found = []
        if (self.width, self.height) != (other.width, other.height):
            found.append(f"size {other.width}x{other.height} vs {self.width}x{self.height}")
        scale = max(abs(v) for v in self.geotransform) or 1.0
        if any(abs(a - b) > _TOLERANCE * scale for a, b in zip(self.geotransform, other.geotransform)):
            found.append(f"geotransform {_short(other.geotransform)} vs {_short(self.geotransform)}")
        return ", ".join(found)


def _short(geotransform: GeoTransform) -> str:
    return "(" + ", ".join(f"{v:.10g}" for v in geotransform) + ")"


def combined_bounds(all_bounds: Sequence[Bounds], mode: str) -> Bounds:
    """The intersection or union of bounds."""
    if mode == "intersect":
        result = (max(b[0] for b in all_bounds), max(b[1] for b in all_bounds),
                  min(b[2] for b in all_bounds), min(b[3] for b in all_bounds))
        if result[0] >= result[2] or result[1] >= result[3]:
            raise InputError("the inputs do not overlap: --extent intersect is empty")
        return result
    if mode == "union":
        return (min(b[0] for b in all_bounds), min(b[1] for b in all_bounds),
                max(b[2] for b in all_bounds), max(b[3] for b in all_bounds))
    raise ValueError(f"extent mode {mode!r} is not intersect or union")


def grid_over(bounds: Bounds, x_res: float, y_res: float, crs_wkt: str) -> Grid:
    """The grid with its origin at the bounds' top-left corner covering them (as gdal_calc.py)."""
    x_min, y_min, x_max, y_max = bounds
    # Round away float noise before ceil, so 100.0000000001 pixels stays 100.
    width = math.ceil(round((x_max - x_min) / x_res, 6))
    height = math.ceil(round((y_max - y_min) / y_res, 6))
    return Grid((x_min, x_res, 0.0, y_max, 0.0, -y_res), max(width, 1), max(height, 1), crs_wkt)


def pick_resolution(resolutions: Sequence[Tuple[float, float]], mode: str,
                    named: Optional[Tuple[float, float]] = None) -> Tuple[float, float]:
    """The pixel size to compute at: the finest, the coarsest, or a named input's."""
    if named is not None:
        return named
    if mode == "finest":
        return min(r[0] for r in resolutions), min(r[1] for r in resolutions)
    if mode == "coarsest":
        return max(r[0] for r in resolutions), max(r[1] for r in resolutions)
    raise ValueError(f"resolution mode {mode!r} is not finest or coarsest")
