"""BufferTask: buffering on QGIS's task manager, from a path or a live layer (snapshot at once);
its ``details`` is the run's BufferResult."""
from __future__ import annotations

from pathlib import Path
from typing import List

from qgis.core import QgsMapLayer, QgsVectorLayer

from ..core.task import OffloadTask
from .buffer import BufferRequest, run_buffer, validate_buffer_request
from .destination import check_destination
from .gpkg_in_place import LayerInPlace
from .request import input_spec


class BufferTask(OffloadTask):
    """Buffer a layer's features into a GeoPackage (any OGR format, by extension), a layer inside
    an existing GeoPackage, or a memory layer when the request has no output path."""

    def __init__(self, request: BufferRequest, **task_options) -> None:
        spec = input_spec(request.input)
        source_file = Path(spec.split("|", 1)[0])
        super().__init__(f"Buffer {source_file.stem}", **task_options)
        # InputError here: nothing written. An input an earlier step of a chain writes is opened once written.
        plan = self.plan_when_ready(lambda: validate_buffer_request(request),
                                    [("", spec)] if isinstance(request.input, (str, Path)) else [])
        destination = None
        if request.output is not None:
            destination = check_destination(request.output, plan.source_path if plan else source_file,
                                            request.overwrite)
        target = f"{destination.path.name}|{destination.layer}" if destination else "memory layer"
        self.title = f"Buffer {plan.layer_name if plan else source_file.stem} → {target}"
        self.setDescription(self.title)  # main thread, before the task is queued
        self.destination = destination
        self.output = None
        if destination is not None and destination.inside:  # loaded by final_layers()
            self.output = self.declare_output(destination.path, "file", overwrite=True, in_place=LayerInPlace(
                destination.path, destination.layer, replace=request.overwrite))
        elif destination is not None:
            self.output = self.declare_output(destination.path, "vector", overwrite=request.overwrite)

    def work(self) -> None:
        in_place = self.output.in_place if self.output is not None else None
        if self.output is None:
            self.details = run_buffer(self.ready_plan(), None, self.control(), made=self.hand_over)
        elif in_place is not None:
            self.details = run_buffer(self.ready_plan(), in_place.path, self.control(), in_place.temp_layer,
                                      base=in_place.path)
        else:
            self.details = run_buffer(self.ready_plan(), self.output.temp_path, self.control(), self.destination.layer)

    def final_layers(self) -> List[QgsMapLayer]:
        """The memory layer, or the layer written inside a GeoPackage (main thread)."""
        layers = super().final_layers()
        if self.destination is not None and self.destination.inside:
            spec = f"{self.output.path}|layername={self.destination.layer}"
            layers = layers + [QgsVectorLayer(spec, self.destination.layer, "ogr")]
        return layers
