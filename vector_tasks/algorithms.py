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
    QgsProcessingParameters,
    QgsProcessingParameterVectorLayer,
    QgsProperty,
    QgsPropertyDefinition,
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
        distance = QgsProcessingParameterNumber(self.DISTANCE, tr("Distance"), QgsProcessingParameterNumber.Double,
                                                defaultValue=10.0)
        distance.setIsDynamic(True)  # data-defined, as native:buffer's: a field or an expression per feature
        distance.setDynamicPropertyDefinition(QgsPropertyDefinition(
            "DISTANCE", tr("Buffer distance"), QgsPropertyDefinition.DoublePositive))
        distance.setDynamicLayerParameterName(self.INPUT)
        self.addParameter(distance)
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
        expression = None
        if QgsProcessingParameters.isDynamic(parameters, self.DISTANCE):
            dynamic = parameters[self.DISTANCE]
            if dynamic.propertyType() == QgsProperty.FieldBasedProperty:
                field = dynamic.field()
            else:
                expression = dynamic.expressionString()
        return BufferRequest(
            input=layer.source() if layer is not None else "",
            output=Path(output),
            distance=None if field or expression else self.parameterAsDouble(parameters, self.DISTANCE, context),
            distance_field=field or None,
            distance_expression=expression,
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
        from .buffer import FileSink, run_buffer, validate_buffer_request

        def run(plan, temp: Path, control):
            layer_name = Path(temp).stem.split(".offload-")[0].lstrip(".")
            return run_buffer(plan, FileSink(plan, Path(temp), layer_name), control)

        return validate_buffer_request, run
