"""The calculator's palette: inputs, operators and functions, each with one line of help,
inserted at the cursor with a double-click (as QGIS's Raster Calculator offers).

The functions are the raster family's own allow-list (``raster_tasks.expression``), so the
palette offers exactly what the parser accepts.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QPlainTextEdit, QTreeWidget, QTreeWidgetItem

from ...core.i18n import tr

SNIPPET = Qt.ItemDataRole.UserRole


def operators() -> List[Tuple[str, str]]:
    return [
        ("+", tr("add")), ("-", tr("subtract")), ("*", tr("multiply")), ("/", tr("divide (always a float)")),
        ("//", tr("divide, rounded down")), ("%", tr("remainder")), ("**", tr("power")),
        ("<", tr("less than: 1 or 0")), ("<=", tr("less than or equal")), (">", tr("greater than")),
        (">=", tr("greater than or equal")), ("==", tr("equal")), ("!=", tr("not equal")),
        ("&", tr("bitwise and (combine conditions in brackets: (A > 0) & (B < 5))")), ("|", tr("bitwise or")),
        ("^", tr("bitwise exclusive or")), ("~", tr("bitwise not")),
        ("and", tr("logical and")), ("or", tr("logical or")), ("not", tr("logical not")),
    ]


def function_help() -> Dict[str, str]:
    """One line for the functions whose numpy summary would not say enough."""
    return {
        "where": tr("where(condition, a, b): a where the condition holds, b elsewhere"),
        "clip": tr("clip(x, low, high): x limited to low..high"),
        "round": tr("round(x[, decimals]): rounded to the given decimals"),
        "nan_to_num": tr("nan_to_num(x): NaN to 0, infinities to the type's largest values"),
        "slope": tr("slope(A): slope in degrees, from the 3×3 neighbourhood (Horn)"),
        "aspect": tr("aspect(A): direction of steepest descent, degrees clockwise from north"),
        "hillshade": tr("hillshade(A[, azimuth, altitude]): shaded relief, 1..255 (default 315°, 45°)"),
        "focal_mean": tr("focal_mean(A, size): mean over a size × size window (odd size)"),
        "focal_min": tr("focal_min(A, size): minimum over a size × size window"),
        "focal_max": tr("focal_max(A, size): maximum over a size × size window"),
    }


def _numpy_summary(function) -> str:
    """The first sentence of a numpy function's docstring (ufuncs open with their signature)."""
    lines = [line.strip() for line in (getattr(function, "__doc__", "") or "").splitlines()]
    text = [line for line in lines if line and "(" not in line.split(" ")[0]]
    return text[0] if text else ""


class CalcPalette(QTreeWidget):
    """Double-click an entry to insert it into ``editor`` at the cursor."""

    def __init__(self, editor: QPlainTextEdit, parent=None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.setObjectName("offload_calc_palette")
        self.setHeaderLabels([tr("Insert"), tr("What it does")])
        self.setColumnWidth(0, 130)
        self.setMinimumHeight(160)
        self.inputs = self._group(tr("Inputs"), [])
        self._group(tr("Operators"), [(symbol, f" {symbol} ", help_) for symbol, help_ in operators()])
        self._group(tr("Functions"), self._functions())
        self._group(tr("Constants"), [(name, name, tr("the constant {name}", name=name)) for name in self._constants()])
        self.itemDoubleClicked.connect(self.insert)

    def _functions(self) -> List[Tuple[str, str, str]]:
        from ...raster_tasks.expression import ELEMENTWISE, NEIGHBOURHOOD

        helps = function_help()
        entries = [(name, f"{name}()", helps.get(name) or _numpy_summary(function))
                   for name, (function, _least, _most) in ELEMENTWISE.items()]
        entries += [(name, f"{name}()", helps.get(name, "")) for name in NEIGHBOURHOOD]
        return sorted(entries)

    @staticmethod
    def _constants() -> Iterable[str]:
        from ...raster_tasks.expression import CONSTANTS

        return CONSTANTS

    def _group(self, title: str, entries: List[Tuple[str, str, str]]) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self, [title])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for label, snippet, help_ in entries:
            self._entry(group, label, snippet, help_)
        return group

    def _entry(self, group: QTreeWidgetItem, label: str, snippet: str, help_: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(group, [label, help_])
        item.setData(0, SNIPPET, snippet)
        item.setToolTip(0, help_)
        item.setToolTip(1, help_)
        return item

    def set_inputs(self, names: Iterable[str]) -> None:
        """Offer the inputs' names as they are now."""
        self.inputs.takeChildren()
        for name in names:
            self._entry(self.inputs, name, name, tr("the input raster named {name}", name=name))
        self.inputs.setExpanded(True)

    def insert(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        snippet = item.data(0, SNIPPET)
        if not snippet:
            return
        cursor = self.editor.textCursor()
        cursor.insertText(snippet)
        if snippet.endswith("()"):  # leave the cursor between the brackets
            cursor.movePosition(cursor.MoveOperation.Left)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()
