"""What a tile download will cost, shown in the form before anything runs: the tiles per zoom
and in total, an estimated download size, and what would refuse it, in the dialog's words.

Counts use the engine's own tile arithmetic (``net_tasks.tiles``) and its limits, so the form
says no more and no less than Run would. Pure: no Qt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ..net_tasks.request import PACKAGE_FORMATS
from ..net_tasks.templates import BULK_FORBIDDEN_LIMIT
from ..net_tasks.tiles import MAX_ZOOM, ORIGIN_M, tile_range

# An imagery tile (PNG or JPEG of a photo) weighs ~20-25 KB (issue 13's measurements); smooth
# maps weigh less, so the estimate is an upper guide, said with "about".
TYPICAL_TILE_BYTES = 20_000


@dataclass(frozen=True)
class TileCost:
    """Tiles per zoom (coarsest first), their total, the estimated bytes, and the refusals."""

    per_zoom: Tuple[Tuple[int, int], ...]
    total: int
    estimated_bytes: int
    refusals: Tuple[str, ...]
    tile_bytes: int = TYPICAL_TILE_BYTES

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


def tile_cost(bounds_m: Tuple[float, float, float, float], zoom_min: int, zoom_max: int, max_tiles: int,
              bulk_forbidden_host: str = "", output_format: str = "GTiff", mosaic_max_tiles: Optional[int] = None,
              tile_bytes: int = TYPICAL_TILE_BYTES) -> TileCost:
    """The cost of fetching ``bounds_m`` (EPSG:3857) at every zoom ``zoom_min``..``zoom_max``.

    ``bulk_forbidden_host``: the template's host when its usage policy forbids bulk downloads.
    """
    per_zoom = tuple((z, tile_range(bounds_m, z).count) for z in range(zoom_min, zoom_max + 1))
    total = sum(count for _, count in per_zoom)
    refusals = []
    if total > max_tiles:
        refusals.append(f"{total:,} tiles is more than Max tiles ({max_tiles:,}): raise Max tiles, "
                        "or take a smaller area or a lower zoom")
    if bulk_forbidden_host and total > BULK_FORBIDDEN_LIMIT:
        refusals.append(f"{bulk_forbidden_host}'s tile usage policy forbids bulk downloads: {total:,} tiles is "
                        f"more than the {BULK_FORBIDDEN_LIMIT:,} it allows, whatever the zoom range")
    finest = per_zoom[-1][1] if per_zoom else 0
    # a package holds every zoom as served: no mosaic size limit
    if mosaic_max_tiles is not None and output_format not in PACKAGE_FORMATS and finest > mosaic_max_tiles:
        refusals.append(f"zoom {zoom_max} needs {finest:,} tiles, more than the {mosaic_max_tiles:,} a GeoTIFF "
                        "holds: choose GeoPackage or MBTiles, a smaller area or a lower zoom")
    return TileCost(per_zoom, total, total * tile_bytes, tuple(refusals), tile_bytes)


def describe(cost: TileCost) -> str:
    """The cost as the form shows it: one line of counts, one of size, then any refusal."""
    if len(cost.per_zoom) == 1:
        counts = f"{cost.total:,} tiles at zoom {cost.per_zoom[0][0]}"
    else:
        shown = ", ".join(f"z{z}: {count:,}" for z, count in cost.per_zoom)
        counts = f"{cost.total:,} tiles ({shown})"
    size = f"about {human_bytes(cost.estimated_bytes)} to download (at ~{human_bytes(cost.tile_bytes)} a tile)"
    lines = [counts, size]
    lines += [f"Run would refuse this: {reason}" for reason in cost.refusals]
    return "\n".join(lines)


def human_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000.0
    return f"{count:,.1f} TB"


def zoom_for_resolution(metres_per_pixel: float, tile_px: int = 256, bounds: Sequence[int] = (0, MAX_ZOOM)) -> int:
    """The zoom whose tiles show one tile pixel per screen pixel at ``metres_per_pixel``
    (EPSG:3857 metres), within ``bounds``."""
    lowest, highest = bounds
    if not metres_per_pixel > 0 or not math.isfinite(metres_per_pixel):
        return lowest
    world_px = 2 * ORIGIN_M / metres_per_pixel  # the world's width in screen pixels
    zoom = round(math.log2(world_px / tile_px))
    return max(lowest, min(highest, zoom))
