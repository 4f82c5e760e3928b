"""What every task form shares: building its task, remembering its values, showing validity.

A form turns its widgets into an Offload task with ``build_task()``, which checks
everything first and raises ``InputError`` naming the bad value: the dialog shows that
message and runs nothing. Values the user typed are remembered in ``QgsSettings`` under
``offload/forms/<key>/``. An output left empty is a temporary file (as Processing's
"[Save to temporary file]"), loaded into the project when done.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Optional

from qgis.core import QgsProcessingUtils, QgsSettings
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from ...core.errors import InputError
from ...core.i18n import tr

SETTINGS_ROOT = "offload/forms"
OK_STYLE = "color: #1a7f37;"  # green, as QGIS's own expression widgets show a valid expression
ERROR_STYLE = "color: #c62828;"
WARNING_STYLE = "color: #b26a00;"


class ValidityLabel(QLabel):
    """One line under a field: green when the value is fine, red with the message otherwise."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.ok = True

    def show_ok(self, text: str) -> None:
        self.ok = True
        self.setStyleSheet(OK_STYLE)
        self.setText(text)

    def show_error(self, text: str) -> None:
        self.ok = False
        self.setStyleSheet(ERROR_STYLE)
        self.setText(text)

    def show_nothing(self) -> None:
        """Nothing typed yet: no verdict (an error before the user typed only gets in the way)."""
        self.ok = True
        self.setStyleSheet("")
        self.clear()

    def check(self, validate: Callable[[], str], typed: bool = True) -> None:
        """Run ``validate`` (it returns the OK text or raises ``InputError``) and show the outcome;
        say nothing while ``typed`` is False."""
        if not typed:
            self.show_nothing()
            return
        try:
            self.show_ok(validate())
        except InputError as exc:
            self.show_error(exc.one_line())


class TaskForm(QWidget):
    """Base of the forms: subclasses lay out widgets, ``remember()`` some, and build the task."""

    key = ""  # the catalog entry's key

    def __init__(self, iface, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.rows = QFormLayout(self)
        self.remembered: Dict[str, QWidget] = {}

    def remember(self, name: str, widget: QWidget) -> QWidget:
        """Keep ``widget``'s value across sessions (restored now, saved on Run)."""
        self.remembered[name] = widget
        value = QgsSettings().value(f"{SETTINGS_ROOT}/{self.key}/{name}")
        if value is not None:
            _set_value(widget, value)
        return widget

    def save_values(self) -> None:
        settings = QgsSettings()
        for name, widget in self.remembered.items():
            settings.setValue(f"{SETTINGS_ROOT}/{self.key}/{name}", _value(widget))

    def build_task(self, overwrite: bool = False):
        """The task for the current values (not started); ``self.request`` is what it runs.

        :param overwrite: the user agreed to replace an existing output.
        :raises InputError: naming the bad value; nothing is written.
        """
        raise NotImplementedError(f"{type(self).__name__} does not build a task")

    def chosen_output(self) -> Optional[Path]:
        """The output file the user chose (None: a temporary file or a memory layer)."""
        widget = getattr(self, "output", None)
        text = widget.filePath().strip() if isinstance(widget, QgsFileWidget) else ""
        return Path(text) if text else None

    def typed_values(self):
        """(label, value as shown) for every labelled row: the run's log starts with these."""
        values = []
        for row in range(self.rows.rowCount()):
            label = self.rows.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self.rows.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is None or field is None or field.widget() is None or not label.widget().text():
                continue
            shown = _shown(field.widget())
            if shown is not None:
                values.append((label.widget().text(), shown))
        return values


def temporary_output_widget(file_filter: str) -> QgsFileWidget:
    """A save-file picker that shows Processing's "[Save to temporary file]" while empty."""
    widget = QgsFileWidget()
    widget.setStorageMode(QgsFileWidget.SaveFile)
    widget.setFilter(file_filter)
    widget.lineEdit().setPlaceholderText(tr("[Save to temporary file]"))  # Processing's words
    return widget


def output_path(widget: QgsFileWidget, temporary_name: str) -> Path:
    """The path in a file widget; empty: a new temporary file named ``temporary_name``."""
    text = widget.filePath().strip()
    if not text:
        return Path(QgsProcessingUtils.generateTempFilename(temporary_name))
    return Path(text)


def optional_number(edit: QLineEdit, what: str) -> Optional[float]:
    """A number typed in a line edit, or None when it is empty. :raises InputError: otherwise."""
    text = edit.text().strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(tr("{what} {text!r} is not a number", what=what, text=text)) from None


def _shown(widget: QWidget) -> Optional[str]:
    """A widget's value as the user sees it, for the run's log."""
    if isinstance(widget, QgsFileWidget):
        return widget.filePath() or widget.lineEdit().placeholderText()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.text()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if hasattr(widget, "currentText"):  # QGIS's layer and expression pickers
        return widget.currentText()
    return None


def _value(widget: QWidget):
    if isinstance(widget, QgsFileWidget):
        return widget.filePath()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):  # QGIS's spin boxes too
        return widget.value()
    if isinstance(widget, QComboBox):  # the keyword when the items carry one: labels get translated
        return widget.currentData() if widget.currentData() is not None else widget.currentText()
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    raise TypeError(f"cannot remember a {type(widget).__name__}")


def _set_value(widget: QWidget, value) -> None:
    """Restore a stored value; one that no longer fits (a renamed choice) is ignored."""
    try:
        if isinstance(widget, QgsFileWidget):
            widget.setFilePath(str(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(str(value).lower() in ("true", "1"))
        elif isinstance(widget, QSpinBox):
            widget.setValue(int(float(value)))
        elif isinstance(widget, QDoubleSpinBox):
            widget.setValue(float(value))
        elif isinstance(widget, QComboBox):
            index = widget.findData(str(value))
            index = index if index >= 0 else widget.findText(str(value))
            if index >= 0:
                widget.setCurrentIndex(index)
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(str(value))
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))
    except (TypeError, ValueError, OverflowError):  # a hand-edited value: 1e12 or inf in a spin box
        pass
