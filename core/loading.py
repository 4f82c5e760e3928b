"""Turn declared outputs into map layers in a project. Main thread only (``finished()``)."""
from __future__ import annotations

from qgis.core import QgsMapLayer, QgsProject, QgsRasterLayer, QgsVectorLayer

from .errors import TaskFailed
from .outputs import DeclaredOutput


def load_output(output: DeclaredOutput, project: QgsProject) -> QgsMapLayer:
    """Create the layer for ``output``, style it, and add it to ``project`` (under its group).

    :raises TaskFailed: if QGIS cannot open the written file as a layer.
    """
    if output.kind == "raster":  # (an MBTiles comes with its statistics: core/package_statistics.py)
        layer: QgsMapLayer = QgsRasterLayer(str(output.path), output.layer_name, "gdal")
    elif output.kind == "vector":
        layer = QgsVectorLayer(str(output.path), output.layer_name, "ogr")
    else:
        raise ValueError(f"output kind {output.kind!r} is not a layer")
    if not layer.isValid():
        raise TaskFailed(f"QGIS cannot open the output {str(output.path)!r} as a {output.kind} layer")
    if output.style_path is not None:
        message, ok = layer.loadNamedStyle(str(output.style_path))
        if not ok:
            raise TaskFailed(f"style {str(output.style_path)!r} could not be applied: {message}")
    if output.group:
        root = project.layerTreeRoot()
        group = root.findGroup(output.group) or root.addGroup(output.group)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
    else:
        project.addMapLayer(layer)
    return layer
