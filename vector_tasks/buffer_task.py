"""BufferTask: buffering on QGIS's task manager, from a path or a live layer (snapshot at once)."""
from __future__ import annotations

from typing import List

from qgis.core import QgsMapLayer, QgsVectorLayer

from ..core.task import OffloadTask
from .buffer import BufferRequest, FileSink, MemorySink, run_buffer, validate_buffer_request
from .destination import check_destination


class BufferTask(OffloadTask):
    """Buffer a layer's features into a GeoPackage (any OGR format, by extension), a layer inside
    an existing GeoPackage, or a memory layer when the request has no output path."""

    def __init__(self, request: BufferRequest, **task_options) -> None:
        plan = validate_buffer_request(request)  # InputError here: nothing written
        destination = None
        if request.output is not None:
            destination = check_destination(request.output, plan.source_path, request.overwrite)
        target = f"{destination.path.name}|{destination.layer}" if destination else "memory layer"
        super().__init__(f"Buffer {plan.layer_name} → {target}", **task_options)
        self.plan = plan
        self.destination = destination
        self.output = None
        if destination is not None:  # a layer inside a GeoPackage is loaded by final_layers()
            self.output = self.declare_output(destination.path, "file" if destination.inside else "vector",
                                              overwrite=request.overwrite or destination.inside)
        self.stats = None

    def work(self) -> None:
        if self.output is None:
            sink = MemorySink(self.plan, f"{self.plan.layer_name} buffered")
            self.stats = run_buffer(self.plan, sink, self.control())
            self.hand_over(sink.layer)
        else:
            base = self.destination.path if self.destination.inside else None
            sink = FileSink(self.plan, self.output.temp_path, self.destination.layer, base, self.control())
            self.stats = run_buffer(self.plan, sink, self.control())

    def final_layers(self) -> List[QgsMapLayer]:
        """The memory layer, or the layer written inside a GeoPackage (main thread)."""
        layers = super().final_layers()
        if self.destination is not None and self.destination.inside:
            spec = f"{self.output.path}|layername={self.destination.layer}"
            layers = layers + [QgsVectorLayer(spec, self.destination.layer, "ogr")]
        return layers
