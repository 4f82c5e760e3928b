"""The session's Offload tasks, as a list the dialog shows: progress, status, cancel, errors.

It learns of tasks from the task manager's ``taskAdded`` signal and keeps only plain
records (QGIS deletes a task once it has finished), so it never holds a dead task.
"""
from __future__ import annotations

from functools import partial
from typing import Dict

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QHeaderView, QProgressBar, QPushButton, QTreeWidget, QTreeWidgetItem

from ..core.i18n import tr

COLUMNS = ("Task", "Progress", "Status", "")


class TaskHistory(QObject):
    """Records every Offload task of the session; emits ``changed(task_id)`` on news."""

    changed = pyqtSignal(int)

    def __init__(self, parent: QObject = None) -> None:
        super().__init__(parent)
        self.records: Dict[int, dict] = {}
        self.manager = QgsApplication.taskManager()
        self.manager.taskAdded.connect(self._on_task_added)

    def close(self) -> None:
        self.manager.taskAdded.disconnect(self._on_task_added)

    def _on_task_added(self, task_id: int) -> None:
        from ..core.task import OffloadTask  # already imported: an Offload task exists

        task = self.manager.task(task_id)
        if not isinstance(task, OffloadTask):
            return
        self.records[task_id] = {"description": task.description(), "progress": 0.0,
                                 "status": tr("Queued"), "message": "", "running": True}
        task.progressChanged.connect(partial(self._on_progress, task_id))
        task.statusChanged.connect(partial(self._on_status, task_id))
        task.taskCompleted.connect(partial(self._on_end, task_id, task))
        task.taskTerminated.connect(partial(self._on_end, task_id, task))
        self.changed.emit(task_id)

    def _on_progress(self, task_id: int, progress: float) -> None:
        self.records[task_id]["progress"] = progress
        self.changed.emit(task_id)

    def _on_status(self, task_id: int, status: int) -> None:
        if status == QgsTask.TaskStatus.Running:
            self.records[task_id]["status"] = tr("Running")
            self.changed.emit(task_id)

    def _on_end(self, task_id: int, task, *_args) -> None:
        record = self.records[task_id]
        record["running"] = False
        if task.status() == QgsTask.TaskStatus.Complete:
            record.update(status=tr("Done"), progress=100.0)
        elif task.isCanceled():
            record["status"] = tr("Canceled")
        else:
            record["status"] = tr("Failed")
            record["message"] = task.error.one_line() if task.error else ""
        self.changed.emit(task_id)

    def cancel(self, task_id: int) -> None:
        task = self.manager.task(task_id)
        if task is not None:
            task.cancel()


class TaskList(QTreeWidget):
    """The session's Offload tasks, newest last, with a progress bar and a Cancel button each;
    a failed task's error is in its status (and its tooltip)."""

    def __init__(self, history: TaskHistory, parent=None) -> None:
        super().__init__(parent)
        self.history = history
        self.setHeaderLabels([tr(c) if c else c for c in COLUMNS])
        self.setRootIsDecorated(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.items: Dict[int, QTreeWidgetItem] = {}
        for task_id in history.records:
            self._refresh(task_id)
        history.changed.connect(self._refresh)

    def _refresh(self, task_id: int) -> None:
        record = self.history.records[task_id]
        item = self.items.get(task_id)
        if item is None:
            item = self.items[task_id] = QTreeWidgetItem(self, [record["description"]])
            self.setItemWidget(item, 1, QProgressBar())
            button = QPushButton(tr("Cancel"))
            button.clicked.connect(partial(self.history.cancel, task_id))
            self.setItemWidget(item, 3, button)
            self.scrollToItem(item)
        self.itemWidget(item, 1).setValue(int(record["progress"]))
        item.setText(2, record["status"] + (f": {record['message']}" if record["message"] else ""))
        item.setToolTip(2, record["message"])
        self.itemWidget(item, 3).setEnabled(record["running"])
        item.setData(0, Qt.ItemDataRole.UserRole, task_id)
