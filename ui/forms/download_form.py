"""The file download form: a URL, where to put it (a temporary file by default), an optional
checksum, and what it is."""
from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from qgis.PyQt.QtWidgets import QComboBox, QLineEdit

from ...core.errors import InputError
from ...core.i18n import tr
from ...net_tasks.request import DOWNLOAD_KIND
from .. import choices
from .base import TaskForm, output_path, temporary_output_widget


class DownloadForm(TaskForm):
    key = "download"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://example.com/data/dem.tif")
        self.output = temporary_output_widget(tr("All files (*)"))
        self.sha256 = QLineEdit()
        self.sha256.setPlaceholderText(tr("optional: the SHA-256 the file must have"))
        self.kind = choices.fill_option(QComboBox(), DOWNLOAD_KIND)
        for label, widget in ((tr("URL"), self.url), (tr("Output"), self.output), (tr("SHA-256"), self.sha256),
                              (tr(DOWNLOAD_KIND.label), self.kind)):
            self.rows.addRow(label, widget)
        for name, widget in (("url", self.url), ("output", self.output), ("kind", self.kind)):
            self.remember(name, widget)

    def build_task(self, overwrite: bool = False):
        from ...net_tasks.request import FileRequest
        from ...net_tasks.download_task import FileDownloadTask

        url = self.url.text().strip()
        if not url:
            raise InputError(tr("type the URL to download"))
        name = PurePosixPath(urlsplit(url).path).name or "download"
        self.request = FileRequest(url, output_path(self.output, name), sha256=self.sha256.text().strip() or None,
                                   overwrite=overwrite)
        return FileDownloadTask(self.request, self.kind.currentData())
