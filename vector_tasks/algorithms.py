"""``offload:buffer`` for Processing: native:buffer's parameters, Offload's engine."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
)

from ..core.algorithm import OffloadAlgorithm
from ..core.i18n import tr

END_CAPS, JOINS = ("round", "flat", "square"), ("round", "miter", "bevel")  # native:buffer's order
UNITS, INVALID = ("layer", "meters"), ("fix", "skip", "fail")


class BufferAlgorithm(OffloadAlgorithm):
    """Buffer on all cores, with native:buffer's results."""

    INPUT, DISTANCE, FIELD, SEGMENTS = "INPUT", "DISTANCE", "DISTANCE_FIELD", "SEGMENTS"
    END_CAP, JOIN, MITER, DISSOLVE, UNITS, INVALID = (
        "END_CAP_STYLE", "JOIN_STYLE", "MITER_LIMIT", "DISSOLVE", "UNITS", "INVALID")

    def name(self) -> str:
        return "buffer"

    def displayName(self) -> str:  # noqa: N802
        return tr("Buffer (all cores)")

    def group(self) -> str:
        return tr("Vector")

    def groupId(self) -> str:  # noqa: N802
        return "vector"

    def shortHelpString(self) -> str:  # noqa: N802
        return tr("Buffers features with native:buffer's parameters and results, in parallel chunks. "
                  "Geographic layers can be buffered in metres; invalid geometries are fixed, skipped or "
                  "fail the run. The input must be a file-based layer.")

    def createInstance(self) -> "BufferAlgorithm":  # noqa: N802
        return BufferAlgorithm()

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterVectorLayer(self.INPUT, tr("Input layer"),
                                                            [QgsProcessing.TypeVectorAnyGeometry]))
        self.addParameter(QgsProcessingParameterNumber(self.DISTANCE, tr("Distance"),
                                                       QgsProcessingParameterNumber.Double, defaultValue=10.0))
        self.addParameter(QgsProcessingParameterField(self.FIELD, tr("Distance field (instead)"), None, self.INPUT,
                                                      QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterNumber(self.SEGMENTS, tr("Segments"), minValue=1, defaultValue=5))
        self.addParameter(QgsProcessingParameterEnum(self.END_CAP, tr("End cap style"), list(END_CAPS), defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.JOIN, tr("Join style"), list(JOINS), defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(self.MITER, tr("Miter limit"),
                                                       QgsProcessingParameterNumber.Double, defaultValue=2.0))
        self.addParameter(QgsProcessingParameterBoolean(self.DISSOLVE, tr("Dissolve result"), defaultValue=False))
        self.addParameter(QgsProcessingParameterEnum(self.UNITS, tr("Distance units"), list(UNITS), defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(self.INVALID, tr("Invalid geometries"), list(INVALID),
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, tr("Buffered")))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str):
        from .buffer import BufferRequest

        layer = self.parameterAsVectorLayer(parameters, self.INPUT, context)
        field = self.parameterAsString(parameters, self.FIELD, context)
        return BufferRequest(
            input=layer.source() if layer is not None else "",
            output=Path(output),
            distance=None if field else self.parameterAsDouble(parameters, self.DISTANCE, context),
            distance_field=field or None,
            segments=self.parameterAsInt(parameters, self.SEGMENTS, context),
            end_cap=END_CAPS[self.parameterAsEnum(parameters, self.END_CAP, context)],
            join=JOINS[self.parameterAsEnum(parameters, self.JOIN, context)],
            miter_limit=self.parameterAsDouble(parameters, self.MITER, context),
            dissolve=self.parameterAsBool(parameters, self.DISSOLVE, context),
            units=UNITS[self.parameterAsEnum(parameters, self.UNITS, context)],
            invalid=INVALID[self.parameterAsEnum(parameters, self.INVALID, context)],
            overwrite=True,
        )

    def engine(self):
        from .buffer import run_buffer, validate_buffer_request

        def run(plan, temp: Path, control):
            return run_buffer(plan, temp, Path(temp).stem.split(".offload-")[0].lstrip("."), control)

        return validate_buffer_request, run
