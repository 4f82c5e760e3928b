"""Web Mercator tile math: which tiles a bbox touches, where a tile lies, quadkeys, TMS rows.

Pure: stdlib only. Formulas from the OSM wiki "Slippy map tilenames"; the world square is
±20037508.34 m, latitudes are clamped to ±85.0511° (atan(sinh(π))), where Mercator ends.
"""
from __future__ import annotations

import math
from typing import Iterator, NamedTuple, Tuple

from ..core.errors import InputError

ORIGIN_M = 20037508.342789244  # half the Web Mercator world width
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511287798066
MAX_ZOOM = 24
TILE_PX = 256
EPSILON = 1e-9  # a bbox edge exactly on a tile edge does not touch the next tile


class Tile(NamedTuple):
    """An XYZ tile. Inside a range that crosses the antimeridian, x runs on past 2^z − 1."""

    x: int
    y: int
    z: int

    def wrapped(self) -> "Tile":
        """The tile as servers and caches name it: x taken modulo the world's width."""
        return Tile(self.x % (1 << self.z), self.y, self.z)


class TileRange(NamedTuple):
    """Tiles x_min..x_max × y_min..y_max (inclusive) at zoom z.

    A range across the antimeridian keeps its columns contiguous: x_max passes 2^z − 1 and
    the tiles east of 180° are named by ``Tile.wrapped()``.
    """

    x_min: int
    y_min: int
    x_max: int
    y_max: int
    z: int

    @property
    def count(self) -> int:
        return (self.x_max - self.x_min + 1) * (self.y_max - self.y_min + 1)

    @property
    def width(self) -> int:
        return self.x_max - self.x_min + 1

    @property
    def height(self) -> int:
        return self.y_max - self.y_min + 1

    def tiles(self) -> Iterator[Tile]:
        """Row by row, so a mosaic can be written top to bottom as tiles arrive."""
        for y in range(self.y_min, self.y_max + 1):
            for x in range(self.x_min, self.x_max + 1):
                yield Tile(x, y, self.z)


def lonlat_to_mercator(lon: float, lat: float) -> Tuple[float, float]:
    """Degrees to Web Mercator metres (latitude clamped to the Mercator limit)."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = math.radians(lon) * 6378137.0
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0
    return x, y


def _tile_index(coordinate_m: float, zoom: int, flip: bool) -> float:
    """Fractional tile index of a Mercator coordinate (y counts from the top)."""
    n = 2 ** zoom
    fraction = (coordinate_m + ORIGIN_M) / (2 * ORIGIN_M)
    return (1.0 - fraction) * n if flip else fraction * n


def tile_range(bounds_m: Tuple[float, float, float, float], zoom: int) -> TileRange:
    """The tiles a Web Mercator bbox touches at ``zoom``.

    :raises InputError: for a zoom outside 0..24 or an empty bbox.
    """
    if not 0 <= zoom <= MAX_ZOOM:
        raise InputError(f"zoom {zoom} is not within 0..{MAX_ZOOM}")
    x_min, x_max = _unwrapped_x(bounds_m[0], bounds_m[2])
    y_min, y_max = (max(-ORIGIN_M, min(ORIGIN_M, v)) for v in (bounds_m[1], bounds_m[3]))
    if not (x_min < x_max and y_min < y_max):
        raise InputError(f"bbox {tuple(bounds_m)} is empty once clamped to the Web Mercator world")
    last = 2 ** zoom - 1
    clamp_x = lambda v: max(0, min(2 * last + 1, v))  # noqa: E731 (a second world east of 180°)
    clamp_y = lambda v: max(0, min(last, v))  # noqa: E731
    return TileRange(
        clamp_x(math.floor(_tile_index(x_min, zoom, False) + EPSILON)),
        clamp_y(math.floor(_tile_index(y_max, zoom, True) + EPSILON)),
        clamp_x(math.ceil(_tile_index(x_max, zoom, False) - EPSILON) - 1),
        clamp_y(math.ceil(_tile_index(y_min, zoom, True) - EPSILON) - 1),
        zoom,
    )


def _unwrapped_x(x_min: float, x_max: float) -> Tuple[float, float]:
    """x_min moved into the world [−ORIGIN, ORIGIN); x_max follows, past ORIGIN when the bbox
    crosses the antimeridian. A bbox a world wide or wider is the world."""
    world = 2 * ORIGIN_M
    if x_max - x_min >= world - EPSILON:
        return -ORIGIN_M, ORIGIN_M
    shift = world * math.floor((x_min + ORIGIN_M) / world)
    return x_min - shift, x_max - shift


def tile_bounds(tile: Tile) -> Tuple[float, float, float, float]:
    """A tile's Web Mercator bounds (x_min, y_min, x_max, y_max)."""
    size = 2 * ORIGIN_M / 2 ** tile.z
    x_min = -ORIGIN_M + tile.x * size
    y_max = ORIGIN_M - tile.y * size
    return x_min, y_max - size, x_min + size, y_max


def range_bounds(tiles: TileRange) -> Tuple[float, float, float, float]:
    """Bounds of a whole tile range."""
    x_min, _, _, y_max = tile_bounds(Tile(tiles.x_min, tiles.y_min, tiles.z))
    _, y_min, x_max, _ = tile_bounds(Tile(tiles.x_max, tiles.y_max, tiles.z))
    return x_min, y_min, x_max, y_max


def pixel_size_m(zoom: int, tile_px: int = TILE_PX) -> float:
    return 2 * ORIGIN_M / (2 ** zoom * tile_px)


def quadkey(tile: Tile) -> str:
    """Bing-style quadkey: one digit per zoom level, 0..3."""
    digits = []
    for level in range(tile.z, 0, -1):
        mask = 1 << (level - 1)
        digits.append(str((1 if tile.x & mask else 0) + (2 if tile.y & mask else 0)))
    return "".join(digits)


def tms_row(tile: Tile) -> int:
    """The TMS row (origin bottom-left) of an XYZ tile."""
    return 2 ** tile.z - 1 - tile.y
