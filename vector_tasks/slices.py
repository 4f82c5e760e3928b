"""Buffering by QGIS's own ``native:buffer``, on slices of a GeoPackage layer, on every core.

Python threads that buffer feature by feature take the GIL at every sip call, so light
geometry stays on one core. Here the loop over features stays in C++: each worker thread runs
``native:buffer`` (``QgsProcessingAlgorithm.run``, which releases the GIL) on one slice of the
layer (a range of fids, read through a subset of the file) into a memory layer, and goes on to
the next slice; the calling thread appends the buffered slices to the output GeoPackage in
input order (``writeAsVectorFormatV3``, one call per slice) meanwhile. When each worker
appended its own slice in its turn, workers that ended together waited for each other's
appends, one core idle (bench-inqgis on 2 cores, 3 rounds, Offload's medians, light / stars /
lines: 2.55 / 3.51 / 2.31 s then, 2.29 / 3.15 / 1.90 s with the calling thread writing). One
worker per core: with one more, the busy threads kept QGIS's main thread waiting up to 57 ms
for a core (bench-buffer), 35-52 ms with one per core (52-53 ms before the calling thread
wrote, in the same loaded hour).

native:buffer reads without checking validity, so a slice is first copied into memory by
``native:translategeometry`` (by 0: coordinates unchanged), which Processing feeds only valid
geometries; the features it left out are skipped, fail the run, or, under ``invalid=fix``
(native:buffer in QGIS 3.22 cannot fix), raise ``NeedsFixing``: the caller then buffers with
its own engine.

Ownership: a worker makes its slice's algorithms, context and feedback itself; the layers
Processing makes for it (the input subset, the memory layers) belong to that context, which the
worker keeps until the calling thread has appended the slice (reading, not changing, the
layer), then deletes. No QObject made in a worker is deleted in another thread; a worker's
error leaves it without its traceback, which would hold them. Cancel reaches each running
slice's feedback (Processing checks it between features) and, through the ``GeosWatch``, a
single long GEOS call.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QThread

from ..core.control import Control
from ..core.errors import Canceled, TaskFailed, without_frames
from .geos_interrupt import GeosWatch, Stopped
from .gpkg_sql import count_null_geometries, declared_geometry_type, primary_key, quoted, read_only, same_fid_column
from .sinks import FileSink

SLICES_PER_CORE = 8  # small enough that the last slices end together, large enough that a run's set-up is noise
MIN_SLICE_FEATURES = 200  # fewer features per slice than this: fewer slices
# More features than this: more slices. The slices buffered and waiting to be written (up to AHEAD
# a worker) are a share of the output held in memory: a bounded one, not a sixteenth of 10 GB each.
MAX_SLICE_FEATURES = 10_000
# Each worker's last slice is cut in this many parts, so that the workers end close together: with
# whole slices, one worker buffered the last slice alone while the other core idled (0.12 s of
# 100,000 stars' 2.1 s). Parts are cut only from slices of TAIL_PARTS × MIN_TAIL_FEATURES or more.
TAIL_PARTS = 4
MIN_TAIL_FEATURES = 50
DENSE_PROBES = 64  # fids looked up before a count without gaps is trusted
MAX_DENSE_FEATURES = 10 ** 9  # beyond, the fids are counted: the cut's list of openings stays small
WAIT_S = 0.05  # how often the calling thread asks for a cancel and reports progress
AHEAD = 2  # slices a worker may have buffered and not yet written (each holds its memory layers)
NATIVE_BUFFER = "native:buffer"
CHECKED_COPY = "native:translategeometry"  # by 0: a copy of each feature whose geometry is valid (Processing checks)


@dataclass(frozen=True)
class SliceSource:
    """A GeoPackage table that slices of fids can be read from."""

    path: str
    table: str
    fid_column: str

    @property
    def fid(self) -> str:
        """The fid column, quoted for SQL."""
        return f'"{quoted(self.fid_column)}"'


class NeedsFixing(Exception):
    """A slice met an invalid geometry, which native:buffer (3.22) cannot fix."""


def slice_source(layer: QgsVectorLayer) -> Optional[SliceSource]:
    """The layer's GeoPackage table, when native:buffer can read it in slices: a layer of a
    GeoPackage file, without a subset or unsaved edits (main thread). None otherwise."""
    if layer.providerType() != "ogr" or layer.storageType() != "GPKG" or layer.subsetString() or layer.isModified():
        return None
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    path = parts.get("path")
    if not path or not Path(path).is_file() or not native_buffer_available():
        return None
    try:
        with read_only(path) as connection:
            table = parts.get("layerName")
            if not table:  # a file opened without a layer name: its only table of features
                tables = [row[0] for row in connection.execute(
                    "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
                table = tables[0] if len(tables) == 1 else None
            keys = primary_key(connection, table) if table is not None else []
    except sqlite3.Error:
        return None
    if declared_geometry_type(path, table or "") in (None, "GEOMETRY", "GEOMETRYCOLLECTION"):
        return None  # mixed geometries: QGIS gives the layer one type, and Processing's copies keep only that type
    return SliceSource(path, table, keys[0]) if len(keys) == 1 else None


def native_buffer_available() -> bool:
    """Whether native:buffer is registered; registered here (main thread only) where nobody
    initialised Processing, as on the command line."""
    registry = QgsApplication.processingRegistry()
    if registry.algorithmById(NATIVE_BUFFER) is None and QThread.currentThread() == QgsApplication.instance().thread():
        from qgis.analysis import QgsNativeAlgorithms

        registry.addProvider(QgsNativeAlgorithms(registry))  # the registry owns it
    return registry.algorithmById(NATIVE_BUFFER) is not None


def buffer_in_slices(plan: Any, destination: Path, layer_name: str, base: Optional[Path],
                     control: Control, threads: int, result: Any) -> None:
    """Buffer the layer of ``plan`` (a ``BufferPlan``) into ``destination`` (a GeoPackage; the
    layer ``layer_name``, in a copy of ``base`` if given) with ``threads`` workers, each
    running native:buffer; counts go into ``result`` (a ``BufferResult``).

    :raises NeedsFixing: before anything is kept, when a slice meets an invalid geometry under
        ``invalid=fix``.
    """
    sink = FileSink(plan.fields, plan.crs, destination, layer_name, base, control, index_at_close=True)
    try:
        sink.end_writer()  # the table exists; slices come as whole layers
        slicer = _Slicer(plan, fid_ranges(plan, threads, control), sink, control)
        with read_only(sink.destination) as connection:
            output_fid = primary_key(connection, sink.layer_name)
        if same_fid_column(output_fid, plan.slices.fid_column):
            slicer.fid_field = plan.slices.fid_column
        watch = GeosWatch(control.check_canceled, plan.max_memory_mb * 2 ** 20)  # one GEOS call may run long
        with watch:
            slicer.run(watch, threads)
        result.written, result.skipped = slicer.written, slicer.skipped
        indexed = sink.indexed()  # geometries with a box: the others are null or empty
        result.null = (slicer.written - indexed if indexed is not None
                       else count_null_geometries(destination, layer_name))
    except BaseException:
        sink.close(complete=False)  # the caller removes the file
        raise
    sink.close()


def fid_ranges(plan: Any, threads: int, control: Control = Control()) -> List[Tuple[int, int]]:
    """The slices: ``[first, last]`` ranges of fids (inclusive: the largest fid may be 2⁶³ - 1),
    as many features each (by their count, not their fids' span, which gaps make uneven), but
    the last ``threads`` slices, each cut into ``TAIL_PARTS`` (see there).

    Where GDAL's feature count says the fids have no gaps, and fids spread over the span are
    there, the ranges are cut by arithmetic; otherwise by one pass over the fids (a pass over the
    whole table: 60 ms for 100,000 stars). Whatever the count says, every fid from the first to
    the last is in one range.

    :raises Canceled: when a cancel comes meanwhile (one pass over 5 million fids takes seconds).
    """
    source = plan.slices
    table = f'"{quoted(source.table)}"'
    control.check_canceled()
    with read_only(source.path) as connection:
        remove = control.on_cancel(connection.interrupt)
        try:
            first, last = connection.execute(  # two subqueries: SQLite reads each end of the b-tree alone
                f"SELECT (SELECT min({source.fid}) FROM {table}), (SELECT max({source.fid}) FROM {table})").fetchone()
            if first is None:
                return []
            features = _gdal_feature_count(connection, source.table)
            dense = features == last - first + 1 and _fids_at(connection, table, source.fid, first, last)
            if not dense:
                (features,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            count = max(1, min(SLICES_PER_CORE * threads, features // MIN_SLICE_FEATURES),
                        -(-features // MAX_SLICE_FEATURES))
            step = -(-features // count)
            part = step
            if step >= TAIL_PARTS * MIN_TAIL_FEATURES:
                step = -(-step // TAIL_PARTS) * TAIL_PARTS  # whole parts
                part = step // TAIL_PARTS
            tail = max(0, -(-features // step) - threads) * step  # where the parts begin
            if dense:
                openings = list(range(first, last + 1, part))
            else:
                openings = [row[0] for row in connection.execute(  # the fid opening each part: one pass over the fids
                    f"SELECT opening FROM (SELECT {source.fid} AS opening, row_number() OVER (ORDER BY {source.fid}) "
                    f"- 1 AS place FROM {table}) WHERE place % ? = 0 ORDER BY opening", (part,))]  # the fid may be "n"
            firsts = [fid for n, fid in enumerate(openings) if n * part >= tail or n * part % step == 0]
        except sqlite3.OperationalError:
            control.check_canceled()  # interrupted by a cancel: why
            raise
        finally:
            remove()
    return [(first, following - 1) for first, following in zip(firsts, firsts[1:])] + [(firsts[-1], last)]


def _fids_at(connection: sqlite3.Connection, table: str, fid: str, first: int, last: int) -> bool:
    """Whether fids spread evenly from ``first`` to ``last`` are all in ``table``, as they are
    where the fids have no gaps (a lookup each): a stale or forged count that happens to equal the
    span would otherwise cut a sparse layer into a slice for every 2,500 fids of its span."""
    if last - first + 1 > MAX_DENSE_FEATURES:
        return False
    probes = sorted({first + (last - first) * n // (DENSE_PROBES - 1) for n in range(DENSE_PROBES)})
    return all(connection.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {fid} = ?)", (probe,)).fetchone()[0]
               for probe in probes)


def _gdal_feature_count(connection: sqlite3.Connection, table: str) -> Optional[int]:
    """The feature count GDAL keeps for ``table`` (``gpkg_ogr_contents``, kept by triggers); None
    where the file has none (a GeoPackage another tool wrote)."""
    try:
        found = connection.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)",
                                   (table,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return found[0] if found is not None and isinstance(found[0], int) else None


class SliceRun:
    """What both sliced engines share: one worker thread per core takes the next slice, the
    calling thread writes the buffered slices in input order meanwhile (``_write_in_order``, with
    ``_next_to_write``), and the first failure or cancel stops them all (``_stop``).

    The state is read and changed under ``turn``: the next slice to take and to write, the
    slices buffered and not yet written, and why the run stopped.
    """

    thread_name = "offload-buffer-slices"

    def __init__(self, ranges: List[Tuple[int, int]], control: Control) -> None:
        self.ranges, self.control = ranges, control
        self.turn = threading.Condition()
        self.next_slice = self.next_write = 0
        self.buffered: Dict[int, Any] = {}  # slices buffered, not yet written
        self.error: Optional[BaseException] = None
        self.watch: Optional[GeosWatch] = None

    def run(self, watch: GeosWatch, workers: int, before_writing: Callable[[], None] = lambda: None) -> None:
        """Run the workers (their GEOS calls in ``watch``) and write their slices until every
        slice is written, or stop them all at the first cancel or failure, and raise it (once:
        it holds the workers' frames). ``before_writing`` runs on the calling thread once the
        workers have started (what it raises stops them too)."""
        self.watch = watch
        threads = [threading.Thread(target=self._work, args=(n,), name=f"{self.thread_name}-{n}", daemon=True)
                   for n in range(min(workers, len(self.ranges)))]
        try:
            for thread in threads:
                thread.start()
            before_writing()
            self._write_in_order(threads)
        except BaseException as exc:
            self._stop(exc)
            self._join(threads)
            self.error = None  # raised here: kept, its traceback would hold this run and the frames above
            raise
        self._join(threads)
        error, self.error = self.error, None
        if error is not None:
            try:
                raise error
            finally:  # else this frame's local and the error's traceback hold each other, and through
                del error  # f_back every frame up to the caller's layer, until a collection (after QGIS's exit)

    def _join(self, threads: List[threading.Thread]) -> None:
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join()
        self._after_workers()
        self.watch = None  # the watch may hold this run (what it leaves aside): no cycle through the plan

    def _next_to_write(self, threads: List[threading.Thread], claim: Callable[[int], None] = lambda index: None) -> Any:
        """Wait for the next slice in input order (the calling thread), reporting progress; it
        (``claim``-ed under ``turn``), or None once the run stopped."""
        while True:
            self.control.check_canceled()
            self.control.report(0.95 * self.next_write / len(self.ranges),
                                f"{self.next_write} of {len(self.ranges)} slices written")
            with self.turn:
                if self.error is not None:
                    return None
                buffered = self.buffered.get(self.next_write)
                if buffered is not None:
                    claim(self.next_write)
                    return buffered
                if not any(thread.is_alive() for thread in threads):
                    raise TaskFailed(f"slice {self.next_write} was never buffered")
                self.turn.wait(WAIT_S)

    def _stop(self, error: BaseException) -> None:
        """Stop every worker: the running slices halted, GEOS calls interrupted, nothing more
        written; ``error`` is what the run raises (the first one)."""
        with self.turn:
            if self.error is None:
                self.error = error
            self._halt_running()
            self.turn.notify_all()
        if not isinstance(error, Stopped):  # a Stopped worker saw the watch stop already
            self.watch.stop("canceled" if isinstance(error, Canceled) else "failed")

    def _work(self, worker: int) -> None:
        raise NotImplementedError

    def _write_in_order(self, threads: List[threading.Thread]) -> None:
        raise NotImplementedError

    def _halt_running(self) -> None:
        """Tell the slices under way to stop (``turn`` held)."""
        raise NotImplementedError

    def _after_workers(self) -> None:
        """Once every worker has ended: let go of what they left."""


class _Slicer(SliceRun):
    """native:buffer's slices: beyond ``SliceRun``'s state, the running slices' feedbacks (to
    cancel them) and the slice being appended.

    The calling thread writes: it appends each buffered slice in input order while the workers
    buffer the next ones, so that writing, which is a third of the work, is never what a worker
    waits for. A slice's context (and the layers in it) stays with the worker that made it,
    which deletes it once the slice is written.
    """

    def __init__(self, plan: Any, ranges: List[Tuple[int, int]], sink: FileSink, control: Control) -> None:
        super().__init__(ranges, control)
        self.plan, self.sink = plan, sink
        self.writing: Optional[int] = None  # the slice being appended: its worker must not delete it yet
        self.fid_field: Optional[str] = None  # the field holding the fids to keep (FileSink.add_layer)
        self.buffered: Dict[int, QgsVectorLayer] = {}  # slices buffered, not yet written
        self.feedbacks: Dict[int, QgsProcessingFeedback] = {}
        self.written = self.skipped = 0

    def _write_in_order(self, threads: List[threading.Thread]) -> None:
        """Append each buffered slice to the output in input order (the calling thread)."""
        while self.next_write < len(self.ranges):
            layer = self._next_to_write(threads, claim=self._claim)  # claimed: its worker keeps it
            if layer is None:
                return
            try:
                self.sink.add_layer(layer, self.fid_field)
                count = layer.featureCount()
            finally:
                layer = None
                with self.turn:
                    self.writing = None
                    self.turn.notify_all()
            with self.turn:
                del self.buffered[self.next_write]
                self.written += count
                self.next_write += 1
                self.turn.notify_all()

    def _claim(self, index: int) -> None:
        self.writing = index

    def _halt_running(self) -> None:
        for feedback in self.feedbacks.values():  # Processing checks it between features
            feedback.cancel()

    def _work(self, worker: int) -> None:
        kept: Dict[int, QgsProcessingContext] = {}  # this worker's slices not yet written, with their layers
        try:
            with self.watch.watched():
                while True:
                    with self.turn:  # at most AHEAD slices of a worker wait to be written: memory stays bounded
                        done = self._done(kept, written_only=True)
                        while self.error is None and self.next_slice < len(self.ranges) and len(kept) >= AHEAD:
                            self.turn.wait()
                            done += self._done(kept, written_only=True)
                        index = self.next_slice
                        if self.error is not None or index >= len(self.ranges):
                            return
                        self.next_slice += 1
                    _delete(done)  # here, in the thread that made them, outside the lock
                    try:
                        self._slice(index, kept)
                    except BaseException as exc:  # noqa: B036 - this thread's end: the caller raises it
                        # Without its frames: they would keep this thread's Processing contexts alive
                        # until the error is freed, in another thread (core/errors.py).
                        self._stop(without_frames(exc))
                        return
        finally:
            while kept:  # the rest once written; after a stop, once the writer is not reading them
                with self.turn:
                    done = self._done(kept, written_only=self.error is None)
                    if not done:
                        self.turn.wait()
                _delete(done)

    def _done(self, kept: Dict[int, QgsProcessingContext], written_only: bool) -> List[QgsProcessingContext]:
        """Take out of ``kept`` the contexts of slices written (or, ``written_only`` False, of
        every slice the writer is not appending), for the caller to delete (``turn`` held)."""
        indexes = [i for i in kept if i != self.writing and (i < self.next_write or not written_only)]
        for index in indexes:
            self.buffered.pop(index, None)
        return [kept.pop(index) for index in indexes]

    def _slice(self, index: int, kept: Dict[int, QgsProcessingContext]) -> None:
        """Buffer one slice into a memory layer, which waits, in ``kept``, to be written."""
        plan, (first, last) = self.plan, self.ranges[index]
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        try:
            with self.turn:
                if self.error is not None:
                    return
                self.feedbacks[index] = feedback
            try:
                source = self._input(first, last)
                if plan.check_validity:  # native:buffer reads without checking: a copy that checks comes first
                    context.setInvalidGeometryCheck(QgsFeatureRequest.GeometrySkipInvalid)
                    source = self._run(CHECKED_COPY, {"INPUT": source}, context, feedback)
                    if source is not None:
                        self._count_invalid(first, last, source, context)
                    context.setInvalidGeometryCheck(QgsFeatureRequest.GeometryNoCheck)
                buffered = source and self._run(NATIVE_BUFFER, self._parameters(source), context, feedback)
            finally:
                with self.turn:
                    del self.feedbacks[index]
            if buffered is None:
                return
            with self.turn:
                kept[index] = context  # deleted by this worker, once written
                self.buffered[index] = QgsProcessingUtils.mapLayerFromString(buffered, context)
                self.turn.notify_all()
        finally:  # in this thread, now: not when an exception holding this frame is freed elsewhere
            context = feedback = None

    def _run(self, algorithm_id: str, parameters: dict, context: QgsProcessingContext,
             feedback: QgsProcessingFeedback) -> Optional[str]:
        """Run one of QGIS's algorithms into a memory layer of ``context``; its id, or None when the run stopped."""
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        results, ok = algorithm.run(dict(parameters, OUTPUT="memory:"), context, feedback)
        self.watch.check("a feature")  # a stopped GEOS call: why
        if self.error is not None or feedback.isCanceled():
            return None
        if not ok:
            raise TaskFailed(f"{algorithm_id} failed: {_last_line(feedback.textLog())}")
        return results["OUTPUT"]

    def _count_invalid(self, first: int, last: int, checked: str, context: QgsProcessingContext) -> None:
        """The features of ``[first, last]`` the checked copy left out have invalid geometries."""
        source = self.plan.slices
        with read_only(source.path) as connection:
            (count,) = connection.execute(f'SELECT count(*) FROM "{quoted(source.table)}" WHERE {source.fid} >= ? AND '
                                          f'{source.fid} <= ?', (first, last)).fetchone()
        invalid = count - QgsProcessingUtils.mapLayerFromString(checked, context).featureCount()
        if not invalid:
            return
        if self.plan.invalid == "fix":
            raise NeedsFixing()
        if self.plan.invalid == "fail":
            raise TaskFailed(first_invalid(self._input(first, last)))
        with self.turn:
            self.skipped += invalid

    def _input(self, first: int, last: int) -> str:
        return slice_uri(self.plan.slices, first, last)

    def _parameters(self, source: str) -> dict:
        plan = self.plan
        return {"INPUT": source, "DISTANCE": plan.distance, "SEGMENTS": plan.segments,
                "END_CAP_STYLE": int(plan.end_cap) - 1, "JOIN_STYLE": int(plan.join) - 1,  # its choices: styles - 1
                "MITER_LIMIT": plan.miter_limit, "DISSOLVE": False}


def slice_uri(source: SliceSource, first: int, last: int) -> str:
    """The slice ``[first, last]`` of the layer, as a source Processing (or a QgsVectorLayer) opens."""
    return QgsProviderRegistry.instance().encodeUri("ogr", {
        "path": source.path, "layerName": source.table, "subset": f"{source.fid} >= {first} AND {source.fid} <= {last}"})


def _delete(contexts: List[QgsProcessingContext]) -> None:
    """Delete slices' contexts one by one, their layers first, in a call that releases the GIL:
    a context's own deletion holds it (tens of ms for a slice's memory layers), and QGIS's main
    thread would wait."""
    while contexts:
        context = contexts.pop()
        context.temporaryLayerStore().removeAllMapLayers()
        context = None


def first_invalid(uri: str) -> str:
    """The message naming the slice's first invalid geometry (a failing run only: sip calls per feature)."""
    layer = QgsVectorLayer(uri, "slice", "ogr")
    try:
        for feature in layer.getFeatures():
            geometry = feature.geometry()
            if not geometry.isEmpty() and not geometry.isGeosValid():
                errors = geometry.validateGeometry()
                return (f"feature {feature.id()} has an invalid geometry{': ' + errors[0].what() if errors else ''} "
                        "(--invalid fix|skip)")
        return "a feature has an invalid geometry (--invalid fix|skip)"
    finally:
        layer = None  # made in this thread, deleted in it


def _last_line(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
