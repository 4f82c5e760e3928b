"""The raster calculator's form: expressions (one band per line) with a palette of inputs,
operators and functions, named raster inputs (A is the active raster layer), output."""
from __future__ import annotations

from typing import List, Tuple

from qgis.core import QgsMapLayerProxyModel, QgsRasterLayer
from qgis.gui import QgsMapLayerComboBox, QgsRasterBandComboBox, QgsSpinBox
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from ...core.errors import InputError
from ...core.i18n import tr
from ...raster_tasks.request import EXTENT, FORMAT, NODATA, OUTPUT_TYPE, THREADS
from .. import choices
from .base import TaskForm, ValidityLabel, optional_number, output_path, temporary_output_widget
from .calc_palette import CalcPalette

NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class InputRow:
    """One input: the name used in the expressions, a raster layer and its band."""

    def __init__(self, grid: QGridLayout, row: int, name: str) -> None:
        self.name = QLineEdit(name)
        self.name.setMaximumWidth(80)
        self.layer = QgsMapLayerComboBox()
        self.layer.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.band = QgsRasterBandComboBox()
        self.band.setLayer(self.layer.currentLayer())
        self.layer.layerChanged.connect(self.band.setLayer)
        self.widgets = (self.name, self.layer, self.band)
        for column, widget in enumerate(self.widgets):
            grid.addWidget(widget, row, column)

    def remove(self) -> None:
        for widget in self.widgets:
            widget.setParent(None)
            widget.deleteLater()


class CalcForm(TaskForm):
    key = "calc"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.expressions = QPlainTextEdit()
        self.expressions.setPlaceholderText(tr("(A - B) / (A + B)   — one expression per output band"))
        self.expressions.setMaximumHeight(70)
        self.validity = ValidityLabel()
        self.palette_list = CalcPalette(self.expressions)
        self.inputs_grid = QGridLayout()
        self.input_rows: List[InputRow] = []
        inputs = QWidget()
        box = QHBoxLayout()
        self.add_button, self.remove_button = QPushButton(tr("Add input")), QPushButton(tr("Remove last"))
        box.addWidget(self.add_button)
        box.addWidget(self.remove_button)
        box.addStretch()
        self.inputs_grid.addLayout(box, 99, 0, 1, 3)
        inputs.setLayout(self.inputs_grid)
        self.output = temporary_output_widget(tr("GeoTIFF (*.tif *.tiff)"))
        self.format = choices.fill_option(QComboBox(), FORMAT)
        self.output_type = choices.fill_option(QComboBox(), OUTPUT_TYPE)
        self.nodata = QLineEdit()
        self.nodata.setPlaceholderText(tr("the type's default"))
        self.extent = choices.fill_option(QComboBox(), EXTENT)
        self.threads = QgsSpinBox()
        self.threads.setRange(0, int(THREADS.maximum))  # 0: all cores, the request's default
        self.threads.setSpecialValueText(tr("all cores"))
        self.threads.setClearValue(0)
        for label, widget in ((tr("Expressions"), self.expressions), ("", self.validity),
                              (tr("Insert"), self.palette_list), (tr("Inputs"), inputs),
                              (tr("Output"), self.output), (tr(FORMAT.label), self.format),
                              (tr(OUTPUT_TYPE.label), self.output_type), (tr(NODATA.label), self.nodata),
                              (tr(EXTENT.label), self.extent), (tr(THREADS.label), self.threads)):
            self.rows.addRow(label, widget)
        for name, widget in (("expressions", self.expressions), ("output", self.output), ("format", self.format),
                             ("output_type", self.output_type), ("nodata", self.nodata), ("extent", self.extent),
                             ("threads", self.threads)):
            self.remember(name, widget)
        first = self.add_input()
        active = iface.activeLayer() if iface is not None else None
        if isinstance(active, QgsRasterLayer):  # as QGIS's Raster Calculator: the layer you are on
            first.layer.setLayer(active)
        self.add_button.clicked.connect(self.add_input)
        self.remove_button.clicked.connect(self.remove_input)
        self.expressions.textChanged.connect(self.revalidate)
        self.revalidate()

    def add_input(self) -> InputRow:
        row = InputRow(self.inputs_grid, len(self.input_rows), NAMES[len(self.input_rows) % len(NAMES)])
        row.name.textChanged.connect(self.revalidate)
        self.input_rows.append(row)
        self.remove_button.setEnabled(len(self.input_rows) > 1)
        self.revalidate()
        return row

    def remove_input(self) -> None:
        if len(self.input_rows) > 1:
            self.input_rows.pop().remove()
        self.remove_button.setEnabled(len(self.input_rows) > 1)
        self.revalidate()

    def typed_values(self):
        """The rows, and each input as 'A: layer name (band 1)' in place of the inputs' grid."""
        values = super().typed_values()
        for row in self.input_rows:
            layer = row.layer.currentLayer()
            shown = tr("{layer} (band {band})", layer=layer.name(), band=max(row.band.currentBand(), 1)) \
                if layer is not None else tr("no layer")
            values.append((tr("Input {name}", name=row.name.text().strip()), shown))
        return values

    def expression_texts(self) -> Tuple[str, ...]:
        return tuple(line.strip() for line in self.expressions.toPlainText().splitlines() if line.strip())

    def input_names(self) -> List[str]:
        return [row.name.text().strip() for row in self.input_rows if row.name.text().strip()]

    def revalidate(self) -> None:
        """Check the expressions against the input names as the user types (silent until then)."""
        self.palette_list.set_inputs(self.input_names())
        self.validity.check(self._check_expressions, typed=bool(self.expression_texts()))

    def _check_expressions(self) -> str:
        from ...raster_tasks.expression import parse_expression

        texts = self.expression_texts()
        if not texts:
            raise InputError(tr("type an expression, e.g. (A - B) / (A + B)"))
        names = frozenset(self.input_names())
        used = set()
        for text in texts:
            used |= parse_expression(text, names).names
        bands = tr("1 band") if len(texts) == 1 else tr("{count} bands", count=len(texts))
        return tr("✓ valid: {bands} from {names}", bands=bands, names=", ".join(sorted(used)) or tr("constants"))

    def build_task(self, overwrite: bool = False):
        from ...raster_tasks.calc_task import RasterCalcTask
        from ...raster_tasks.request import CalcInput, CalcRequest

        self._check_expressions()
        inputs = []
        for number, row in enumerate(self.input_rows, start=1):
            layer = row.layer.currentLayer()
            if layer is None:
                raise InputError(tr("input {number} has no raster layer", number=number))
            inputs.append(CalcInput(row.name.text().strip(), layer.source(), max(row.band.currentBand(), 1)))
        self.request = CalcRequest(
            expressions=self.expression_texts(), inputs=tuple(inputs), output=output_path(self.output, "calc.tif"),
            extent=self.extent.currentData() or None, output_type=self.output_type.currentData() or None,
            nodata=optional_number(self.nodata, tr("nodata")), threads=self.threads.value() or None,
            format=self.format.currentData(), overwrite=overwrite)
        return RasterCalcTask(self.request)
