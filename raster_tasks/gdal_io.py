"""The raster family's only contact with GDAL: describe inputs, align grids, read windows,
write outputs. Each worker thread opens its own handles (GDAL datasets are not thread-safe);
one thread writes.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, gdal_array, osr

from ..core.errors import InputError, TaskFailed
from .blocks import HaloRead, Window
from .grid import Bounds, Grid

# gdal_calc.py's defaults, so its users get the nodata they expect.
DEFAULT_NODATA = {
    gdal.GDT_Byte: 255, gdal.GDT_UInt16: 65535, gdal.GDT_Int16: -32768, gdal.GDT_UInt32: 4294967293,
    gdal.GDT_Int32: -2147483647, gdal.GDT_Float32: 3.402823466e38, gdal.GDT_Float64: 1.7976931348623158e308,
}
OUTPUT_TYPES = {gdal.GetDataTypeName(code): code for code in DEFAULT_NODATA}  # = request.OUTPUT_TYPE_NAMES
OUTPUT_TILE = 256  # the output's tile size (BLOCKXSIZE/BLOCKYSIZE)


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

    @property
    def open_string(self) -> str:
        return self.vrt_xml or self.path


def output_type(name: str) -> int:
    """GDAL type code for a type name, e.g. ``Float32``.

    :raises InputError: for a name that is not an output type.
    """
    code = OUTPUT_TYPES.get(name) or next((c for n, c in OUTPUT_TYPES.items() if n.lower() == name.lower()), None)
    if code is None:
        raise InputError(f"type {name!r} is not one of {', '.join(OUTPUT_TYPES)}")
    return code


def describe(name: str, path: str, band: int) -> Source:
    """Open ``path`` and check ``band``: the facts a calculation needs.

    :raises InputError: for a missing file, a folder, a file GDAL cannot read, a band out of range.
    """
    if os.path.isdir(path):
        raise InputError(f"input {name}={path!r} is a folder, not a raster")
    if not path.startswith("/vsi") and not os.path.exists(path):
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
    grid = Grid(tuple(dataset.GetGeoTransform()), dataset.RasterXSize, dataset.RasterYSize, dataset.GetProjection())
    if grid.is_rotated():
        raise InputError(f"input {name}={path!r} has a rotated geotransform; warp it north-up first")
    return Source(name, path, band, grid, raster_band.GetNoDataValue(), raster_band.DataType,
                  tuple(raster_band.GetBlockSize()))


def same_crs(wkt_a: str, wkt_b: str) -> bool:
    if not wkt_a or not wkt_b:
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
    """The source as VRT XML on ``grid``: a nearest-neighbour warp (exact where grids line up)."""
    if not source.grid.differences(grid) and same_crs(source.grid.crs_wkt, grid.crs_wkt):
        return source
    aligned_vrt = f"/vsimem/offload-align-{threading.get_ident()}-{id(source)}.vrt"
    nodata = source.nodata if source.nodata is not None else DEFAULT_NODATA.get(source.data_type, 0)
    x_min, y_min, x_max, y_max = grid.bounds
    try:
        warped = gdal.Warp(aligned_vrt, _band_path(source.path, source.band), format="VRT",
                           outputBounds=(x_min, y_min, x_max, y_max), width=grid.width, height=grid.height,
                           dstSRS=grid.crs_wkt, resampleAlg="near", srcNodata=source.nodata, dstNodata=nodata)
        if warped is None:
            raise TaskFailed(f"GDAL could not align input {source.name} ({source.path}) to the grid")
        warped = None  # flushes the VRT
        handle = gdal.VSIFOpenL(aligned_vrt, "rb")
        xml = gdal.VSIFReadL(1, 64 * 1024 * 1024, handle).decode("utf-8")
        gdal.VSIFCloseL(handle)
    finally:
        gdal.Unlink(aligned_vrt)
    return Source(source.name, source.path, 1, grid, nodata, source.data_type, (min(grid.width, 256), 256),
                  vrt_xml=xml)


def _band_path(path: str, band: int) -> str:
    """A name GDAL opens as just ``band`` of ``path``, so the warp VRT needs no helper file."""
    absolute = os.path.abspath(path)
    return absolute if band == 1 else f"vrt://{absolute}?bands={band}"


class Readers:
    """Per-thread GDAL handles on the sources, opened on first use in each worker thread."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = {s.name: s for s in sources}
        self._local = threading.local()

    def _bands(self) -> Dict[str, gdal.Band]:
        bands = getattr(self._local, "bands", None)
        if bands is None:
            datasets, bands = {}, {}
            for name, source in self.sources.items():
                dataset = gdal.Open(source.open_string)
                if dataset is None:
                    raise TaskFailed(f"GDAL could not open input {name} ({source.path})")
                datasets[name] = dataset
                bands[name] = dataset.GetRasterBand(source.band)
            self._local.datasets, self._local.bands = datasets, bands  # datasets keep bands alive
        return bands

    def read(self, name: str, halo_read: HaloRead) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Read a window (plus halo) of one input; return the values and its missing-data mask."""
        source = self.sources[name]
        window = halo_read.read
        band = self._bands()[name]
        values = band.ReadAsArray(window.col_off, window.row_off, window.width, window.height)
        if values is None:
            raise TaskFailed(f"GDAL could not read input {name} ({source.path}) at {window}")
        band.FlushCache()  # drop our blocks from GDAL's shared cache: see write()
        mask = _nodata_mask(values, source.nodata)
        pads = ((halo_read.pad_top, halo_read.pad_bottom), (halo_read.pad_left, halo_read.pad_right))
        if any(any(p) for p in pads):
            values = np.pad(values, pads, mode="edge")
            mask = np.pad(mask if mask is not None else np.zeros((window.height, window.width), bool), pads,
                          constant_values=True)
        return values, mask


def _nodata_mask(values: np.ndarray, nodata: Optional[float]) -> Optional[np.ndarray]:
    if nodata is None:
        return None
    if np.isnan(nodata):
        return np.isnan(values) if values.dtype.kind == "f" else None
    return values == nodata


def numpy_type(gdal_type: int) -> np.dtype:
    return np.dtype(gdal_array.GDALTypeCodeToNumericTypeCode(gdal_type))


def to_output_values(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert as GDAL does when it writes: integers rounded half away from zero and clamped,
    NaN to 0."""
    if dtype.kind == "f":
        return values.astype(dtype, copy=False)
    values = np.asarray(values, dtype=np.float64)
    info = np.iinfo(dtype)
    rounded = np.trunc(values + np.copysign(0.5, values))
    return np.nan_to_num(np.clip(rounded, info.min, info.max), nan=0.0).astype(dtype)


def create_output(path: Path, grid: Grid, band_count: int, gdal_type: int, nodata: float,
                  creation_options: Sequence[str]) -> gdal.Dataset:
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), grid.width, grid.height, band_count, gdal_type,
                                                   list(creation_options))
    if dataset is None:
        raise TaskFailed(f"GDAL could not create {path}")
    dataset.SetGeoTransform(grid.geotransform)
    if grid.crs_wkt:
        dataset.SetProjection(grid.crs_wkt)
    for index in range(1, band_count + 1):
        dataset.GetRasterBand(index).SetNoDataValue(nodata)
    return dataset


def write(dataset: gdal.Dataset, band_index: int, window: Window, values: np.ndarray) -> None:
    """Write a window and flush it out of GDAL's block cache.

    The cache is process-wide (inside QGIS, 5% of RAM by default) and filling it with
    blocks we will not read again costs memory and, on fresh pages, most of the time:
    flushing our own blocks after each window kept a 8192² job at 93 MB instead of 591 MB,
    and 7× faster. Windows cover whole output tiles, so nothing is written twice.
    """
    band = dataset.GetRasterBand(band_index)
    if band.WriteArray(values, window.col_off, window.row_off) != 0:
        raise TaskFailed(f"GDAL could not write band {band_index} at {window}")
    band.FlushCache()


def set_statistics(dataset: gdal.Dataset, band_index: int, minimum: float, maximum: float,
                   mean: float, std: float, valid_percent: float) -> None:
    band = dataset.GetRasterBand(band_index)
    band.SetStatistics(minimum, maximum, mean, std)
    band.SetMetadataItem("STATISTICS_VALID_PERCENT", f"{valid_percent:.4g}")


def translate_to_cog(source: Path, destination: Path, options: List[str], callback) -> None:
    result = gdal.Translate(str(destination), str(source), format="COG", creationOptions=options, callback=callback,
                            stats=True)
    if result is None:
        raise TaskFailed(f"GDAL could not write the COG {destination}")
    result = None
