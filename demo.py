"""``python -m offload demo`` (``make demo``): Offload end to end on this machine, offline.

It starts the embedded server on 127.0.0.1 and runs one chain of Offload tasks: download a
terrain raster from it (progress, checksum, atomic output), then compute slope and
hillshade from it block by block; it writes a styled QGIS project and renders a PNG map
headless. Each task family adds its step here as it lands.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Tuple

DEMO_GRID = (770_000.0, 5_806_000.0, 30.0, 1200, 1100)  # x_min, y_max, pixel m, cols, rows (EPSG:3857)


def add_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="run the offline end-to-end demo",
                                 description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for the results")
    parser.set_defaults(handler=run_demo)


class Timings:
    def __init__(self) -> None:
        self.rows: List[Tuple[str, float, str]] = []

    @contextmanager
    def step(self, name: str, result: str = "") -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.rows.append((name, time.perf_counter() - started, result))
        print(f"  {name:<42} {self.rows[-1][1]:6.2f} s  {result}", file=sys.stderr)


def terrain_geotiff() -> bytes:
    """The synthetic terrain as GeoTIFF bytes (what the embedded server hands out)."""
    from osgeo import gdal, osr

    from .net_tasks.synthetic import terrain_grid

    x_min, y_max, pixel_m, cols, rows = DEMO_GRID
    path = "/vsimem/offload-demo-terrain.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(path, cols, rows, 1, gdal.GDT_Float32,
                                                   ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3"])
    dataset.SetGeoTransform((x_min, pixel_m, 0.0, y_max, 0.0, -pixel_m))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    dataset.SetProjection(srs.ExportToWkt())
    dataset.GetRasterBand(1).WriteArray(terrain_grid(x_min, y_max, pixel_m, cols, rows))
    dataset = None
    data = bytes(gdal.VSIGetMemFileBuffer_unsafe(path))
    gdal.Unlink(path)
    return data


def run_demo(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, run_task
    from .core.chain import Chain
    from .core.runner import headless_app
    from .net_tasks.download import FileRequest
    from .net_tasks.server import LoopbackServer
    from .net_tasks.tasks import FileDownloadTask
    from .raster_tasks.calc_task import RasterCalcTask
    from .raster_tasks.request import CalcInput, CalcRequest

    out = args.output.absolute()
    out.mkdir(parents=True, exist_ok=True)
    timings = Timings()
    print(f"Offload demo → {out}", file=sys.stderr)
    with timings.step("start QGIS (headless)"):
        headless_app(full=True)
    with timings.step("make synthetic terrain, start server", "127.0.0.1 only"):
        body = terrain_geotiff()
        server = LoopbackServer({"/terrain.tif": (body, "image/tiff")}).__enter__()
    dem, slope, shade = out / "terrain.tif", out / "slope.tif", out / "hillshade.tif"

    def chain() -> Chain:
        download = FileDownloadTask(FileRequest(url=f"{server.base_url}/terrain.tif", output=dem,
                                                sha256=hashlib.sha256(body).hexdigest(), overwrite=True), "raster")
        terrain = (CalcInput("dem", str(dem)),)
        slope_step = RasterCalcTask(CalcRequest(("slope(dem)",), terrain, slope, overwrite=True), after=[download])
        shade_step = RasterCalcTask(CalcRequest(("hillshade(dem, 315, 40)",), terrain, shade, output_type="Byte",
                                                nodata=0, overwrite=True), after=[download])
        return Chain([download, slope_step, shade_step], weights=[1, 2, 2])

    try:
        with timings.step("chain: download → slope → hillshade", f"{len(body) / 1e6:.1f} MB terrain"):
            code = run_task(chain, args)
        if code != EXIT_OK:
            return code
    finally:
        server.__exit__(None, None, None)
    project_path, png_path = out / "offload-demo.qgz", out / "offload-demo.png"
    with timings.step("write styled project", project_path.name):
        project = build_project(dem, slope, shade, project_path)
    with timings.step("render map (QgsMapRendererParallelJob)", png_path.name):
        render_png(project, png_path)
    total = sum(row[1] for row in timings.rows)
    print(f"Done in {total:.1f} s. Outputs:", file=sys.stderr)
    for path in (dem, slope, shade, project_path, png_path):
        print(f"  {path}", file=sys.stderr)
    return EXIT_OK


def build_project(dem: Path, slope: Path, shade: Path, project_path: Path):
    """The terrain coloured by height, Offload's hillshade multiplied over it, slope alongside."""
    from qgis.core import QgsProject

    from .ui.styles import shade_layer, slope_layer, terrain_layer

    project = QgsProject.instance()
    project.clear()
    terrain = terrain_layer(dem)
    project.setCrs(terrain.crs())
    project.addMapLayer(slope_layer(slope))
    project.addMapLayer(terrain)
    project.addMapLayer(shade_layer(shade))
    project.layerTreeRoot().findLayer(project.mapLayersByName("slope")[0].id()).setItemVisibilityChecked(False)
    project.setFilePathStorage(project.filePathStorage())  # relative paths (the default)
    if not project.write(str(project_path)):
        raise RuntimeError(f"could not write {project_path}: {project.error()}")
    return project


def render_png(project, png_path: Path, size_px: int = 1000) -> None:
    """Render every layer of ``project`` into a PNG, without a screen."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QCoreApplication, QSize
    from qgis.PyQt.QtGui import QColor

    layers = [node.layer() for node in project.layerTreeRoot().findLayers()]
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    extent = layers[0].extent()
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
