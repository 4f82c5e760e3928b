"""Buffering a GeoPackage table inside SQLite, with SpatiaLite's ``ST_Buffer``, on every core.

Where native:buffer would buffer the layer exactly as asked (``slices.slice_source``: a
GeoPackage table, a fixed distance, every feature), no QGIS object per feature is needed at
all. Each worker thread runs one SQL statement per slice of fids, on a read-only connection of
its own with SpatiaLite loaded (QGIS ships it on every platform, and loads it with
``qgis.utils.spatialite_connect``): each geometry is read, checked (``ST_IsValid`` is GEOS's
isValid, the test behind QGIS's invalid-geometry check), buffered by GEOS with native:buffer's
parameters and encoded as a GeoPackage geometry, all in C with Python's lock released, into an
in-memory database of the slice's own. The calling thread meanwhile copies the slices into the
output table, in input order, one statement each. No row becomes a Python object (only text
attributes are read once, for Python to check their UTF-8).

The GEOS calls are native:buffer's (the same library, parameters and conversions), and the
blobs the same bytes (all 100,000 stars of ``bench/inqgis.py``; the parity tests). Against
native:buffer run slice by slice (``slices``), this spares reading each slice through QGIS's
OGR provider (once for the validity copy, once more to buffer it), the memory layers and
QGIS's appends.

Whatever SpatiaLite might not do as native:buffer does is left to ``slices``: decided before
any work where the table tells (``sqlite_can_buffer``: a curved, 3D or measured geometry type,
a column whose values QGIS would rewrite, a distance that is not positive, no SpatiaLite), and
by the rows otherwise: a geometry that SpatiaLite could not read or buffer (an empty one) raises
``NeedsEngine`` before anything is kept.
"""
from __future__ import annotations

import sqlite3
import struct
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from qgis.core import QgsGeometry

from ..core.control import Control
from ..core.errors import TaskFailed, without_frames
from .geos_interrupt import GeosWatch
from .gpkg_sql import (
    ENVELOPE_DOUBLES, HEADER_BYTES, geometry_column, primary_key, quoted, read_only, same_fid_column,
)
from .sinks import FileSink
from .slices import AHEAD, NeedsFixing, SliceRun, SliceSource, fid_ranges, first_invalid, slice_uri

# Geometry types SpatiaLite reads from a GeoPackage as GDAL does (no curves), in 2D.
PLAIN_GEOMETRIES = {"POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING", "POLYGON", "MULTIPOLYGON"}
# Column types whose values QGIS writes back as they are, when they are what GDAL writes (``_unlike_gdal``);
# not a date or time (QGIS writes its own format), nor FLOAT (a 32-bit float to GDAL).
COPIED_TYPES = {"INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BOOLEAN", "REAL", "DOUBLE", "TEXT"}
INTEGER_RANGES = {"MEDIUMINT": 2 ** 31, "SMALLINT": 2 ** 15, "TINYINT": 2 ** 7}  # GDAL's 32-, 16- and 8-bit integers
POLYGON, MULTIPOLYGON = b"\x01\x03\x00\x00\x00", b"\x01\x06\x00\x00\x00"  # little-endian WKB types
ENVELOPE_END = HEADER_BYTES + 8 * ENVELOPE_DOUBLES[1]  # SpatiaLite's header: flags 0x03, a little-endian xy envelope
END_CAPS = {QgsGeometry.CapRound: "ROUND", QgsGeometry.CapFlat: "FLAT", QgsGeometry.CapSquare: "SQUARE"}
JOINS = {QgsGeometry.JoinStyleRound: "ROUND", QgsGeometry.JoinStyleMiter: "MITRE",
         QgsGeometry.JoinStyleBevel: "BEVEL"}


class NeedsEngine(Exception):
    """A geometry SpatiaLite could not buffer as native:buffer would: the slices engine does the run."""


def connect_spatialite(path: str) -> Optional[sqlite3.Connection]:
    """A read-only connection to the GeoPackage at ``path`` with SpatiaLite's functions (through
    QGIS's own loader), in SpatiaLite's GeoPackage mode; None where SpatiaLite cannot be loaded or
    lacks what the engine calls.

    In GeoPackage mode SpatiaLite's functions read and return GeoPackage geometries themselves:
    the same bytes as ``AsGPB(ST_Buffer(GeomFromGPB(…)))``, without SpatiaLite's own encoding
    in between (twice for the input, once for the buffer): 7-14 % less CPU on the stars and
    lines of ``bench/inqgis.py``."""
    from qgis.utils import spatialite_connect

    try:
        connection = spatialite_connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except (RuntimeError, AttributeError, sqlite3.Error):  # no module; a Python built without extension loading
        return None
    try:
        connection.execute("SELECT BufferOptions_SetQuadrantSegments(8), EnableGpkgMode()")
        in_gpkg_mode = connection.execute("SELECT GetGpkgMode()").fetchone()[0] == 1
    except sqlite3.Error:  # SpatiaLite before 5.0: no buffer options
        in_gpkg_mode = False
    if not in_gpkg_mode:  # not a GeoPackage as SpatiaLite reads one
        connection.close()
        return None
    return connection


def sqlite_can_buffer(plan: Any) -> bool:
    """Whether this engine buffers the plan's layer (into a GeoPackage) exactly as native:buffer
    would, as far as the table tells: the rest is checked row by row (``NeedsEngine``)."""
    source: Optional[SliceSource] = plan.slices
    if source is None or not plan.distance > 0:
        return False  # a distance of 0 or less: GEOS gives empty geometries, which SpatiaLite writes as null
    try:
        with read_only(source.path) as connection:
            if connection.execute("PRAGMA encoding").fetchone()[0] != "UTF-8":  # slices attach in UTF-8
                return False
            found = connection.execute("SELECT upper(geometry_type_name), z, m FROM gpkg_geometry_columns "
                                       "WHERE table_name = ?", (source.table,)).fetchone()
            columns = list(connection.execute(f'PRAGMA table_info("{quoted(source.table)}")'))
            geometry = geometry_column(connection, source.table)
    except sqlite3.Error:
        return False
    if found is None or found[0] not in PLAIN_GEOMETRIES or found[1] != 0 or found[2] != 0:
        return False
    names = [column[1] for column in columns if column[1] != geometry]
    if names != [field.name() for field in plan.fields]:  # the output's fields are the layer's, as QGIS reads them
        return False
    if any(_base_type(column[2]) not in COPIED_TYPES for column in columns if column[1] not in (geometry, source.fid_column)):
        return False
    connection = connect_spatialite(source.path)
    if connection is None:
        return False
    holder = None
    try:  # an in-memory database that another connection attaches: SQLite 3.36 and later
        holder = _Slice(f"file:/offload-buffer-{uuid.uuid4().hex}?vfs=memdb")
        connection.execute("ATTACH ? AS slice", (holder.name,))
        connection.execute("DETACH slice")
    except sqlite3.Error:
        return False
    finally:
        if holder is not None:
            holder.close()
        connection.close()
    return True


def buffer_in_sqlite(plan: Any, destination: Any, layer_name: str, base: Any, control: Control, threads: int,
                     result: Any) -> None:
    """Buffer the layer of ``plan`` (a ``BufferPlan`` that ``sqlite_can_buffer``) into
    ``destination`` (a GeoPackage; the layer ``layer_name``, in ``base`` if given) with
    ``threads`` workers; counts go into ``result`` (a ``BufferResult``).

    :raises NeedsFixing: before anything is kept, for an invalid geometry under ``invalid=fix``.
    :raises NeedsEngine: before anything is kept, for a geometry SpatiaLite could not buffer.
    """
    run = _Run(plan, fid_ranges(plan, threads, control), _source_columns(plan.slices), control)

    def open_output() -> None:  # while the workers buffer their first slices: creating the file took 60 ms
        run.sink = FileSink(plan.fields, plan.crs, destination, layer_name, base, control, index_at_close=True)
        run.sink.end_writer()  # the table exists, empty; rows come from SQLite
        run.output = _output_table(run.sink, run.columns)

    try:
        # The slices buffered and not yet written are the run's, not one geometry's growth.
        with GeosWatch(control.check_canceled, plan.max_memory_mb * 2 ** 20, held=lambda: run.held_bytes,
                       on_stop=run.geos_stopped) as watch:
            run.run(watch, threads, before_writing=open_output)
        result.written, result.skipped, result.null = run.written, run.skipped, run.null
        _record_contents(run.sink.destination, run.sink.layer_name, run.extent, run.written)
    except BaseException:
        if run.sink is not None:
            run.sink.close(complete=False)  # the caller removes the file, or starts again with another engine
        raise
    run.sink.close()


class _Columns:
    """What the workers read of the source: its fid and geometry columns, and its attributes
    (the output's, as QGIS makes them: ``_output_table`` checks) with their declared types
    (without a width), in the order a slice's rows hold them (``a0``…)."""

    def __init__(self, fid: str, geometry: str, attributes: List[str], types: List[str]) -> None:
        self.fid, self.geometry, self.attributes, self.types = fid, geometry, attributes, types


class _Output:
    """The output table: its name, its columns in the order rows are inserted (fid, geometry,
    then the attributes), its srs_id."""

    def __init__(self, table: str, columns: List[str], srs_id: int) -> None:
        self.table, self.columns, self.srs_id = table, columns, srs_id


def _source_columns(source: SliceSource) -> _Columns:
    """The source's fid, geometry and attribute columns, as the workers read them (with their
    types' affinity, to check the values they read are values GDAL writes)."""
    with read_only(source.path) as connection:
        geometry = geometry_column(connection, source.table) or ""
        declared = [(row[1], _base_type(row[2]))
                    for row in connection.execute(f'PRAGMA table_info("{quoted(source.table)}")')
                    if row[1] != geometry and not same_fid_column([row[1]], source.fid_column)]
    return _Columns(source.fid_column, geometry, [name for name, _ in declared], [base for _, base in declared])


def _output_table(sink: FileSink, columns: _Columns) -> _Output:
    """The table the sink made: its fid, geometry and then the source's attributes, of the same names.

    :raises NeedsEngine: where it is not (the workers are stopped).
    """
    with read_only(sink.destination) as connection:
        encoding = connection.execute("PRAGMA encoding").fetchone()[0]
        fid = primary_key(connection, sink.layer_name)
        geometry = geometry_column(connection, sink.layer_name)
        srs_id = connection.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
                                    (sink.layer_name,)).fetchone()
        others = [row[1] for row in connection.execute(f'PRAGMA table_info("{quoted(sink.layer_name)}")')
                  if row[1] not in fid + [geometry]]
    if encoding != "UTF-8" or srs_id is None or geometry is None or not same_fid_column(fid, columns.fid):
        raise NeedsEngine()  # a UTF-16 file (slices attach in UTF-8), a table QGIS could not make as
        # asked, or a fid of another name (QGIS numbers the features itself): native:buffer's run
    if sorted(others) != sorted(columns.attributes):  # exactly: SQLite's names ignore the case of ASCII only
        raise NeedsEngine()
    return _Output(sink.layer_name, [columns.fid, geometry] + columns.attributes, int(srs_id[0]))


class _Slice:
    """A slice buffered into an in-memory database of its own (SQLite's ``memdb``, which any
    connection of the process can attach by name), alive while ``holder`` is open: the writer
    copies it into the output in one statement, as the worker filled it from the source, so
    that no row becomes a Python object."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.holder = sqlite3.connect(name, uri=True, check_same_thread=False)
        self.boxes: Any = None  # the fids and boxes of its geometries, for the index and the extent
        self.bytes = 0  # its size, once buffered: memory held until written

    def close(self) -> None:
        self.holder.close()  # the last connection to it: the database is gone


class _Run(SliceRun):
    """A run's shared state, beyond ``SliceRun``'s: the slices each worker holds (at most
    ``AHEAD``), the workers' connections (to interrupt them), the counts."""

    thread_name = "offload-buffer-sqlite"

    def __init__(self, plan: Any, ranges: List[Tuple[int, int]], columns: _Columns, control: Control) -> None:
        super().__init__(ranges, control)
        self.plan, self.columns = plan, columns
        self.sink: Optional[FileSink] = None  # the output, made while the workers start (``buffer_in_sqlite``)
        self.output: Optional[_Output] = None
        self.buffered: Dict[int, Tuple[int, _Slice]] = {}  # slice → its worker, its rows
        self.held: Dict[int, int] = {}  # worker → slices buffered and not yet written
        self.connections: List[sqlite3.Connection] = []
        self.written = self.skipped = self.null = 0
        self.held_bytes = 0  # buffered slices not yet written: memory the memory bound leaves aside
        self.extent = _Extent()
        self.prefix = f"file:/offload-buffer-{uuid.uuid4().hex}"  # the slices' names: this run's alone

    def _after_workers(self) -> None:
        for _, slice_ in self.buffered.values():  # after a stop: buffered, never written
            slice_.close()

    def _write_in_order(self, threads: List[threading.Thread]) -> None:
        """Copy each buffered slice into the output in input order, a transaction each (the calling thread)."""
        connection = sqlite3.connect(str(self.sink.destination), isolation_level=None)
        try:
            insert = self._insert()
            while self.next_write < len(self.ranges):
                taken = self._next_to_write(threads)
                if taken is None:
                    return
                worker, slice_ = taken
                try:
                    connection.execute("ATTACH ? AS slice", (slice_.name,))
                    connection.execute("BEGIN")
                    count = connection.execute(insert).rowcount
                    connection.execute("COMMIT")
                    connection.execute("DETACH slice")
                finally:
                    slice_.close()
                self.sink.rows_appended(slice_.boxes)
                self.extent.add(slice_.boxes[1])
                with self.turn:
                    del self.buffered[self.next_write]
                    self.written += count
                    self.next_write += 1
                    self.held[worker] -= 1
                    self.held_bytes -= slice_.bytes
                    self.turn.notify_all()
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()

    def _insert(self) -> str:
        """The copy of a slice's kept rows into the output, each geometry made a MultiPolygon with
        the output's srs_id here, on the bytes (SpatiaLite's CastToMulti and SetSRID took a fifth
        of a run); a feature without geometry gets the empty MultiPolygon native:buffer writes."""
        srs = struct.pack("<i", self.output.srs_id)
        empty = b"GP\x00\x11" + srs + MULTIPOLYGON + bytes(4)
        one_part = MULTIPOLYGON + struct.pack("<I", 1)
        geometry = (f"CASE WHEN was_null THEN X'{empty.hex()}' "
                    f"WHEN substr(buffered, {ENVELOPE_END + 1}, 5) = X'{POLYGON.hex()}' "
                    f"THEN CAST(substr(buffered, 1, 4) || X'{srs.hex()}' || substr(buffered, 9, {ENVELOPE_END - 8}) "
                    f"|| X'{one_part.hex()}' || substr(buffered, {ENVELOPE_END + 1}) AS BLOB) "
                    f"ELSE CAST(substr(buffered, 1, 4) || X'{srs.hex()}' || substr(buffered, 9) AS BLOB) END")
        columns = ", ".join(f'"{quoted(name)}"' for name in self.output.columns)
        attributes = "".join(f", a{n}" for n in range(len(self.output.columns) - 2))
        return (f'INSERT INTO "{quoted(self.output.table)}" ({columns}) '
                f"SELECT fid, {geometry}{attributes} FROM slice.rows WHERE valid != 0")

    def geos_stopped(self, reason: str) -> None:
        """The watch stopped GEOS: a cancel or a failure stops the statements too (else each row left
        calls GEOS in vain, and SpatiaLite prints an error for it). A memory stop lets the statement
        end: its null buffer names the feature that grew."""
        if reason != "memory":
            self.interrupt_statements()

    def interrupt_statements(self) -> None:
        """Stop the workers' running statements (at their next row)."""
        with self.turn:
            self._halt_running()

    def _halt_running(self) -> None:
        for connection in self.connections:
            connection.interrupt()

    def _work(self, worker: int) -> None:
        connection = connect_spatialite(self.plan.slices.path)
        try:
            if connection is None:
                raise NeedsEngine()
            with self.turn:
                self.connections.append(connection)
                self.held[worker] = 0
            statement = self._statement(connection)
            with self.watch.watched():
                while True:
                    with self.turn:
                        while self.error is None and self.held[worker] >= AHEAD:
                            self.turn.wait()
                        index = self.next_slice
                        if self.error is not None or index >= len(self.ranges):
                            return
                        self.next_slice += 1
                    slice_ = self._slice(connection, statement, index)
                    with self.turn:
                        self.buffered[index] = (worker, slice_)
                        self.held[worker] += 1
                        self.turn.notify_all()
        except BaseException as exc:  # noqa: B036 - this thread's end: the caller raises it
            self._stop(without_frames(exc))
        finally:
            if connection is not None:
                with self.turn:
                    if connection in self.connections:
                        self.connections.remove(connection)
                connection.close()

    def _statement(self, connection: sqlite3.Connection) -> str:
        """The statement that buffers a slice into its own database: for each feature in fid order,
        its fid, its validity (1; 0 for an invalid geometry; -1 for none), whether it had no
        geometry, its buffer as SpatiaLite encodes it, and its attributes (``a0``…)."""
        plan, source, columns = self.plan, self.plan.slices, self.columns
        connection.execute("SELECT BufferOptions_SetEndCapStyle(?), BufferOptions_SetJoinStyle(?), "
                           "BufferOptions_SetMitreLimit(?), BufferOptions_SetQuadrantSegments(?)",
                           (END_CAPS[plan.end_cap], JOINS[plan.join], plan.miter_limit, plan.segments))
        geometry = f'"{quoted(columns.geometry)}"'
        valid = f"ST_IsValid({geometry})" if plan.check_validity else f"CASE WHEN {geometry} IS NULL THEN -1 ELSE 1 END"
        attributes = "".join(f', "{quoted(name)}" AS a{n}' for n, name in enumerate(columns.attributes))
        return (f"CREATE TABLE slice.rows AS SELECT {source.fid} AS fid, {valid} AS valid, {geometry} IS NULL AS "
                f"was_null, ST_Buffer({geometry}, {float(plan.distance)!r}) AS buffered{attributes} "
                f'FROM "{quoted(source.table)}" WHERE {source.fid} >= ? AND {source.fid} <= ? ORDER BY {source.fid}')

    def _slice(self, connection: sqlite3.Connection, statement: str, index: int) -> _Slice:
        """Buffer one slice into a database of its own; invalid geometries skipped or failing the run.

        :raises NeedsEngine: where SpatiaLite did not do as native:buffer would (see the module).
        """
        first, last = self.ranges[index]
        where = f"a feature of fids {first} to {last}"
        if self.watch.reason in ("canceled", "failed"):  # stopped between two slices: the next statement's
            self.watch.check(where)  # rows would each call a stopped GEOS (and print its error: 112 in a CI run)
        slice_ = _Slice(f"{self.prefix}-{index}?vfs=memdb")
        try:
            connection.execute("ATTACH ? AS slice", (slice_.name,))
            try:
                connection.execute(statement, (first, last))
                if self.watch.stopped:  # a stopped GEOS call gives null: why, naming the feature
                    (fid,) = connection.execute("SELECT min(fid) FROM slice.rows WHERE buffered IS NULL AND "
                                                "NOT was_null").fetchone()
                    self.watch.check(f"feature {fid}" if fid is not None else where)
                invalid, null, failed, unknown, unlike = connection.execute(
                    "SELECT count(*) FILTER (WHERE valid = 0), count(*) FILTER (WHERE was_null), "
                    "count(*) FILTER (WHERE NOT was_null AND buffered IS NULL), "  # unread (valid 0 then) or unbuffered
                    f"count(*) FILTER (WHERE buffered IS NOT NULL AND (substr(buffered, 4, 1) != X'03' OR "
                    f"substr(buffered, {ENVELOPE_END + 1}, 5) NOT IN (X'{POLYGON.hex()}', X'{MULTIPOLYGON.hex()}'))), "
                    f"count(*) FILTER (WHERE {_unlike_gdal(self.columns.types)}) FROM slice.rows").fetchone()
                if failed or unknown or unlike or not _text_is_utf8(connection, self.columns.types):
                    raise NeedsEngine()  # a geometry SpatiaLite could not read or buffer, or a value GDAL never writes
                invalid_fids = [row[0] for row in connection.execute("SELECT fid FROM slice.rows WHERE valid = 0")]
                slice_.boxes = _boxes(connection)
                slice_.bytes = connection.execute("SELECT page_count * page_size FROM slice.pragma_page_count, "
                                                  "slice.pragma_page_size").fetchone()[0]
            except sqlite3.OperationalError as exc:
                self.watch.check(where)  # interrupted: why
                if "full" in str(exc):  # the slice outgrew SQLite's in-memory database (1 GiB): native:buffer's run
                    raise NeedsEngine() from None
                raise
            finally:
                connection.execute("DETACH slice")
            if invalid and not _invalid_for_qgis(self.plan.slices, first, last, invalid_fids):
                raise NeedsEngine()  # SpatiaLite's validity is stricter than GEOS's (an unclosed ring)
            if invalid and self.plan.invalid == "fix":
                raise NeedsFixing()
            if invalid and self.plan.invalid == "fail":
                raise TaskFailed(first_invalid(slice_uri(self.plan.slices, first, last)))
            with self.turn:
                self.skipped += invalid
                self.null += null
                self.held_bytes += slice_.bytes
            return slice_
        except BaseException:
            slice_.close()
            raise


def _unlike_gdal(types: List[str]) -> str:
    """An SQL condition on a slice's row: one of its attributes (``a0``…, of the ``types``)
    holds a value GDAL never writes there, or one QGIS would write otherwise (a real in an integer
    column, a NUL in a text, a text opening with a byte-order mark)."""
    conditions = ["0"]
    for n, base in enumerate(types):
        value = f"a{n}"
        if base in ("REAL", "DOUBLE"):
            conditions.append(f"typeof({value}) NOT IN ('real', 'null')")
        elif base == "TEXT":  # longer than a TEXT(n)'s width: GDAL writes it (and QGIS fails): written as it is
            conditions.append(f"typeof({value}) NOT IN ('text', 'null') OR instr({value}, char(0)) > 0 "
                              f"OR substr({value}, 1, 1) = char(65279)")  # QGIS drops a leading byte-order mark
        else:
            conditions.append(f"typeof({value}) NOT IN ('integer', 'null')")
            if base == "BOOLEAN":
                conditions.append(f"{value} NOT IN (0, 1)")
            elif base in INTEGER_RANGES:
                conditions.append(f"{value} NOT BETWEEN {-INTEGER_RANGES[base]} AND {INTEGER_RANGES[base] - 1}")
    return " OR ".join(f"({condition})" for condition in conditions)


def _text_is_utf8(connection: sqlite3.Connection, types: List[str]) -> bool:
    """Whether every text attribute of the attached slice is valid UTF-8 (QGIS would write the
    replacement character for a byte that is not); Python's decoding tells, in batches."""
    for n, base in enumerate(types):
        if base != "TEXT":
            continue
        cursor = connection.execute(f"SELECT a{n} FROM slice.rows WHERE typeof(a{n}) = 'text'")
        try:
            while cursor.fetchmany(4096):
                pass
        except sqlite3.OperationalError as exc:
            if "decode" in str(exc):
                return False
            raise
    return True


def _invalid_for_qgis(source: SliceSource, first: int, last: int, fids: List[int]) -> bool:
    """Whether QGIS too finds the geometries of ``fids`` invalid (its test: GEOS's isValid,
    after its own reading, which closes an unclosed ring); read only where SpatiaLite found one."""
    from qgis.core import QgsFeatureRequest, QgsVectorLayer

    layer = QgsVectorLayer(slice_uri(source, first, last), "slice", "ogr")
    try:
        request = QgsFeatureRequest().setFilterFids(fids)
        return all(not feature.geometry().isGeosValid() for feature in layer.getFeatures(request))
    finally:
        layer = None  # made in this thread, deleted in it


def _boxes(connection: sqlite3.Connection) -> Any:
    """The fids and boxes (minx, maxx, miny, maxy) of the attached slice's geometries (not those
    of features without one), from their headers' envelopes: two values, not a row each."""
    import numpy as np

    ids, envelopes = connection.execute(
        f"SELECT group_concat(fid), CAST(group_concat(substr(buffered, {HEADER_BYTES + 1}, {ENVELOPE_END - HEADER_BYTES}), "
        "'') AS BLOB) FROM slice.rows WHERE valid != 0 AND NOT was_null AND buffered IS NOT NULL").fetchone()
    if ids is None:
        return np.empty(0, np.int64), np.empty((0, 4))
    return np.array(ids.split(","), np.int64), np.frombuffer(envelopes, "<f8").reshape(-1, 4)


class _Extent:
    """The union of the boxes written: the table's extent, which GDAL keeps in ``gpkg_contents``."""

    def __init__(self) -> None:
        self.box: Optional[Tuple[float, float, float, float]] = None  # min_x, min_y, max_x, max_y

    def add(self, boxes: Any) -> None:
        if len(boxes):
            box = (float(boxes[:, 0].min()), float(boxes[:, 2].min()), float(boxes[:, 1].max()), float(boxes[:, 3].max()))
            self.box = box if self.box is None else (min(self.box[0], box[0]), min(self.box[1], box[1]),
                                                     max(self.box[2], box[2]), max(self.box[3], box[3]))


def _record_contents(path: Any, table: str, extent: _Extent, count: int) -> None:
    """The table's extent and feature count, where GDAL keeps them (``gpkg_contents``, and
    ``gpkg_ogr_contents`` where the file has it), as GDAL records them for native:buffer's output."""
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute("BEGIN")
        if extent.box is not None:
            connection.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? "
                               "WHERE table_name = ?", extent.box + (table,))
        if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
            connection.execute("UPDATE gpkg_ogr_contents SET feature_count = ? WHERE lower(table_name) = lower(?)",
                               (count, table))
        connection.execute("COMMIT")
    finally:
        connection.close()


def _base_type(declared: str) -> str:
    """A column's type without its width: ``TEXT(20)`` → ``TEXT``."""
    return declared.split("(", 1)[0].strip().upper()
