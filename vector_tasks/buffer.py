"""Buffering: the validation of a request (main thread: it opens or snapshots the layer), and
the engine.

The plan holds a ``QgsVectorLayerFeatureSource``: the thread-safe copy of a layer that QGIS
itself iterates in background algorithms (it includes unsaved edits), so the layer may be
changed or deleted once the task is built. The engine reads chunks of features; light ones it
buffers itself, heavy ones go to a thread per core (GEOS releases the GIL); one writer thread
writes them in input order.
Results match ``native:buffer`` for the same parameters.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

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
    QgsProject,
    QgsProperty,
    QgsProviderRegistry,
    QgsVectorLayer,
    QgsVectorLayerFeatureSource,
    QgsWkbTypes,
)

from ..core.control import Control
from ..core.errors import Canceled, InputError, TaskFailed
from ..core.ordered_writer import OrderedWriter
from .geos_interrupt import GeosWatch
from .gpkg_sql import declared_geometry_type
from .request import DISTANCE, MAX_MEMORY_MB, OPTIONS, BufferRequest, input_spec
from .sinks import FileSink, MemorySink, Sink
from .slices import NeedsFixing, SliceSource, buffer_in_slices, slice_source
from .sqlite_slices import NeedsEngine, buffer_in_sqlite, sqlite_can_buffer

# The request's keywords (request.py) as GEOS's styles.
END_CAPS = {"round": QgsGeometry.CapRound, "flat": QgsGeometry.CapFlat, "square": QgsGeometry.CapSquare}
JOINS = {"round": QgsGeometry.JoinStyleRound, "miter": QgsGeometry.JoinStyleMiter, "bevel": QgsGeometry.JoinStyleBevel}
CHUNK = 500  # features a buffering thread takes at a time: small enough that the last ones end together
MAX_THREADS = 8  # buffering threads, at most
TRIAL_CHUNKS = 2  # chunks buffered one at a time, timed, before deciding how many threads to use
PARALLEL_FROM_S = 60e-6  # buffering time per feature (one thread) from which more threads pay (see _Pace)


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
    slices: Optional[SliceSource] = None  # where native:buffer itself can buffer the layer, slice by slice


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
    native_can = (distance_property is None and feature_ids is None and not request.where and metres_crs is None
                  and not request.dissolve)  # what native:buffer says exactly as asked
    return BufferPlan(
        slices=slice_source(layer) if native_can else None,
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
        check_validity=not only_points(layer), max_memory_mb=int(request.max_memory_mb))


def only_points(layer: QgsVectorLayer) -> bool:
    """Whether the layer can hold only points (always valid: the check is skipped). QGIS 3.22 opens
    a GeoPackage layer declared of any geometry type (GEOMETRY) as a point layer, and gives its
    polygons as they are: there the file's own declaration decides."""
    if layer.geometryType() != QgsWkbTypes.PointGeometry:
        return False
    if layer.providerType() != "ogr" or layer.storageType() != "GPKG":
        return True
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    declared = declared_geometry_type(parts.get("path") or "", parts.get("layerName") or "")
    return declared in ("POINT", "MULTIPOINT")


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
class BufferResult:
    """What a run did: features written, geometries fixed, skipped (invalid) and null, seconds."""

    written: int = 0
    fixed: int = 0
    skipped: int = 0
    null: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        noted = [f"{count:,} {what}" for count, what in ((self.fixed, "fixed"), (self.skipped, "skipped as invalid"),
                                                           (self.null, "without geometry")) if count]
        return (f"{self.written:,} feature{'s' if self.written != 1 else ''} written"
                + (f" ({', '.join(noted)})" if noted else ""))


def run_buffer(plan: BufferPlan, destination: Optional[Path], control: Control, layer_name: Optional[str] = None,
               base: Optional[Path] = None,
               made: Optional[Callable[[QgsVectorLayer], None]] = None) -> BufferResult:
    """Buffer every feature of the plan's snapshot into ``destination`` (a new file; the layer
    ``layer_name`` in a copy of the GeoPackage ``base``; or, for None, a new memory layer,
    given to ``made`` once complete: it lives on this thread until moved).

    From a GeoPackage table into a GeoPackage, slices of the layer are buffered on every core,
    inside SQLite (``sqlite_slices``) or, where SpatiaLite could not do as native:buffer does,
    by native:buffer itself (``slices``). Otherwise this thread reads chunks of features; buffering threads
    (one per core) buffer them, GEOS releasing the GIL; one writer thread writes them in input
    order (``OrderedWriter``). Canceled or failed, the sink is closed incomplete and the error raised.
    """
    started = time.perf_counter()
    result = BufferResult()
    sliced = []  # engines for a GeoPackage table into a GeoPackage, first choice first
    if destination is not None and destination.suffix.lower() == ".gpkg" and plan.slices is not None:
        sliced = ([buffer_in_sqlite] if sqlite_can_buffer(plan) else []) + [buffer_in_slices]
    for engine in sliced:
        try:
            engine(plan, destination, layer_name or destination.stem, base, control, buffering_threads(), result)
            result.seconds = time.perf_counter() - started
            return result
        except NeedsFixing:  # an invalid geometry, which only this thread's engine fixes: it starts afresh
            result = BufferResult()
            break
        except NeedsEngine:  # a geometry SpatiaLite could not buffer as native:buffer does: the next engine
            result = BufferResult()
    if destination is None:
        sink: Sink = MemorySink(plan.fields, plan.crs, f"{plan.layer_name} buffered")
    else:
        sink = FileSink(plan.fields, plan.crs, destination, layer_name or destination.stem, base, control)
    try:
        dissolved = _buffer_into(plan, sink, control, result)
        if plan.dissolve and dissolved:
            union = QgsGeometry.unaryUnion([geometry for geometry, _ in dissolved])  # chunk unions, then across
            union.convertToMultiType()
            feature = QgsFeature(plan.fields)
            feature.setAttributes(dissolved[0][1])
            feature.setGeometry(union)
            sink.add([feature])
            result.written = 1
    except BaseException:
        sink.close(complete=False)  # canceled or failed: the file goes, no index to build
        raise
    sink.close()  # the base task renames a file only after work() returns
    if isinstance(sink, MemorySink) and made is not None:
        made(sink.layer)
    result.seconds = time.perf_counter() - started
    return result


def buffering_threads() -> int:
    """One buffering thread per core: GEOS is the work, and it runs with the GIL released."""
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def _buffer_into(plan: BufferPlan, sink: Sink, control: Control, result: BufferResult) -> List[Tuple[QgsGeometry, list]]:
    """Read, buffer (in a pool) and write (in input order) every feature; return the chunks'
    unions, each with the attributes the dissolved feature takes, when dissolving."""
    request = QgsFeatureRequest()
    if plan.where:
        request.setFilterExpression(plan.where)
    if plan.feature_ids is not None:
        request.setFilterFids(sorted(plan.feature_ids))
    dissolved: List[Tuple[QgsGeometry, list]] = []
    first_attributes: List[list] = []  # the first feature's, which a dissolved feature carries, as native:buffer's

    def write(item: "Union[_Buffered, Future[_Buffered]]") -> None:  # the writer thread, chunk by chunk
        try:
            done = item.result() if isinstance(item, Future) else item  # a future: waits for its chunk
        finally:
            del item  # a chunk's exception would hold this frame, and this frame the chunk's future
        if not first_attributes:
            first_attributes.append(done.first_attributes)
        result.fixed += done.fixed
        result.skipped += done.skipped
        result.null += done.null
        if plan.dissolve:
            if done.union is not None:
                dissolved.append((done.union, first_attributes[0]))
        else:
            sink.add(done.features)
            result.written += len(done.features)

    threads = buffering_threads()
    watch = GeosWatch(control.check_canceled, plan.max_memory_mb * 2 ** 20)  # one GEOS call may run for minutes
    pool = ThreadPoolExecutor(threads, thread_name_prefix="offload-buffer")
    features = plan.source.getFeatures(request)
    chunks = _chunks(features, plan.expected, control)
    pace = _Pace(threads)
    with watch:
        try:
            with OrderedWriter(write, capacity=2 * threads, name="offload-buffer-writer") as writer:
                try:
                    for chunk in chunks:
                        if pace.parallel:
                            pace.wait_for_a_thread()
                            writer.put(pace.started(pool.submit(_buffer_chunk, plan, chunk, control, watch)))
                        else:  # read and buffered in one thread: no GIL hand-over between the two
                            writer.put(pace.timed(_buffer_chunk(plan, chunk, control, watch)))
                except BaseException as exc:  # before the writer is abandoned: it may be waiting for a chunk
                    watch.stop("canceled" if isinstance(exc, Canceled) else "failed")
                    raise
        except BaseException as exc:  # a chunk failed (the writer raised it): the others stop too
            watch.stop("canceled" if isinstance(exc, Canceled) else "failed")  # at once; queued ones never start
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            pace.forget()  # its futures may hold the error raised now: no cycle through this frame
            chunks.close()
            features.close()  # now, on this thread: not when a traceback holding it is collected
    return dissolved


class _Pace:
    """Whether chunks are buffered in this thread, one at a time, or by every buffering thread.

    Each sip call (several per feature) hands the GIL over when another thread waits for it.
    On light geometries (polygons of 5 to 12 vertices, 5 to 8 segments: 15-30 us of GEOS per
    feature) those hand-overs cost more than a second thread gains, and reading and buffering
    in one thread (the writer writes meanwhile) is fastest; on heavy ones (lines of 50
    vertices: 120 us) every thread buffering wins 1.4-1.5x on 2 cores. The first chunks,
    buffered here and timed, decide.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.parallel = False
        self.trial: List[_Buffered] = [] if threads > 1 else [None] * TRIAL_CHUNKS  # 1 thread: decided
        self.running: set = set()

    def timed(self, done: _Buffered) -> _Buffered:
        """A chunk buffered in this thread: its time per feature may decide."""
        if len(self.trial) < TRIAL_CHUNKS:
            self.trial.append(done)
            if len(self.trial) == TRIAL_CHUNKS:
                features = sum(chunk.count for chunk in self.trial)
                self.parallel = bool(features) and sum(c.seconds for c in self.trial) / features >= PARALLEL_FROM_S
                self.trial = [None] * TRIAL_CHUNKS  # decided, and no chunk kept
        return done

    def started(self, future: "Future[_Buffered]") -> "Future[_Buffered]":
        self.running.add(future)
        return future

    def wait_for_a_thread(self) -> None:
        """Wait until fewer chunks are under way than there are buffering threads."""
        self.running = {future for future in self.running if not future.done()}
        while len(self.running) >= self.threads:
            wait(self.running, return_when=FIRST_COMPLETED)
            self.running = {future for future in self.running if not future.done()}

    def forget(self) -> None:
        self.running, self.trial = set(), [None] * TRIAL_CHUNKS


def _chunks(features, expected: int, control: Control):
    """Chunks of features (the iterator yields a new object each time: no copy needed)."""
    chunk: List[QgsFeature] = []
    index = -1
    for index, feature in enumerate(features):
        if index % CHUNK == 0:
            control.check_canceled()
            control.report(0.95 * index / expected if expected else 0.0, f"{index:,} features read")
        chunk.append(feature)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    # The last count, not the last chunk's first: a layer of one chunk would end on "0 features read".
    control.report(0.95 if expected else 0.0, f"{index + 1:,} features read")


@dataclass
class _Buffered:
    """A chunk, buffered: its features with their new geometries, or their union to dissolve."""

    features: List[QgsFeature]
    union: Optional[QgsGeometry]
    first_attributes: list
    fixed: int = 0
    skipped: int = 0
    null: int = 0
    count: int = 0  # features buffered
    seconds: float = 0.0  # buffering them took, in this thread


def _buffer_chunk(plan: BufferPlan, chunk: List[QgsFeature], control: Control, watch: GeosWatch) -> _Buffered:
    """Buffer a chunk (a buffering thread). Few sip calls per feature: each one takes the GIL."""
    with watch.watched():
        watch.check()
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
        done = _Buffered([], None, chunk[0].attributes(), count=len(chunk))
        started = time.perf_counter()
        for feature in chunk:
            geometry = feature.geometry()
            buffered = None
            if geometry.isEmpty():  # null or empty: one sip call (each takes the GIL from the other threads)
                done.null += 1
            else:
                if plan.check_validity and not geometry.isGeosValid():
                    if plan.invalid == "fail":
                        errors = geometry.validateGeometry()
                        raise TaskFailed(f"feature {feature.id()} has an invalid geometry"
                                         f"{': ' + errors[0].what() if errors else ''} (--invalid fix|skip)")
                    if plan.invalid == "skip":
                        done.skipped += 1
                        continue
                    geometry = geometry.makeValid()
                    done.fixed += 1
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
                if watch.stopped:  # a stopped GEOS call returns an empty geometry: stop at once
                    watch.check(f"feature {feature.id()}")
                if from_metres is not None:
                    buffered.transform(from_metres)
                buffered.convertToMultiType()
            if plan.dissolve:
                if buffered is not None and not buffered.isEmpty():
                    done.features.append(buffered)
            else:  # the feature itself carries the attributes: only its geometry changes
                if buffered is None:
                    feature.clearGeometry()
                else:
                    feature.setGeometry(buffered)
                done.features.append(feature)
        done.seconds = time.perf_counter() - started
        if plan.dissolve:
            done.union = QgsGeometry.unaryUnion(done.features) if done.features else None
            done.features = []
            if done.union is not None and done.union.isEmpty():
                watch.check("the union of a chunk")
        return done
