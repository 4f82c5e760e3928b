"""The tile download form: a source (one of QGIS's XYZ connections or project layers, or a typed
URL template), the output, an area (the canvas extent to start with, a layer's, or typed), a
zoom range, and what the download will cost, shown as the values change; a temporary output by
default."""
from __future__ import annotations

import math
from pathlib import Path

from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRectangle
from qgis.gui import QgsExtentGroupBox, QgsProjectionSelectionWidget, QgsSpinBox
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit

from ...core.errors import InputError
from ...core.i18n import tr
from ...net_tasks.request import (
    BBOX_CRS, CACHE_MB, DECODE, FORMAT, FORMAT_SUFFIXES, MAX_TILES, MOSAIC_MAX_TILES, PACKAGE_FORMATS, WORKERS, ZOOM,
    ZOOM_MIN, format_for_output,
)
from .. import choices
from ..tile_cost import describe, tile_cost, zoom_for_resolution
from .base import ERROR_STYLE, TaskForm, ValidityLabel, output_path, temporary_output_widget

ONE_LEVEL = -1  # the coarsest-zoom box's special value: only the finest zoom


def output_filter(output_format: str) -> str:
    """The file dialog's filter for a format (the words translated, the patterns not)."""
    if output_format == "GPKG":
        return tr("GeoPackage") + " (*.gpkg)"
    if output_format == "MBTiles":
        return "MBTiles (*.mbtiles)"
    return tr("GeoTIFF") + " (*.tif *.tiff)"


class TilesForm(TaskForm):
    key = "tiles"

    def __init__(self, iface, parent=None) -> None:
        super().__init__(iface, parent)
        self.sources = {}  # the source combo's item data → XyzSource
        self.source = QComboBox()
        self.source.setToolTip(tr("QGIS's XYZ Tiles connections (Browser) and the XYZ layers of the project: "
                                  "their referer, HTTP headers, authentication and zoom levels go with the request"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://tiles.example.com/{z}/{x}/{y}.png")
        self.url_validity = ValidityLabel()
        self.output_format = choices.fill_option(QComboBox(), FORMAT)
        self.output = temporary_output_widget(output_filter(FORMAT.default))
        self.crs = QgsProjectionSelectionWidget()
        self.crs.setCrs(QgsCoordinateReferenceSystem(BBOX_CRS.default))
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
        self.zoom = choices.fit_spin(QgsSpinBox(), ZOOM)
        self.zoom.setToolTip(tr("The finest zoom: the GeoTIFF's resolution, a package's most detailed level"))
        self.zoom_min = QgsSpinBox()
        self.zoom_min.setRange(ONE_LEVEL, int(ZOOM_MIN.maximum))
        self.zoom_min.setSpecialValueText(tr("only the zoom above"))
        self.zoom_min.setValue(ONE_LEVEL)
        self.zoom_min.setClearValue(ONE_LEVEL)
        self.zoom_min.setToolTip(tr("The coarsest zoom: a package holds every level from here to Zoom; "
                                    "a GeoTIFF takes them as its overviews"))
        self.cost = QLabel()
        self.cost.setWordWrap(True)
        self.cost.setObjectName("offload_tiles_cost")
        self.decode = choices.fill_option(QComboBox(), DECODE)
        self.workers = choices.fit_spin(QgsSpinBox(), WORKERS)
        self.workers.setToolTip(tr("Concurrent connections: tile servers' usage policies ask for few"))
        self.max_tiles = choices.fit_spin(QgsSpinBox(), MAX_TILES)
        self.cache_mb = choices.fit_spin(QgsSpinBox(), CACHE_MB)
        self.cache_mb.setToolTip(tr("Tiles are kept for reruns, one cache per tile source. Past this size on disk, "
                                    "the end of a completed run drops the least recently stored tiles of earlier runs"))
        self.clip = QCheckBox(tr("Clip the mosaic to the area (not whole tiles)"))
        self.allow_missing = QCheckBox(tr("Fill tiles that fail after their retries with nodata"))
        for label, widget in ((tr("Source"), self.source), (tr("URL template"), self.url), ("", self.url_validity),
                              (tr("Output"), self.output), (tr(FORMAT.label), self.output_format),
                              (tr("Area CRS"), self.crs), ("", self.extent), (tr(ZOOM.label), self.zoom),
                              (tr("From zoom"), self.zoom_min), ("", self.cost), (tr(DECODE.label), self.decode),
                              (tr(WORKERS.label), self.workers), (tr(MAX_TILES.label), self.max_tiles),
                              (tr(CACHE_MB.label), self.cache_mb), ("", self.clip), ("", self.allow_missing)):
            self.rows.addRow(label, widget)
        self.list_sources()
        for name, widget in (("source", self.source), ("url", self.url), ("format", self.output_format),
                             ("decode", self.decode),
                             ("workers", self.workers), ("max_tiles", self.max_tiles), ("cache_mb", self.cache_mb),
                             ("clip", self.clip),
                             ("output", self.output)):
            self.remember(name, widget)
        self.zoom.setValue(self._canvas_zoom(canvas))
        if self.chosen_source() is not None:  # the source remembered from last time
            self._source_picked()
        self.source.currentIndexChanged.connect(self._source_picked)
        self.url.textEdited.connect(self._url_typed)
        self.url.textChanged.connect(self.revalidate)
        self.output_format.currentIndexChanged.connect(self._format_changed)
        self.output.fileChanged.connect(self._output_chosen)
        self.extent.extentChanged.connect(self.show_cost)
        for spin in (self.zoom, self.zoom_min, self.max_tiles):
            spin.valueChanged.connect(self._zooms_changed)
        self._format_changed()
        self.revalidate()

    # -- sources ----------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        """Connections and layers added since the form was last shown appear in Source."""
        self.list_sources()
        super().showEvent(event)

    def list_sources(self) -> None:
        """Offer the Browser's XYZ connections and the project's XYZ layers beside a typed URL
        (the one picked stays picked while it exists)."""
        from ...net_tasks.connections import source_label, xyz_sources

        picked = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.sources.clear()
        self.source.addItem(tr("A URL template (type it below)"), "")
        for source in xyz_sources():
            key = f"{source.origin}:{source.layer_id or source.name}"
            self.sources[key] = source
            self.source.addItem(source_label(source), key)
        self.source.setCurrentIndex(max(0, self.source.findData(picked)) if picked else 0)
        self.source.blockSignals(False)
        if picked and self.chosen_source() is None:  # it is gone: back to the typed URL's zooms
            self._source_picked()

    def chosen_source(self):
        """The XyzSource picked in Source (None: a typed URL)."""
        return self.sources.get(self.source.currentData() or "")

    def pick_source(self, name: str) -> None:
        """Pick the connection or project layer called ``name``, as a user would in Source."""
        for index in range(self.source.count()):
            source = self.sources.get(self.source.itemData(index) or "")
            if source is not None and source.name == name:
                self.source.setCurrentIndex(index)
                return
        raise InputError(f"no XYZ connection or project layer is called {name!r}")

    def _source_picked(self) -> None:
        source = self.chosen_source()
        low, high = (source.zoom_min, source.zoom_max) if source is not None else (ZOOM.minimum, ZOOM.maximum)
        self.zoom.setRange(low, high)  # the connection's zoom levels bound the request
        self.zoom_min.setRange(ONE_LEVEL, high)
        if source is not None:
            self.url.setText(source.url)

    def _url_typed(self, text: str) -> None:
        """A URL typed over a picked source is a typed URL: the source's settings no longer apply."""
        source = self.chosen_source()
        if source is not None and text.strip() != source.url:
            self.source.setCurrentIndex(0)

    # -- the cost, as the values change -----------------------------------------------------

    def _zooms_changed(self) -> None:
        if self.zoom_min.value() > self.zoom.value():
            if self.sender() is self.zoom_min:
                self.zoom.setValue(self.zoom_min.value())
            else:
                self.zoom_min.setValue(self.zoom.value())
        self.show_cost()

    def _format_changed(self) -> None:
        output_format = self.output_format.currentData() or FORMAT.default
        self.output.setFilter(output_filter(output_format))
        path = self.output.filePath().strip()
        if path and Path(path).suffix.lower() in (".tif", ".tiff", ".gpkg", ".mbtiles"):
            wanted = FORMAT_SUFFIXES[output_format]
            if Path(path).suffix.lower() != wanted and not (wanted == ".tif" and path.lower().endswith(".tiff")):
                self.output.setFilePath(str(Path(path).with_suffix(wanted)))  # the file Format makes
        package = output_format in PACKAGE_FORMATS
        for widget in (self.decode, self.clip):
            widget.setEnabled(not package)
            widget.setToolTip(tr("A package keeps the tiles as the server sent them") if package else "")
        self.show_cost()

    def _output_chosen(self, path: str) -> None:
        """A file chosen as .gpkg or .mbtiles says the format; a .tif for a package, the mosaic."""
        current = self.output_format.currentData()
        wanted = format_for_output(path)  # a package's suffix, else GTiff
        leaves_package = current in PACKAGE_FORMATS and Path(path.strip()).suffix.lower() in (".tif", ".tiff")
        if (wanted in PACKAGE_FORMATS or leaves_package) and wanted != current:
            self.output_format.setCurrentIndex(self.output_format.findData(wanted))

    def zoom_range(self):
        """(coarsest, finest) zoom of the request."""
        finest = self.zoom.value()
        coarsest = self.zoom_min.value()
        return (finest if coarsest == ONE_LEVEL else coarsest), finest

    def estimate(self):
        """The TileCost of the current values. :raises InputError: when there is no area or template."""
        from ...net_tasks.templates import parse_template
        from ...net_tasks.tile_plan import to_mercator

        crs = self.extent.outputCrs()
        bounds_m = to_mercator(self.bbox(), crs.authid() or crs.toWkt())
        host = ""
        try:
            template = parse_template(self.url.text().strip())
            host = template.host if template.bulk_forbidden else ""
        except InputError:
            pass  # the URL's own line says what is wrong with it
        coarsest, finest = self.zoom_range()
        return tile_cost(bounds_m, coarsest, finest, self.max_tiles.value(), host,
                         self.output_format.currentData() or FORMAT.default, MOSAIC_MAX_TILES)

    def show_cost(self) -> None:
        try:
            cost = self.estimate()
        except InputError as exc:
            self.cost.setStyleSheet("")
            self.cost.setText(exc.one_line())
            return
        self.cost.setStyleSheet(ERROR_STYLE if cost.refused else "")
        self.cost.setText(describe(cost))

    def _canvas_zoom(self, canvas) -> int:
        """The zoom whose tile pixels match the canvas's screen pixels (12 without a canvas)."""
        from ...net_tasks.tile_plan import to_mercator

        width_px = canvas.mapSettings().outputSize().width() if canvas is not None else 0
        if width_px <= 0 or canvas.extent().isEmpty():
            return self.zoom.value()
        shown = canvas.extent()
        crs = canvas.mapSettings().destinationCrs()
        try:
            x_min, _, x_max, _ = to_mercator((shown.xMinimum(), shown.yMinimum(), shown.xMaximum(),
                                              shown.yMaximum()), crs.authid() or crs.toWkt())
        except InputError:
            return self.zoom.value()
        resolution = (x_max - x_min) / width_px
        return zoom_for_resolution(resolution) if math.isfinite(resolution) else self.zoom.value()

    # -- checking and building --------------------------------------------------------------

    def revalidate(self) -> None:
        self.url_validity.check(self._check_url, typed=bool(self.url.text().strip()))
        self.show_cost()

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
        from ...net_tasks.connections import source_options
        from ...net_tasks.tile_task import TileDownloadTask
        from ...net_tasks.request import TileRequest

        self._check_url()
        cost = self.estimate()
        if cost.refused:  # in the form's words, before the engine says it in the command line's
            raise InputError(cost.refusals[0])
        crs = self.extent.outputCrs()
        output_format = self.output_format.currentData() or FORMAT.default
        package = output_format in PACKAGE_FORMATS
        coarsest, finest = self.zoom_range()
        source = self.chosen_source()
        options = source_options(source, coarsest, finest) if source is not None else {}
        options.setdefault("template", self.url.text().strip())
        self.request = TileRequest(
            bbox=self.bbox(), zoom=finest, output=output_path(self.output, "tiles" + FORMAT_SUFFIXES[output_format]),
            bbox_crs=crs.authid() or crs.toWkt(), workers=self.workers.value(),
            decode=DECODE.default if package else self.decode.currentData(), max_tiles=self.max_tiles.value(),
            clip=self.clip.isChecked() and not package, allow_missing=self.allow_missing.isChecked(),
            cache_mb=self.cache_mb.value(), overwrite=overwrite, format=output_format,
            zoom_min=None if coarsest == finest else coarsest, **options)
        return TileDownloadTask(self.request)
