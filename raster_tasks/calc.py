"""Raster calculator: the request's validation and the window-by-window engine.

``validate_calc_request`` (main thread, before any work) checks everything and returns a
frozen ``CalcPlan`` of plain values; ``run_calc`` (worker thread) computes the plan window by
window on a pool of threads with one writer, never holding a whole raster in memory, and
returns a ``CalcResult`` (what the user is told). The default output's creation options and
the probe that leaves noise-like data uncompressed live here; the request and its
vocabulary in ``request.py``, every GDAL call in ``gdal_io.py``.
"""
from __future__ import annotations

import math
import os
import shutil
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.control import Control, gdal_callback
from ..core.errors import InputError
from ..core.paths import same_file
from . import gdal_io
from .array_pool import ArrayPool
from .blocks import HaloRead, Window, plan_windows, with_halo
from .expression import Context, Expression, check_types, evaluate, parse_expression
from .grid import Grid, combined_bounds, grid_over, pick_resolution
from .request import EXTENT, NAME_PATTERN, RESOLUTION, CalcRequest
from .request import OPTIONS as request_options

# 1 MB per Float32 array (1024×256 of 256² tiles): small enough for the CPU's cache, few
# enough windows that the threads seldom wait for the GIL.
MAX_WINDOW_PIXELS = 1 << 18
# A small job is computed in windows of one 256² tile: the first run in a process pays a page
# fault for every page of fresh memory its windows take (the heap grows until freed windows are
# reused), and smaller windows take fewer. A 1024² NDVI's first run in QGIS: 2,900 -> 600 faults,
# run_calc 21-27 -> 13-18 ms; once warm, the same either way.
SMALL_JOB_PIXELS = 1 << 21
SMALL_JOB_WINDOW_PIXELS = 1 << 16
# A window's missing pixels are filled through their indices up to this share of it (see _holes).
SCATTERED_HOLES = 1 / 8
# A pool of threads pays only for work that lasts: starting it and each thread's first window
# (its own GDAL handles and buffers) cost more than a 1024² NDVI takes on one thread (first run
# in a fresh process: 22 ms with 2 threads, 14 ms with one). The first window, computed on the
# calling thread, gives the pace: a job that would take less than this at that pace stays there.
POOL_WORTH_SECONDS = 0.03
# The first window also pays one-off costs (opening the inputs, first reads and ufunc calls: up
# to 3× a window's time in a fresh process). When it alone puts a job over the line, a second
# window, also on the calling thread, gives the pace; a job far over it is not held back.
FIRST_WINDOW_OVERSTATES = 3


@dataclass(frozen=True)
class CalcPlan:
    """A checked request: plain values a worker thread can use."""

    expressions: Tuple[Expression, ...]
    sources: Tuple[gdal_io.Source, ...]
    grid: Grid
    gdal_type: int
    nodata: float
    threads: int
    format: str
    creation_options: Tuple[str, ...]
    geographic: bool
    halo: int = field(default=0)


@dataclass(frozen=True)
class BandStatistics:
    """Statistics of one output band's valid pixels (also stored in the file, as GDAL's)."""

    minimum: float
    maximum: float
    mean: float
    std: float
    valid_percent: float  # of the grid's pixels


@dataclass(frozen=True)
class CalcResult:
    """What a calculation did, as the user is told it."""

    width: int
    height: int
    windows: int
    seconds: float
    bytes_written: int  # the output file (and its .aux.xml, if GDAL wrote one)
    compression: str  # the output's codec, "NONE" when uncompressed
    statistics: Tuple[Optional[BandStatistics], ...]  # per band; None when it has no valid pixel

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def summary(self) -> str:
        """One line: ``1,024×1,024 pixels, 1 band in 0.1 s (4 windows): 4.0 MB uncompressed; band 1: …``."""
        bands = len(self.statistics)
        codec = "uncompressed" if self.compression == "NONE" else self.compression
        parts = [f"{self.width:,}×{self.height:,} pixels, {bands} band{'s' if bands > 1 else ''}, "
                 f"{self.bytes_written / 1e6:.1f} MB {codec}"]
        for index, stats in enumerate(self.statistics, start=1):
            parts.append(f"band {index}: no valid pixel" if stats is None else
                         f"band {index}: {stats.minimum:.6g} to {stats.maximum:.6g}, mean {stats.mean:.6g}, "
                         f"{stats.valid_percent:.4g} % valid")
        return "; ".join(parts)


def check_calc_request(request: CalcRequest) -> Tuple[Expression, ...]:
    """Check everything that does not need the input files; return the parsed expressions.

    :raises InputError: naming the bad value.
    """
    if not request.expressions:
        raise InputError("no expression given")
    names = [i.name for i in request.inputs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"input name {duplicates[0]!r} is bound twice")
    bad_names = [n for n in names if not NAME_PATTERN.fullmatch(n) or n in ("pi", "e", "nan", "inf")]
    if bad_names:
        raise InputError(f"input name {bad_names[0]!r} is not a usable identifier")
    expressions = tuple(parse_expression(text, frozenset(names)) for text in request.expressions)
    if not request.inputs:
        raise InputError("no input given")
    for option in request_options:
        option.check(getattr(request, option.name))  # the declared choices and bounds
    for option in request.creation_options:
        if "=" not in option:
            raise InputError(f"creation option {option!r} is not KEY=VALUE")
    for option in (EXTENT, RESOLUTION):  # their choices, or an input's name
        value = getattr(request, option.name)
        if value is not None and value not in option.keywords and value not in names:
            named = [keyword for keyword in option.keywords if keyword]
            raise InputError(f"--{option.name} {value!r} is not {' or '.join(named)} or an input name")
    return expressions


def validate_calc_request(request: CalcRequest) -> CalcPlan:
    """Check a request completely, input files included; return the plan.

    :raises InputError: naming the bad value (nothing has been written).
    """
    expressions = check_calc_request(request)
    used = set().union(*(e.names for e in expressions))
    threads = request.threads if request.threads is not None else (os.cpu_count() or 1)
    sources = [gdal_io.describe(i.name, i.path, i.band) for i in request.inputs]
    for expression in expressions:  # what numpy refuses for the inputs' types, before any work
        check_types(expression, {s.name: gdal_io.numpy_type(s.data_type) for s in sources})
    grid, sources = _resolve_grid(request, sources)
    _check_grid_size(grid, request.max_pixels)
    _check_halo_fits(expressions, grid)
    read = [s for s in sources if s.name in used] or sources[:1]  # a constant expression reads the first
    _check_blocks_fit(read, _window_rows(grid, max(e.halo for e in expressions)))
    if request.output_type is not None:
        gdal_type = gdal_io.output_type(request.output_type)
    else:
        gdal_type = gdal_io.widest_type([s.data_type for s in sources if s.name in used or not used])
    nodata = request.nodata if request.nodata is not None else gdal_io.DEFAULT_NODATA[gdal_type]
    _check_nodata_fits(nodata, gdal_type)
    gdal_io.check_creation_options(request.format, output_options(request.format, gdal_type, threads,
                                                                  request.creation_options), request.creation_options,
                                   gdal_type)
    check_output(request, grid, gdal_type)
    return CalcPlan(
        expressions=expressions,
        sources=tuple(read),
        grid=grid,
        gdal_type=gdal_type,
        nodata=float(nodata),
        threads=threads,
        format=request.format,
        creation_options=tuple(request.creation_options),
        geographic=gdal_io.is_geographic(grid.crs_wkt),
        halo=max(e.halo for e in expressions),
    )


def _check_grid_size(grid: Grid, max_pixels: int) -> None:
    pixels = grid.width * grid.height
    if pixels > max_pixels:
        raise InputError(f"the output grid is {grid.width:,}×{grid.height:,} = {pixels:,} pixels, over the limit of "
                         f"{max_pixels:,}; check the extent and resolution, or raise the limit (--max-pixels, "
                         f"max_pixels=, Processing's 'Largest output grid')")


def _check_blocks_fit(sources: Sequence[gdal_io.Source], window_rows: int) -> None:
    """Refuse inputs whose blocks GDAL cannot hold decompressed in half this machine's memory (a
    raster written as one compressed strip is one block): reading any pixel would exhaust it."""
    held = gdal_io.held_bytes(sources, window_rows)
    usable = gdal_io.usable_memory()
    if usable and held > usable // 2:
        largest = max(sources, key=lambda s: s.held_bytes(window_rows))
        width, height = largest.block
        raise InputError(f"input {largest.name} is stored in blocks of {width:,}×{height:,} pixels, which GDAL reads "
                         f"whole: {held / 1e6:,.0f} MB at once, over half of this machine's {usable / 1e6:,.0f} MB; "
                         f"rewrite it tiled first (gdal_translate -co TILED=YES -co COMPRESS=ZSTD in.tif tiled.tif, "
                         f"or QGIS's Translate with those options)")


def _check_halo_fits(expressions: Sequence[Expression], grid: Grid) -> None:
    """A neighbourhood wider than the raster only pads every window with nothing: refused."""
    widest = max(expressions, key=lambda e: e.halo)
    if widest.halo > max(grid.width, grid.height):
        raise InputError(f"the neighbourhood functions of {widest.text!r} reach {widest.halo:,} pixels around each "
                         f"pixel, past the {grid.width:,}×{grid.height:,} grid; use a smaller size")


def check_output(request: CalcRequest, grid: Grid, gdal_type: int) -> None:
    """Refuse an output that is one of the inputs (replacing it would lose it: Processing always
    replaces its output), or that may not fit: its uncompressed size (twice for COG's staging file)."""
    output = Path(request.output).expanduser()
    for bound in request.inputs:
        if any(same_file(output, read) for read in gdal_io.files_read(bound.path)):
            raise InputError(f"output {str(request.output)!r} is input {bound.name}'s own file, or one it reads; "
                             f"write to another file")
    if not request.check_free_space:
        return
    folder = Path(request.output).expanduser().absolute().parent
    if not folder.is_dir():
        return  # the output check names a missing folder
    free = shutil.disk_usage(folder).free
    if request.overwrite and Path(request.output).is_file():
        free += Path(request.output).stat().st_size  # replaced at the end
    copies = 2 if request.format == "COG" else 1
    needed = grid.width * grid.height * len(request.expressions) * gdal_io.numpy_type(gdal_type).itemsize * copies
    if needed > free:
        staged = ", twice for COG" if copies > 1 else ""
        raise InputError(f"the output may need {needed / 1e9:,.1f} GB (uncompressed{staged}) "
                         f"and {folder} has {free / 1e9:,.1f} GB free; free some space or write elsewhere "
                         f"(--no-space-check, check_free_space=False: when compression will make it fit)")


def _check_nodata_fits(nodata: float, gdal_type: int) -> None:
    dtype = gdal_io.numpy_type(gdal_type)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if math.isnan(nodata) or not info.min <= nodata <= info.max or nodata != int(nodata):
            raise InputError(f"nodata {nodata:g} does not fit the output type {dtype.name}")
    elif math.isfinite(nodata) and np.isinf(_rounded(dtype, nodata)):  # GDAL would write ±inf
        raise InputError(f"nodata {nodata:g} does not fit the output type {dtype.name} (largest "
                         f"{np.finfo(dtype).max:g})")


def _rounded(dtype: np.dtype, value: float):
    """``value`` in the float type ``dtype``, rounded to nearest as GDAL writes it (-3.4028235e+38,
    as gdalinfo prints -FLT_MAX, is -FLT_MAX: not a few ulps past it)."""
    with np.errstate(over="ignore"):
        return dtype.type(value)


def _resolve_grid(request: CalcRequest, sources: List[gdal_io.Source]) -> Tuple[Grid, List[gdal_io.Source]]:
    """The grid to compute on, and every source aligned to it."""
    by_name = {s.name: s for s in sources}
    reference = by_name.get(request.extent) or by_name.get(request.resolution) or sources[0]
    mismatched = [(s, s.grid.differences(reference.grid)) for s in sources]
    mismatched = [(s, what or "CRS") for s, what in mismatched
                  if what or not gdal_io.same_crs(s.grid.crs_wkt, reference.grid.crs_wkt)]
    if not mismatched and request.extent is None and request.resolution is None:
        return reference.grid, sources
    if mismatched and request.extent is None:
        other, what = mismatched[0]
        raise InputError(f"input {other.name} is not on the grid of {reference.name} ({what}); "
                         f"pass --extent intersect|union|NAME to align them")
    unplaced = [s.name for s in sources if not s.grid.is_north_up()]  # GDAL opens them without a geotransform
    if unplaced:
        raise InputError(f"input {unplaced[0]} has no geotransform, so it cannot be aligned with other inputs: "
                         f"georeference it (gdal_edit.py -a_ullr …) or leave out --extent/--resolution")
    without_crs = [s.name for s in sources if not s.grid.crs_wkt]
    if without_crs and len(without_crs) < len(sources):
        with_crs = next(s.name for s in sources if s.grid.crs_wkt)
        raise InputError(f"input {without_crs[0]} has no CRS and input {with_crs} has one: assign one "
                         f"(gdal_edit.py -a_srs EPSG:…) before aligning them")
    crs = reference.grid.crs_wkt
    if request.extent in by_name:
        bounds = gdal_io.bounds_in(by_name[request.extent], crs)
    else:
        bounds = combined_bounds([gdal_io.bounds_in(s, crs) for s in sources], request.extent or "intersect")
    named = by_name.get(request.resolution)
    resolution = pick_resolution([gdal_io.resolution_in(s, crs) for s in sources], request.resolution or "finest",
                                 gdal_io.resolution_in(named, crs) if named is not None else None)
    grid = grid_over(bounds, resolution[0], resolution[1], crs)
    _check_grid_size(grid, request.max_pixels)  # before the warps: they size themselves on the grid
    return grid, [gdal_io.align(s, grid) for s in sources]


# Offload's default compression: ZSTD at level 1 with the predictor for the type. On spatially
# correlated data (a DEM, its slope, an NDVI of fields) it gives 0.4-0.7× the raw size, as
# DEFLATE 6 does, at a fraction of DEFLATE's time; on noise-like data no lossless codec gains
# much (0.95×), so a probe of one tile decides for an uncompressed file there (_worth_compressing).
DEFAULT_COMPRESSION = ("COMPRESS=ZSTD", "ZSTD_LEVEL=1")
WORTH_COMPRESSING = 0.9  # the largest compressed ÷ raw size of the probe that keeps compression


def default_creation_options(gdal_type: int, threads: int) -> List[str]:
    """Tiled 256, ZSTD with the type's predictor, BigTIFF when needed, multi-threaded compression."""
    predictor = "3" if gdal_io.numpy_type(gdal_type).kind == "f" else "2"
    tile = str(gdal_io.OUTPUT_TILE)
    return ["TILED=YES", f"BLOCKXSIZE={tile}", f"BLOCKYSIZE={tile}", *DEFAULT_COMPRESSION, f"PREDICTOR={predictor}",
            "BIGTIFF=IF_SAFER", f"NUM_THREADS={threads}"]


def output_options(format_name: str, gdal_type: int, threads: int, overrides: Sequence[str]) -> List[str]:
    """The creation options an output is written with: the defaults, then the user's."""
    defaults = default_creation_options(gdal_type, threads)
    if format_name == "COG":  # the COG driver tiles by itself (BLOCKSIZE) and calls the level LEVEL
        defaults = [o.replace("ZSTD_LEVEL=", "LEVEL=") for o in defaults
                    if o.split("=", 1)[0] not in ("TILED", "BLOCKXSIZE", "BLOCKYSIZE")]
    return merged_options(defaults, overrides)


def _worth_compressing(results, options: List[str]) -> bool:
    """Whether a computed window (``engine.compute``'s results) compresses with ``options``
    (GTiff's): noise-like data does not, and its file would be barely smaller and take longer
    to write. One output tile from the window's middle is the sample: GTiff compresses tile by
    tile, and one tile costs a quarter of a window's compression (the probe is paid on every run)."""
    probe = [o for o in options if o.split("=", 1)[0] in ("COMPRESS", "ZSTD_LEVEL", "PREDICTOR")]
    return all(gdal_io.compressed_ratio(_middle_tile(values), probe) <= WORTH_COMPRESSING for values, _ in results)


def _middle_tile(values: np.ndarray) -> np.ndarray:
    height, width = values.shape
    side = gdal_io.OUTPUT_TILE
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    return np.ascontiguousarray(values[top:top + side, left:left + side])


def merged_options(defaults: Sequence[str], overrides: Sequence[str]) -> List[str]:
    """Creation options with the user's ``KEY=VALUE`` replacing the defaults' same keys."""
    keys = {o.split("=", 1)[0].upper() for o in overrides}
    merged = [o for o in defaults if o.split("=", 1)[0].upper() not in keys] + list(overrides)
    if any(o.upper() == "COMPRESS=NONE" for o in merged):
        merged = [o for o in merged if not o.upper().startswith("PREDICTOR=")]
    return merged


@dataclass
class _Stats:
    """Running statistics of one output band (valid pixels only); windows merge into it."""

    count: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    @classmethod
    def of(cls, flat: np.ndarray, holes, missing_count: int, nodata: float) -> "_Stats":
        """Statistics of one window's values (flattened), computed in the worker thread (numpy
        releases the GIL).

        ``flat`` holds 0 at ``holes`` (the ``missing_count`` missing pixels, as ``_holes``
        gives them), so sums over every pixel are sums over the valid ones, with no copy of
        them; the exact (slower) count runs only when some value is not finite, a 0 may stand
        for a missing pixel at an end of the range, or the nodata value lies within it (pixels
        at the nodata value are nodata to every reader).
        """
        if missing_count == flat.size:
            return cls()
        total = float(np.add.reduce(flat, dtype=np.float64))
        total_sq = float(np.einsum("i,i->", flat, flat, dtype=np.float64))
        lowest, highest = float(flat.min()), float(flat.max())
        if (math.isfinite(total) and math.isfinite(total_sq) and not lowest <= nodata <= highest
                and not (missing_count and 0.0 in (lowest, highest))):
            return cls(flat.size - missing_count, total, total_sq, lowest, highest)
        valid = flat != flat.dtype.type(nodata)
        if missing_count:
            valid[holes] = False
        if flat.dtype.kind == "f":
            valid &= np.isfinite(flat)
        kept = flat[valid]
        if kept.size == 0:
            return cls()
        return cls(int(kept.size), float(np.add.reduce(kept, dtype=np.float64)),
                   float(np.einsum("i,i->", kept, kept, dtype=np.float64)), float(kept.min()), float(kept.max()))

    def merge(self, other: "_Stats") -> None:
        self.count += other.count
        self.total += other.total
        self.total_sq += other.total_sq
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)


class _Engine:
    """Computes windows (any thread) for ``run_calc``."""

    def __init__(self, plan: CalcPlan) -> None:
        self.plan = plan
        self.readers = gdal_io.Readers(plan.sources, overlapping=plan.halo > 0)
        self.pool = ArrayPool()  # the expressions' results and temporaries, window after window
        self.out_dtype = gdal_io.numpy_type(plan.gdal_type)
        self.x_res_m, self.y_res_m = _metres_per_pixel(plan)

    def compute(self, window: Window, control: Control):
        control.check_canceled()
        plan, halo = self.plan, self.plan.halo
        halo_read = with_halo(window, halo, plan.grid.width, plan.grid.height)
        arrays, masks = {}, {}
        for source in plan.sources:
            arrays[source.name], masks[source.name] = self.readers.read(source.name, halo_read)
        crop = (slice(halo, halo + window.height), slice(halo, halo + window.width))
        rows = slice(window.row_off - halo, window.row_off + window.height + halo)
        x_res = _rows_with_halo(self.x_res_m, rows)
        outside = _outside(halo_read, arrays[plan.sources[0].name].shape) if halo else None
        results = []
        for expression in plan.expressions:
            context = Context(x_res, self.y_res_m, masks, outside=outside, poll=control.check_canceled,
                              pool=self.pool)
            values = evaluate(expression, arrays, context)
            shape = arrays[plan.sources[0].name].shape
            if np.shape(values) != shape:  # a constant, or an expression of fewer dimensions
                values = np.broadcast_to(values, shape)
            missing = _missing(expression, masks, context, crop)
            if halo:
                values = values[crop]
            if values.dtype == bool:
                values = values.view(np.uint8)
            out, no_value = gdal_io.to_output_values(values, self.out_dtype)
            if no_value is not None:
                missing = no_value if missing is None else (missing | no_value)
            if (not out.flags.writeable or not out.flags.c_contiguous
                    or any(np.may_share_memory(out, a) for a in arrays.values())):
                # Never write nodata into an input another expression may use, nor keep the
                # array this thread reads its next window into.
                out = np.array(out, dtype=out.dtype, order="C", copy=True)
            flat = out.reshape(-1)  # a view: ``out`` is C-contiguous
            holes, hole_count = _holes(missing) if missing is not None else (None, 0)
            if hole_count:
                flat[holes] = 0
            window_stats = _Stats.of(flat, holes, hole_count, plan.nodata)
            if hole_count:
                flat[holes] = flat.dtype.type(plan.nodata)
            results.append((out, window_stats))
        return window, results


def _outside(halo_read: HaloRead, shape: Tuple[int, int]) -> Optional[np.ndarray]:
    """True for the padding that stands in for pixels past the raster's edge."""
    if not (halo_read.pad_top or halo_read.pad_bottom or halo_read.pad_left or halo_read.pad_right):
        return None
    outside = np.zeros(shape, bool)
    outside[:halo_read.pad_top] = True
    outside[shape[0] - halo_read.pad_bottom:] = True
    outside[:, :halo_read.pad_left] = True
    outside[:, shape[1] - halo_read.pad_right:] = True
    return outside


def _holes(missing: np.ndarray) -> Tuple[np.ndarray, int]:
    """Where ``missing`` is True, as what indexes the flattened window fastest, and how many.

    A masked copy walks the mask run by run: scattered nodata (2% of a 512² window) costs it
    0.3 ms, where the pixels' indices, found once and used for both fills, take 0.2 ms in all.
    A mask with more holes than ``SCATTERED_HOLES`` allows stays a mask: its holes come in
    runs, which a mask fills faster than an index per pixel.
    """
    flat = missing.reshape(-1)
    count = int(np.count_nonzero(flat))
    return (np.flatnonzero(flat) if count <= flat.size * SCATTERED_HOLES else flat), count


def _missing(expression: Expression, masks: Dict, context: Context, crop) -> Optional[np.ndarray]:
    """Where the output is nodata: an input it uses is nodata, or a kernel had no data."""
    missing = None
    for name in expression.names:
        if masks.get(name) is not None:
            missing = masks[name][crop] if missing is None else (missing | masks[name][crop])
    if context.invalid is not None:
        missing = context.invalid[crop] if missing is None else (missing | context.invalid[crop])
    return missing


def _rows_with_halo(per_row: np.ndarray, rows: slice) -> np.ndarray:
    """Per-row values for rows that may run past the raster (the halo): edge rows repeat."""
    indices = np.clip(np.arange(rows.start, rows.stop), 0, len(per_row) - 1)
    return per_row[indices]


def _metres_per_pixel(plan: CalcPlan) -> Tuple[np.ndarray, float]:
    """Pixel size in metres, per row along x: geographic rasters shrink toward the poles."""
    grid = plan.grid
    if not plan.geographic:
        return np.full(grid.height, abs(grid.x_res)), abs(grid.y_res)
    top = grid.geotransform[3]
    latitudes = np.radians(top - (np.arange(grid.height) + 0.5) * grid.y_res)
    lon_m = 111412.84 * np.cos(latitudes) - 93.5 * np.cos(3 * latitudes)  # metres per degree, WGS84
    mid = np.radians(top - grid.height * grid.y_res / 2)
    lat_m = 111132.92 - 559.82 * np.cos(2 * mid) + 1.175 * np.cos(4 * mid)
    return abs(grid.x_res) * lon_m, abs(grid.y_res) * lat_m


def run_calc(plan: CalcPlan, destination: Path, control: Control) -> CalcResult:
    """Compute ``plan`` into ``destination`` (a GeoTIFF or COG), window by window."""
    started = time.perf_counter()
    engine = _Engine(plan)
    options = output_options("GTiff", plan.gdal_type, plan.threads, plan.creation_options)
    windows = plan_windows(plan.grid.width, plan.grid.height, *_block_of(plan, _tile_size(options)),
                           _window_pixels(plan.grid))
    with gdal_io.cache_for(plan.sources, max(w.height for w in windows) + 2 * plan.halo):
        try:
            return _compute_into(destination, engine, options, windows, control, started)
        finally:
            engine.readers.close()


def _compute_into(destination: Path, engine: "_Engine", options: List[str], windows: List[Window], control: Control,
                  started: float) -> CalcResult:
    plan = engine.plan
    # The COG's staging file is named from the temporary output's, so a sweep of temp files finds it.
    geotiff = destination if plan.format == "GTiff" else destination.with_name(destination.stem + ".stage.tif")
    final_options = output_options(plan.format, plan.gdal_type, plan.threads, plan.creation_options)
    # One window is computed before the output exists, on this thread, and written in its turn:
    # its time decides the pool; with the default output it is also the compression probe.
    probing = not any(o.split("=", 1)[0].upper() == "COMPRESS" for o in plan.creation_options)
    first_index = len(windows) // 2 if probing else 0
    first = windows[first_index]
    paced = time.perf_counter()
    computed = {first: engine.compute(first, control)}
    estimate = (time.perf_counter() - paced) * len(windows)
    if POOL_WORTH_SECONDS < estimate < FIRST_WINDOW_OVERSTATES * POOL_WORTH_SECONDS and len(windows) > 2:
        second = windows[(first_index + 1) % len(windows)]
        paced = time.perf_counter()
        computed[second] = engine.compute(second, control)
        estimate = (time.perf_counter() - paced) * len(windows)
    threads = plan.threads if estimate > POOL_WORTH_SECONDS else 1
    if probing and not _worth_compressing(computed[first][1], options):
        options, final_options = (merged_options(o, ["COMPRESS=NONE"]) for o in (options, final_options))
    if plan.format == "COG":  # the COG driver copies from a finished file; stage uncompressed
        options = merged_options(["TILED=YES", "BIGTIFF=IF_SAFER"], [])
    stats = [_Stats() for _ in plan.expressions]
    dataset = gdal_io.create_output(geotiff, plan.grid, len(plan.expressions), plan.gdal_type, plan.nodata, options)
    try:
        write_span = 0.9 if plan.format == "COG" else 1.0
        writer = gdal_io.Writer(dataset, compressed=_compressed(options))
        _compute_all(engine, windows, computed, threads, writer, stats, control.within(0.0, write_span))
        statistics = tuple(_band_statistics(band_stats, plan.grid) for band_stats in stats)
        for index, band_statistics in enumerate(statistics, start=1):
            if band_statistics is not None:
                gdal_io.set_statistics(dataset, index, band_statistics)
        dataset.FlushCache()
        dataset = None
        if plan.format == "COG":
            gdal_io.translate_to_cog(geotiff, destination, final_options, gdal_callback(control.within(0.9, 0.1)))
            control.check_canceled()
    finally:
        dataset = None
        if geotiff != destination:
            for leftover in (geotiff, Path(str(geotiff) + ".aux.xml")):
                if leftover.exists():
                    leftover.unlink()
    written = sum(p.stat().st_size for p in (destination, Path(f"{destination}.aux.xml")) if p.exists())
    return CalcResult(plan.grid.width, plan.grid.height, len(windows), time.perf_counter() - started, written,
                      _option(final_options, "COMPRESS", "NONE").upper(), statistics)


def _window_rows(grid: Grid, halo: int) -> int:
    """The rows a window reads (its halo's included), as the check before the run reckons them:
    output tiles or blocks up to _block_of's 2,048, as wide as the raster where that fits."""
    return max(2048, _window_pixels(grid) // max(1, grid.width)) + 2 * halo


def _window_pixels(grid: Grid) -> int:
    return SMALL_JOB_WINDOW_PIXELS if grid.width * grid.height <= SMALL_JOB_PIXELS else MAX_WINDOW_PIXELS


def _option(options: Sequence[str], key: str, default: str) -> str:
    """The value of creation option ``key`` (the last one given wins)."""
    values = {name.strip().upper(): value.strip() for name, value in (o.split("=", 1) for o in options)}
    return values.get(key, default)


def _compressed(options: Sequence[str]) -> bool:
    return _option(options, "COMPRESS", "NONE").upper() != "NONE"


def _compute_all(engine: _Engine, windows: List[Window], computed: Dict[Window, tuple], threads: int,
                 writer: gdal_io.Writer, stats: List[_Stats], control: Control) -> None:
    """Compute windows on a pool of ``threads`` (those in ``computed`` are done); this thread
    writes them in order as they complete. With one thread, or one window left, this thread
    computes them too: a pool would cost more to start than it could share."""
    threads = min(threads, len(windows) - len(computed))
    if threads <= 1:
        for written, window in enumerate(windows, start=1):
            _write(computed.get(window) or engine.compute(window, control), writer, stats, engine.pool)
            control.report(written / len(windows), f"window {written} of {len(windows)}")
        writer.flush()
        return
    written = 0
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="offload-calc") as pool:
        pending: deque = deque()
        try:
            for window in windows:
                pending.append(_Done(computed[window]) if window in computed
                               else pool.submit(engine.compute, window, control))
                # Bounded look-ahead: memory stays threads × window size, whatever the raster size.
                while len(pending) > threads or (window is windows[-1] and pending):
                    _write(pending.popleft().result(), writer, stats, engine.pool)
                    written += 1
                    control.report(written / len(windows), f"window {written} of {len(windows)}")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    writer.flush()


class _Done:
    """A window computed before the pool started, queued among the pool's futures."""

    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value

    def cancel(self) -> bool:
        return False


def _write(done, writer: gdal_io.Writer, stats: List[_Stats], pool: ArrayPool) -> None:
    window, results = done
    for index, (values, window_stats) in enumerate(results, start=1):
        writer.write(index, window, values)  # GDAL copies the values: the array is free again
        pool.give(values)
        stats[index - 1].merge(window_stats)


def _band_statistics(band_stats: _Stats, grid: Grid) -> Optional[BandStatistics]:
    if band_stats.count == 0:
        return None
    mean = band_stats.total / band_stats.count
    variance = max(0.0, band_stats.total_sq / band_stats.count - mean * mean)
    return BandStatistics(band_stats.minimum, band_stats.maximum, mean, math.sqrt(variance),
                          100.0 * band_stats.count / (grid.width * grid.height))


def _tile_size(options: Sequence[str]) -> Tuple[int, int]:
    """The output's tile size from its creation options."""
    values = dict(o.split("=", 1) for o in options)
    return int(values.get("BLOCKXSIZE", gdal_io.OUTPUT_TILE)), int(values.get("BLOCKYSIZE", gdal_io.OUTPUT_TILE))


def _block_of(plan: CalcPlan, tile: Tuple[int, int]) -> Tuple[int, int]:
    """The unit windows are made of: whole blocks of the first input (gdal_calc.py's one good
    idea) that are also whole output tiles, so each tile is written once, complete. Large blocks
    (a raster stored as one strip) are cut into output tiles: the reader keeps them whole."""
    def aligned(block: int, tile_side: int) -> int:
        common = block * tile_side // math.gcd(block, tile_side)
        return common if common <= 2048 else block

    if plan.sources[0].large is not None:
        return tile
    block_w, block_h = plan.sources[0].block
    return aligned(block_w, tile[0]), aligned(block_h, tile[1])
