"""The buffer form: native:buffer's parameters, a per-feature distance expression, and the output
(a file, or a memory layer when left empty)."""
from __future__ import annotations

from qgis.core import QgsMapLayerProxyModel, QgsUnitTypes
from qgis.gui import QgsDoubleSpinBox, QgsFieldExpressionWidget, QgsFileWidget, QgsMapLayerComboBox, QgsSpinBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox

from ...core.errors import InputError
from ...core.i18n import tr
from ...core.vocabulary import Option
from ...vector_tasks import request as vocabulary
from .. import choices
from .base import WARNING_STYLE, TaskForm, ValidityLabel


class BufferForm(TaskForm):
    key = "buffer"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.layer = QgsMapLayerComboBox()
        self.layer.setFilters(QgsMapLayerProxyModel.PointLayer | QgsMapLayerProxyModel.LineLayer
                              | QgsMapLayerProxyModel.PolygonLayer)
        self.selected_only = QCheckBox(tr("Selected features only"))
        self.distance = spin_box(QgsDoubleSpinBox(), vocabulary.DISTANCE)
        self.distance.setDecimals(6)
        self.distance_warning = ValidityLabel()
        self.distance_warning.setObjectName("offload_distance_warning")
        self.distance_expression = QgsFieldExpressionWidget()
        self.distance_expression.setToolTip(tr("Optional: a field or an expression giving each feature's distance "
                                               "(where it is null, the Distance above)"))
        self.distance_validity = ValidityLabel()
        self.where = QgsFieldExpressionWidget()
        self.where.setToolTip(tr("Optional: buffer only the features for which this expression is true"))
        self.where_validity = ValidityLabel()
        self.segments = spin_box(QgsSpinBox(), vocabulary.SEGMENTS)
        self.end_cap = choices.fill_option(QComboBox(), vocabulary.END_CAP)
        self.join = choices.fill_option(QComboBox(), vocabulary.JOIN)
        self.miter_limit = spin_box(QgsDoubleSpinBox(), vocabulary.MITER_LIMIT)
        self.dissolve = QCheckBox(tr("Dissolve the result into one feature"))
        self.units = choices.fill_option(QComboBox(), vocabulary.UNITS)
        self.units.setToolTip(tr("Meters: buffer a geographic layer in metres, not degrees"))
        self.invalid = choices.fill_option(QComboBox(), vocabulary.INVALID)
        self.output = QgsFileWidget()
        self.output.setStorageMode(QgsFileWidget.SaveFile)
        self.output.setFilter(tr("GeoPackage (*.gpkg);;ESRI Shapefile (*.shp);;GeoJSON (*.geojson)"))
        self.output.lineEdit().setPlaceholderText(tr("[a memory layer]"))
        labels = {option.name: tr(option.label) for option in vocabulary.OPTIONS}
        for label, widget in ((tr("Layer"), self.layer), ("", self.selected_only),
                              (labels["distance"], self.distance), ("", self.distance_warning),
                              (tr("Distance per feature"), self.distance_expression), ("", self.distance_validity),
                              (tr("Only where"), self.where), ("", self.where_validity),
                              (labels["segments"], self.segments), (labels["end_cap"], self.end_cap),
                              (labels["join"], self.join), (labels["miter_limit"], self.miter_limit),
                              ("", self.dissolve), (labels["units"], self.units),
                              (labels["invalid"], self.invalid), (tr("Output"), self.output)):
            self.rows.addRow(label, widget)
        for name, widget in (("distance", self.distance), ("segments", self.segments), ("end_cap", self.end_cap),
                             ("join", self.join), ("miter_limit", self.miter_limit), ("dissolve", self.dissolve),
                             ("units", self.units), ("invalid", self.invalid), ("output", self.output)):
            self.remember(name, widget)
        self.layer.layerChanged.connect(self._layer_changed)
        self.distance_expression.fieldChanged.connect(self.revalidate)
        self.where.fieldChanged.connect(self.revalidate)
        self.units.currentIndexChanged.connect(self._show_distance_unit)
        self._layer_changed(self.layer.currentLayer())

    def _layer_changed(self, layer) -> None:
        self.distance_expression.setLayer(layer)
        self.where.setLayer(layer)
        self._show_distance_unit()
        self.revalidate()

    def _show_distance_unit(self, *_args) -> None:
        """The distance's unit beside it, and native:buffer's warning for degrees."""
        layer = self.layer.currentLayer()
        in_meters = self.units.currentData() == "meters"
        unit = QgsUnitTypes.DistanceMeters if in_meters or layer is None else layer.crs().mapUnits()
        self.distance.setSuffix(" " + QgsUnitTypes.toString(unit))
        if layer is not None and not in_meters and layer.crs().isGeographic():
            self.distance_warning.setStyleSheet(WARNING_STYLE)
            self.distance_warning.setText(tr(
                "⚠ The layer's CRS is geographic: the distance is in degrees. Choose Meters under Units, "
                "or reproject the layer, for accurate results."))
        else:
            self.distance_warning.show_nothing()

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

    def build_task(self, overwrite: bool = False):
        from pathlib import Path

        from ...vector_tasks.buffer_task import BufferTask

        layer = self.layer.currentLayer()
        if layer is None:
            raise InputError(tr("choose a vector layer to buffer"))
        expression = self.distance_expression.currentText().strip() or None
        output = self.output.filePath().strip()
        self.request = vocabulary.BufferRequest(
            input=layer, output=Path(output) if output else None,
            distance=self.distance.value(), distance_expression=expression,
            segments=self.segments.value(), end_cap=self.end_cap.currentData(), join=self.join.currentData(),
            miter_limit=self.miter_limit.value(), dissolve=self.dissolve.isChecked(), units=self.units.currentData(),
            invalid=self.invalid.currentData(), where=self.where.currentText().strip() or None,
            selected_only=self.selected_only.isChecked(), overwrite=overwrite)
        return BufferTask(self.request)  # the layer is snapshot now: it may change once the task runs


def spin_box(widget, option: Option):
    """A spin box holding an option's range and default (its clear value too)."""
    widget.setRange(option.minimum, option.maximum)
    widget.setValue(option.default)
    widget.setClearValue(option.default)
    return widget
