"""BufferTask: buffering on QGIS's task manager, from a path or a live layer (snapshot at once)."""
from __future__ import annotations

from typing import Optional

from qgis.core import QgsVectorLayer

from ..core.task import OffloadTask
from .buffer import BufferRequest, FileSink, MemorySink, run_buffer, validate_buffer_request


class BufferTask(OffloadTask):
    """Buffer a layer's features into a GeoPackage (any OGR format, by extension), or into a
    memory layer when the request has no output path."""

    def __init__(self, request: BufferRequest, layer: Optional[QgsVectorLayer] = None, **task_options) -> None:
        plan = validate_buffer_request(request, layer)  # InputError here: nothing written
        target = request.output.name if request.output is not None else "memory layer"
        super().__init__(f"Buffer {plan.layer_name} → {target}", **task_options)
        self.plan = plan
        self.output = None
        if request.output is not None:
            self.output = self.declare_output(request.output, "vector", overwrite=request.overwrite)
        self.stats = None

    def work(self) -> None:
        if self.output is None:
            sink = MemorySink(self.plan, f"{self.plan.layer_name} buffered")
            self.stats = run_buffer(self.plan, sink, self.control())
            self.hand_over(sink.layer)
        else:
            sink = FileSink(self.plan, self.output.temp_path, self.output.path.stem)
            self.stats = run_buffer(self.plan, sink, self.control())
