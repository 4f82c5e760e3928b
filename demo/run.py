"""``python -m offload demo`` (``make demo``): Offload end to end on this machine, offline.

It starts the embedded tile server on 127.0.0.1 and runs one chain of Offload tasks:
download the terrain (Terrarium) and imagery tiles over an area and mosaic them into
GeoTIFFs, compute slope and hillshade from the terrain block by block, and buffer a set of
sample points by 750 m (the points are in EPSG:4326: buffered in metres). It writes a
styled QGIS project and renders a PNG map headless. Each task family adds its step here.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Tuple

DEMO_BBOX = (6.9, 45.95, 7.25, 46.2)  # lon/lat: the synthetic mountains (synthetic.py's hills)
DEMO_ZOOM = 12
SAMPLE_POINTS = 40
BUFFER_M = 750.0


class Timings:
    def __init__(self) -> None:
        self.rows: List[Tuple[str, float, str]] = []

    @contextmanager
    def step(self, name: str, result: str = "") -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.rows.append((name, time.perf_counter() - started, result))
        print(f"  {name:<42} {self.rows[-1][1]:6.2f} s  {result}", file=sys.stderr)


def run_demo(args: argparse.Namespace) -> int:
    from ..core.errors import EXIT_OK
    from ..core.runner import run_task
    from ..core.chain import Chain
    from ..core.runner import headless_app
    from .tile_server import TileServer
    from ..net_tasks.tile_task import TileDownloadTask
    from ..net_tasks.request import TileRequest
    from ..raster_tasks.calc_task import RasterCalcTask
    from ..raster_tasks.request import CalcInput, CalcRequest
    from ..vector_tasks.request import BufferRequest
    from ..vector_tasks.buffer_task import BufferTask

    out = args.output.absolute()
    out.mkdir(parents=True, exist_ok=True)
    timings = Timings()
    print(f"Offload demo → {out}", file=sys.stderr)
    with timings.step("start QGIS (headless)"):
        headless_app(full=True)
    dem, imagery, slope, shade = (out / name for name in ("terrain.tif", "imagery.tif", "slope.tif", "hillshade.tif"))
    points, zones = out / "sample-points.gpkg", out / "sample-zones.gpkg"
    cache = out / "tile-cache"
    with timings.step("write sample points", f"{SAMPLE_POINTS} in {points.name}"):
        write_sample_points(points, SAMPLE_POINTS)
    with TileServer("terrain") as terrain_server, TileServer("imagery") as imagery_server:

        def chain() -> Chain:
            terrain_tiles = TileDownloadTask(TileRequest(terrain_server.template, DEMO_BBOX, DEMO_ZOOM, dem,
                                                         cache_dir=cache / "terrain", decode="terrarium",
                                                         overwrite=True))
            imagery_tiles = TileDownloadTask(TileRequest(imagery_server.template, DEMO_BBOX, DEMO_ZOOM, imagery,
                                                         cache_dir=cache / "imagery", overwrite=True))
            terrain = (CalcInput("dem", str(dem)),)
            slope_step = RasterCalcTask(CalcRequest(("slope(dem)",), terrain, slope, overwrite=True),
                                        after=[terrain_tiles])
            shade_step = RasterCalcTask(CalcRequest(("hillshade(dem, 315, 40)",), terrain, shade, output_type="Byte",
                                                    nodata=0, overwrite=True), after=[terrain_tiles])
            zones_step = BufferTask(BufferRequest(f"{points}|layername=points", zones, distance=BUFFER_M,
                                                  units="meters", segments=12, overwrite=True))
            return Chain([terrain_tiles, imagery_tiles, slope_step, shade_step, zones_step], weights=[3, 3, 1, 1, 1],
                         keep_intermediates=True)

        with timings.step("chain: tiles → slope → hillshade; buffer", "embedded tile server on 127.0.0.1"):
            code = run_task(chain, args)
    if code != EXIT_OK:
        return code
    project_path, png_path = out / "offload-demo.qgz", out / "offload-demo.png"
    with timings.step("write styled project", project_path.name):
        project = build_project(dem, imagery, slope, shade, points, zones, project_path)
    with timings.step("render map (QgsMapRendererParallelJob)", png_path.name):
        render_png(project, png_path)
    project.clear()  # layers go before QGIS does: a vector layer left to interpreter exit crashes it
    total = sum(row[1] for row in timings.rows)
    print(f"Done in {total:.1f} s. Outputs:", file=sys.stderr)
    for path in (dem, imagery, slope, shade, points, zones, project_path, png_path):
        print(f"  {path}", file=sys.stderr)
    return EXIT_OK


def write_sample_points(path: Path, count: int) -> None:
    """``count`` points spread over the demo area (EPSG:4326), the same every run."""
    import random

    from osgeo import ogr, osr

    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = source.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    spread = random.Random(7)
    x_min, y_min, x_max, y_max = DEMO_BBOX
    layer.StartTransaction()
    for n in range(count):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(spread.uniform(x_min, x_max), spread.uniform(y_min, y_max))
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None  # closes the file


def build_project(dem: Path, imagery: Path, slope: Path, shade: Path, points: Path, zones: Path,
                  project_path: Path):
    """The terrain coloured by height, Offload's hillshade multiplied over it, the buffered
    sample points on top; imagery and slope alongside, switched off."""
    from qgis.core import QgsProject, QgsRasterLayer

    from .styles import points_layer, shade_layer, slope_layer, terrain_layer, zones_layer

    project = QgsProject.instance()
    project.clear()
    terrain = terrain_layer(dem)
    project.setCrs(terrain.crs())
    for layer in (QgsRasterLayer(str(imagery), "imagery", "gdal"), slope_layer(slope), terrain, shade_layer(shade),
                  zones_layer(zones), points_layer(points)):
        project.addMapLayer(layer)
    for hidden in ("imagery", "slope"):
        project.layerTreeRoot().findLayer(project.mapLayersByName(hidden)[0].id()).setItemVisibilityChecked(False)
    project.setFilePathStorage(project.filePathStorage())  # relative paths (the default)
    if not project.write(str(project_path)):
        raise RuntimeError(f"could not write {project_path}: {project.error()}")
    return project


def render_png(project, png_path: Path, size_px: int = 1000) -> None:
    """Render every layer of ``project`` into a PNG, without a screen."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QCoreApplication, QSize
    from qgis.PyQt.QtGui import QColor

    layers = [node.layer() for node in project.layerTreeRoot().findLayers()]  # top first: drawn last
    settings = QgsMapSettings()
    settings.setLayers([layer for layer in layers
                        if project.layerTreeRoot().findLayer(layer.id()).isVisible()])
    settings.setDestinationCrs(project.crs())
    extent = project.mapLayersByName("terrain")[0].extent()  # in the project's CRS
    settings.setExtent(extent)
    ratio = extent.height() / extent.width()
    settings.setOutputSize(QSize(size_px, int(size_px * ratio)))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    deadline = time.monotonic() + 60
    while job.isActive():
        if time.monotonic() > deadline:
            job.cancel()
            raise TimeoutError("the map did not render within 60 s")
        QCoreApplication.processEvents()
        time.sleep(0.01)
    if not job.renderedImage().save(str(png_path), "PNG"):
        raise RuntimeError(f"could not write {png_path}")
