"""RasterCalcTask: the raster calculator on QGIS's task manager; its ``details`` is the run's CalcResult."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ..core.errors import InputError
from ..core.task import OffloadTask
from .calc import CalcResult, check_calc_request, run_calc, validate_calc_request
from .request import CalcRequest


class RasterCalcTask(OffloadTask):
    """Compute one or more expressions over rasters into a GeoTIFF or COG (one band each).

    :param after: earlier steps of a chain whose declared outputs this task reads. Inputs
        they will write need not exist yet: the checks that open them run when this task
        starts; every other check runs now.
    """

    def __init__(self, request: CalcRequest, after: Optional[Sequence[OffloadTask]] = None, **task_options) -> None:
        pending = _inputs_written_by(request, after or ())
        if pending:
            check_calc_request(request)  # InputError here: nothing written, no task queued
            plan = None
        else:
            plan = validate_calc_request(request)
        label = request.expressions[0] if len(request.expressions) == 1 else f"{len(request.expressions)} expressions"
        super().__init__(f"Calc {label} → {request.output.name}", **task_options)
        self.request = request
        self.plan = plan
        self.output = self.declare_output(request.output, "raster", overwrite=request.overwrite)
        self.details: Optional[CalcResult] = None  # what the run did, once it is done

    def work(self) -> None:
        plan = self.plan or validate_calc_request(self.request)  # inputs written by earlier steps
        self.details = run_calc(plan, self.output.temp_path, self.control())


def _inputs_written_by(request: CalcRequest, earlier: Sequence[OffloadTask]) -> bool:
    """True if some inputs are still to be written by ``earlier`` steps.

    :raises InputError: for a missing input no earlier step declares.
    """
    declared = {output.path for step in earlier for output in step.outputs}
    pending = False
    for item in request.inputs:
        path = Path(item.path).absolute()
        if path.exists():
            continue
        if path not in declared:
            raise InputError(f"input {item.name}={item.path!r} does not exist")
        pending = True
    return pending
