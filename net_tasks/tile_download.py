"""Tiled downloads: the request, its validation, and the scheduler that fetches the tiles.

``validate_tile_request`` refuses bad input before any request; ``run_tiles`` fetches on
``workers`` threads sharing one session (never more connections than workers), retries on a
timed queue, and hands each tile to its sink as it arrives, so memory does not grow with the
tile count. The rest lives beside it: the disk cache (``tile_cache``), checking and decoding
a tile (``tile_decode``), the mosaic (``tile_mosaic``) and the packages (``tile_package``).
"""
from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import os
import random
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from osgeo import osr

from ..core.control import Control
from ..core.errors import InputError, TaskFailed
from ..core.metadata import user_agent
from ..core.ordered_writer import OrderedWriter
from ..core.paths import user_cache_dir
from .fetch import DEFAULT_MAX_TILE_BYTES, Answer, Limiter, attempt, backoff_s
from .http import OffloadSession
from .templates import BULK_FORBIDDEN_LIMIT, Template, cache_path, parse_template
from .tile_cache import cache_extension, forget_cache, read_cache, write_cache
from .tile_decode import decode_image, tile_problem
from .tile_mosaic import MosaicSink
from .tile_package import PackageSink
from .tile_package import tile_problem as whole_tile_problem
from .tiles import MAX_LAT, MAX_ZOOM, ORIGIN_M, TILE_PX, Tile, TileRange, tile_range

DECODINGS = ("none", "terrarium", "terrain-rgb")
# The outputs: a mosaic (GeoTIFF, or a Cloud-Optimized GeoTIFF with overviews) decodes the tiles;
# a package (GeoPackage tiles, MBTiles) stores each tile's bytes as the server sent them.
FORMATS = (("GTiff", "GeoTIFF mosaic"), ("COG", "Cloud-Optimized GeoTIFF (with overviews)"),
           ("GPKG", "GeoPackage tiles (original bytes, every zoom)"), ("MBTiles", "MBTiles (original bytes, every zoom)"))
FORMAT_NAMES = tuple(name for name, _ in FORMATS)
PACKAGE_FORMATS = ("GPKG", "MBTiles")
# Header names a request may not set: the session owns these (politeness, caching, the body's framing).
RESERVED_HEADERS = ("host", "user-agent", "if-none-match", "content-length", "transfer-encoding", "connection")
DEM_NODATA = -32768.0
DEFAULT_MAX_AGE_S = 7 * 24 * 3600  # the OSM usage policy's minimum when the server says nothing
# Past a million tiles (65 gigapixels) a GeoTIFF's own tile index takes seconds to write and
# cannot be canceled; --max-tiles may be raised up to here.
MOSAIC_MAX_TILES = 1_000_000
TILE_SIZES = (256, 512)  # a tile is 256² or 512²: nothing larger is ever decoded
MAX_DECODED_PX = max(TILE_SIZES)


@dataclass(frozen=True)
class TileRequest:
    """Which tiles to fetch and how to mosaic them."""

    template: str
    bbox: Tuple[float, float, float, float]
    zoom: int
    output: Path
    bbox_crs: str = "EPSG:4326"
    cache_dir: Optional[Path] = None
    workers: int = 4
    retries: int = 4
    timeout_s: float = 30.0
    decode: str = "none"
    max_tiles: int = 10_000
    user_agent: str = ""
    subdomains: str = ""
    clip: bool = False
    allow_missing: bool = False
    allow_file_urls: bool = False
    max_age_s: Optional[float] = None
    overwrite: bool = False
    proxies: Optional[Tuple[Tuple[str, str], ...]] = None  # (scheme, proxy URL); None: the environment
    max_tile_bytes: int = DEFAULT_MAX_TILE_BYTES
    tile_px: int = TILE_PX  # 256, or 512 for servers of 512² tiles
    zoom_min: Optional[int] = None  # None: only ``zoom``; else every level zoom_min..zoom (``zoom`` the finest)
    format: str = "GTiff"  # one of FORMAT_NAMES
    # Extra HTTP headers on every tile request (Referer, Authorization from QGIS's auth manager):
    # never logged, never in a cache path or a message.
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    name: str = ""  # a package's name (default: the output file's stem)
    attribution: str = ""  # a package's attribution (the connection's, when it has one)


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
    format: str = "GTiff"
    headers: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    name: str = ""
    attribution: str = ""

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
    """The bbox in EPSG:3857, clamped to Mercator's latitudes.

    :raises InputError: for an unknown CRS or an inverted bbox.
    """
    x_min, y_min, x_max, y_max = bbox
    if not (x_min < x_max and y_min < y_max):
        raise InputError(f"bbox {x_min:g},{y_min:g},{x_max:g},{y_max:g} is not XMIN,YMIN,XMAX,YMAX with min < max")
    source = osr.SpatialReference()
    if source.SetFromUserInput(crs) != 0:
        raise InputError(f"bbox CRS {crs!r} is not a CRS GDAL knows")
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    mercator = osr.SpatialReference()
    mercator.ImportFromEPSG(3857)
    mercator.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, mercator)
    if not source.IsGeographic():
        return tuple(transform.TransformBounds(x_min, y_min, x_max, y_max, 21))
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
    if not 0 <= request.zoom <= MAX_ZOOM:
        raise InputError(f"zoom {request.zoom} is not within 0..{MAX_ZOOM}")
    if request.decode not in DECODINGS:
        raise InputError(f"decode {request.decode!r} is not one of {', '.join(DECODINGS)}")
    if not 1 <= request.workers <= 64:
        raise InputError(f"workers {request.workers} is not within 1..64")
    if not 0 <= request.retries <= 20:
        raise InputError(f"retries {request.retries} is not within 0..20")
    if not request.timeout_s > 0:
        raise InputError(f"timeout {request.timeout_s} is not a positive number of seconds")
    if request.max_age_s is not None and request.max_age_s < 0:
        raise InputError(f"max-age {request.max_age_s} is negative")
    if request.tile_px not in TILE_SIZES:
        raise InputError(f"tile size {request.tile_px} is not one of {', '.join(map(str, TILE_SIZES))}")
    if not request.max_tile_bytes > 0:
        raise InputError(f"max-tile-bytes {request.max_tile_bytes} is not a positive number of bytes")
    if request.format not in FORMAT_NAMES:
        raise InputError(f"format {request.format!r} is not one of {', '.join(FORMAT_NAMES)}")
    if request.zoom_min is not None and not 0 <= request.zoom_min <= request.zoom:
        raise InputError(f"zoom range {request.zoom_min}-{request.zoom} is not MIN-MAX within 0-{MAX_ZOOM}")
    if request.format in PACKAGE_FORMATS and request.decode != "none":
        raise InputError(f"decode {request.decode} makes a DEM: a {request.format} package keeps the tiles as "
                         f"served (take --format GTiff or COG)")
    if request.format in PACKAGE_FORMATS and request.clip:
        raise InputError(f"--clip cuts pixels: a {request.format} package keeps whole tiles as served")
    headers = check_headers(request.headers)
    bounds_m = to_mercator(request.bbox, request.bbox_crs)
    zoom_min = request.zoom if request.zoom_min is None else request.zoom_min
    plan = TilePlan(template, tile_range(bounds_m, request.zoom), bounds_m,
                    Path(request.cache_dir or default_cache_dir(template.text)),
                    request.workers, request.retries, float(request.timeout_s), request.decode,
                    request.user_agent or user_agent(), request.clip, request.allow_missing, request.max_age_s,
                    tuple(request.proxies or ()), int(request.max_tile_bytes), request.tile_px,
                    zoom_min, request.format, headers, request.name or Path(request.output).stem,
                    request.attribution)
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


# -- the scheduler -------------------------------------------------------------------------------

@dataclass
class TileResult:
    """What a tile download did, as the user is told it."""

    fetched: int = 0  # downloaded (a 200 whose body passed every check)
    cached: int = 0  # taken from the cache: fresh, or confirmed unchanged by a 304
    missing: int = 0  # the server has no tile there (404, 204): nodata in a mosaic, absent from a package
    failed: int = 0  # failed every attempt (left out only with --allow-missing)
    retries: int = 0
    kept: int = 0  # already in the package a rerun adds to: neither fetched nor counted as done work
    bytes_fetched: int = 0  # tile bodies received over the network
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return self.fetched + self.cached + self.missing + self.failed

    def summary(self) -> str:
        """One line: ``1,024 tiles in 7.8 s: 1,000 downloaded (20.5 MB), 24 from the cache``."""
        parts = [f"{self.fetched:,} downloaded ({self.bytes_fetched / 1e6:.1f} MB)"]
        for count, what in ((self.cached, "from the cache"), (self.kept, "already in the package"),
                            (self.missing, "missing on the server"), (self.failed, "failed"),
                            (self.retries, "retries")):
            if count:
                parts.append(f"{count:,} {what}")
        return f"{self.done + self.kept:,} tiles in {self.seconds:.1f} s: " + ", ".join(parts)


@dataclass
class _Outcome:
    """What one job for a tile gave (computed in a worker)."""

    tile: Tile
    attempt: int
    kind: str  # fetched | cached | missing | retry | failed | refetch (a cached body that did not decode)
    payload: object = None  # the body; for a mosaic, its RGBA pixels once decoded
    size: int = 0  # bytes received over the network
    cached_at: Optional[Path] = None  # the cache file the body came from
    keep: Optional[tuple] = None  # what to hand the cache's writer once the body decodes
    problem: str = ""
    wait_s: Optional[float] = None
    throttled: bool = False


def run_tiles(plan: TilePlan, destination: Path, control: Control) -> TileResult:
    """Fetch every tile of ``plan`` into ``destination``: a mosaic, or a package (added to when it exists).

    This thread schedules: it keeps at most ``limiter.allowed`` requests in flight, puts a
    tile that must be retried in a timed queue (so no worker ever sleeps), and hands each tile
    to the sink (``MosaicSink`` or ``PackageSink``, each writing on a thread of its own) as it
    arrives. A mosaic's tiles are decoded on a pool of their own, one thread per core (GDAL
    releases the GIL while it decodes), so a network worker goes back to the network at once
    and decoding uses every core. Tiles are taken from the ranges one at a time, never listed.
    """
    started = time.monotonic()
    result, failures = TileResult(), _Failures()
    limiter = Limiter(plan.workers)
    extension = cache_extension(plan.template)
    total = plan.total
    delayed: list = []  # heap of (due, sequence, tile, attempt)
    rng = random.Random(str(plan.tiles))  # jitter that differs per job, repeatable per request
    session = OffloadSession(plan.user_agent, pool_size=plan.workers, proxies=dict(plan.proxies))
    remove_hook = control.on_cancel(session.abort)
    sink = cache_writer = None
    try:
        # A package keeps the bytes itself (a rerun into it fetches only what it lacks): no cache writes.
        if not plan.is_package:  # the cache is written on a thread of its own: ~0.7 ms a tile off the workers
            cache_writer = OrderedWriter(lambda item: write_cache(*item), capacity=4 * plan.workers,
                                         name="offload-cache")
        sink = PackageSink(plan, destination) if plan.is_package else MosaicSink(plan, destination, control)
        held = sink.held()
        share = 1.0 if plan.is_package or (plan.format == "GTiff" and len(plan.zooms) == 1) else 0.9  # then overviews
        first_attempts = (t for r in plan.ranges() for t in r.tiles() if t.wrapped() not in held)
        result.kept = sum(1 for r in plan.ranges() for t in r.tiles() if t.wrapped() in held) if held else 0
        to_fetch = total - result.kept
        planned = 0
        decoders = 0 if plan.is_package else (os.cpu_count() or 2)
        with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="offload-tiles") as pool, \
                ThreadPoolExecutor(max_workers=max(1, decoders), thread_name_prefix="offload-decode") as decoding:
            in_flight, decodes = set(), set()
            while planned < to_fetch or delayed or in_flight or decodes:
                control.check_canceled()
                now = time.monotonic()
                # bodies waiting to be decoded are bounded too: the network never outruns the cores by much
                while len(in_flight) < limiter.allowed and len(decodes) < 2 * plan.workers:
                    if delayed and delayed[0][0] <= now:
                        _, _, tile, number = heapq.heappop(delayed)
                    elif planned < to_fetch:
                        tile, number, planned = next(first_attempts), 0, planned + 1
                    else:
                        break
                    in_flight.add(pool.submit(_job, plan, tile, number, extension, session, control))
                next_due = delayed[0][0] - now if delayed else 0.05
                done, _ = wait(in_flight | decodes, timeout=max(0.001, min(0.05, next_due)),
                               return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    if future in in_flight:
                        in_flight.discard(future)
                        if decoders and outcome.kind in ("fetched", "cached"):
                            decodes.add(decoding.submit(_decode, outcome, cache_writer.put))
                            continue
                    else:
                        decodes.discard(future)
                        if outcome.kind == "refetch":  # its cached copy did not decode, and is gone
                            heapq.heappush(delayed, (now, next(_SEQUENCE), outcome.tile, outcome.attempt))
                            continue
                    _settle(outcome, plan, sink, result, failures, limiter, delayed, rng, control)
                    control.report(share * (result.done + result.kept) / total,
                                   f"{result.done + result.kept} of {total} tiles")
        if failures and (not plan.allow_missing or result.failed == to_fetch):
            raise TaskFailed(failures.summary(to_fetch, plan.allow_missing))
        sink.close()
        if cache_writer is not None:
            cache_writer.close()
    finally:
        remove_hook()
        session.close()
        if cache_writer is not None:
            try:  # canceled or failed: what is queued is whole, checked tiles, worth keeping for a rerun
                cache_writer.close()
            except Exception:  # noqa: BLE001 (the run's own error is the one to report)
                pass
        if sink is not None:
            sink.abandon()  # the file's handle must close before the base task removes or publishes it
    result.seconds = time.monotonic() - started
    return result


class _Failures:
    """Failed tiles grouped by what went wrong, for one line that names the causes."""

    SHOWN = 5  # tiles named per cause

    def __init__(self) -> None:
        self.by_problem: "dict[str, List[str]]" = {}

    def __bool__(self) -> bool:
        return bool(self.by_problem)

    def add(self, tile: Tile, problem: str) -> None:
        wrapped = tile.wrapped()
        self.by_problem.setdefault(problem, []).append(f"{wrapped.z}/{wrapped.x}/{wrapped.y}")

    def summary(self, total: int, allow_missing: bool) -> str:
        count = sum(len(names) for names in self.by_problem.values())
        causes = []
        for problem, names in sorted(self.by_problem.items(), key=lambda item: -len(item[1])):
            more = f" and {len(names) - self.SHOWN} more" if len(names) > self.SHOWN else ""
            causes.append(f"{problem}: {', '.join(names[:self.SHOWN])}{more}")
        head = (f"every tile failed ({count} of {total}; --allow-missing leaves only some empty)"
                if allow_missing else f"{count} of {total} tile(s) failed")
        return f"{head}; " + "; ".join(causes)


def _settle(outcome: _Outcome, plan: TilePlan, sink, result: TileResult, failures: _Failures,
            limiter: Limiter, delayed: list, rng: random.Random, control: Control) -> None:
    """Write a finished tile, or schedule its retry, or record its failure (this thread only)."""
    tile = outcome.tile
    if outcome.kind == "retry":
        control.check_canceled()  # an abort during cancel looks like a failed request
        if outcome.throttled:
            limiter.throttled()
        if outcome.attempt < plan.retries:
            wait_s = outcome.wait_s if outcome.wait_s is not None else backoff_s(outcome.attempt, rng)
            heapq.heappush(delayed, (time.monotonic() + wait_s, next(_SEQUENCE), tile, outcome.attempt + 1))
            result.retries += 1
            return
        outcome.kind = "failed"
        outcome.problem += f" (after {plan.retries} retries)" if plan.retries else ""
    elif outcome.kind == "failed" and outcome.problem.startswith("HTTP "):
        outcome.problem += " (not retried)"  # a 403 or 401 would answer the same again
    if outcome.kind == "failed":
        result.failed += 1
        failures.add(tile, outcome.problem)
        return
    limiter.succeeded()
    setattr(result, outcome.kind, getattr(result, outcome.kind) + 1)
    result.bytes_fetched += outcome.size
    sink.write(tile, outcome.payload)


_SEQUENCE = itertools.count()  # ties in the retry heap never compare tiles


def _job(plan: TilePlan, tile: Tile, number: int, extension: str, session, control: Control) -> _Outcome:
    """One attempt at a tile (network worker): the cache when fresh, else one request.

    The body's header is checked here (its size, before any pixel is decoded), and for a
    package its end too. A stale cached tile with an ETag is asked for conditionally:
    unchanged costs a 304. A mosaic's body is cached only once it decodes (``_decode``).
    """
    control.check_canceled()
    path = cache_path(plan.cache_dir, tile.wrapped(), extension)
    cached = read_cache(path, plan.max_tile_bytes)
    if cached is not None and _body_problem(cached.body, "", plan):
        cached = None  # cached before these checks existed: never trusted
    if cached is not None and cached.fresh(plan.max_age_s, time.time()):
        return _Outcome(tile, number, "cached", cached.body, cached_at=path)
    url = plan.template.url(tile)
    headers = dict(plan.headers)  # the caller's (Referer, Authorization): sent, never shown
    if cached is not None and cached.etag:
        headers["If-None-Match"] = cached.etag
    answer = _request(url, session, plan, headers or None)
    keeps = not plan.is_package  # a package keeps the bytes itself
    if answer.kind == "not_modified" and cached is not None:
        return _Outcome(tile, number, "cached", cached.body, cached_at=path,
                        keep=(path, None, answer.headers, time.time()) if keeps else None)
    if answer.kind == "empty":
        return _Outcome(tile, number, "missing")
    if answer.kind == "ok":
        problem = _body_problem(answer.body, answer.headers.get("Content-Type", ""), plan)
        if not problem:
            return _Outcome(tile, number, "fetched", answer.body, size=len(answer.body),
                            keep=(path, answer.body, answer.headers, time.time()) if keeps else None)
        answer = Answer("fail", problem=problem)
    if answer.kind == "fail":
        return _Outcome(tile, number, "failed", problem=answer.problem)
    return _Outcome(tile, number, "retry", problem=answer.problem, wait_s=answer.retry_after_s,
                    throttled=answer.throttled)


def _decode(outcome: _Outcome, keep: Callable[[tuple], None]) -> _Outcome:
    """A mosaic's tile decoded to RGBA (decoding thread), and cached once it decodes.

    A body that does not decode fails; a cached one is dropped from the cache and fetched again.
    """
    pixels = decode_image(outcome.payload)
    if pixels is None:
        outcome.payload = None
        if outcome.cached_at is not None:
            forget_cache(outcome.cached_at)
            outcome.kind = "refetch"
        else:
            outcome.kind, outcome.problem = "failed", "an image GDAL cannot decode"
        return outcome
    if outcome.keep is not None:
        keep(outcome.keep)  # the cache's writing thread: off this one
    outcome.payload = pixels
    return outcome


def _body_problem(body: bytes, content_type: str, plan: TilePlan) -> str:
    """Why a body is no tile for this plan ("" if none): its header, and for a package its end too."""
    problem = tile_problem(body, content_type, plan.tile_px)
    if not problem and plan.is_package:
        problem = whole_tile_problem(body, plan.tile_px) or ""  # a package never holds a truncated tile
    return problem


def _request(url: str, session, plan: TilePlan, headers) -> Answer:
    if url.startswith("file://"):  # allowed only with --allow-file-urls (checked by the template)
        local = Path(url[len("file://"):])
        if not local.is_file():
            return Answer("empty")
        if local.stat().st_size > plan.max_tile_bytes:
            return Answer("fail", problem=f"a body of more than {plan.max_tile_bytes} bytes "
                                          f"(--max-tile-bytes raises it)")
        return Answer("ok", local.read_bytes())
    return attempt(session, url, plan.timeout_s, headers, max_bytes=plan.max_tile_bytes)
