"""The buffer form: native:buffer's parameters, a per-feature distance expression, and the output
(a file, or a memory layer when left empty)."""
from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsDoubleSpinBox, QgsFieldExpressionWidget, QgsFileWidget, QgsMapLayerComboBox, QgsSpinBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox

from ...core.errors import InputError
from ...core.i18n import tr
from .base import TaskForm, ValidityLabel


class BufferForm(TaskForm):
    key = "buffer"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.layer = QgsMapLayerComboBox()
        self.layer.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.LineLayer
                              | QgsMapLayerProxyModel.PolygonLayer)
        self.selected_only = QCheckBox(tr("Selected features only"))
        self.distance = QgsDoubleSpinBox()
        self.distance.setRange(-1e9, 1e9)
        self.distance.setDecimals(6)
        self.distance.setValue(10.0)
        self.distance.setClearValue(10.0)
        self.distance_expression = QgsFieldExpressionWidget()
        self.distance_expression.setToolTip(tr("Optional: a field or an expression giving each feature's distance "
                                               "(where it is null, the Distance above)"))
        self.distance_validity = ValidityLabel()
        self.where = QgsFieldExpressionWidget()
        self.where.setToolTip(tr("Optional: buffer only the features for which this expression is true"))
        self.where_validity = ValidityLabel()
        self.segments = QgsSpinBox()
        self.segments.setRange(1, 1000)
        self.segments.setValue(5)
        self.segments.setClearValue(5)
        self.end_cap, self.join = QComboBox(), QComboBox()
        self.end_cap.addItems(["round", "flat", "square"])
        self.join.addItems(["round", "miter", "bevel"])
        self.miter_limit = QgsDoubleSpinBox()
        self.miter_limit.setRange(0.01, 1000)
        self.miter_limit.setValue(2.0)
        self.miter_limit.setClearValue(2.0)
        self.dissolve = QCheckBox(tr("Dissolve the result into one feature"))
        self.units = QComboBox()
        self.units.addItems(["layer", "meters"])
        self.units.setToolTip(tr("meters: buffer a geographic layer in metres, not degrees"))
        self.invalid = QComboBox()
        self.invalid.addItems(["fix", "skip", "fail"])
        self.output = QgsFileWidget()
        self.output.setStorageMode(QgsFileWidget.SaveFile)
        self.output.setFilter(tr("GeoPackage (*.gpkg);;ESRI Shapefile (*.shp);;GeoJSON (*.geojson)"))
        self.output.lineEdit().setPlaceholderText(tr("[a memory layer]"))
        self.overwrite = QCheckBox(tr("Replace an existing file"))
        for label, widget in ((tr("Layer"), self.layer), ("", self.selected_only), (tr("Distance"), self.distance),
                              (tr("Distance per feature"), self.distance_expression), ("", self.distance_validity),
                              (tr("Only where"), self.where), ("", self.where_validity),
                              (tr("Segments"), self.segments), (tr("End cap"), self.end_cap), (tr("Join"), self.join),
                              (tr("Miter limit"), self.miter_limit), ("", self.dissolve), (tr("Units"), self.units),
                              (tr("Invalid geometries"), self.invalid), (tr("Output"), self.output),
                              ("", self.overwrite)):
            self.rows.addRow(label, widget)
        for name, widget in (("distance", self.distance), ("segments", self.segments), ("end_cap", self.end_cap),
                             ("join", self.join), ("miter_limit", self.miter_limit), ("dissolve", self.dissolve),
                             ("units", self.units), ("invalid", self.invalid), ("output", self.output),
                             ("overwrite", self.overwrite)):
            self.remember(name, widget)
        self.layer.layerChanged.connect(self._layer_changed)
        self.distance_expression.fieldChanged.connect(self.revalidate)
        self.where.fieldChanged.connect(self.revalidate)
        self._layer_changed(self.layer.currentLayer())

    def _layer_changed(self, layer) -> None:
        self.distance_expression.setLayer(layer)
        self.where.setLayer(layer)
        self.revalidate()

    def revalidate(self, *_args) -> None:
        """Check both expressions against the layer's fields as the user types."""
        self.distance_validity.check(lambda: self._check(self.distance_expression, "distance expression"))
        self.where_validity.check(lambda: self._check(self.where, "filter"))

    def _check(self, widget: QgsFieldExpressionWidget, what: str) -> str:
        from ...vector_tasks.buffer import check_expression, expression_context

        text = widget.currentText().strip()
        if not text:
            return ""
        layer = self.layer.currentLayer()
        if layer is None:
            raise InputError(tr("choose a layer first"))
        check_expression(text, expression_context(layer), what)
        return tr("✓ valid")

    def build_task(self):
        from pathlib import Path

        from ...vector_tasks.buffer import BufferRequest
        from ...vector_tasks.buffer_task import BufferTask

        layer = self.layer.currentLayer()
        if layer is None:
            raise InputError(tr("choose a vector layer to buffer"))
        expression = self.distance_expression.currentText().strip() or None
        output = self.output.filePath().strip()
        request = BufferRequest(
            input=layer.source(), output=Path(output) if output else None,
            distance=self.distance.value(), distance_expression=expression,
            segments=self.segments.value(), end_cap=self.end_cap.currentText(), join=self.join.currentText(),
            miter_limit=self.miter_limit.value(), dissolve=self.dissolve.isChecked(), units=self.units.currentText(),
            invalid=self.invalid.currentText(), where=self.where.currentText().strip() or None,
            selected_only=self.selected_only.isChecked(), overwrite=self.overwrite.isChecked())
        return BufferTask(request, layer)
