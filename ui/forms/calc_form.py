"""The raster calculator's form: expressions (one band per line), named raster inputs, output."""
from __future__ import annotations

from typing import List, Tuple

from qgis.core import QgsMapLayerProxyModel
from qgis.gui import QgsFileWidget, QgsMapLayerComboBox, QgsRasterBandComboBox, QgsSpinBox
from qgis.PyQt.QtWidgets import (
    QCheckBox,
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
from .base import TaskForm, ValidityLabel, optional_number, output_path

NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WIDEST = "widest input type"
SAME_GRID = "inputs share a grid"


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
        self.output = QgsFileWidget()
        self.output.setStorageMode(QgsFileWidget.SaveFile)
        self.output.setFilter(tr("GeoTIFF (*.tif *.tiff)"))
        self.format = QComboBox()
        self.format.addItems(["GTiff", "COG"])
        self.output_type = QComboBox()
        self.output_type.addItems([WIDEST, "Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"])
        self.nodata = QLineEdit()
        self.nodata.setPlaceholderText(tr("the type's default"))
        self.extent = QComboBox()
        self.extent.addItems([SAME_GRID, "intersect", "union"])
        self.threads = QgsSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(tr("all cores"))
        self.threads.setClearValue(0)
        self.overwrite = QCheckBox(tr("Replace an existing file"))
        for label, widget in ((tr("Expressions"), self.expressions), ("", self.validity), (tr("Inputs"), inputs),
                              (tr("Output"), self.output), (tr("Format"), self.format),
                              (tr("Output type"), self.output_type), (tr("Nodata"), self.nodata),
                              (tr("Different grids"), self.extent), (tr("Threads"), self.threads),
                              ("", self.overwrite)):
            self.rows.addRow(label, widget)
        for name, widget in (("expressions", self.expressions), ("output", self.output), ("format", self.format),
                             ("output_type", self.output_type), ("nodata", self.nodata), ("extent", self.extent),
                             ("threads", self.threads), ("overwrite", self.overwrite)):
            self.remember(name, widget)
        self.add_input()
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

    def expression_texts(self) -> Tuple[str, ...]:
        return tuple(line.strip() for line in self.expressions.toPlainText().splitlines() if line.strip())

    def revalidate(self) -> None:
        """Check the expressions against the input names as the user types."""
        self.validity.check(self._check_expressions)

    def _check_expressions(self) -> str:
        from ...raster_tasks.expression import parse_expression

        texts = self.expression_texts()
        if not texts:
            raise InputError(tr("type an expression, e.g. (A - B) / (A + B)"))
        names = frozenset(row.name.text().strip() for row in self.input_rows)
        used = set()
        for text in texts:
            used |= parse_expression(text, names).names
        bands = tr("1 band") if len(texts) == 1 else tr("{count} bands", count=len(texts))
        return tr("✓ valid: {bands} from {names}", bands=bands, names=", ".join(sorted(used)) or "constants")

    def build_task(self):
        from ...raster_tasks.calc_task import RasterCalcTask
        from ...raster_tasks.request import CalcInput, CalcRequest

        self._check_expressions()
        inputs = []
        for number, row in enumerate(self.input_rows, start=1):
            layer = row.layer.currentLayer()
            if layer is None:
                raise InputError(tr("input {number} has no raster layer", number=number))
            inputs.append(CalcInput(row.name.text().strip(), layer.source(), max(row.band.currentBand(), 1)))
        extent = self.extent.currentText()
        output_type = self.output_type.currentText()
        request = CalcRequest(
            expressions=self.expression_texts(), inputs=tuple(inputs), output=output_path(self.output),
            extent=None if extent == SAME_GRID else extent, output_type=None if output_type == WIDEST else output_type,
            nodata=optional_number(self.nodata, "nodata"), threads=self.threads.value() or None,
            format=self.format.currentText(), overwrite=self.overwrite.isChecked())
        return RasterCalcTask(request)
