"""The tile download form: URL template, an area (the canvas extent to start with, a layer's,
or typed), zoom, mosaic options; a temporary output by default."""
from __future__ import annotations

from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRectangle
from qgis.gui import QgsExtentGroupBox, QgsProjectionSelectionWidget, QgsSpinBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QLineEdit

from ...core.errors import InputError
from ...core.i18n import tr
from .. import choices
from .base import TaskForm, ValidityLabel, output_path, temporary_output_widget


class TilesForm(TaskForm):
    key = "tiles"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://tiles.example.com/{z}/{x}/{y}.png")
        self.url_validity = ValidityLabel()
        self.crs = QgsProjectionSelectionWidget()
        self.crs.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        self.extent = QgsExtentGroupBox()
        self.extent.setTitle(tr("Area"))
        self.extent.setCheckable(False)
        self.extent.setOutputCrs(self.crs.crs())
        canvas = iface.mapCanvas() if iface is not None else None
        if canvas is not None:
            self.extent.setMapCanvas(canvas)
            self.extent.setCurrentExtent(canvas.extent(), canvas.mapSettings().destinationCrs())
            self.extent.setOutputExtentFromCurrent()  # start where the user is looking
        else:
            self.extent.setCurrentExtent(QgsRectangle(), QgsProject.instance().crs())
        self.crs.crsChanged.connect(self.extent.setOutputCrs)
        self.zoom = QgsSpinBox()
        self.zoom.setRange(0, 24)
        self.zoom.setValue(12)
        self.zoom.setClearValue(12)
        self.decode = choices.fill(QComboBox(), choices.tile_decodings())
        self.workers = QgsSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(4)
        self.workers.setClearValue(4)
        self.workers.setToolTip(tr("Concurrent connections: tile servers' usage policies ask for few"))
        self.max_tiles = QgsSpinBox()
        self.max_tiles.setRange(1, 10_000_000)
        self.max_tiles.setValue(10_000)
        self.max_tiles.setClearValue(10_000)
        self.clip = QCheckBox(tr("Clip the mosaic to the area (not whole tiles)"))
        self.allow_missing = QCheckBox(tr("Fill tiles that fail after their retries with nodata"))
        self.output = temporary_output_widget(tr("GeoTIFF (*.tif *.tiff)"))
        for label, widget in ((tr("URL template"), self.url), ("", self.url_validity), (tr("Area CRS"), self.crs),
                              ("", self.extent), (tr("Zoom"), self.zoom), (tr("Decode"), self.decode),
                              (tr("Connections"), self.workers), (tr("Max tiles"), self.max_tiles),
                              ("", self.clip), ("", self.allow_missing), (tr("Output"), self.output)):
            self.rows.addRow(label, widget)
        for name, widget in (("url", self.url), ("zoom", self.zoom), ("decode", self.decode),
                             ("workers", self.workers), ("max_tiles", self.max_tiles), ("clip", self.clip),
                             ("output", self.output)):
            self.remember(name, widget)
        self.url.textChanged.connect(self.revalidate)
        self.revalidate()

    def revalidate(self) -> None:
        self.url_validity.check(self._check_url, typed=bool(self.url.text().strip()))

    def _check_url(self) -> str:
        from ...net_tasks.templates import parse_template

        text = self.url.text().strip()
        if not text:
            raise InputError(tr("type an XYZ URL template with {{z}}, {{x}} and {{y}}"))
        template = parse_template(text)
        return tr("✓ valid template on {host}", host=template.host or tr("a local path"))

    def bbox(self):
        extent = self.extent.outputExtent()
        if extent.isNull() or extent.isEmpty():
            raise InputError(tr("choose an area: the map canvas extent, a layer's, or type one"))
        return extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()

    def build_task(self, overwrite: bool = False):
        from ...core.settings import qgis_proxy_pairs
        from ...net_tasks.tasks import TileDownloadTask
        from ...net_tasks.tile_download import TileRequest

        self._check_url()
        crs = self.extent.outputCrs()
        self.request = TileRequest(
            template=self.url.text().strip(), bbox=self.bbox(), zoom=self.zoom.value(),
            output=output_path(self.output, "tiles.tif"), bbox_crs=crs.authid() or crs.toWkt(),
            workers=self.workers.value(), decode=self.decode.currentData(), max_tiles=self.max_tiles.value(),
            clip=self.clip.isChecked(), allow_missing=self.allow_missing.isChecked(), overwrite=overwrite,
            proxies=qgis_proxy_pairs())
        return TileDownloadTask(self.request)
