"""What a download asks for: the network family's vocabulary, and the requests every front end builds.

The options are declared once here (keyword, label, bounds, default); the command line, the
Processing algorithms and the dialog's forms are generated from them, and the request
dataclasses take their defaults from them.

Pure: stdlib only (the plugin imports it at start-up, for the Processing parameters).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple

from ..core.errors import InputError
from ..core.vocabulary import Choice, Option, tr_noop
from .tiles import MAX_ZOOM, TILE_PX

# A tile body's bound, raw or inflated: a 512² RGBA PNG that does not compress is ~1 MB.
DEFAULT_MAX_TILE_BYTES = 4 * 1024 * 1024
# Past a million tiles (65 gigapixels) a GeoTIFF's own tile index takes seconds to write and
# cannot be canceled; --max-tiles may be raised up to here for a mosaic (a package has no such bound).
MOSAIC_MAX_TILES = 1_000_000

# -- tiles -----------------------------------------------------------------------------------

ZOOM = Option("zoom", tr_noop("Zoom"), kind=int, minimum=0, maximum=MAX_ZOOM, default=12,
              help="one level (14) or a range MIN-MAX (10-16): a package holds every level, a GeoTIFF/COG is "
                   "the finest with the coarser ones as overviews")
ZOOM_MIN = Option("zoom_min", tr_noop("Min zoom (empty: only Zoom)"), kind=int, minimum=0, maximum=MAX_ZOOM,
                  help="the coarsest zoom of a range (default: only the zoom)")
# The outputs: a mosaic (GeoTIFF, or a Cloud-Optimized GeoTIFF with overviews) decodes the tiles;
# a package (GeoPackage tiles, MBTiles) stores each tile's bytes as the server sent them.
FORMAT = Option("format", tr_noop("Format"), default="GTiff", choices=(
    Choice("GTiff", tr_noop("GeoTIFF mosaic")),
    Choice("COG", tr_noop("Cloud Optimized GeoTIFF (with overviews)")),
    Choice("GPKG", tr_noop("GeoPackage tiles (as served, every zoom)")),
    Choice("MBTiles", tr_noop("MBTiles (as served, every zoom)")),
), help="what to write, by default as the output's suffix says (.gpkg, .mbtiles; else GTiff); a rerun into "
        "an existing package adds only what it lacks")
DECODE = Option("decode", tr_noop("Decode"), default="none", choices=(
    Choice("none", tr_noop("Imagery (RGBA)")),
    Choice("terrarium", tr_noop("Terrarium elevation → Float32 DEM")),
    Choice("terrain-rgb", tr_noop("Terrain-RGB elevation → Float32 DEM")),
), help="what the tiles hold")
TILE_SIZE = Option("tile_px", tr_noop("Tile size (pixels)"), flag="--tile-size", default=str(TILE_PX), choices=(
    Choice("256", tr_noop("256 pixels")),
    Choice("512", tr_noop("512 pixels (HiDPI)")),
), help="pixels on a tile's side, as the server serves them")
WORKERS = Option("workers", tr_noop("Connections"), kind=int, minimum=1, maximum=64, default=4,
                 help="concurrent connections: tile servers' usage policies ask for few")
RETRIES = Option("retries", tr_noop("Retries per tile"), kind=int, minimum=0, maximum=20, default=4,
                 help="retries per tile")
TIMEOUT = Option("timeout_s", tr_noop("Seconds one attempt at a tile may take"), flag="--timeout", kind=float,
                 minimum=0.1, default=30.0, unit="s",
                 help="seconds one attempt at a tile may take, all of it: connect, headers, body")
MAX_TILE_BYTES = Option("max_tile_bytes", tr_noop("Largest tile body (bytes, once inflated)"), kind=int,
                        minimum=1, default=DEFAULT_MAX_TILE_BYTES,
                        help="refuse a tile body larger than this, counted once inflated")
MAX_TILES = Option("max_tiles", tr_noop("Max tiles"), kind=int, minimum=1, default=10_000,
                   help="refuse more tiles than this")
MAX_AGE = Option("max_age_s", tr_noop("Seconds a cached tile stays fresh"), flag="--max-age", kind=float,
                 minimum=0, help="seconds a cached tile stays fresh; unset: as the server says")
# The tile cache's bound on disk, per cache folder (one a tile source). QGIS's own network cache
# holds 50 MB (Settings > Network) for everything it browses; a download's cache must hold whole
# runs, so that a rerun after a failure or a cancel fetches nothing again (a tile server's usage
# policy asks for that): 512 MB is two runs of --max-tiles' 10,000 imagery tiles of ~25 KB.
CACHE_MB = Option("cache_mb", tr_noop("Tile cache size (MB)"), flag="--cache-size", kind=int, minimum=1,
                  maximum=1_000_000, default=512, unit="MB",
                  help="the tile cache folder's bound on disk: past it, the end of a completed run drops the least "
                       "recently stored tiles of earlier runs (never its own: a run larger than the bound leaves the "
                       "cache that much past it until the next run's end)")
BBOX_CRS = Option("bbox_crs", tr_noop("Area CRS"), default="EPSG:4326", help="CRS of --bbox")
TILE_OPTIONS = (ZOOM, ZOOM_MIN, FORMAT, DECODE, TILE_SIZE, WORKERS, RETRIES, TIMEOUT, MAX_TILE_BYTES, MAX_TILES,
                MAX_AGE, CACHE_MB, BBOX_CRS)

FORMAT_NAMES = FORMAT.keywords
PACKAGE_FORMATS = ("GPKG", "MBTiles")  # the tiles as served: nothing decoded, nothing clipped
FORMAT_SUFFIXES = {"GTiff": ".tif", "COG": ".tif", "GPKG": ".gpkg", "MBTiles": ".mbtiles"}
DECODINGS = DECODE.keywords
TILE_SIZES = tuple(int(keyword) for keyword in TILE_SIZE.keywords)  # nothing larger is ever decoded


# The formats a suffix names: a file's suffix is what QGIS (and GDAL's Toolbox algorithms) go by,
# so it decides, and a Format that contradicts it is refused (a GeoTIFF never lands in a .gpkg).
SUFFIX_FORMATS = {".tif": ("GTiff", "COG"), ".tiff": ("GTiff", "COG"), ".gpkg": ("GPKG",), ".mbtiles": ("MBTiles",)}


def format_for_output(output, chosen: Optional[str] = None) -> str:
    """The format to write ``output`` in: ``chosen`` when given, else what the suffix says
    (.gpkg or .mbtiles a package, anything else a GeoTIFF).

    :raises InputError: when ``chosen`` is not a format the output's suffix names.
    """
    path = Path(str(output).strip())
    named = SUFFIX_FORMATS.get(path.suffix.lower(), ())
    if chosen is None:
        return named[0] if named else FORMAT.default
    if named and chosen not in named:
        either = " or ".join(named)
        raise InputError(f"output {path.name} is {either} by its suffix, but Format is {chosen}: choose Format "
                         f"{either}, or a {FORMAT_SUFFIXES[chosen]} output")
    return chosen


@dataclass(frozen=True)
class TileRequest:
    """Which tiles to fetch, and what to write them into."""

    template: str
    bbox: Tuple[float, float, float, float]
    zoom: int
    output: Path
    bbox_crs: str = BBOX_CRS.default
    cache_dir: Optional[Path] = None
    cache_mb: int = CACHE_MB.default  # the cache folder's bound on disk
    workers: int = WORKERS.default
    retries: int = RETRIES.default
    timeout_s: float = TIMEOUT.default
    decode: str = DECODE.default
    max_tiles: int = MAX_TILES.default
    user_agent: str = ""
    subdomains: str = ""
    clip: bool = False
    allow_missing: bool = False
    allow_file_urls: bool = False
    max_age_s: Optional[float] = None
    overwrite: bool = False
    # (scheme, proxy URL) pairs; None: QGIS's proxy when it has one, else the environment's; (): the environment's
    proxies: Optional[Tuple[Tuple[str, str], ...]] = None
    max_tile_bytes: int = MAX_TILE_BYTES.default
    tile_px: int = TILE_PX  # 256, or 512 for servers of 512² tiles
    zoom_min: Optional[int] = None  # None: only ``zoom``; else every level zoom_min..zoom (``zoom`` the finest)
    format: Optional[str] = None  # one of FORMAT_NAMES; None: the output's suffix decides (format_for_output)
    # Extra HTTP headers on every tile request (Referer, Authorization from QGIS's auth manager):
    # never logged, never in a cache path or a message.
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    name: str = ""  # a package's name (default: the output file's stem)
    attribution: str = ""  # a package's attribution (the connection's, when it has one)

    def output_format(self) -> str:
        """The format asked for, else the one the output's suffix says."""
        return self.format or format_for_output(self.output)


# -- files -----------------------------------------------------------------------------------

DOWNLOAD_KIND = Option("kind", tr_noop("Load as"), default="file", choices=(
    Choice("file", tr_noop("A file (not loaded)")),
    Choice("raster", tr_noop("A raster layer")),
    Choice("vector", tr_noop("A vector layer")),
), help="what the downloaded file is, to load it")
MAX_BYTES = Option("max_bytes", tr_noop("Largest file (bytes)"), kind=int, minimum=1,
                   help="fail if the file is larger than this, counted once inflated; unset: no bound but the free disk")
DOWNLOAD_TIMEOUT = Option("timeout_s", tr_noop("Timeout (seconds without a KiB)"), flag="--timeout", kind=float,
                          minimum=0.1, default=30.0, unit="s",
                          help="seconds the server may take to answer, and to send each further KiB: a stalled or "
                               "dripping transfer fails, a slow steady one does not")
FILE_OPTIONS = (MAX_BYTES, DOWNLOAD_TIMEOUT)
DOWNLOAD_KINDS = DOWNLOAD_KIND.keywords


@dataclass(frozen=True)
class FileRequest:
    """One file to fetch, and how."""

    url: str
    output: Path
    sha256: Optional[str] = None
    max_bytes: Optional[int] = None
    timeout_s: float = DOWNLOAD_TIMEOUT.default
    user_agent: str = ""
    allow_file_urls: bool = False
    overwrite: bool = False
    resume_dir: Optional[Path] = None  # where interrupted downloads wait to be resumed
    # (scheme, proxy URL) pairs; None: QGIS's proxy when it has one, else the environment's; (): the environment's
    proxies: Optional[Tuple[Tuple[str, str], ...]] = None
