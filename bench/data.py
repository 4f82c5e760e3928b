"""Inputs for the in-QGIS benchmark, each made once into a folder and reused while it exists.

Rasters are Float32, tiled 256, with nodata -9999 (as ``bench/raster.py`` makes them):
- ``random_pair``: bench/raster.py's inputs (a smooth surface plus noise and 1 % nodata
  holes), which no lossless codec shrinks much;
- ``dem``: the demo's synthetic terrain (demo/synthetic.py) at 10 m, spatially correlated;
- ``fields_pair``: red and near-infrared reflectance of smooth fields (whole digital numbers,
  constant per field with a gentle trend across it, as a Sentinel-2 scene of farmland).
Vector layers are GeoPackages in EPSG:32632: bench/buffer.py's light polygons, random star
polygons and random-walk lines. A file is written under a temporary name and renamed when
complete, so an interrupted run leaves nothing that a later run would take as made.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Tuple

import numpy as np
from osgeo import gdal, ogr, osr

import buffer as buffer_bench
import raster as raster_bench

NODATA = raster_bench.NODATA
TILED = raster_bench.TILED
FIELD_PX = (96, 160)  # a field's height and width in pixels (1 × 1.6 km at 10 m)


def _made(path: Path, make: Callable[[Path], None]) -> Path:
    """``path``, made by ``make(temp)`` unless it exists."""
    if not path.exists():
        temp = path.with_name(f".part-{os.getpid()}-{path.name}")  # keeps the extension (GPKG wants it)
        make(temp)
        temp.rename(path)
    return path


def random_pair(folder: Path, size: int) -> Tuple[Path, Path]:
    return tuple(_made(folder / f"random-{name}-{size}.tif", lambda p, s=seed: raster_bench.make_input(p, size, s))
                 for name, seed in (("a", 1), ("b", 2)))


def _raster(path: Path, size: int, origin: Tuple[float, float], pixel: float, epsg: int,
            rows: Callable[[int, int], np.ndarray]) -> None:
    """A Float32 raster of ``size``² whose strip of rows ``[row, row + count)`` is ``rows(row, count)``."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Float32, TILED)
    dataset.SetGeoTransform((origin[0], pixel, 0.0, origin[1], 0.0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    for row in range(0, size, 256):
        band.WriteArray(rows(row, min(256, size - row)).astype(np.float32), 0, row)
    dataset = None


def dem(folder: Path, size: int) -> Path:
    """The demo's terrain (Web Mercator metres around its hills) at 10 m."""
    from offload.demo.synthetic import terrain_grid

    x_min, y_max, pixel = 740_000.0, 5_830_000.0, 10.0

    def rows(row: int, count: int) -> np.ndarray:
        return terrain_grid(x_min, y_max - row * pixel, pixel, size, count)

    return _made(folder / f"dem-{size}.tif", lambda p: _raster(p, size, (x_min, y_max), pixel, 3857, rows))


def fields_pair(folder: Path, size: int) -> Tuple[Path, Path]:
    """Red and near-infrared digital numbers (0–10000) of rectangular fields."""
    fields_y, fields_x = FIELD_PX

    def band(seed: int, low: float, high: float) -> Callable[[int, int], np.ndarray]:
        def rows(row: int, count: int) -> np.ndarray:
            y = np.arange(row, row + count)[:, None]
            x = np.arange(size)[None, :]
            field_row, field_col = y // fields_y, x // fields_x
            field = field_row * (size // fields_x + 1) + field_col
            base = low + (high - low) * _unit_hash(field, seed)
            tilt = _unit_hash(field, seed + 1) * 2 * math.pi  # each field's gentle trend, its own direction
            along = (np.cos(tilt) * (x % fields_x) / fields_x + np.sin(tilt) * (y % fields_y) / fields_y)
            return np.rint(base + 0.1 * (high - low) * along)
        return rows

    made = []
    for name, seed, low, high in (("red", 11, 300.0, 1500.0), ("nir", 23, 2000.0, 5000.0)):
        rows = band(seed, low, high)
        made.append(_made(folder / f"fields-{name}-{size}.tif",
                          lambda p, r=rows: _raster(p, size, (500_000.0, 6_000_000.0), 10.0, 32632, r)))
    return made[1], made[0]  # A = near infrared, B = red: (A - B) / (A + B) is the NDVI


def _unit_hash(values: np.ndarray, seed: int) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) for each integer."""
    h = (values.astype(np.uint64) + np.uint64(seed)) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def light_polygons(folder: Path, count: int) -> str:
    """bench/buffer.py's polygons (5 vertices each), as it makes them."""
    target = folder / f"light-{count}"
    if not (target / "polygons.gpkg").exists():
        temp = folder / f".light-{count}.{os.getpid()}.part"
        temp.mkdir(parents=True)
        buffer_bench.make_data(temp, count)
        temp.rename(target)
    return f"{target / 'polygons.gpkg'}|layername=polygons"


def _vector(path: Path, name: str, geometry_type: int, wkts) -> None:
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    layer = source.CreateLayer(name, srs, geometry_type)
    layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    layer.StartTransaction()
    for n, wkt in enumerate(wkts):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None


def stars(folder: Path, count: int, vertices: int = 12) -> str:
    """Random star polygons: ``vertices`` points alternating between an outer and an inner radius
    (10–25 m, inner 40–70 % of outer), turned at random, on a 60 m grid with jitter."""
    rng = np.random.default_rng(5)
    columns = 300

    def wkts():
        for n in range(count):
            cx = 500_000 + (n % columns) * 60.0 + rng.uniform(-5, 5)
            cy = 5_000_000 + (n // columns) * 60.0 + rng.uniform(-5, 5)
            outer = rng.uniform(10, 25)
            radii = np.where(np.arange(vertices) % 2 == 0, outer, outer * rng.uniform(0.4, 0.7))
            angles = rng.uniform(0, 2 * np.pi) + np.arange(vertices) * 2 * np.pi / vertices
            xs, ys = cx + radii * np.cos(angles), cy + radii * np.sin(angles)
            ring = ", ".join(f"{x:.3f} {y:.3f}" for x, y in zip(np.append(xs, xs[0]), np.append(ys, ys[0])))
            yield f"POLYGON (({ring}))"

    path = folder / f"stars-{count}-{vertices}.gpkg"
    _made(path, lambda p: _vector(p, "stars", ogr.wkbPolygon, wkts()))
    return f"{path}|layername=stars"


def lines(folder: Path, count: int, vertices: int = 50) -> str:
    """Random walks of ``vertices`` points, steps of 5–15 m turning up to 60° each, on a 400 m grid."""
    rng = np.random.default_rng(7)
    columns = 150

    def wkts():
        for n in range(count):
            steps = rng.uniform(5, 15, vertices - 1)
            headings = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.uniform(-np.pi / 3, np.pi / 3, vertices - 1))
            x0, y0 = 500_000 + (n % columns) * 400.0, 5_000_000 + (n // columns) * 400.0
            xs = x0 + np.concatenate(([0.0], np.cumsum(steps * np.cos(headings))))
            ys = y0 + np.concatenate(([0.0], np.cumsum(steps * np.sin(headings))))
            yield "LINESTRING (" + ", ".join(f"{x:.3f} {y:.3f}" for x, y in zip(xs, ys)) + ")"

    path = folder / f"lines-{count}-{vertices}.gpkg"
    _made(path, lambda p: _vector(p, "lines", ogr.wkbLineString, wkts()))
    return f"{path}|layername=lines"
