"""``offload:buffer`` for Processing: native:buffer's parameters, Offload's engine."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterField,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameters,
    QgsProcessingParameterVectorLayer,
    QgsProperty,
    QgsPropertyDefinition,
)

from ..core.algorithm import OffloadAlgorithm, enum_parameter, number_parameter
from ..core.i18n import tr
from . import request as vocabulary
from .request import BufferRequest


class BufferAlgorithm(OffloadAlgorithm):
    """Buffer in the background, with native:buffer's results."""

    INPUT, DISTANCE, FIELD, SEGMENTS = "INPUT", "DISTANCE", "DISTANCE_FIELD", "SEGMENTS"
    END_CAP, JOIN, MITER, DISSOLVE, UNITS, INVALID = (
        "END_CAP_STYLE", "JOIN_STYLE", "MITER_LIMIT", "DISSOLVE", "UNITS", "INVALID")
    MAX_MEMORY = "MAX_MEMORY_MB"
    # The run reuses the parameter check's plan (its layer's snapshot, read from the file): opening
    # the layer again took 17-20 ms before the workers could start. process() checks the output.
    reuses_checked_plan = True

    def name(self) -> str:
        return "buffer"

    def displayName(self) -> str:  # noqa: N802
        return tr("Buffer (in the background)")

    def group(self) -> str:
        return tr("Vector")

    def groupId(self) -> str:  # noqa: N802
        return "vector"

    def shortHelpString(self) -> str:  # noqa: N802
        return tr("Buffers features with native:buffer's parameters and results, in the background. "
                  "Geographic layers can be buffered in metres; invalid geometries are fixed, skipped or "
                  "fail the run. The input must be a file-based layer.")

    def createInstance(self) -> "BufferAlgorithm":  # noqa: N802
        return self.carry_check(BufferAlgorithm())

    def initAlgorithm(self, config: Dict[str, Any] = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterVectorLayer(self.INPUT, tr("Input layer"),
                                                            [QgsProcessing.TypeVectorAnyGeometry]))
        distance = number_parameter(self.DISTANCE, vocabulary.DISTANCE)
        distance.setIsDynamic(True)  # data-defined, as native:buffer's: a field or an expression per feature
        distance.setDynamicPropertyDefinition(QgsPropertyDefinition(
            "DISTANCE", tr("Buffer distance"), QgsPropertyDefinition.DoublePositive))
        distance.setDynamicLayerParameterName(self.INPUT)
        self.addParameter(distance)
        self.addParameter(QgsProcessingParameterField(self.FIELD, tr("Distance field (instead)"), None, self.INPUT,
                                                      QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(number_parameter(self.SEGMENTS, vocabulary.SEGMENTS))
        self.addParameter(enum_parameter(self.END_CAP, vocabulary.END_CAP))
        self.addParameter(enum_parameter(self.JOIN, vocabulary.JOIN))
        self.addParameter(number_parameter(self.MITER, vocabulary.MITER_LIMIT))
        self.addParameter(QgsProcessingParameterBoolean(self.DISSOLVE, tr("Dissolve result"), defaultValue=False))
        self.addParameter(enum_parameter(self.UNITS, vocabulary.UNITS))
        self.addParameter(enum_parameter(self.INVALID, vocabulary.INVALID))
        memory = number_parameter(self.MAX_MEMORY, vocabulary.MAX_MEMORY_MB)
        memory.setFlags(memory.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(memory)
        self.addParameter(QgsProcessingParameterVectorDestination(self.OUTPUT, tr("Buffered")))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str) -> BufferRequest:
        # The layer's source, not the layer: this may run on Processing's worker thread, where
        # the validator must open its own layer rather than snapshot one of the main thread's.
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
            output=output,
            distance=None if field or expression else self.parameterAsDouble(parameters, self.DISTANCE, context),
            distance_field=field or None,
            distance_expression=expression,
            segments=self.parameterAsInt(parameters, self.SEGMENTS, context),
            end_cap=vocabulary.END_CAP.keyword_of(self.parameterAsEnum(parameters, self.END_CAP, context)),
            join=vocabulary.JOIN.keyword_of(self.parameterAsEnum(parameters, self.JOIN, context)),
            miter_limit=self.parameterAsDouble(parameters, self.MITER, context),
            dissolve=self.parameterAsBool(parameters, self.DISSOLVE, context),
            units=vocabulary.UNITS.keyword_of(self.parameterAsEnum(parameters, self.UNITS, context)),
            invalid=vocabulary.INVALID.keyword_of(self.parameterAsEnum(parameters, self.INVALID, context)),
            overwrite=True,
            max_memory_mb=self.parameterAsInt(parameters, self.MAX_MEMORY, context),
        )

    def engine(self):
        from .buffer import validate_buffer_request

        return validate_buffer_request, None  # process() runs the engine: its output may be a layer

    def check_output(self, output: str, request, plan, parameters: Dict[str, Any],
                     context: QgsProcessingContext) -> None:
        """A destination that is no file, or one whose writing would replace other files or layers."""
        from .destination import check_destination

        check_destination(output, plan.source_path, overwrite=True)

    def process(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        """As the base's, for a destination that may be a layer inside a GeoPackage
        (``out.gpkg|layername=zones``, or ``ogr:dbname=… table=…`` from the Toolbox)."""
        from ..core.feedback import produce_atomically
        from .buffer import run_buffer, validate_buffer_request
        from .destination import check_destination
        from .gpkg_in_place import LayerInPlace

        destination_text = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        plan = self._plan(self.build_request(parameters, context, destination_text), validate_buffer_request)
        destination = check_destination(destination_text, plan.source_path, overwrite=True)
        in_place = LayerInPlace(destination.path, destination.layer, replace=True) if destination.inside else None

        def produce(temp: Path, control) -> None:
            if in_place is not None:
                run_buffer(plan, in_place.path, control, in_place.temp_layer, base=in_place.path)
            else:
                run_buffer(plan, temp, control, destination.layer)

        done = produce_atomically(destination.path, feedback, produce, in_place=in_place)
        return {self.OUTPUT: destination_text} if done else {}
