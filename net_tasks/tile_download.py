"""Tiled downloads: the engine that fetches a checked plan's tiles into a mosaic or a package.

``tile_plan.validate_tile_request`` refuses bad input before any request; ``run_tiles`` fetches on
``workers`` threads sharing one session (never more connections than workers), keeps a
disk cache (``z/x/y.ext``, written atomically, expiry from the server's headers), and writes
each tile into the mosaic as it arrives, so memory does not grow with the tile count.
"""
from __future__ import annotations

import heapq
import itertools
import json
import os
import random
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from osgeo import gdal, osr

from ..core.control import Control, gdal_callback
from ..core.errors import TaskFailed
from ..core.ordered_writer import OrderedWriter
from ..core.outputs import temp_name_for
from .fetch import DEFAULT_MAX_TILE_BYTES, Answer, Limiter, attempt, backoff_s
from .http import OffloadSession
from .image_size import image_size
from .request import TILE_SIZES
from .templates import Template, cache_path
from .tile_package import PackageMeta, open_package
from .tile_package import tile_problem as whole_tile_problem
from .tile_plan import TilePlan
from .tiles import ORIGIN_M, TILE_PX, Tile, range_bounds

DEM_NODATA = -32768.0
DEFAULT_MAX_AGE_S = 7 * 24 * 3600  # the OSM usage policy's minimum when the server says nothing
MAX_DECODED_PX = max(TILE_SIZES)


# -- images ------------------------------------------------------------------------------

def tile_problem(body: bytes, content_type: str = "", tile_px: int = TILE_PX) -> str:
    """Why ``body`` is no tile for the mosaic, read from its header before decoding ("" if none).

    A tile is ``tile_px``² (256² or 512²): a 100 KB PNG can declare 30000² pixels, which
    decoded would take gigabytes.
    """
    size = image_size(body)
    if size is None:
        what = f"{content_type.split(';')[0].strip()}, " if content_type else ""
        return f"not an image ({what}{len(body)} bytes)"
    if size != (tile_px, tile_px):
        other = size[0] if size[0] == size[1] and size[0] in TILE_SIZES else None
        hint = f" (--tile-size {other} takes them)" if other else ""
        return f"a {size[0]}×{size[1]} image, not a {tile_px}×{tile_px} tile{hint}"
    return ""


def decode_image(body: bytes, max_px: int = MAX_DECODED_PX) -> Optional[np.ndarray]:
    """A tile image (PNG, JPEG, WebP: palette, grey, RGB or RGBA) as RGBA (4, rows, cols) uint8.

    None for a body GDAL cannot read, or whose size passes ``max_px`` on either side (checked
    before any pixel is decoded).
    """
    name = f"/vsimem/offload-tile-{uuid.uuid4().hex}"
    gdal.FileFromMemBuffer(name, body)
    try:
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        dataset = gdal.Open(name)
        gdal.PopErrorHandler()
        if dataset is None or max(dataset.RasterXSize, dataset.RasterYSize) > max_px:
            return None
        bands = dataset.RasterCount
        first = dataset.GetRasterBand(1)
        table = first.GetColorTable()
        values = dataset.ReadAsArray()
        if values is None:
            return None
        if bands == 1 and table is not None:
            lookup = np.array([table.GetColorEntry(i) for i in range(table.GetCount())], np.uint8).reshape(-1, 4)
            return np.moveaxis(lookup[values], -1, 0)
        if bands == 1:
            return np.stack([values, values, values, np.full_like(values, 255)])
        if bands == 2:  # grey + alpha
            return np.stack([values[0], values[0], values[0], values[1]])
        if bands == 3:
            return np.concatenate([values, np.full_like(values[:1], 255)])
        return values[:4].astype(np.uint8)
    finally:
        gdal.Unlink(name)


def decode_elevation(rgba: np.ndarray, encoding: str) -> np.ndarray:
    """Heights (m) from an elevation tile; transparent pixels are nodata."""
    red, green, blue = (rgba[i].astype(np.float64) for i in range(3))
    if encoding == "terrarium":
        heights = red * 256.0 + green + blue / 256.0 - 32768.0
    else:  # terrain-rgb (Mapbox, MapTiler)
        heights = -10000.0 + (red * 65536.0 + green * 256.0 + blue) * 0.1
    heights[rgba[3] == 0] = DEM_NODATA
    return heights.astype(np.float32)


# -- the cache -------------------------------------------------------------------------------

def _extension(template: Template) -> str:
    tail = template.text.rsplit("/", 1)[-1].split("?", 1)[0]
    extension = tail.rsplit(".", 1)[-1].lower() if "." in tail else "img"
    return extension if extension.isalnum() and len(extension) <= 5 else "img"


@dataclass(frozen=True)
class CacheEntry:
    """A cached tile: its body, when it was fetched, when it expires, its ETag."""

    body: bytes
    fetched: float
    expires: float
    etag: str = ""

    def fresh(self, max_age_s: Optional[float], now: float) -> bool:
        """Fresh by --max-age when given, else by the server's expiry headers."""
        return now - self.fetched < max_age_s if max_age_s is not None else now < self.expires


def read_cache(path: Path, max_bytes: int = DEFAULT_MAX_TILE_BYTES) -> Optional[CacheEntry]:
    try:
        meta = json.loads(_meta_path(path).read_text())
        if path.stat().st_size > max_bytes:
            return None  # not ours to trust (nothing that large is ever cached): fetch again
        return CacheEntry(path.read_bytes(), float(meta["fetched"]), float(meta["expires"]), str(meta.get("etag", "")))
    except (FileNotFoundError, ValueError, KeyError):
        return None  # missing or half-known: fetch again


def write_cache(path: Path, body: Optional[bytes], headers: dict, now: float) -> None:
    """Write the tile (unless ``body`` is None: a 304 only renews it), atomically, then its sidecar.

    The sidecar is written in place: one rename less per tile (the cache costs a download
    of many small tiles ~10% of its speed). A sidecar cut short is not JSON, and a tile
    without a readable sidecar is fetched again, so a kill never makes a wrong tile count.
    """
    meta = {"fetched": now, "expires": now + max_age_from(headers, DEFAULT_MAX_AGE_S),
            "etag": headers.get("ETag", "")}
    try:
        _write_cache_files(path, body, json.dumps(meta).encode("utf-8"))
    except FileNotFoundError:  # the tile's folder, made once (asking first costs every tile a syscall)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_cache_files(path, body, json.dumps(meta).encode("utf-8"))


def _write_cache_files(path: Path, body: Optional[bytes], meta: bytes) -> None:
    if body is not None:
        _atomic_write(path, body)
    _meta_path(path).write_bytes(meta)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _atomic_write(path: Path, data: bytes) -> None:
    temp = temp_name_for(path)  # names its owner: core's sweep knows a dead run's leftovers
    temp.write_bytes(data)
    os.replace(temp, path)


def max_age_from(headers, default_s: float) -> float:
    """Seconds a tile stays fresh: Cache-Control max-age when the server gives it, else the default."""
    for part in (headers.get("Cache-Control") or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.lower() == "max-age" and value.isdigit():
            return float(value)
    return default_s


# -- the engine --------------------------------------------------------------------------------

@dataclass
class TileStats:
    downloaded: int = 0
    from_cache: int = 0
    empty: int = 0
    failed: int = 0
    retries: int = 0
    kept: int = 0  # already in the package a rerun adds to: neither fetched nor counted as done work

    @property
    def done(self) -> int:
        return self.downloaded + self.from_cache + self.empty + self.failed


@dataclass
class _Outcome:
    """What one job for a tile gave (computed in a worker)."""

    tile: Tile
    attempt: int
    kind: str  # downloaded | from_cache | empty | retry | failed
    payload: object = None  # what the sink takes: RGBA pixels (a mosaic) or the body as served (a package)
    problem: str = ""
    wait_s: Optional[float] = None
    throttled: bool = False


def run_tiles(plan: TilePlan, destination: Path, control: Control) -> TileStats:
    """Fetch every tile of ``plan`` into ``destination``: a mosaic, or a package (added to when it exists).

    This thread schedules: it keeps at most ``limiter.allowed`` jobs in flight, puts a tile
    that must be retried in a timed queue (so no worker ever sleeps), and hands each tile to
    the sink (which writes on a thread of its own) as it arrives. Tiles are taken from the
    ranges one at a time, never listed.
    """
    stats, failures = TileStats(), _Failures()
    limiter = Limiter(plan.workers)
    extension = _extension(plan.template)
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
        sink = _PackageSink(plan, destination) if plan.is_package else _Mosaic(plan, destination, control)
        held = sink.held()
        share = 1.0 if plan.is_package or (plan.format == "GTiff" and len(plan.zooms) == 1) else 0.9  # then overviews
        first_attempts = (t for r in plan.ranges() for t in r.tiles() if t.wrapped() not in held)
        stats.kept = sum(1 for r in plan.ranges() for t in r.tiles() if t.wrapped() in held) if held else 0
        to_fetch = total - stats.kept
        planned = 0
        with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="offload-tiles") as pool:
            in_flight = set()
            while planned < to_fetch or delayed or in_flight:
                control.check_canceled()
                now = time.monotonic()
                while len(in_flight) < limiter.allowed:
                    if delayed and delayed[0][0] <= now:
                        _, _, tile, number = heapq.heappop(delayed)
                    elif planned < to_fetch:
                        tile, number, planned = next(first_attempts), 0, planned + 1
                    else:
                        break
                    in_flight.add(pool.submit(_job, plan, tile, number, extension, session, control,
                                              cache_writer.put if cache_writer else None))
                next_due = delayed[0][0] - now if delayed else 0.05
                done, in_flight = wait(in_flight, timeout=max(0.001, min(0.05, next_due)), return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    _settle(outcome, plan, sink, stats, failures, limiter, delayed, rng, control)
                    control.report(share * (stats.done + stats.kept) / total, f"{stats.done + stats.kept} of {total} tiles")
        if failures and (not plan.allow_missing or stats.failed == to_fetch):
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
    return stats


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


def _settle(outcome: _Outcome, plan: TilePlan, sink, stats: TileStats, failures: _Failures,
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
            stats.retries += 1
            return
        outcome.kind = "failed"
        outcome.problem += f" (after {plan.retries} retries)" if plan.retries else ""
    elif outcome.kind == "failed" and outcome.problem.startswith("HTTP "):
        outcome.problem += " (not retried)"  # a 403 or 401 would answer the same again
    if outcome.kind == "failed":
        stats.failed += 1
        failures.add(tile, outcome.problem)
        return
    limiter.succeeded()
    setattr(stats, outcome.kind, getattr(stats, outcome.kind) + 1)
    sink.write(tile, outcome.payload)


_SEQUENCE = itertools.count()  # ties in the retry heap never compare tiles


def _job(plan: TilePlan, tile: Tile, number: int, extension: str, session, control: Control,
         keep: Optional[Callable[[tuple], None]]) -> _Outcome:
    """One attempt at a tile (worker thread): the cache when fresh, else one request.

    The tile is made ready for its sink here, on the worker: decoded for a mosaic (GDAL
    releases the GIL while it decodes), checked whole for a package. A stale cached tile with
    an ETag is asked for conditionally: unchanged costs a 304. Only a body that passed every
    check is handed to ``keep`` (the cache's writing thread, so the worker goes back to the
    network at once); a cached one that no longer passes is fetched again.
    """
    control.check_canceled()
    path = cache_path(plan.cache_dir, tile.wrapped(), extension)
    cached = read_cache(path, plan.max_tile_bytes)
    if cached is not None and _body_problem(cached.body, "", plan):
        cached = None  # cached before these checks existed: never trusted
    if cached is not None and cached.fresh(plan.max_age_s, time.time()):
        payload = _payload(cached.body, plan)
        if payload is not None:
            return _Outcome(tile, number, "from_cache", payload)
    url = plan.template.url(tile)
    headers = dict(plan.headers)  # the caller's (Referer, Authorization): sent, never shown
    if cached is not None and cached.etag:
        headers["If-None-Match"] = cached.etag
    answer = _request(url, session, plan, headers or None)
    if answer.kind == "not_modified" and cached is not None:
        if keep is not None:
            keep((path, None, answer.headers, time.time()))
        return _Outcome(tile, number, "from_cache", _payload(cached.body, plan))
    if answer.kind == "empty":
        return _Outcome(tile, number, "empty")
    if answer.kind == "ok":
        problem = _body_problem(answer.body, answer.headers.get("Content-Type", ""), plan)
        payload = None if problem else _payload(answer.body, plan)
        if payload is not None:
            if keep is not None:
                keep((path, answer.body, answer.headers, time.time()))
            return _Outcome(tile, number, "downloaded", payload)
        answer = Answer("fail", problem=problem or "an image GDAL cannot decode")
    if answer.kind == "fail":
        return _Outcome(tile, number, "failed", problem=answer.problem)
    return _Outcome(tile, number, "retry", problem=answer.problem, wait_s=answer.retry_after_s,
                    throttled=answer.throttled)


def _body_problem(body: bytes, content_type: str, plan: TilePlan) -> str:
    """Why a body is no tile for this plan ("" if none): its header, and for a package its end too."""
    problem = tile_problem(body, content_type, plan.tile_px)
    if not problem and plan.is_package:
        problem = whole_tile_problem(body, plan.tile_px) or ""  # a package never holds a truncated tile
    return problem


def _payload(body: bytes, plan: TilePlan):
    """What the sink takes: the body as served (a package) or its RGBA pixels (None: undecodable)."""
    return body if plan.is_package else decode_image(body)


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


# The mosaic's codec. ZSTD level 1 with a horizontal predictor: on noisy imagery tiles it
# compresses a 256² RGBA block in ~0.5 ms, 7× faster than DEFLATE level 3 (3.5 ms), for the same
# size (60% of uncompressed), so one writing thread keeps up with 16 connections on 2 cores.
MOSAIC_CODEC = ("COMPRESS=ZSTD", "ZSTD_LEVEL=1")
COG_CODEC = ("COMPRESS=ZSTD", "LEVEL=1")  # the COG driver's spelling


class _Mosaic:
    """The output GeoTIFF on the tile grid (or clipped to the bbox), written tile by tile.

    A thread of its own writes (and so compresses) the tiles, so the scheduling thread only
    keeps every worker busy. A zoom range makes overviews, built from the finest zoom
    (GDAL's averaging, one per coarser level). A COG is staged as a GeoTIFF beside
    ``destination`` (named from it, so a dead run's stage is swept like its other leftovers),
    then copied by GDAL's COG driver.
    """

    def __init__(self, plan: TilePlan, destination: Path, control: Control) -> None:
        self.plan = plan
        self.destination = destination
        self.control = control
        self.stage = destination.with_name(destination.stem + ".stage.tif") if plan.format == "COG" else None
        x_min, y_min, x_max, y_max = range_bounds(plan.tiles)
        self.tile_px = plan.tile_px
        self.pixel_m = (x_max - x_min) / (plan.tiles.width * self.tile_px)
        self.col_off = self.row_off = 0
        width, height = plan.tiles.width * self.tile_px, plan.tiles.height * self.tile_px
        if plan.clip:  # whole pixels of the tile grid that touch the bbox
            bx_min, by_min, bx_max, by_max = plan.bounds_m
            self.col_off = max(0, int((bx_min - x_min) // self.pixel_m))
            self.row_off = max(0, int((y_max - by_max) // self.pixel_m))
            width = min(width, int(np.ceil((bx_max - x_min) / self.pixel_m))) - self.col_off
            height = min(height, int(np.ceil((y_max - by_min) / self.pixel_m))) - self.row_off
        self.width, self.height = width, height
        self.dem = plan.decode != "none"
        # SPARSE_OK: a tile never written (ocean, missing, or the rest after a cancel) costs nothing,
        # and reads as nodata / transparent; without it, closing writes every empty block.
        options = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", *MOSAIC_CODEC, "BIGTIFF=IF_SAFER",
                   "SPARSE_OK=TRUE", "PREDICTOR=3" if self.dem else "PREDICTOR=2"]
        self.dataset = gdal.GetDriverByName("GTiff").Create(
            str(self.stage or destination), width, height, 1 if self.dem else 4, gdal.GDT_Float32 if self.dem else gdal.GDT_Byte,
            options)
        if self.dataset is None:
            raise TaskFailed(f"GDAL could not create {destination}")
        self.dataset.SetGeoTransform((x_min + self.col_off * self.pixel_m, self.pixel_m, 0.0,
                                      y_max - self.row_off * self.pixel_m, 0.0, -self.pixel_m))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(3857)
        self.dataset.SetProjection(srs.ExportToWkt())
        if self.dem:
            band = self.dataset.GetRasterBand(1)
            band.SetNoDataValue(DEM_NODATA)  # what the blocks never written read as
        else:
            for index, colour in enumerate((gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand, gdal.GCI_AlphaBand), 1):
                self.dataset.GetRasterBand(index).SetColorInterpretation(colour)
        # bounded: memory stays flat; the writer's failure reaches the scheduler at its next write()
        self._writer = OrderedWriter(lambda item: self._write_now(*item), capacity=2 * plan.workers,
                                     name="offload-mosaic")

    def held(self) -> set:
        """Tiles already written (none: a mosaic is always made anew)."""
        return set()

    def write(self, tile: Tile, rgba: Optional[np.ndarray]) -> None:
        """Queue a tile for the writing thread (raises what that thread met, if anything)."""
        if rgba is None:  # no tile here: nodata / transparent as the file was created
            self._writer.raise_failure()
        else:
            self._writer.put((tile, rgba))

    def _write_now(self, tile: Tile, rgba: np.ndarray) -> None:
        col = (tile.x - self.plan.tiles.x_min) * self.tile_px - self.col_off
        row = (tile.y - self.plan.tiles.y_min) * self.tile_px - self.row_off
        c0, r0 = max(0, -col), max(0, -row)  # crop what lies outside a clipped mosaic
        c1, r1 = min(self.tile_px, self.width - col), min(self.tile_px, self.height - row)
        if c0 >= c1 or r0 >= r1:
            return
        if self.dem:
            band = self.dataset.GetRasterBand(1)
            band.WriteArray(decode_elevation(rgba, self.plan.decode)[r0:r1, c0:c1], col + c0, row + r0)
        else:  # all bands at once: the file interleaves pixels, so one block holds all four
            self.dataset.WriteArray(rgba[:, r0:r1, c0:c1], col + c0, row + r0)
        self.dataset.FlushCache()  # tile-aligned: each block is compressed once, and leaves the cache

    def close(self) -> None:
        self._writer.close()
        dataset, self.dataset = self.dataset, None
        levels = [2 ** i for i in range(1, len(self.plan.zooms))]
        if levels and self.stage is None:  # a COG makes its own, from the same counts
            gdal.SetConfigOption("COMPRESS_OVERVIEW", "ZSTD")  # GDAL reads it per call, on this thread
            try:
                dataset.BuildOverviews("AVERAGE", levels, callback=gdal_callback(self.control.within(0.9, 0.1)))
            finally:
                gdal.SetConfigOption("COMPRESS_OVERVIEW", None)
        dataset.FlushCache()
        dataset = None
        if self.stage is not None:
            overviews = [f"OVERVIEW_COUNT={len(levels)}"] if levels else []  # else GDAL's AUTO: down to one block
            copied = gdal.Translate(str(self.destination), str(self.stage), format="COG", creationOptions=[
                *COG_CODEC, "PREDICTOR=YES", "BLOCKSIZE=256", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS",
                "OVERVIEW_RESAMPLING=AVERAGE", *overviews], callback=gdal_callback(self.control.within(0.9, 0.1)))
            if copied is None:
                self.control.check_canceled()
                raise TaskFailed(f"GDAL could not write the COG {self.destination}")
            copied = None
            self.stage.unlink()

    def abandon(self) -> None:
        self._writer.abandon()  # canceled or failed: what is still queued is not worth writing
        self.dataset = None
        if self.stage is not None:
            self.stage.unlink(missing_ok=True)


class _PackageSink:
    """A GeoPackage or MBTiles package, given each tile's body as served, on a writing thread.

    ``destination`` is a new package's temporary name, or an existing package to add to:
    tile_package commits whole tiles in SQLite transactions, so a kill loses at most the last
    batch and never leaves a truncated tile.
    """

    def __init__(self, plan: TilePlan, destination: Path) -> None:
        x_min, y_min, x_max, y_max = range_bounds(plan.tiles)
        if x_max > ORIGIN_M:  # across the antimeridian: the package spans the world's width
            x_min, x_max = -ORIGIN_M, ORIGIN_M
        meta = PackageMeta(name=plan.name, bounds_m=(x_min, y_min, x_max, y_max), zoom_min=plan.zooms[0],
                           zoom_max=plan.zooms[-1], attribution=plan.attribution, tile_px=plan.tile_px)
        self.package = open_package(destination, plan.format, meta)
        self._writer = OrderedWriter(lambda item: self.package.put(*item), capacity=4 * plan.workers,
                                     name="offload-package")

    def held(self) -> set:
        return self.package.holds()

    def write(self, tile: Tile, body: Optional[bytes]) -> None:
        if body is None:  # no tile here: a package stays sparse
            self._writer.raise_failure()
        else:
            self._writer.put((tile.wrapped(), body))  # stored as servers name it

    def close(self) -> None:
        self._writer.close()
        self.package.close()

    def abandon(self) -> None:
        """Canceled or failed: keep the whole tiles written (a rerun need not fetch them again)."""
        self._writer.abandon()
        self.package.close()
