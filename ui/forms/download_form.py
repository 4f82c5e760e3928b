"""The file download form: a URL, where to put it, an optional checksum, and what it is."""
from __future__ import annotations

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QLineEdit

from ...core.errors import InputError
from ...core.i18n import tr
from .base import TaskForm, output_path

KINDS = {"file": "a file (not loaded)", "raster": "a raster layer", "vector": "a vector layer"}


class DownloadForm(TaskForm):
    key = "download"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://example.com/data/dem.tif")
        self.output = QgsFileWidget()
        self.output.setStorageMode(QgsFileWidget.SaveFile)
        self.sha256 = QLineEdit()
        self.sha256.setPlaceholderText(tr("optional: the SHA-256 the file must have"))
        self.kind = QComboBox()
        for name, label in KINDS.items():
            self.kind.addItem(label, name)
        self.overwrite = QCheckBox(tr("Replace an existing file"))
        for label, widget in ((tr("URL"), self.url), (tr("Output"), self.output), (tr("SHA-256"), self.sha256),
                              (tr("Load as"), self.kind), ("", self.overwrite)):
            self.rows.addRow(label, widget)
        for name, widget in (("url", self.url), ("output", self.output), ("kind", self.kind),
                             ("overwrite", self.overwrite)):
            self.remember(name, widget)

    def build_task(self):
        from ...core.settings import qgis_proxy_pairs
        from ...net_tasks.download import FileRequest
        from ...net_tasks.tasks import FileDownloadTask

        url = self.url.text().strip()
        if not url:
            raise InputError(tr("type the URL to download"))
        request = FileRequest(url, output_path(self.output), sha256=self.sha256.text().strip() or None,
                              overwrite=self.overwrite.isChecked(),
                              proxies=qgis_proxy_pairs())
        return FileDownloadTask(request, self.kind.currentData())
