"""``offload:tiles`` and ``offload:download`` for Processing: the same vocabulary, validators and
engines as the CLI and the tasks."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from ..core.algorithm import CHECKED_OUTPUT, OffloadAlgorithm, enum_parameter, number_parameter
from ..core.errors import Canceled, InputError
from ..core.i18n import tr
from .request import (
    BBOX_CRS, CACHE_MB, DECODE, DOWNLOAD_TIMEOUT, FORMAT, FORMAT_SUFFIXES, MAX_BYTES, MAX_TILE_BYTES, MAX_TILES,
    TILE_SIZE, TIMEOUT, WORKERS, ZOOM, ZOOM_MIN, format_for_output,
)


def _advanced(parameter: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return parameter


class TilesAlgorithm(OffloadAlgorithm):
    """Download XYZ tiles over an extent into a mosaic (GeoTIFF, COG) or a package (GeoPackage, MBTiles)."""

    URL, EXTENT, ZOOM, DECODE, WORKERS = "URL", "EXTENT", "ZOOM", "DECODE", "WORKERS"
    SUBDOMAINS, CLIP, ALLOW_MISSING, MAX_TILES, CACHE, CACHE_SIZE = (
        "SUBDOMAINS", "CLIP", "ALLOW_MISSING", "MAX_TILES", "CACHE", "CACHE_SIZE")
    TIMEOUT, MAX_TILE_BYTES, TILE_SIZE = "TIMEOUT", "MAX_TILE_BYTES", "TILE_SIZE"
    FORMAT, MIN_ZOOM, SOURCE, RESUME = "FORMAT", "MIN_ZOOM", "SOURCE", "RESUME"
    sources: tuple = ()  # the XyzSources SOURCE offers after its first choice (a typed URL)

    def name(self) -> str:
        return "tiles"

    def displayName(self) -> str:  # noqa: N802
        return tr("Download tiles (GeoTIFF, COG, GeoPackage, MBTiles)")

    def group(self) -> str:
        return tr("Web")

    def groupId(self) -> str:  # noqa: N802
        return "web"

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(
            "Downloads the XYZ tiles an extent touches and mosaics them into a georeferenced GeoTIFF or COG "
            "(EPSG:3857, on the tile grid; with Min zoom, the coarser zooms become overviews), or stores them "
            "as served in a GeoPackage or MBTiles package holding every zoom from Min zoom to Zoom. An "
            "existing output is replaced, as every algorithm's; with Add to an existing package (resume), "
            "an existing package gets only the tiles it lacks. Templates take {{z}} {{x}} {{y}}, {{-y}} (TMS), {{q}} (quadkey), {{s}}. "
            "Source offers QGIS's XYZ Tiles connections (Browser) and the project's XYZ layers: their referer, "
            "HTTP headers, authentication, tile size and zoom levels go with the request; Tile URL template "
            "also takes a connection's name. "
            "Polite by default: few connections, retries honouring Retry-After, a 7-day cache, a User-Agent "
            "naming Offload, and tile.openstreetmap.org capped at 5,000 tiles as its usage policy asks. The cache "
            "folder is held to Tile cache size (512 MB): past it, the end of a completed run drops the least "
            "recently stored tiles of earlier runs. "
            "Elevation tiles (Terrarium, Terrain-RGB) decode into a Float32 DEM. An extent across the "
            "antimeridian fetches only the columns it touches.\n\n"
            "Bounds: each attempt at a tile has Timeout seconds in all; a tile body past Largest tile body "
            "(counted once inflated) is refused, and so is an image that is not Tile size pixels square, read "
            "from its header before decoding. Nothing refused is cached. Failed tiles are named with their "
            "cause; only timeouts, dropped connections, 429 and 5xx are retried."
        )

    def createInstance(self) -> "TilesAlgorithm":  # noqa: N802
        return TilesAlgorithm()

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        from .connections import source_label, xyz_sources

        self.sources = tuple(xyz_sources())  # read here, on the main thread, when the algorithm is made
        offered = [tr("A URL template (Tile URL template)")] + [source_label(source) for source in self.sources]
        self.addParameter(QgsProcessingParameterEnum(self.SOURCE, tr("Source"), offered, defaultValue=0, optional=True))
        self.addParameter(QgsProcessingParameterString(self.URL, tr("Tile URL template (or a connection's name)"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, tr("Extent")))
        self.addParameter(number_parameter(self.ZOOM, ZOOM))
        self.addParameter(number_parameter(self.MIN_ZOOM, ZOOM_MIN, optional=True))
        output_format = QgsProcessingParameterEnum(self.FORMAT, tr(FORMAT.label),
                                                   [tr(label) for label in FORMAT.labels], optional=True)
        output_format.setHelp(tr(
            "Empty (the default): the output's extension decides, as it does for every Toolbox algorithm: .gpkg a "
            "GeoPackage, .mbtiles an MBTiles, anything else a GeoTIFF. A Format the extension contradicts (a "
            "GeoTIFF into a .gpkg) is refused before any request: writing it would replace the file, and "
            "whatever layers or tiles it held, with a GeoTIFF. For a temporary output, Format names the file."))
        self.addParameter(output_format)
        self.addParameter(enum_parameter(self.DECODE, DECODE))
        self.addParameter(number_parameter(self.WORKERS, WORKERS))
        self.addParameter(QgsProcessingParameterString(self.SUBDOMAINS, tr("Subdomains for {{s}}"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(self.CLIP, tr("Clip to the extent"), defaultValue=False))
        self.addParameter(QgsProcessingParameterBoolean(self.ALLOW_MISSING, tr("Leave failing tiles empty"),
                                                        defaultValue=False))
        self.addParameter(number_parameter(self.MAX_TILES, MAX_TILES))
        self.addParameter(QgsProcessingParameterFolderDestination(self.CACHE, tr("Tile cache folder"), optional=True,
                                                                  createByDefault=False))
        self.addParameter(_advanced(number_parameter(self.CACHE_SIZE, CACHE_MB)))
        self.addParameter(_advanced(enum_parameter(self.TILE_SIZE, TILE_SIZE)))
        self.addParameter(_advanced(number_parameter(self.TIMEOUT, TIMEOUT)))
        self.addParameter(_advanced(number_parameter(self.MAX_TILE_BYTES, MAX_TILE_BYTES)))
        resume = QgsProcessingParameterBoolean(self.RESUME, tr("Add to an existing package (resume)"),
                                               defaultValue=False)
        resume.setHelp(tr(
            "Off (the default): an existing output is replaced, as every Processing algorithm replaces its "
            "outputs; a GeoPackage that also holds other layers or tables is refused, never replaced. On: "
            "an existing GeoPackage or MBTiles package of the same kind and tile size is added to in place, "
            "fetching only the tiles it lacks (to finish a canceled run, or add zoom levels or area); it keeps "
            "its name and metadata, and a run that fails keeps what it held. A package whose tiles came from "
            "another server is refused, so that no package mixes two sources' tiles. A GeoTIFF or COG is "
            "always replaced."))
        self.addParameter(resume)
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, tr("Output (.tif, .gpkg, .mbtiles: its extension says the format)")))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str):
        from .connections import source_options
        from .request import TileRequest

        crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        extent = self.parameterAsExtent(parameters, self.EXTENT, context, crs)
        cache = self.parameterAsString(parameters, self.CACHE, context)
        min_zoom = parameters.get(self.MIN_ZOOM)
        fields = dict(
            zoom_min=None if min_zoom in (None, "") else self.parameterAsInt(parameters, self.MIN_ZOOM, context),
            format=self.output_format(parameters, context, output),
            template=(self.parameterAsString(parameters, self.URL, context) or "").strip(),
            bbox=(extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()),
            bbox_crs=(crs if crs.isValid() else QgsCoordinateReferenceSystem(BBOX_CRS.default)).toWkt(),
            zoom=self.parameterAsInt(parameters, self.ZOOM, context),
            output=Path(output),
            decode=DECODE.keyword_of(self.parameterAsEnum(parameters, self.DECODE, context)),
            workers=self.parameterAsInt(parameters, self.WORKERS, context),
            subdomains=self.parameterAsString(parameters, self.SUBDOMAINS, context) or "",
            clip=self.parameterAsBool(parameters, self.CLIP, context),
            allow_missing=self.parameterAsBool(parameters, self.ALLOW_MISSING, context),
            max_tiles=self.parameterAsInt(parameters, self.MAX_TILES, context),
            cache_dir=Path(cache) if cache else None,
            cache_mb=self.parameterAsInt(parameters, self.CACHE_SIZE, context),
            timeout_s=self.parameterAsDouble(parameters, self.TIMEOUT, context),
            max_tile_bytes=self.parameterAsInt(parameters, self.MAX_TILE_BYTES, context),
            tile_px=int(TILE_SIZE.keyword_of(self.parameterAsEnum(parameters, self.TILE_SIZE, context))),
            overwrite=not self.parameterAsBool(parameters, self.RESUME, context),
        )
        source = self.chosen_source(parameters, context, fields["template"])
        if source is not None:  # the connection's settings, as the dialog and api.tiles honour them
            from_source = source_options(source, fields["zoom_min"], fields["zoom"])
            if parameters.get(self.TILE_SIZE) not in (None, ""):
                del from_source["tile_px"]  # a tile size given to the run wins over the connection's
            fields.update(from_source)
        elif not fields["template"]:
            raise InputError("choose a Source or type a Tile URL template")
        return TileRequest(**fields)

    def check_output(self, output: str, request, plan, parameters: Dict[str, Any],
                     context: QgsProcessingContext) -> None:
        """A Format the extension contradicts, a package this cannot add to, layers replacing it would delete."""
        from .tile_task import adds_to_existing

        chosen = self.output_format(parameters, context, output)
        adds_to_existing(dataclasses.replace(request, output=Path(output), format=chosen), plan, mosaic_replaced=True)

    def output_format(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str) -> str:
        """Format when it is given and agrees with the output's extension (InputError if not), else the
        extension's (``request.format_for_output``, the CLI's and the dialog's rule)."""
        given = parameters.get(self.FORMAT) not in (None, "")
        chosen = FORMAT.keyword_of(self.parameterAsEnum(parameters, self.FORMAT, context)) if given else None
        if output == CHECKED_OUTPUT:  # the path is checked again at the run; its suffix is known now
            return chosen or format_for_output(self.typed_output(parameters, context))
        return format_for_output(output, chosen)

    def destination(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        """The output's path; a temporary output is named with the chosen Format's extension (a
        fresh folder of its own, so nothing is there to replace)."""
        path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if self.typed_output(parameters, context) or parameters.get(self.FORMAT) in (None, ""):
            return path
        keyword = FORMAT.keyword_of(self.parameterAsEnum(parameters, self.FORMAT, context))
        renamed = str(Path(path).with_suffix(FORMAT_SUFFIXES[keyword]))
        to_load = context.layersToLoadOnCompletion()
        if path in to_load:  # the layer QGIS loads at the end is the file written
            details = to_load.pop(path)
            to_load[renamed] = details
            context.setLayersToLoadOnCompletion(to_load)
        return renamed

    def chosen_source(self, parameters: Dict[str, Any], context: QgsProcessingContext, url: str):
        """The XyzSource picked in SOURCE, or named in URL; None for a typed template."""
        from .connections import xyz_source

        picked = self.parameterAsEnum(parameters, self.SOURCE, context) if parameters.get(self.SOURCE) else 0
        if 0 < picked <= len(self.sources):
            return self.sources[picked - 1]
        return xyz_source(url) if url else None

    def engine(self):
        from .tile_plan import validate_tile_request
        from .tile_task import run_checked

        return validate_tile_request, run_checked

    def process(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        """A new output, or one replacing the existing one, as every algorithm's; with RESUME an
        existing package is added to in place."""
        from ..core.feedback import feedback_control, produce_atomically
        from .tile_task import adds_to_existing

        validate_tile_request, run_checked = self.engine()
        destination = self.destination(parameters, context)
        request = self.build_request(parameters, context, destination)
        plan = validate_tile_request(request)
        resuming = adds_to_existing(request, plan, mosaic_replaced=True)  # refused here, before any request
        loaded = context.willLoadLayerOnCompletion(destination)
        try:
            if not resuming:
                produced = produce_atomically(Path(destination), feedback, lambda temp, control: run_checked(
                    plan, temp, control, Path(destination), loaded=loaded))
                if not produced:
                    return {}
            else:
                with feedback_control(feedback) as control:
                    run_checked(plan, Path(destination), control, loaded=loaded)
        except Canceled:
            feedback.reportError("Canceled; the package keeps the whole tiles it holds")
            return {}
        return {self.OUTPUT: destination}


class DownloadAlgorithm(OffloadAlgorithm):
    """Download one file, streamed and checked, written atomically."""

    URL, SHA256, MAX_BYTES, TIMEOUT = "URL", "SHA256", "MAX_BYTES", "TIMEOUT"

    def name(self) -> str:
        return "download"

    def displayName(self) -> str:  # noqa: N802
        return tr("Download a file")

    def group(self) -> str:
        return tr("Web")

    def groupId(self) -> str:  # noqa: N802
        return "web"

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(
            "Downloads one file over HTTP(S), streamed to disk a piece at a time. The output appears only "
            "when the whole file arrived and was checked: its size against what the server promised, and its "
            "SHA-256 when one is given. An interrupted download resumes where it stopped on the next run (HTTP "
            "Range), and starts over if the server's file changed.\n\n"
            "Timeout: the seconds the server may take to answer, and to send each further KiB; a stalled or "
            "dripping transfer fails, a slow steady one does not. Largest file: refused past this many bytes, "
            "counted once inflated (empty: no bound but the free disk).\n\n"
            "Tokens in the URL (?token=, ?key=, user:password@) are never shown in messages or kept on disk; "
            "Processing's own log still lists the parameters as typed."
        )

    def createInstance(self) -> "DownloadAlgorithm":  # noqa: N802
        return DownloadAlgorithm()

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterString(self.URL, tr("URL")))
        self.addParameter(QgsProcessingParameterString(self.SHA256, tr("Expected SHA-256 (hex)"), optional=True))
        self.addParameter(number_parameter(self.MAX_BYTES, MAX_BYTES, optional=True))
        self.addParameter(_advanced(number_parameter(self.TIMEOUT, DOWNLOAD_TIMEOUT)))
        self.addParameter(QgsProcessingParameterFileDestination(self.OUTPUT, tr("Downloaded file")))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str):
        from .request import FileRequest

        max_bytes = parameters.get(self.MAX_BYTES)
        return FileRequest(
            url=self.parameterAsString(parameters, self.URL, context).strip(),
            output=Path(output),
            sha256=self.parameterAsString(parameters, self.SHA256, context).strip() or None,
            max_bytes=None if max_bytes in (None, "") else self.parameterAsInt(parameters, self.MAX_BYTES, context),
            timeout_s=self.parameterAsDouble(parameters, self.TIMEOUT, context),
            overwrite=True,
        )

    def engine(self):
        from .download import run_download, validate_file_request

        return validate_file_request, run_download
