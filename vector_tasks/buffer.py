"""Buffering: the validation of a request (main thread: it opens or snapshots the layer), and
the engine.

The plan holds a ``QgsVectorLayerFeatureSource``: the thread-safe copy of a layer that QGIS
itself iterates in background algorithms (it includes unsaved edits), so the layer may be
changed or deleted once the task is built. The engine reads and buffers chunks of features
in one thread while another writes them, in input order.
Results match ``native:buffer`` for the same parameters.
"""
from __future__ import annotations

import math
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Union

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeature,
    QgsFeatureRequest,
    QgsFields,
    QgsGeometry,
    QgsMemoryProviderUtils,
    QgsProject,
    QgsProperty,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsVectorLayerFeatureSource,
    QgsWkbTypes,
)

from ..core.control import Control
from ..core.errors import InputError, TaskFailed
from .destination import copy_geopackage
from .geos_interrupt import interrupted_on_cancel, raise_if_over_memory
from .gpkg_rtree import add_spatial_index
from .request import DISTANCE, MAX_MEMORY_MB, OPTIONS, BufferRequest, input_spec

# The request's keywords (request.py) as GEOS's styles.
END_CAPS = {"round": QgsGeometry.CapRound, "flat": QgsGeometry.CapFlat, "square": QgsGeometry.CapSquare}
JOINS = {"round": QgsGeometry.JoinStyleRound, "miter": QgsGeometry.JoinStyleMiter, "bevel": QgsGeometry.JoinStyleBevel}
CHUNK = 1000
# One thread reads and buffers, another writes. Measured on 100,000 polygons (2 cores), median
# of 4: reading and buffering in one thread 3.1 s, in two threads 3.7 s; more buffering
# threads were slower still (4.9 s with two). GEOS and the writer release the GIL, but every
# sip call around a feature takes it back, and Python threads that each make several calls
# per feature queue for it.


@dataclass(frozen=True)
class BufferPlan:
    """A checked request: plain values, QGIS's value types (copied, not shared) and the layer's
    snapshot; no QObject, so a worker thread may read it."""

    source: QgsVectorLayerFeatureSource
    source_path: Optional[Path]  # the input's file, never written
    fields: QgsFields
    crs: QgsCoordinateReferenceSystem
    layer_name: str
    distance: float
    distance_property: Optional[QgsProperty]  # a field or an expression; None: the fixed distance
    distance_source: str  # what the property is, for messages
    expression_context: QgsExpressionContext  # copied per chunk: a context is not shared across threads
    feature_ids: Optional[frozenset]  # the selection, when only selected features are buffered
    expected: int  # features to read, for progress (an upper bound when a filter is given)
    segments: int
    end_cap: int  # QgsGeometry.EndCapStyle
    join: int  # QgsGeometry.JoinStyle
    miter_limit: float
    dissolve: bool
    metres_crs: Optional[QgsCoordinateReferenceSystem]
    invalid: str
    check_validity: bool  # points are always valid: one call per feature saved
    where: Optional[str]
    max_memory_mb: int = MAX_MEMORY_MB.default


def open_layer(spec: str) -> QgsVectorLayer:
    """Open ``PATH[|layername=NAME]`` (main thread).

    :raises InputError: for a missing file or one QGIS cannot read as vector data.
    """
    path = spec.split("|", 1)[0]
    if not Path(path).exists():
        raise InputError(f"input {path!r} does not exist")
    layer = QgsVectorLayer(spec, Path(path).stem, "ogr")
    if not layer.isValid():
        raise InputError(f"input {spec!r} is not a vector layer QGIS can read")
    return layer


def validate_buffer_request(request: BufferRequest) -> BufferPlan:
    """Check everything and snapshot the request's layer, or the file it names (main thread).

    :raises InputError: naming the bad value.
    """
    for option in OPTIONS:
        value = option.check(getattr(request, option.name))  # the declared choices and bounds
        if value is None and option is not DISTANCE:  # a distance of None is native:buffer's default
            raise InputError(f"{option.name} None is not allowed (default {option.default})")
    if request.distance_field is not None and request.distance_expression is not None:
        raise InputError("give a distance field or a distance expression, not both")
    layer = request.input if isinstance(request.input, QgsVectorLayer) else open_layer(input_spec(request.input))
    if layer.geometryType() in (QgsWkbTypes.NullGeometry, QgsWkbTypes.UnknownGeometry):
        raise InputError(f"input {input_spec(request.input)!r} has no geometry")
    context = expression_context(layer)
    distance_property = _distance_property(request, layer, context)
    feature_ids = None
    if request.selected_only:
        feature_ids = frozenset(layer.selectedFeatureIds())
        if not feature_ids:
            raise InputError(f"layer {layer.name()!r} has no selected features")
    if request.where:
        check_expression(request.where, context, "filter")
    metres_crs = None
    if request.units == "meters" and layer.crs().isGeographic():
        centre = layer.extent().center()  # an equidistant projection around the data: metres stay metres
        metres_crs = QgsCoordinateReferenceSystem.fromProj(
            f"+proj=aeqd +lat_0={centre.y():.6f} +lon_0={centre.x():.6f} +datum=WGS84 +units=m +no_defs")
    return BufferPlan(
        source=QgsVectorLayerFeatureSource(layer),
        source_path=Path(layer.source().split("|", 1)[0]) if layer.providerType() == "ogr" else None,
        fields=QgsFields(layer.fields()), crs=QgsCoordinateReferenceSystem(layer.crs()), layer_name=layer.name(),
        distance=float(DISTANCE.default if request.distance is None else request.distance),
        distance_source="distance field" if request.distance_field is not None else "distance expression",
        distance_property=distance_property, expression_context=context, feature_ids=feature_ids,
        expected=len(feature_ids) if feature_ids is not None else max(layer.featureCount(), 0),
        segments=int(request.segments), end_cap=END_CAPS[request.end_cap], join=JOINS[request.join],
        miter_limit=float(request.miter_limit), dissolve=request.dissolve, metres_crs=metres_crs,
        invalid=request.invalid, where=request.where or None,
        check_validity=layer.geometryType() != QgsWkbTypes.PointGeometry, max_memory_mb=int(request.max_memory_mb))


def _distance_property(request: BufferRequest, layer: QgsVectorLayer,
                       context: QgsExpressionContext) -> Optional[QgsProperty]:
    """The per-feature distance: a checked numeric field or expression; None for the fixed distance."""
    if request.distance_field is not None:
        field_index = layer.fields().lookupField(request.distance_field)
        if field_index < 0:
            raise InputError(f"distance field {request.distance_field!r} is not a field of {layer.name()!r}")
        if not layer.fields().at(field_index).isNumeric():
            raise InputError(f"distance field {request.distance_field!r} is not numeric")
        return QgsProperty.fromField(request.distance_field)
    if request.distance_expression is not None:
        check_expression(request.distance_expression, context, "distance expression")
        return QgsProperty.fromExpression(request.distance_expression)
    return None


def check_expression(text: str, context: QgsExpressionContext, what: str) -> None:
    """Refuse an expression QGIS cannot parse, or one naming an unknown field or function.

    :raises InputError: with QGIS's own message.
    """
    expression = QgsExpression(text)
    if expression.hasParserError():
        raise InputError(f"{what} {text!r}: {expression.parserErrorString()}")
    if not expression.prepare(context):
        raise InputError(f"{what} {text!r}: {expression.evalErrorString()}")


def expression_context(layer: QgsVectorLayer) -> QgsExpressionContext:
    """Global, project and layer variables, as Processing gives an algorithm, but without the
    layer object itself: the worker must not reach the live layer."""
    context = QgsExpressionContext()
    context.appendScope(QgsExpressionContextUtils.globalScope())
    context.appendScope(QgsExpressionContextUtils.projectScope(QgsProject.instance()))
    layer_scope = QgsExpressionContextUtils.layerScope(layer)
    layer_scope.removeVariable("layer")
    context.appendScope(layer_scope)
    context.setFields(layer.fields())
    return context


@dataclass
class BufferStats:
    written: int = 0
    fixed: int = 0
    skipped: int = 0
    null: int = 0


def run_buffer(plan: BufferPlan, sink: "Sink", control: Control) -> BufferStats:
    """Buffer every feature of the plan's snapshot into ``sink`` (a file or a memory layer).

    This thread reads and buffers chunks of features; a writer thread writes them in order
    (QgsVectorFileWriter releases the GIL while it writes), through a short queue that
    keeps memory flat.
    """
    stats = BufferStats()
    request = QgsFeatureRequest()
    if plan.where:
        request.setFilterExpression(plan.where)
    if plan.feature_ids is not None:
        request.setFilterFids(sorted(plan.feature_ids))
    dissolved: List[QgsGeometry] = []
    first_attributes: List = []
    buffered: "queue.Queue" = queue.Queue(maxsize=2)
    failure: List[BaseException] = []

    def write_in_order() -> None:
        while True:
            done = buffered.get()
            if done is None:
                return
            if failure:
                continue
            try:
                _write(done, plan, sink, dissolved, stats)
            except BaseException as exc:  # handed to the buffering thread, which raises it
                failure.append(exc)

    writing = threading.Thread(target=write_in_order, name="offload-buffer-writer", daemon=True)
    writing.start()
    try:
        try:
            with interrupted_on_cancel(control.check_canceled, plan.max_memory_mb * 2 ** 20):  # one GEOS call may run for minutes
                for chunk in _chunks(plan.source.getFeatures(request), plan.expected, control, first_attributes):
                    if failure:
                        break
                    buffered.put(_buffer_chunk(plan, chunk, control))
        finally:
            buffered.put(None)
            writing.join()
        if failure:
            raise failure[0]
        if plan.dissolve and dissolved:
            union = QgsGeometry.unaryUnion(dissolved)  # per-chunk unions, then across chunks
            union.convertToMultiType()
            feature = QgsFeature(plan.fields)
            feature.setAttributes(first_attributes[0])
            feature.setGeometry(union)
            sink.add([feature])
            stats.written = 1
    except BaseException:
        sink.close(complete=False)  # canceled or failed: the file goes, no index to build
        raise
    sink.close()  # the base task renames a file only after work() returns
    return stats


class FileSink:
    """Features into a new file (GeoPackage, or any OGR format by extension), or into a copy of
    an existing GeoPackage (``base``), where the layer is added or replaced.

    A GeoPackage is written without its spatial index, which is bulk-loaded at close
    (``gpkg_rtree``): three times faster than GDAL 3.6 inserting one box at a time.
    """

    def __init__(self, plan: BufferPlan, destination: Path, layer_name: str, base: Optional[Path] = None,
                 control: Control = Control()) -> None:
        options = QgsVectorFileWriter.SaveVectorOptions()
        if base is not None:  # the other layers stay; the copy replaces the file only on success
            copy_geopackage(base, destination, control.check_canceled)
            options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteLayer
        options.driverName = QgsVectorFileWriter.driverForExtension(destination.suffix.lstrip(".")) or "GPKG"
        options.layerName = layer_name  # not the temporary file's name
        self.index_later = options.driverName == "GPKG"
        if self.index_later:
            options.layerOptions = [o for o in QgsVectorFileWriter.defaultLayerOptions("GPKG")
                                    if not o.startswith("SPATIAL_INDEX=")] + ["SPATIAL_INDEX=NO"]
        self.destination, self.layer_name = destination, layer_name
        self.writer = QgsVectorFileWriter.create(str(destination), plan.fields, QgsWkbTypes.MultiPolygon, plan.crs,
                                                 QgsCoordinateTransformContext(), options)
        if self.writer.hasError() != QgsVectorFileWriter.NoError:
            raise TaskFailed(f"could not create {destination.name}: {self.writer.errorMessage()}")

    def add(self, features: List[QgsFeature]) -> None:
        if not self.writer.addFeatures(features):
            raise TaskFailed(f"could not write features: {self.writer.errorMessage()}")

    def close(self, complete: bool = True) -> None:
        """Close the file; give a complete GeoPackage its spatial index."""
        if self.writer is None:
            return
        self.writer = None  # deleting the writer closes the file
        if complete and self.index_later:
            if gdal_packs_rtree() or not add_spatial_index(self.destination, self.layer_name):
                _gdal_spatial_index(self.destination, self.layer_name)


def gdal_packs_rtree() -> bool:
    """GDAL 3.8 and later bulk-load a GeoPackage's R-tree in memory themselves: ours
    (``gpkg_rtree``) is only for older GDAL, checked at run time (QGIS may bring either)."""
    from osgeo import gdal

    return int(gdal.VersionInfo("VERSION_NUM")) >= 3080000


def _gdal_spatial_index(path: Path, table: str) -> None:
    """GDAL's own (slower) way to index a GeoPackage table."""
    from osgeo import ogr

    dataset = ogr.Open(str(path), 1)
    if dataset is None:
        raise TaskFailed(f"could not reopen {path.name} to index it")
    layer = dataset.GetLayerByName(table) or dataset.GetLayer(0)
    name, geometry = (text.replace("'", "''") for text in (layer.GetName(), layer.GetGeometryColumn()))
    dataset.ExecuteSQL(f"SELECT CreateSpatialIndex('{name}', '{geometry}')")
    dataset = None  # closes the file


class MemorySink:
    """Features into a new memory layer, made on this (worker) thread; hand it to the main
    thread once filled."""

    def __init__(self, plan: BufferPlan, name: str) -> None:
        self.layer = QgsMemoryProviderUtils.createMemoryLayer(name, plan.fields, QgsWkbTypes.MultiPolygon, plan.crs)

    def add(self, features: List[QgsFeature]) -> None:
        ok, _ = self.layer.dataProvider().addFeatures(features)
        if not ok:
            raise TaskFailed(f"could not add features to the memory layer: {self.layer.dataProvider().lastError()}")

    def close(self, complete: bool = True) -> None:
        self.layer.updateExtents()


Sink = Union[FileSink, MemorySink]


def _chunks(features, expected: int, control: Control, first_attributes: List):
    """Chunks of features (the iterator yields a new object each time: no copy needed);
    remembers the first feature's attributes (for dissolve)."""
    chunk: List[QgsFeature] = []
    for index, feature in enumerate(features):
        if index % CHUNK == 0:
            control.check_canceled()
            control.report(0.95 * index / expected if expected else 0.0, f"{index} features read")
        if not first_attributes:
            first_attributes.append(feature.attributes())
        chunk.append(feature)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _buffer_chunk(plan: BufferPlan, chunk: List[QgsFeature], control: Control):
    """Buffer a chunk: its features with buffered geometries, or their union to dissolve."""
    control.check_canceled()
    to_metres = from_metres = None
    if plan.metres_crs is not None:  # transforms are not shared across threads: one set per chunk
        transforms = QgsCoordinateTransformContext()
        to_metres = QgsCoordinateTransform(plan.crs, plan.metres_crs, transforms)
        from_metres = QgsCoordinateTransform(plan.metres_crs, plan.crs, transforms)
    context = property_ = None
    if plan.distance_property is not None:  # neither is shared across threads: one of each per chunk
        context = QgsExpressionContext(plan.expression_context)
        property_ = QgsProperty(plan.distance_property)
        property_.prepare(context)
    results, counts = [], {"fixed": 0, "skipped": 0, "null": 0}
    for feature in chunk:  # few sip calls per feature: each one takes the GIL from the other workers
        geometry = feature.geometry()
        buffered = None
        if geometry.isNull() or geometry.isEmpty():
            counts["null"] += 1
        else:
            if plan.check_validity and not geometry.isGeosValid():
                if plan.invalid == "fail":
                    errors = geometry.validateGeometry()
                    raise TaskFailed(f"feature {feature.id()} has an invalid geometry"
                                     f"{': ' + errors[0].what() if errors else ''} (--invalid fix|skip)")
                if plan.invalid == "skip":
                    counts["skipped"] += 1
                    continue
                geometry = geometry.makeValid()
                counts["fixed"] += 1
            distance = plan.distance
            if property_ is not None:  # as native:buffer: a null or non-number value gives the fixed distance
                context.setFeature(feature)
                distance, _ = property_.valueAsDouble(context, plan.distance)
                if not math.isfinite(distance):  # GEOS would crash the process on NaN
                    raise TaskFailed(f"feature {feature.id()}: the {plan.distance_source} gave {distance}, "
                                     "not a finite distance (exclude it with a filter, or give it a value)")
            if to_metres is not None:
                geometry.transform(to_metres)
            buffered = geometry.buffer(distance, plan.segments, plan.end_cap, plan.join, plan.miter_limit)
            if buffered.isEmpty():  # what an interrupted GEOS call returns: then stop at once
                control.check_canceled()
                raise_if_over_memory(f"feature {feature.id()}")
            if from_metres is not None:
                buffered.transform(from_metres)
            buffered.convertToMultiType()
        if plan.dissolve:
            if buffered is not None and not buffered.isEmpty():
                results.append(buffered)
        else:  # the feature itself carries the attributes: only its geometry changes
            if buffered is None:
                feature.clearGeometry()
            else:
                feature.setGeometry(buffered)
            results.append(feature)
    if plan.dissolve:
        return [QgsGeometry.unaryUnion(results)] if results else [], counts
    return results, counts


def _write(done, plan: BufferPlan, sink: Sink, dissolved: List[QgsGeometry], stats: BufferStats) -> None:
    results, counts = done
    stats.fixed += counts["fixed"]
    stats.skipped += counts["skipped"]
    stats.null += counts["null"]
    if plan.dissolve:
        dissolved.extend(results)
        return
    sink.add(results)
    stats.written += len(results)
