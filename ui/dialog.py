"""The Offload dialog: a drop-down of every task (grouped Raster / Network / Vector), the chosen
task's form with Help, Run, and below it the session's tasks (progress, outcome, Cancel) and
the log of each run. Non-modal: it stays usable while tasks run, and Run submits to QGIS's
task manager without waiting."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Dict, Optional

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QStandardItem
from qgis.PyQt.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import InputError
from ..core.i18n import tr
from .catalog import GROUPS, TASKS, entry
from .forms.base import ERROR_STYLE, OK_STYLE, TaskForm
from .help import HelpWindow
from .run_log import run_log
from .task_list import TaskHistory, TaskList

NEUTRAL_STYLE = ""


def make_form(key: str, iface) -> TaskForm:
    """The form of the catalog entry ``key`` (its module is imported only now)."""
    module_name, class_name = entry(key).form.split(":")
    module = importlib.import_module(f"{__package__}.forms.{module_name}")
    return getattr(module, class_name)(iface)


def ask_overwrite(parent: QWidget, path: Path) -> bool:
    """Ask before replacing a file, as QGIS's save dialogs do."""
    answer = QMessageBox.question(
        parent, tr("Replace the file?"),
        tr("{name} already exists in {folder}. Replace it?", name=path.name, folder=str(path.parent)),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class RunLogPane(QWidget):
    """The log of one run: the values as typed, the equivalent command line and
    ``processing.run`` call, then its duration and result or error. Copyable."""

    def __init__(self, history: TaskHistory, parent=None) -> None:
        super().__init__(parent)
        self.history = history
        self.task_id: Optional[int] = None
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setObjectName("offload_run_log")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.copy_button = QPushButton(tr("Copy"))
        self.copy_button.clicked.connect(self.copy)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        history.changed.connect(self._on_changed)

    def show_run(self, task_id: int) -> None:
        self.task_id = task_id
        self._on_changed(task_id)

    def _on_changed(self, task_id: int) -> None:
        if task_id != self.task_id:
            return
        record = self.history.records[task_id]
        lines = [record.log or record.title]
        if record.outcome:
            lines += ["", tr("Result:"), record.outcome_line]
        else:
            lines += ["", tr("Running: {progress}", progress=record.text)]
        self.text.setPlainText("\n".join(lines))

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text.toPlainText())


class OffloadDialog(QDialog):
    """Choose a task, fill its form, Run; watch, cancel and read the log of the session's tasks."""

    def __init__(self, iface, history: TaskHistory, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Offload: background tasks"))
        self.setObjectName("offload_dialog")
        self.iface = iface
        self.history = history
        self.chooser = QComboBox()
        self.chooser.setObjectName("offload_task_chooser")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.help_button = QPushButton(tr("Help"))
        self.help_button.setObjectName("offload_help_button")
        self.help_window: Optional[HelpWindow] = None
        self.stack = QStackedWidget()
        self.forms: Dict[str, TaskForm] = {}
        self._fill_chooser()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button = QPushButton(tr("Run"))
        self.run_button.setObjectName("offload_run")
        self.run_button.setDefault(True)
        self.close_button = QPushButton(tr("Close"))
        self.tasks = TaskList(history)
        self.log = RunLogPane(history)
        self.below = QTabWidget()
        self.below.addTab(self.tasks, tr("Tasks"))
        self.below.addTab(self.log, tr("Log"))
        self.last_task_id: Optional[int] = None  # the footer follows the task last started here
        self._lay_out()
        self.chooser.currentIndexChanged.connect(self._show_chosen)
        self.help_button.clicked.connect(self.show_help)
        self.run_button.clicked.connect(self.run)
        self.close_button.clicked.connect(self.close)
        self.tasks.runChosen.connect(self.show_run)
        history.changed.connect(self._follow_last_task)
        self._show_chosen()
        self.resize(880, 820)  # wide enough for a whole progress text

    def _fill_chooser(self) -> None:
        model = self.chooser.model()
        for group in GROUPS:
            header = QStandardItem(tr(group))
            header.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading, not a choice
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            model.appendRow(header)
            for task in TASKS:
                if task.group == group:
                    self.chooser.addItem("    " + tr(task.title), task.key)
        self.chooser.setCurrentIndex(self.chooser.findData(TASKS[0].key))

    def _lay_out(self) -> None:
        top = QWidget()
        layout = QVBoxLayout(top)
        chooser_row = QHBoxLayout()
        chooser_row.addWidget(self.chooser, 1)
        chooser_row.addWidget(self.help_button)
        layout.addLayout(chooser_row)
        layout.addWidget(self.summary)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stack)
        layout.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.below)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

    @property
    def current_key(self) -> str:
        return self.chooser.currentData()

    def current_form(self) -> TaskForm:
        return self.forms[self.current_key]

    def show_task(self, key: str) -> None:
        """Choose the task ``key`` in the drop-down (the menus call this)."""
        self.chooser.setCurrentIndex(self.chooser.findData(key))

    def _show_chosen(self, *_args) -> None:
        key = self.current_key
        if key not in self.forms:  # built on first use: opening the dialog stays quick
            self.forms[key] = make_form(key, self.iface)
            self.stack.addWidget(self.forms[key])
        self.stack.setCurrentWidget(self.forms[key])
        self.summary.setText(tr(entry(key).summary))
        if self.help_window is not None and self.help_window.isVisible():
            self.show_help()

    def show_help(self) -> None:
        """The chosen task's documentation, in a window beside the dialog."""
        task = entry(self.current_key)
        if self.help_window is not None:
            self.help_window.close()
            self.help_window.deleteLater()
        self.help_window = HelpWindow(tr(task.title), task.help, self)
        self.help_window.show()

    def run(self) -> None:
        """Build the current form's task and start it; a bad value is shown and nothing runs.
        An existing output is replaced only if the user says so."""
        from ..core.task import start

        form = self.current_form()
        existing = form.chosen_output()
        overwrite = False
        if existing is not None and existing.exists():
            if not ask_overwrite(self, existing):
                self.show_message(tr("Not run: {name} already exists", name=existing.name), NEUTRAL_STYLE)
                return
            overwrite = True
        try:
            task = form.build_task(overwrite=overwrite)
        except InputError as exc:
            self.show_message(exc.one_line(), ERROR_STYLE)
            return
        form.save_values()
        log = run_log(task.title, form.typed_values(), form.request)
        start(task)
        task_id = QgsApplication.taskManager().taskId(task)
        self.last_task_id = task_id
        self.history.set_log(task_id, log)
        self.show_run(task_id)
        self.show_message(tr("Started: {task}", task=task.title), NEUTRAL_STYLE)

    def show_run(self, task_id: int) -> None:
        """Show a run's log (a click on its row)."""
        self.log.show_run(task_id)

    def _follow_last_task(self, task_id: int) -> None:
        """The footer says what became of the task last started here: it never stays "Started"."""
        if task_id != self.last_task_id:
            return
        record = self.history.records[task_id]
        if record.outcome == "done":
            self.show_message(record.outcome_line, OK_STYLE)
        elif record.outcome == "failed":
            self.show_message(record.outcome_line, ERROR_STYLE)
        elif record.outcome == "canceled":
            self.show_message(record.outcome_line, NEUTRAL_STYLE)

    def show_message(self, text: str, style: str) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)
