"""``offload:calc`` for Processing: the Toolbox, batch mode, the modeler and qgis_process.

Only parameter plumbing lives here: the parameters (generated from ``request.py``'s
vocabulary), ``build_request()`` and ``engine()``. ``core/algorithm.py`` does the rest, as
for every family: ``checkParameterValues`` validates with the CLI's and the task's validator,
and the run reuses that plan (``recheck``: the free space where the output goes) and runs the
same engine synchronously (Processing already runs algorithms on a task), writing atomically.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsProcessing,
)

from ..core.algorithm import OffloadAlgorithm, enum_parameter, number_parameter
from ..core.errors import InputError
from ..core.i18n import tr
from .request import EXTENT, FORMAT, MAX_PIXELS, NODATA, OUTPUT_TYPE, RESOLUTION, CalcInput, CalcRequest


class CalcAlgorithm(OffloadAlgorithm):
    """Block-wise raster calculator (numpy expressions, as gdal_calc.py users write them)."""

    EXPRESSION, INPUTS, NAMES, BANDS = "EXPRESSION", "INPUTS", "NAMES", "BANDS"
    EXTENT, RESOLUTION, TYPE, NODATA = "EXTENT", "RESOLUTION", "TYPE", "NODATA"
    FORMAT, OPTIONS = "FORMAT", "CREATION_OPTIONS"
    MAX_PIXELS, SPACE_CHECK = "MAX_PIXELS", "SPACE_CHECK"
    reuses_checked_plan = True  # recheck(): the output is no input, and fits where it goes

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
        from .calc import check_output

        check_output(request, plan.grid, plan.gdal_type)

    def check_output(self, output: str, request: CalcRequest, plan, parameters: Dict[str, Any],
                     context: QgsProcessingContext) -> None:
        """The run's recheck, made already for an output the user typed."""
        self.recheck(plan, dataclasses.replace(request, output=Path(output)))

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterString(self.EXPRESSION, tr("Expression (one per line)"),
                                                       multiLine=True, defaultValue="(A - B) / (A + B)"))
        self.addParameter(QgsProcessingParameterMultipleLayers(self.INPUTS, tr("Input rasters (A, B, C…)"),
                                                               QgsProcessing.TypeRaster))
        self.addParameter(QgsProcessingParameterString(self.NAMES, tr("Names for the inputs, comma-separated"),
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString(self.BANDS, tr("Band of each input, comma-separated"),
                                                       optional=True))
        self.addParameter(enum_parameter(self.EXTENT, EXTENT))
        self.addParameter(enum_parameter(self.RESOLUTION, RESOLUTION))
        self.addParameter(enum_parameter(self.TYPE, OUTPUT_TYPE))
        self.addParameter(number_parameter(self.NODATA, NODATA, optional=True))
        self.addParameter(enum_parameter(self.FORMAT, FORMAT))
        self.addParameter(QgsProcessingParameterString(self.OPTIONS, tr("Creation options (KEY=VALUE, space-separated)"),
                                                       optional=True))
        limit = number_parameter(self.MAX_PIXELS, MAX_PIXELS)
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
        extent = EXTENT.keyword_of(self.parameterAsEnum(parameters, self.EXTENT, context))
        nodata = parameters.get(self.NODATA)
        return CalcRequest(
            expressions=tuple(expressions),
            inputs=tuple(CalcInput(n, layer.source(), int(b)) for n, layer, b in zip(names, layers, bands)),
            output=Path(output),
            extent=extent,
            resolution=RESOLUTION.keyword_of(self.parameterAsEnum(parameters, self.RESOLUTION, context)) if extent else None,
            output_type=OUTPUT_TYPE.keyword_of(self.parameterAsEnum(parameters, self.TYPE, context)),
            nodata=self.parameterAsDouble(parameters, self.NODATA, context) if nodata not in (None, "") else None,
            format=FORMAT.keyword_of(self.parameterAsEnum(parameters, self.FORMAT, context)),
            creation_options=tuple((self.parameterAsString(parameters, self.OPTIONS, context) or "").split()),
            overwrite=True,  # Processing asks about existing outputs itself
            max_pixels=int(self.parameterAsDouble(parameters, self.MAX_PIXELS, context)),
            check_free_space=self.parameterAsBool(parameters, self.SPACE_CHECK, context),
        )

    def engine(self):
        from .calc import run_calc, validate_calc_request

        return validate_calc_request, run_calc
