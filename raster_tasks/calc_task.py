"""RasterCalcTask: the raster calculator on QGIS's task manager; its ``details`` is the run's CalcResult."""
from __future__ import annotations

from ..core.task import OffloadTask
from .calc import check_calc_request, run_calc, validate_calc_request
from .request import CalcRequest, is_file_path


class RasterCalcTask(OffloadTask):
    """Compute one or more expressions over rasters into a GeoTIFF or COG (one band each).

    In a chain (``after=`` earlier steps), inputs those steps will write need not exist yet:
    the checks that open them run when this task starts; every other check runs now.
    """

    def __init__(self, request: CalcRequest, **task_options) -> None:
        label = request.expressions[0] if len(request.expressions) == 1 else f"{len(request.expressions)} expressions"
        super().__init__(f"Calc {label} → {request.output.name}", **task_options)
        self.request = request
        self.plan_when_ready(lambda: validate_calc_request(request),  # InputError here: nothing written, no task queued
                             ((f"{item.name}=", item.path) for item in request.inputs if is_file_path(item.path)),
                             check_now=lambda: check_calc_request(request))
        self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)

    def work(self) -> None:
        self.details = run_calc(self.ready_plan(), self.output.temp_path, self.control())
