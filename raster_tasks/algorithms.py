"""``offload:calc`` for Processing: the Toolbox, batch mode, the modeler and qgis_process.

Only parameter plumbing lives here: ``checkParameterValues`` calls the same validator as
the CLI and the task, ``processAlgorithm`` the same engine, synchronously (Processing
already runs algorithms on a task), writing atomically like every Offload output.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsProcessing,
)

from ..core.algorithm import OffloadAlgorithm
from ..core.errors import InputError
from ..core.i18n import tr
from .request import DEFAULT_MAX_PIXELS, FORMATS, OUTPUT_TYPE_NAMES, CalcInput, CalcRequest

EXTENTS = ("same grid (refuse mismatches)", "intersect", "union")
RESOLUTIONS = ("finest", "coarsest")
TYPES = ("widest type of the inputs used",) + OUTPUT_TYPE_NAMES


class CalcAlgorithm(OffloadAlgorithm):
    """Block-wise raster calculator (numpy expressions, as gdal_calc.py users write them)."""

    EXPRESSION, INPUTS, NAMES, BANDS = "EXPRESSION", "INPUTS", "NAMES", "BANDS"
    EXTENT, RESOLUTION, TYPE, NODATA = "EXTENT", "RESOLUTION", "TYPE", "NODATA"
    FORMAT, OPTIONS = "FORMAT", "CREATION_OPTIONS"
    MAX_PIXELS, SPACE_CHECK = "MAX_PIXELS", "SPACE_CHECK"
    reuses_checked_plan = True  # recheck(): the free space where the output goes

    def name(self) -> str:
        return "calc"

    def displayName(self) -> str:  # noqa: N802
        return tr("Raster calculator (block-wise, all cores)")

    def group(self) -> str:
        return tr("Raster")

    def groupId(self) -> str:  # noqa: N802
        return "raster"

    def shortHelpString(self) -> str:  # noqa: N802
        return tr(
            "Computes numpy-style expressions over rasters, window by window on all cores, never holding a "
            "whole raster in memory. Inputs are named A, B, C… in order (or by Names). One expression per "
            "line gives one band each. Functions: where sqrt exp log log10 abs sin cos tan arctan2 floor ceil "
            "round minimum maximum clip isnan nan_to_num logical_and/or/not …, and neighbourhood functions "
            "slope(A), aspect(A), hillshade(A, azimuth, altitude), focal_mean/min/max(A, size) with no seams. "
            "Output is nodata where an input the expression uses is nodata; in integer outputs also where the result "
            "has no integer value (NaN, ±inf). The output type defaults to the widest type of the inputs the "
            "expression uses; the nodata value must fit it (Byte: 0 to 255). Nothing typed is ever eval'ed."
        )

    def createInstance(self) -> "CalcAlgorithm":  # noqa: N802
        return self.carry_check(CalcAlgorithm())

    def recheck(self, plan, request: CalcRequest) -> None:
        from .calc import check_output_fits

        check_output_fits(request, plan.grid, plan.gdal_type)

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterString(self.EXPRESSION, tr("Expression (one per line)"),
                                                       multiLine=True, defaultValue="(A - B) / (A + B)"))
        self.addParameter(QgsProcessingParameterMultipleLayers(self.INPUTS, tr("Input rasters (A, B, C…)"),
                                                               QgsProcessing.TypeRaster))
        self.addParameter(QgsProcessingParameterString(self.NAMES, tr("Names for the inputs, comma-separated"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString(self.BANDS, tr("Band of each input, comma-separated"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.EXTENT, tr("Inputs on different grids"), list(EXTENTS),
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.RESOLUTION, tr("Resolution when aligning"),
                                                     list(RESOLUTIONS), defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.TYPE, tr("Output type"), list(TYPES), defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(self.NODATA, tr("Output nodata"),
                                                       QgsProcessingParameterNumber.Double, optional=True))
        self.addParameter(QgsProcessingParameterEnum(self.FORMAT, tr("Format"), list(FORMATS), defaultValue=0))
        self.addParameter(QgsProcessingParameterString(self.OPTIONS, tr("Creation options (KEY=VALUE, space-separated)"),
                                                       optional=True))
        limit = QgsProcessingParameterNumber(self.MAX_PIXELS, tr("Largest output grid (pixels)"),
                                             QgsProcessingParameterNumber.Double, defaultValue=DEFAULT_MAX_PIXELS,
                                             minValue=1)
        space_check = QgsProcessingParameterBoolean(self.SPACE_CHECK, tr("Refuse an output that may not fit the "
                                                                         "free disk space (uncompressed)"),
                                                    defaultValue=True)
        for advanced in (limit, space_check):
            advanced.setFlags(advanced.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(advanced)
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Output")))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str) -> CalcRequest:
        layers = self.parameterAsLayerList(parameters, self.INPUTS, context)
        names = [n.strip() for n in (self.parameterAsString(parameters, self.NAMES, context) or "").split(",") if n.strip()]
        names = names or [chr(ord("A") + i) for i in range(len(layers))]
        if len(names) != len(layers):
            raise InputError(f"{len(names)} names for {len(layers)} inputs")
        bands_text = self.parameterAsString(parameters, self.BANDS, context) or ""
        bands = [b.strip() for b in bands_text.split(",") if b.strip()] or ["1"] * len(layers)
        if len(bands) != len(layers) or not all(b.isdigit() for b in bands):
            raise InputError(f"bands {bands_text!r} is not one whole number per input")
        expressions = [e for e in self.parameterAsString(parameters, self.EXPRESSION, context).splitlines() if e.strip()]
        extent = self.parameterAsEnum(parameters, self.EXTENT, context)
        type_index = self.parameterAsEnum(parameters, self.TYPE, context)
        nodata = parameters.get(self.NODATA)
        return CalcRequest(
            expressions=tuple(expressions),
            inputs=tuple(CalcInput(n, layer.source(), int(b)) for n, layer, b in zip(names, layers, bands)),
            output=Path(output),
            extent=(None, "intersect", "union")[extent],
            resolution=RESOLUTIONS[self.parameterAsEnum(parameters, self.RESOLUTION, context)] if extent else None,
            output_type=TYPES[type_index] if type_index else None,
            nodata=self.parameterAsDouble(parameters, self.NODATA, context) if nodata not in (None, "") else None,
            format=FORMATS[self.parameterAsEnum(parameters, self.FORMAT, context)],
            creation_options=tuple((self.parameterAsString(parameters, self.OPTIONS, context) or "").split()),
            overwrite=True,  # Processing asks about existing outputs itself
            max_pixels=int(self.parameterAsDouble(parameters, self.MAX_PIXELS, context)),
            check_free_space=self.parameterAsBool(parameters, self.SPACE_CHECK, context),
        )

    def engine(self):
        from .calc import run_calc, validate_calc_request

        return validate_calc_request, run_calc
