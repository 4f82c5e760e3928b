"""RasterCalcTask: the raster calculator on QGIS's task manager."""
from __future__ import annotations

from ..core.task import OffloadTask
from .calc import run_calc, validate_calc_request
from .request import CalcRequest


class RasterCalcTask(OffloadTask):
    """Compute one or more expressions over rasters into a GeoTIFF or COG (one band each)."""

    def __init__(self, request: CalcRequest, **task_options) -> None:
        plan = validate_calc_request(request)  # InputError here: nothing written, no task queued
        label = request.expressions[0] if len(request.expressions) == 1 else f"{len(request.expressions)} expressions"
        super().__init__(f"Calc {label} → {request.output.name}", **task_options)
        self.plan = plan
        self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)

    def work(self) -> None:
        run_calc(self.plan, self.output.temp_path, self.control())
