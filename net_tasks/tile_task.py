"""The tile download task: a thin ``OffloadTask`` around ``tile_download.run_tiles``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..core.errors import Canceled, InputError, TaskFailed
from ..core.outputs import DeclaredOutput, check_output_path
from ..core.task import OffloadTask
from .request import TileRequest, format_for_output
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
        self.resuming = adds_to_existing(request, plan)
        if self.resuming:  # added to in place: declared for loading only, never replaced
            self.output = DeclaredOutput(check_output_path(Path(request.output), overwrite=True), "raster")
        else:
            self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)

    def work(self) -> None:
        destination = self.output.path if self.resuming else self.output.temp_path
        replaces = self.output.path if self.output.overwrite and not self.resuming else None
        self.details = run_checked(self.plan, destination, self.control(), replaces, loaded=self.load_outputs)

    def final_outputs(self):
        return self.outputs + ([self.output] if self.resuming else [])


def adds_to_existing(request: TileRequest, plan, mosaic_replaced: bool = False) -> bool:
    """Whether the run adds to the package at the output in place (resume); else it writes a
    new file, or replaces one with ``request.overwrite``. A mosaic is never added to; with
    ``mosaic_replaced`` (Processing's rule: every algorithm replaces its output) it is replaced.

    :raises InputError: before any request: a format the output's suffix contradicts, an
        existing file that is not a package this could add to, or one holding a layer that
        replacing it would delete.
    """
    format_for_output(request.output, plan.format)
    replacing = request.overwrite or (mosaic_replaced and not plan.is_package)
    return check_existing_output(Path(request.output), plan.format, plan_meta(plan), replacing)


def run_checked(plan, destination: Path, control, replaces: Optional[Path] = None, loaded: bool = True):
    """``run_tiles``, then what must hold before its output is published (every front end's):

    - some tile was served: a run where every tile was missing (404/204) or failed and allowed
      missing is a wrong URL, an expired key or a zoom past the server's, and publishing it
      would replace the user's package with an empty one;
    - an MBTiles has the band statistics QGIS asks for as it loads one, stored here on the
      worker, never on QGIS's main thread (see ``core/package_statistics``). One that will not
      be ``loaded``, or a package added to by a run that failed or was canceled (it keeps the
      tiles stored so far), gets them only to refresh those it has (else they would go stale);
    - last, the file it ``replaces`` still holds nothing of the user's: the check made before
      the download, made again as the output is about to be published (the download took
      minutes, and a layer saved into that GeoPackage meanwhile would be lost).

    :raises TaskFailed: then nothing is published, and an existing output is kept as it was.
    """
    from ..core.package_statistics import store_package_statistics
    from .tile_download import run_tiles  # the engine (numpy, GDAL) loads when a task runs

    try:
        result = run_tiles(plan, destination, control)
    except (Canceled, TaskFailed):
        if plan.format == "MBTiles":  # a package added to in place keeps the tiles stored before the end
            store_package_statistics(destination, only_refresh=True)
        raise
    if result.fetched + result.cached + result.kept == 0:
        failed = f", {result.failed:,} failed" if result.failed else ""
        raise TaskFailed(f"no tile was served ({result.missing:,} missing on the server{failed}): check the URL "
                         f"and the zoom; nothing was written")
    if plan.format == "MBTiles":
        store_package_statistics(destination, only_refresh=not loaded)
    if replaces is not None:  # last, the nearest to the publish
        try:
            check_existing_output(replaces, plan.format, plan_meta(plan), overwrite=True)
        except InputError as exc:
            raise TaskFailed(f"while this ran, {exc.one_line()}; it was kept, and nothing was written") from None
    return result
