"""The raster family's only contact with GDAL: describe inputs, compare CRSs, align grids,
read windows, check creation options, probe compression, write outputs and statistics. Each
worker thread opens its own handles (GDAL datasets are not thread-safe); one thread writes.
The command line's cache size is set in ``commands.py``, the one place that owns a process;
a run reading large blocks raises it for its time (``core/gdal_cache.py``).
"""
from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, gdal_array, osr

from ..core.errors import InputError, TaskFailed
from ..core.gdal_cache import block_cache
from ..core.gdal_config import on_this_thread
from .blocks import HaloRead, Window
from .grid import Bounds, Grid
from .request import is_file_path

# gdal_calc.py's defaults, so its users get the nodata they expect.
DEFAULT_NODATA = {
    gdal.GDT_Byte: 255, gdal.GDT_UInt16: 65535, gdal.GDT_Int16: -32768, gdal.GDT_UInt32: 4294967293,
    gdal.GDT_Int32: -2147483647, gdal.GDT_Float32: 3.402823466e38, gdal.GDT_Float64: 1.7976931348623158e308,
}
OUTPUT_TYPES = {gdal.GetDataTypeName(code): code for code in DEFAULT_NODATA}  # = request.OUTPUT_TYPE_NAMES
OUTPUT_TILE = 256  # the output's tile size (BLOCKXSIZE/BLOCKYSIZE)
# A block of more pixels than this (16 MB of Float32: 2048² tiles, a strip of 8192×512) is too large
# to compute in whole. A GeoTIFF written as one compressed strip is one block of the whole raster
# (a 12,000² one took 1.3 GB as a single window): windows cut across such blocks, which GDAL
# decompresses once and keeps in its cache while the windows go through them (``Readers``).
LARGE_BLOCK_PIXELS = 1 << 22
CACHE_MARGIN_BYTES = 64 << 20  # beside the large blocks: the other inputs' and the output's blocks
# Blocks whose offsets and sizes are checked before an input is read around GDAL's cache
# (_whole_blocks): 16,384 tiles of 256² (a 32,768² raster) take a few tens of ms to check.
MAX_CHECKED_BLOCKS = 1 << 14


@dataclass(frozen=True)
class LargeBlocks:
    """The blocks GDAL decompresses whole from an input's file, where they are large."""

    rows: int  # a block's height
    row_bytes: int  # one row of them decompressed: every band's, where the file interleaves pixels
    height: int  # the file's


@dataclass(frozen=True)
class Source:
    """One input band as a worker opens it: a path, or VRT XML that aligns it to the grid."""

    name: str
    path: str
    band: int
    grid: Grid
    nodata: Optional[float]
    data_type: int
    block: Tuple[int, int]
    vrt_xml: str = ""  # set when the input is windowed or warped onto the target grid
    coverage_band: int = 0  # the VRT's alpha band: 0 where the input does not cover the grid
    large: Optional[LargeBlocks] = None  # the file's blocks, when large (an aligned input's too)
    direct_reads: bool = False  # read straight from the file, around GDAL's cache (see _whole_blocks)

    @property
    def open_string(self) -> str:
        return self.vrt_xml or self.path

    def held_bytes(self, window_rows: int) -> int:
        """What GDAL keeps decompressed to read this source in windows of ``window_rows`` rows (halo
        included): nothing beyond a window for small blocks; for large ones, every block row a window
        spans, and the next (windows reach into it while the last ones of a row are read)."""
        if self.large is None:
            return 0
        rows = min(self.large.height, self.large.rows * (math.ceil(window_rows / self.large.rows) + 1))
        return rows * self.large.row_bytes


def output_type(name: str) -> int:
    """GDAL type code for a type name, e.g. ``Float32``.

    :raises InputError: for a name that is not an output type.
    """
    code = OUTPUT_TYPES.get(name) or next((c for n, c in OUTPUT_TYPES.items() if n.lower() == name.lower()), None)
    if code is None:
        raise InputError(f"type {name!r} is not one of {', '.join(OUTPUT_TYPES)}")
    return code


def files_read(path: str) -> List[Path]:
    """The files GDAL reads for the raster ``path``: the file itself, a VRT's sources, the file of a
    connection string (``GTIFF_DIR:1:a.tif``); relative ones against the path's folder."""
    files = [Path(path).expanduser()]
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.Open(path)
        listed = (dataset.GetFileList() or []) if dataset is not None else []
    finally:
        gdal.PopErrorHandler()
    folder = files[0].parent
    return files + [Path(name) if Path(name).is_absolute() else folder / name for name in listed]


def describe(name: str, path: str, band: int) -> Source:
    """Open ``path`` and check ``band``: the facts a calculation needs.

    :raises InputError: for a missing file, a folder, a file GDAL cannot read, a band out of range.
    """
    if os.path.isdir(path):
        raise InputError(f"input {name}={path!r} is a folder, not a raster")
    if is_file_path(path) and not os.path.exists(path):
        raise InputError(f"input {name}={path!r} does not exist")
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.Open(path)
    finally:
        gdal.PopErrorHandler()
    if dataset is None:
        raise InputError(f"input {name}={path!r} is not a raster GDAL can read")
    if not 1 <= band <= dataset.RasterCount:
        raise InputError(f"input {name}={path!r} has {dataset.RasterCount} band(s); band {band} does not exist")
    raster_band = dataset.GetRasterBand(band)
    if gdal.DataTypeIsComplex(raster_band.DataType):  # numpy would drop the imaginary part on writing
        raise InputError(f"input {name}={path!r} band {band} is complex ({gdal.GetDataTypeName(raster_band.DataType)}); "
                         f"take its real part, modulus or phase first (gdal_translate -ot Float32, or a VRT "
                         f"derived band)")
    large = _large_blocks(dataset, raster_band)
    if large is None:
        _check_readable(name, path, raster_band)  # one pixel of a large block would decompress all of it
    grid = Grid(tuple(dataset.GetGeoTransform()), dataset.RasterXSize, dataset.RasterYSize, dataset.GetProjection())
    if not all(math.isfinite(value) for value in grid.geotransform):
        raise InputError(f"input {name}={path!r} has a geotransform with NaN or infinite values "
                         f"{grid.geotransform}; set a valid one (gdal_edit.py -a_ullr …)")
    if grid.is_rotated():
        raise InputError(f"input {name}={path!r} has a rotated geotransform; warp it north-up first")
    if not grid.is_north_up() and dataset.GetGeoTransform(can_return_null=True) is not None:
        across = ("has a pixel size of 0" if grid.x_res == 0 or grid.y_res == 0
                  else "is south-up (positive y pixel size)" if grid.y_res < 0
                  else "runs east to west (negative x pixel size)")
        raise InputError(f"input {name}={path!r} {across}; warp it north-up first "
                         f"(gdalwarp {path} north_up.tif, or QGIS's Warp)")
    return Source(name, path, band, grid, raster_band.GetNoDataValue(), raster_band.DataType,
                  tuple(raster_band.GetBlockSize()), large=large,
                  direct_reads=_whole_blocks(dataset, raster_band, path))


def _whole_blocks(dataset: gdal.Dataset, band: gdal.Band, path: str) -> bool:
    """Whether workers may read this input straight from its file (GDAL's ``GTIFF_DIRECT_IO``):
    an uncompressed GeoTIFF on disk whose every block's bytes are all in the file.

    GDAL 3.6's direct reads look at a block's offset only: a block stored with no bytes (nodata
    to GDAL's normal reads), a short one, or one past the end of a truncated file would be read
    as whatever bytes lie there, or fail without GDAL's reason. Such files, and those with more
    blocks than ``MAX_CHECKED_BLOCKS`` (checked here, on the calling thread), go through the cache.
    """
    if (not is_file_path(path) or dataset.GetDriver().ShortName != "GTiff"
            or dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") or band.GetMetadataItem("NBITS", "IMAGE_STRUCTURE")):
        return False
    block_w, block_h = band.GetBlockSize()
    columns, rows = -(-dataset.RasterXSize // block_w), -(-dataset.RasterYSize // block_h)
    if columns * rows > MAX_CHECKED_BLOCKS:
        return False
    interleaved = dataset.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "PIXEL"
    bands = [dataset.GetRasterBand(i) for i in range(1, dataset.RasterCount + 1)] if interleaved else [band]
    pixel_bytes = sum(gdal.GetDataTypeSize(b.DataType) // 8 for b in bands)
    tiled = block_w < dataset.RasterXSize
    file_bytes = os.path.getsize(path)
    for row in range(rows):
        # GDAL writes every tile whole; a last strip may hold only the rows left.
        block_rows = block_h if tiled else min(block_h, dataset.RasterYSize - row * block_h)
        for column in range(columns):
            offset = band.GetMetadataItem(f"BLOCK_OFFSET_{column}_{row}", "TIFF")
            size = band.GetMetadataItem(f"BLOCK_SIZE_{column}_{row}", "TIFF")
            if not offset or not size:
                return False
            if int(size) < block_w * block_rows * pixel_bytes or int(offset) + int(size) > file_bytes:
                return False
    return True


def _large_blocks(dataset: gdal.Dataset, band: gdal.Band) -> Optional[LargeBlocks]:
    width, height = band.GetBlockSize()
    if width * height <= LARGE_BLOCK_PIXELS:
        return None
    interleaved = dataset.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "PIXEL"
    bands = [dataset.GetRasterBand(i) for i in range(1, dataset.RasterCount + 1)] if interleaved else [band]
    row_bytes = sum(dataset.RasterXSize * gdal.GetDataTypeSize(b.DataType) // 8 for b in bands)
    return LargeBlocks(height, row_bytes, dataset.RasterYSize)


def _check_readable(name: str, path: str, band: gdal.Band) -> None:
    """Read one pixel: GDAL opens some datasets it cannot read (a VRT whose source is missing)."""
    messages: List[str] = []
    gdal.PushErrorHandler(lambda _class, _number, message: messages.append(message))
    try:
        pixel = band.ReadRaster(0, 0, 1, 1)
    finally:
        gdal.PopErrorHandler()
    if pixel is None:
        said = messages[-1].strip() if messages else "no pixel came back"
        raise InputError(f"input {name}={path!r} cannot be read: {said}")


def widest_type(gdal_types: Sequence[int]) -> int:
    """The type that holds every value of ``gdal_types`` (Float64 when no output type does)."""
    widest = gdal_types[0]
    for gdal_type in gdal_types[1:]:
        widest = gdal.DataTypeUnion(widest, gdal_type)
    return widest if widest in DEFAULT_NODATA else gdal.GDT_Float64


def is_geographic(crs_wkt: str) -> bool:
    if not crs_wkt:
        return False
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs_wkt)
    return bool(srs.IsGeographic())


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    if wkt_a == wkt_b or not wkt_a or not wkt_b:  # the same text needs no parsing (~1 ms a pair)
        return wkt_a == wkt_b
    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromWkt(wkt_a)
    b.ImportFromWkt(wkt_b)
    return bool(a.IsSame(b))


def bounds_in(source: Source, crs_wkt: str) -> Bounds:
    """The source's bounds, transformed (densified) into ``crs_wkt``."""
    if same_crs(source.grid.crs_wkt, crs_wkt):
        return source.grid.bounds
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromWkt(source.grid.crs_wkt)
    dst.ImportFromWkt(crs_wkt)
    for srs in (src, dst):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x_min, y_min, x_max, y_max = source.grid.bounds
    return tuple(osr.CoordinateTransformation(src, dst).TransformBounds(x_min, y_min, x_max, y_max, 21))


def resolution_in(source: Source, crs_wkt: str) -> Tuple[float, float]:
    """The source's pixel size expressed in ``crs_wkt`` units (bounds ÷ pixels)."""
    x_min, y_min, x_max, y_max = bounds_in(source, crs_wkt)
    return (x_max - x_min) / source.grid.width, (y_max - y_min) / source.grid.height


def align(source: Source, grid: Grid) -> Source:
    """The source as VRT XML on ``grid``: a nearest-neighbour warp (exact where grids line up).

    Pixels the source does not cover become its nodata; a source without nodata gets an
    alpha band for them instead, so none of its real values (a Byte's 255) turns into nodata.
    """
    if not source.grid.differences(grid) and same_crs(source.grid.crs_wkt, grid.crs_wkt):
        return source
    aligned_vrt = f"/vsimem/offload-align-{threading.get_ident()}-{id(source)}.vrt"
    x_min, y_min, x_max, y_max = grid.bounds
    nodata_or_alpha = dict(srcNodata=source.nodata, dstNodata=source.nodata) if source.nodata is not None \
        else dict(dstAlpha=True)
    crs = dict(dstSRS=grid.crs_wkt) if grid.crs_wkt else {}  # inputs without a CRS share their coordinates
    try:
        warped = gdal.Warp(aligned_vrt, _band_path(source.path, source.band), format="VRT",
                           outputBounds=(x_min, y_min, x_max, y_max), width=grid.width, height=grid.height,
                           resampleAlg="near", **crs, **nodata_or_alpha)
        if warped is None:
            raise TaskFailed(f"GDAL could not align input {source.name} ({source.path}) to the grid")
        warped = None  # flushes the VRT
        handle = gdal.VSIFOpenL(aligned_vrt, "rb")
        xml = gdal.VSIFReadL(1, 64 * 1024 * 1024, handle).decode("utf-8")
        gdal.VSIFCloseL(handle)
    finally:
        gdal.Unlink(aligned_vrt)
    return Source(source.name, source.path, 1, grid, source.nodata, source.data_type, (min(grid.width, 256), 256),
                  vrt_xml=xml, coverage_band=0 if source.nodata is not None else 2, large=source.large)


def _band_path(path: str, band: int) -> str:
    """A name GDAL opens as just ``band`` of ``path``, so the warp VRT needs no helper file."""
    absolute = os.path.abspath(path) if is_file_path(path) else path
    return absolute if band == 1 else f"vrt://{absolute}?bands={band}"


class Readers:
    """Per-thread GDAL handles on the sources, opened on first use in each worker thread.

    Uncompressed GeoTIFFs are read straight from the file into the window's array (GDAL's
    ``GTIFF_DIRECT_IO``), around the block cache: through it, each 512² window of 256² tiles
    took four fresh blocks and freed them (NDVI 8192²'s reads on one thread: 0.56 s of CPU and
    115,000 page faults; now 0.22 s and none). Other inputs' blocks are dropped from GDAL's
    shared cache (see ``Writer``) after each read, when windows do not overlap: the memory the
    cache frees is what the next read reuses, where holding more blocks costs fresh pages
    (NDVI 8192²: 0.36 s of CPU instead of 1.0 s).
    Windows with a halo share tiles with their neighbours, so each thread then keeps (of inputs
    read through the cache) ``HALO_CACHE_PIXELS`` per input (the row of tiles the next row of windows needs again)
    instead of reading every tile nine times.

    A source with large blocks is read through one handle that every thread shares, in turn,
    and its blocks stay in GDAL's cache (``cache_for`` sizes it): GDAL decompresses
    a whole block for any pixel of it, so a one-strip file dropped after each window would be
    decompressed whole for every window (0.9 s each for a 12,000² DEFLATE strip), and by every
    thread. ``close()`` frees them.
    """

    HALO_CACHE_PIXELS = 1 << 22  # per input and thread: 16 MB of Float32

    def __init__(self, sources: Sequence[Source], overlapping: bool = False) -> None:
        self.sources = {s.name: s for s in sources}
        self.cache_pixels = self.HALO_CACHE_PIXELS * len(self.sources) if overlapping else 0
        self._local = threading.local()
        # One handle a file (two bands of one file share its blocks), by what GDAL opens.
        self._shared_locks = {s.open_string: threading.Lock() for s in sources if s.large is not None}
        self._shared: Dict[str, gdal.Dataset] = {}

    def close(self) -> None:
        """Close the shared handles: GDAL frees the large blocks they keep."""
        self._shared.clear()

    def _datasets(self) -> Dict[str, gdal.Dataset]:
        datasets = getattr(self._local, "datasets", None)
        if datasets is None:
            datasets = {name: self._open(name) for name, source in self.sources.items()
                        if source.open_string not in self._shared_locks}
            self._local.datasets = datasets
        return datasets

    def _open(self, name: str) -> gdal.Dataset:
        source = self.sources[name]
        # GDAL reads the option when the file is opened.
        with on_this_thread("GTIFF_DIRECT_IO", "YES") if source.direct_reads else nullcontext():
            dataset = gdal.Open(source.open_string)
        if dataset is None:
            raise TaskFailed(f"GDAL could not open input {name} ({source.path})")
        return dataset

    def read(self, name: str, halo_read: HaloRead) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Read a window (plus halo) of one input; return the values and its missing-data mask."""
        key = self.sources[name].open_string
        lock = self._shared_locks.get(key)
        if lock is None:
            return self._read(name, halo_read, self._datasets()[name], keep_blocks=False)
        with lock:
            if key not in self._shared:
                self._shared[key] = self._open(name)
            return self._read(name, halo_read, self._shared[key], keep_blocks=True)

    def _read(self, name: str, halo_read: HaloRead, dataset: gdal.Dataset,
              keep_blocks: bool) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        source = self.sources[name]
        window = halo_read.read
        band = dataset.GetRasterBand(source.band)
        values = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height,
                                  buf_obj=self._buffer(name, (window.height, window.width), band.DataType))
        if values is None:
            raise TaskFailed(f"GDAL could not read input {name} ({source.path}) at {window}")
        mask = _nodata_mask(values, source.nodata)
        if source.coverage_band:
            coverage = dataset.GetRasterBand(source.coverage_band)
            mask = coverage.ReadAsArray(window.col_off, window.row_off, window.width, window.height) == 0
        if not keep_blocks:
            self._release_blocks(dataset, source, window.pixels)
        pads = ((halo_read.pad_top, halo_read.pad_bottom), (halo_read.pad_left, halo_read.pad_right))
        if any(any(p) for p in pads):
            values = np.pad(values, pads, mode="edge")
            mask = np.pad(mask if mask is not None else np.zeros((window.height, window.width), bool), pads,
                          constant_values=True)
        return values, mask

    def _release_blocks(self, dataset: gdal.Dataset, source: Source, pixels: int) -> None:
        if self.cache_pixels:
            self._drop_cached_blocks(pixels)
            return
        dataset.GetRasterBand(source.band).FlushCache()
        if source.coverage_band:
            dataset.GetRasterBand(source.coverage_band).FlushCache()

    def _buffer(self, name: str, shape: Tuple[int, int], gdal_type: int) -> np.ndarray:
        """This thread's array for ``name``'s windows, reused while windows keep their shape: a
        fresh megabyte per read costs more in page faults than the read itself. The values
        are valid until this thread's next read of ``name`` (the engine copies what it keeps)."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = {}
        buffer = buffers.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = buffers[name] = np.empty(shape, numpy_type(gdal_type))
        return buffer

    def _drop_cached_blocks(self, pixels: int) -> None:
        read = getattr(self._local, "read", 0) + pixels
        if read >= self.cache_pixels:
            for dataset in self._datasets().values():
                dataset.FlushCache()
            read = 0
        self._local.read = read


def held_bytes(sources: Sequence[Source], window_rows: int) -> int:
    """What GDAL keeps decompressed of ``sources``' large blocks, each file once."""
    return sum({s.open_string: s.held_bytes(window_rows) for s in sources}.values())


def usable_memory() -> int:
    """The physical memory this process may use, as GDAL reckons it (bytes; 0 when unknown)."""
    return int(gdal.GetUsablePhysicalRAM() or 0)


@contextmanager
def cache_for(sources: Sequence[Source], window_rows: int) -> Iterator[None]:
    """GDAL's block cache large enough, while the block runs, to keep what reading ``sources`` in
    windows of ``window_rows`` needs kept: their large blocks (``held_bytes``)."""
    held = held_bytes(sources, window_rows)
    with block_cache(at_least=held + CACHE_MARGIN_BYTES) if held else nullcontext():
        yield


def _nodata_mask(values: np.ndarray, nodata: Optional[float]) -> Optional[np.ndarray]:
    if nodata is None:
        return None
    if np.isnan(nodata):
        return np.isnan(values) if values.dtype.kind == "f" else None
    return values == nodata


def numpy_type(gdal_type: int) -> np.dtype:
    return np.dtype(gdal_array.GDALTypeCodeToNumericTypeCode(gdal_type))


def to_output_values(values: np.ndarray, dtype: np.dtype) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Convert as GDAL does when it writes: integers rounded half away from zero and clamped.

    Returns the values and, for an integer type, where the result has no integer value
    (NaN, ±inf): the caller writes nodata there (GDAL would write 0 and the type's limits,
    which read as real values, or as nodata counted as valid).
    """
    if dtype.kind == "f":
        return values.astype(dtype, copy=False), None
    values = np.asarray(values, dtype=np.float64)
    info = np.iinfo(dtype)
    no_value = ~np.isfinite(values)
    rounded = np.trunc(values + np.copysign(0.5, values))
    converted = np.nan_to_num(np.clip(rounded, info.min, info.max), nan=0.0).astype(dtype)
    return converted, (no_value if no_value.any() else None)


def check_creation_options(format_name: str, options: Sequence[str], given: Sequence[str], gdal_type: int) -> None:
    """Refuse creation options the driver would ignore or reject (GDAL only warns).

    A 1×1 dataset is created in memory with ``options`` (the defaults and the ``given`` ones),
    and GDAL's own validation against the driver's option list (type, allowed values, range)
    and its refusals (a tile width that is not a multiple of 16) are caught.

    :raises InputError: naming the given option and what GDAL said about it.
    """
    if not given:
        return  # Offload's defaults are valid
    messages: List[str] = []
    probe = f"/vsimem/offload-options-{threading.get_ident()}.tif"
    gdal.PushErrorHandler(lambda _class, _number, message: messages.append(message))
    try:
        if format_name == "COG":  # the COG driver only copies
            source = gdal.GetDriverByName("MEM").Create("", 1, 1, 1, gdal_type)
            gdal.GetDriverByName("COG").CreateCopy(probe, source, 0, list(options))
        else:
            gdal.GetDriverByName(format_name).Create(probe, 1, 1, 1, gdal_type, list(options))
    finally:
        gdal.PopErrorHandler()
        gdal.Unlink(probe)
    if messages:
        named = next((o for o in given if o.split("=", 1)[0].strip().upper() in messages[0].upper()), given[0])
        raise InputError(f"creation option {named!r} is refused by GDAL's {format_name} driver: "
                         f"{messages[0].rstrip('.')}")


def compressed_ratio(values: np.ndarray, compression: Sequence[str]) -> float:
    """Compressed ÷ raw size of ``values`` written as one GeoTIFF with ``compression`` (in memory)."""
    probe = f"/vsimem/offload-probe-{threading.get_ident()}.tif"
    height, width = values.shape
    gdal_type = gdal_array.NumericTypeCodeToGDALTypeCode(values.dtype)
    try:
        dataset = gdal.GetDriverByName("GTiff").Create(probe, width, height, 1, gdal_type,
                                                       ["TILED=YES", *compression])
        dataset.GetRasterBand(1).WriteArray(values)
        dataset = None
        return gdal.VSIStatL(probe).size / values.nbytes
    finally:
        gdal.Unlink(probe)


def create_output(path: Path, grid: Grid, band_count: int, gdal_type: int, nodata: float,
                  creation_options: Sequence[str]) -> gdal.Dataset:
    # SPARSE_OK: a canceled run's file is closed as it is; by default GDAL would first fill every
    # tile not yet written (gigabytes, minutes). Only tiles that are wholly nodata are left out.
    # A user's SPARSE_OK=FALSE is kept (GDAL reads the first of a repeated option).
    sparse = [] if any(o.split("=", 1)[0].strip().upper() == "SPARSE_OK" for o in creation_options) \
        else ["SPARSE_OK=TRUE"]
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), grid.width, grid.height, band_count, gdal_type,
                                                   [*sparse, *creation_options])
    if dataset is None:
        raise TaskFailed(f"GDAL could not create {path}")
    dataset.SetGeoTransform(grid.geotransform)
    if grid.crs_wkt:
        dataset.SetProjection(grid.crs_wkt)
    for index in range(1, band_count + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


class Writer:
    """Writes windows into an output's bands and flushes them out of GDAL's block cache.

    The cache is process-wide (inside QGIS, 5% of RAM by default) and filling it with blocks
    we will not read again costs memory and, on fresh pages, most of the time: flushing our
    own blocks kept a 8192² job at 93 MB instead of 591 MB, and 7× faster. Uncompressed tiles
    are flushed block by block, or window by window where a block holds every band (the
    freed block is what the next one reuses); compressed ones in batches, so GDAL compresses
    them on its NUM_THREADS threads side by side. Windows cover whole output tiles where the
    inputs' blocks allow (see ``calc._block_of``); where they do not, a block two windows share
    is written twice.
    """

    COMPRESSED_BATCH_PIXELS = 1 << 21  # per band: 8 MB of Float32 tiles held before a flush

    def __init__(self, dataset: gdal.Dataset, compressed: bool) -> None:
        self.dataset = dataset
        self.bands = [dataset.GetRasterBand(i) for i in range(1, dataset.RasterCount + 1)]
        self.batch_pixels = self.COMPRESSED_BATCH_PIXELS if compressed else 1
        self.unflushed = 0
        # Uncompressed blocks that hold one band are written and flushed one at a time: the
        # block GDAL frees is the one it takes next. A window's four freed at once went back to
        # the system and came back as page faults (27,000 an 8192² NDVI inside QGIS).
        # Strips stay window by window: a window holds a strip's part, not a whole one.
        own_blocks = len(self.bands) == 1 or dataset.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "BAND"
        block_w, block_h = self.bands[0].GetBlockSize()
        tiled = block_w < dataset.RasterXSize
        self.block = (block_w, block_h) if own_blocks and tiled and not compressed else None

    def write(self, band_index: int, window: Window, values: np.ndarray) -> None:
        band = self.bands[band_index - 1]
        if self.block is not None:
            block_w, block_h = self.block
            # Pieces follow the output's blocks, even where a window does not start on one.
            for row in range(-(window.row_off % block_h), window.height, block_h):
                for col in range(-(window.col_off % block_w), window.width, block_w):
                    top, left = max(row, 0), max(col, 0)
                    piece = values[top:row + block_h, left:col + block_w]
                    if band.WriteArray(piece, window.col_off + left, window.row_off + top) != 0:
                        raise TaskFailed(f"GDAL could not write band {band_index} at {window}")
                    self.dataset.FlushCache()  # the band's alone loses a block two windows share
            return
        if band.WriteArray(values, window.col_off, window.row_off) != 0:
            raise TaskFailed(f"GDAL could not write band {band_index} at {window}")
        if band_index == len(self.bands):
            self.unflushed += window.pixels
            if self.unflushed >= self.batch_pixels:
                self.flush()

    def flush(self) -> None:
        self.dataset.FlushCache()
        self.unflushed = 0


def set_statistics(dataset: gdal.Dataset, band_index: int, statistics) -> None:
    """Store a band's statistics (a ``calc.BandStatistics``) as GDAL's own."""
    band = dataset.GetRasterBand(band_index)
    band.SetStatistics(statistics.minimum, statistics.maximum, statistics.mean, statistics.std)
    band.SetMetadataItem("STATISTICS_VALID_PERCENT", f"{statistics.valid_percent:.4g}")


def translate_to_cog(source: Path, destination: Path, options: List[str], callback) -> None:
    result = gdal.Translate(str(destination), str(source), format="COG", creationOptions=options, callback=callback,
                            stats=True)
    if result is None:
        raise TaskFailed(f"GDAL could not write the COG {destination}")
    result = None
