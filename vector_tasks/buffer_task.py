"""BufferTask: buffering on QGIS's task manager, from a path or a live layer (snapshot at once)."""
from __future__ import annotations

from typing import Optional

from qgis.core import QgsVectorLayer

from ..core.task import OffloadTask
from .buffer import BufferRequest, run_buffer, validate_buffer_request


class BufferTask(OffloadTask):
    """Buffer a layer's features into a GeoPackage (or any OGR format, by extension)."""

    def __init__(self, request: BufferRequest, layer: Optional[QgsVectorLayer] = None, **task_options) -> None:
        plan = validate_buffer_request(request, layer)  # InputError here: nothing written
        super().__init__(f"Buffer {plan.layer_name} → {request.output.name}", **task_options)
        self.plan = plan
        self.output = self.declare_output(request.output, "vector", overwrite=request.overwrite)
        self.stats = None

    def work(self) -> None:
        self.stats = run_buffer(self.plan, self.output.temp_path, self.output.path.stem, self.control())
