"""The session's Offload tasks, as a list the dialog shows: progress text, outcome, cancel, errors.

It learns of tasks from the task manager's ``taskAdded`` signal and keeps only plain
records (QGIS deletes a task once it has finished), so it never holds a dead task. Each
row shows the task's progress text (the same text QGIS's task manager shows as its
description), then its outcome and duration; a failed row's full message is in its tooltip,
and a click on a row shows its run in the log.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from functools import partial
from typing import Dict, Optional

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QHeaderView, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem

from ..core.i18n import tr


@dataclass
class TaskRecord:
    """What the dialog shows of one task; plain values only."""

    task_id: int
    title: str
    text: str  # the progress text, then the outcome ("Done in 4 s")
    progress: float = 0.0  # percent
    outcome: str = ""  # "", "done", "canceled" or "failed"
    message: str = ""  # the full one-line error of a failed task
    outcome_line: str = ""  # the task's own sentence about its end
    duration_s: Optional[float] = None
    log: str = ""  # the run's log (parameters, command lines), when the dialog started it

    @property
    def running(self) -> bool:
        return not self.outcome


class TaskHistory(QObject):
    """Records every Offload task of the session; emits ``changed(task_id)`` on news."""

    changed = pyqtSignal(int)

    def __init__(self, parent: QObject = None) -> None:
        super().__init__(parent)
        self.records: Dict[int, TaskRecord] = {}
        self.manager = QgsApplication.taskManager()
        self.manager.taskAdded.connect(self._on_task_added)

    def close(self) -> None:
        self.manager.taskAdded.disconnect(self._on_task_added)

    def _on_task_added(self, task_id: int) -> None:
        from ..core.task import OffloadTask  # already imported: an Offload task exists

        task = self.manager.task(task_id)
        if not isinstance(task, OffloadTask):
            return
        self.records[task_id] = TaskRecord(task_id, task.title, task.progress_text())
        task.progressTextChanged.connect(partial(self._on_text, task_id, task))
        self.changed.emit(task_id)

    def _on_text(self, task_id: int, task, text: str) -> None:
        """Main thread, while the task is alive (finished() emits the last one)."""
        record = self.records[task_id]
        record.text = text
        if task.result is None:
            record.progress = task.progress()
        else:
            record.outcome = task.outcome or "failed"
            record.duration_s = task.duration_s
            record.outcome_line = task.outcome_line()
            record.message = task.error.one_line() if task.error is not None else ""
            if record.outcome == "done":
                record.progress = 100.0
        self.changed.emit(task_id)

    def set_log(self, task_id: int, log: str) -> None:
        if task_id in self.records:
            self.records[task_id].log = log
            self.changed.emit(task_id)

    def cancel(self, task_id: int) -> None:
        task = self.manager.task(task_id)
        if task is not None:
            task.cancel()


class TaskList(QTreeWidget):
    """The session's Offload tasks, newest last, with a progress bar and a Cancel button each."""

    runChosen = pyqtSignal(int)  # a row was clicked: show its run

    def __init__(self, history: TaskHistory, parent=None) -> None:
        super().__init__(parent)
        self.history = history
        self.setHeaderLabels([tr("Task"), tr("Progress"), tr("Status"), ""])
        self.setRootIsDecorated(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.header().setStretchLastSection(False)
        self.setColumnWidth(0, 220)
        self.setColumnWidth(1, 90)
        self.items: Dict[int, QTreeWidgetItem] = {}
        for task_id in history.records:
            self._refresh(task_id)
        history.changed.connect(self._refresh)
        self.itemClicked.connect(self._on_clicked)

    def _refresh(self, task_id: int) -> None:
        record = self.history.records[task_id]
        item = self.items.get(task_id)
        if item is None:
            item = self.items[task_id] = QTreeWidgetItem(self, [record.title])
            item.setData(0, Qt.ItemDataRole.UserRole, task_id)
            item.setToolTip(0, record.title)
            self.setItemWidget(item, 1, QProgressBar())
            button = QPushButton(tr("Cancel"))
            button.clicked.connect(partial(self.history.cancel, task_id))
            self.setItemWidget(item, 3, button)
            self.scrollToItem(item)
        self.itemWidget(item, 1).setValue(int(record.progress))
        status = record.text + (f": {record.message}" if record.message else "")
        item.setText(2, status)
        tip = record.outcome_line or status
        item.setToolTip(2, f"<p>{html.escape(tip)}</p>")  # rich text: Qt wraps long messages
        self.itemWidget(item, 3).setEnabled(record.running)

    def _on_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self.runChosen.emit(item.data(0, Qt.ItemDataRole.UserRole))

    def row(self, task_id: int) -> QTreeWidgetItem:
        return self.items[task_id]
