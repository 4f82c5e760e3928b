"""A tile request checked: ``validate_tile_request`` refuses bad input before any request and
returns the frozen ``TilePlan`` the engine (``tile_download.run_tiles``) runs on.

Also what checking needs: extra headers, the bbox in Web Mercator, the default cache folder.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from osgeo import osr

from ..core.errors import InputError
from ..core.metadata import user_agent
from ..core.paths import user_cache_dir
from .request import (
    CACHE_MB, DECODE, DEFAULT_MAX_TILE_BYTES, FORMAT, MAX_AGE, MAX_TILE_BYTES, MAX_TILES, MOSAIC_MAX_TILES,
    PACKAGE_FORMATS, RETRIES, TILE_SIZES, TIMEOUT, WORKERS, ZOOM, TileRequest,
)
from .templates import BULK_FORBIDDEN_LIMIT, Template, parse_template
from .tiles import MAX_LAT, ORIGIN_M, TILE_PX, TileRange, tile_range

# Header names a request may not set: the session owns these (politeness, caching, the body's framing).
RESERVED_HEADERS = ("host", "user-agent", "if-none-match", "content-length", "transfer-encoding", "connection")


@dataclass(frozen=True)
class TilePlan:
    """A checked tile request: plain values for the worker thread."""

    template: Template
    tiles: TileRange
    bounds_m: Tuple[float, float, float, float]
    cache_dir: Path
    workers: int
    retries: int
    timeout_s: float
    decode: str
    user_agent: str
    clip: bool
    allow_missing: bool
    max_age_s: Optional[float]
    proxies: Tuple[Tuple[str, str], ...] = ()
    max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES
    tile_px: int = TILE_PX
    zoom_min: int = -1  # -1: the same as tiles.z (one level)
    format: str = FORMAT.default
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    name: str = ""
    attribution: str = ""
    cache_max_bytes: Optional[int] = None  # the cache folder's bound on disk (None: none)

    @property
    def zooms(self) -> range:
        """Every zoom level of the request, coarsest first."""
        return range(self.tiles.z if self.zoom_min < 0 else self.zoom_min, self.tiles.z + 1)

    def ranges(self) -> List[TileRange]:
        """The tiles to fetch, one range per zoom, coarsest first.

        A package takes every level; a mosaic only the finest (its overviews are built from it).
        A package's range is never wider than the world, so no two of its tiles wrap to one.
        """
        if not self.is_package:
            return [self.tiles]
        ranges = [tile_range(self.bounds_m, z) for z in self.zooms[:-1]] + [self.tiles]
        return [r if r.width <= 2 ** r.z else TileRange(0, r.y_min, 2 ** r.z - 1, r.y_max, r.z) for r in ranges]

    @property
    def total(self) -> int:
        """Tiles to fetch over every zoom level."""
        return sum(r.count for r in self.ranges())

    @property
    def is_package(self) -> bool:
        return self.format in PACKAGE_FORMATS


def check_headers(headers) -> Tuple[Tuple[str, str], ...]:
    """Extra request headers as (name, value) pairs; a bad one is named, its value never shown.

    :raises InputError: for a name that is not an HTTP token, one the session owns, or a value
        with a line break (header injection).
    """
    checked = []
    for pair in headers or ():
        if len(pair) != 2:
            raise InputError("a header is not a (name, value) pair")
        name, value = str(pair[0]).strip(), str(pair[1]).strip()
        if not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            raise InputError(f"header name {name!r} is not an HTTP header name")
        if name.lower() in RESERVED_HEADERS:
            raise InputError(f"header {name} is set by Offload itself (--user-agent sets the User-Agent)")
        if any(c in value for c in "\r\n\0"):
            raise InputError(f"header {name}'s value holds a line break")
        checked.append((name, value))
    return tuple(checked)


def default_cache_dir(template: str) -> Path:
    """A per-user cache folder per template (named by a digest, never by URL text)."""
    return user_cache_dir() / "tiles" / hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def to_mercator(bbox: Tuple[float, float, float, float], crs: str) -> Tuple[float, float, float, float]:
    """The bbox in EPSG:3857, clamped to Mercator's latitudes (±85.0511°, as GDAL and QGIS clamp).

    :raises InputError: for a value that is not a number, an unknown CRS, an inverted bbox, or
        one wholly north or south of Mercator's limit (nothing is left once clamped).
    """
    for value in bbox:
        if not math.isfinite(value):
            raise InputError(f"bbox value {value} is not a finite number")
    x_min, y_min, x_max, y_max = bbox
    shown = f"{x_min:g},{y_min:g},{x_max:g},{y_max:g}"
    if not (x_min < x_max and y_min < y_max):
        raise InputError(f"bbox {shown} is not XMIN,YMIN,XMAX,YMAX with min < max")
    beyond = f"bbox {shown} lies wholly beyond latitude {{}}{MAX_LAT:.4f}°, where Web Mercator tiles end"
    source = osr.SpatialReference()
    if source.SetFromUserInput(crs) != 0:
        raise InputError(f"bbox CRS {crs!r} is not a CRS GDAL knows")
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    mercator = osr.SpatialReference()
    mercator.ImportFromEPSG(3857)
    mercator.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, mercator)
    if not source.IsGeographic():
        bounds = transform.TransformBounds(x_min, y_min, x_max, y_max, 21)
        if any(math.isnan(v) for v in bounds):
            raise InputError(f"bbox {shown} in {crs} has no place in Web Mercator")
        if bounds[1] >= ORIGIN_M or bounds[3] <= -ORIGIN_M:  # the pole's own (polar stereographic, say)
            raise InputError(beyond.format("" if bounds[1] > 0 else "-"))
        return tuple(max(-ORIGIN_M, min(ORIGIN_M, v)) if abs(v) == math.inf else v for v in bounds)
    if y_min >= MAX_LAT or y_max <= -MAX_LAT:
        raise InputError(beyond.format("" if y_min > 0 else "-"))
    y_min, y_max = max(y_min, -MAX_LAT), min(y_max, MAX_LAT)  # Mercator's valid latitudes
    if x_max - x_min >= 360.0:
        x_min, x_max = -180.0, 180.0
    shift = 360.0 * math.floor((x_min + 180.0) / 360.0)  # x_min into [-180, 180)
    x_min, x_max = x_min - shift, x_max - shift
    if x_max <= 180.0:
        return tuple(transform.TransformBounds(x_min, y_min, x_max, y_max, 21))
    # Across the antimeridian: each side on its own, joined east of 180° (tile_range unwraps).
    west = transform.TransformBounds(x_min, y_min, 180.0, y_max, 21)
    east = transform.TransformBounds(-180.0, y_min, x_max - 360.0, y_max, 21)
    return (west[0], min(west[1], east[1]), east[2] + 2 * ORIGIN_M, max(west[3], east[3]))


def validate_tile_request(request: TileRequest) -> TilePlan:
    """Check everything before any request; return the plan.

    :raises InputError: naming the bad value.
    """
    template = parse_template(request.template, request.subdomains, request.allow_file_urls)
    if not ZOOM.minimum <= request.zoom <= ZOOM.maximum:
        raise InputError(f"zoom {request.zoom} is not within {ZOOM.minimum}..{ZOOM.maximum}")
    for option in (DECODE, FORMAT, WORKERS, RETRIES, TIMEOUT, MAX_AGE, MAX_TILE_BYTES, MAX_TILES, CACHE_MB):
        option.check(getattr(request, option.name))
    if request.tile_px not in TILE_SIZES:
        raise InputError(f"tile size {request.tile_px} is not one of {', '.join(map(str, TILE_SIZES))}")
    if request.zoom_min is not None and not ZOOM.minimum <= request.zoom_min <= request.zoom:
        raise InputError(f"zoom range {request.zoom_min}-{request.zoom} is not MIN-MAX within "
                         f"{ZOOM.minimum}-{ZOOM.maximum}")
    # None: the output's suffix decides. A format the suffix contradicts is refused by the task and
    # Processing's run, which know the real output (Processing checks with a placeholder's).
    output_format = request.output_format()
    if output_format in PACKAGE_FORMATS and request.decode != DECODE.default:
        raise InputError(f"decode {request.decode} makes a DEM: a {output_format} package keeps the tiles as "
                         f"served (take --format GTiff or COG)")
    if output_format in PACKAGE_FORMATS and request.clip:
        raise InputError(f"--clip cuts pixels: a {output_format} package keeps whole tiles as served")
    from .proxies import proxies_for  # QGIS's settings, read here: the tile math above loads without QGIS

    headers = check_headers(request.headers)
    bounds_m = to_mercator(request.bbox, request.bbox_crs)
    zoom_min = request.zoom if request.zoom_min is None else request.zoom_min
    plan = TilePlan(template, tile_range(bounds_m, request.zoom), bounds_m,
                    Path(request.cache_dir or default_cache_dir(template.text)),
                    request.workers, request.retries, float(request.timeout_s), request.decode,
                    request.user_agent or user_agent(), request.clip, request.allow_missing, request.max_age_s,
                    proxies_for(request.proxies), int(request.max_tile_bytes), request.tile_px,
                    zoom_min, output_format, headers, request.name or Path(request.output).stem,
                    request.attribution, cache_max_bytes=request.cache_mb * 2 ** 20)
    count = plan.total  # arithmetic: no tile is listed before these checks
    several = len(plan.ranges()) > 1
    zooms = f"zooms {zoom_min}-{request.zoom} need" if several else f"zoom {request.zoom} needs"
    if count > request.max_tiles:
        raise InputError(f"{zooms} {count} tiles, more than --max-tiles {request.max_tiles}")
    if not plan.is_package and count > MOSAIC_MAX_TILES:
        raise InputError(f"{zooms} {count} tiles, more than the {MOSAIC_MAX_TILES} a GeoTIFF "
                         f"mosaic holds (its tile index alone would take {16 * count / 1e9:.1f} GB): "
                         f"take a smaller bbox or a lower zoom")
    if template.bulk_forbidden and count > BULK_FORBIDDEN_LIMIT:
        raise InputError(f"{template.host} forbids bulk downloads: {count} tiles is more than "
                         f"{BULK_FORBIDDEN_LIMIT} (its tile usage policy)")
    return plan
