"""The tile download task: a thin ``OffloadTask`` around ``tile_download.run_tiles``."""
from __future__ import annotations

from pathlib import Path

from ..core.outputs import DeclaredOutput, check_output_path
from ..core.task import OffloadTask
from .request import TileRequest
from .tile_package import check_existing_output, plan_meta
from .tile_plan import validate_tile_request


class TileDownloadTask(OffloadTask):
    """Download the tiles over a bbox into a mosaic (GeoTIFF, COG) or a package (GeoPackage, MBTiles).

    A new output is written under a temporary name and appears only when complete. An
    existing package (without ``overwrite``) is added to in place: it gets only the tiles it
    lacks, in SQLite transactions, so it never holds a truncated tile and a failed run keeps
    what it had.
    """

    def __init__(self, request: TileRequest, **task_options) -> None:
        plan = validate_tile_request(request)  # InputError here: no request sent, nothing written
        zooms = f"z{plan.zooms[0]}-{plan.zooms[-1]}" if len(plan.zooms) > 1 else f"z{request.zoom}"
        super().__init__(f"Tiles {zooms} ({plan.total}) → {Path(request.output).name}", **task_options)
        self.plan = plan
        self.resuming = plan.is_package and check_existing_output(  # refused here: a layer it would delete
            Path(request.output), plan.format, plan_meta(plan), request.overwrite)
        if self.resuming:  # added to in place: declared for loading only, never replaced
            self.output = DeclaredOutput(check_output_path(Path(request.output), overwrite=True), "raster")
        else:
            self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)

    def work(self) -> None:
        from .tile_download import run_tiles  # the engine (numpy, GDAL) loads when a task runs

        destination = self.output.path if self.resuming else self.output.temp_path
        self.details = run_tiles(self.plan, destination, self.control())
        if self.plan.format == "MBTiles":  # here, not on QGIS's main thread as it loads the package
            from ..core.package_statistics import store_package_statistics

            store_package_statistics(destination, only_refresh=not self.load_outputs)

    def final_outputs(self):
        return self.outputs + ([self.output] if self.resuming else [])

