"""A GeoPackage's spatial index, bulk-loaded.

GDAL 3.6 builds a GeoPackage's R-tree when the file is closed, one ``INSERT`` per feature
into SQLite's R*Tree: 1.3 s for 100,000 features here, a third of a whole buffer run.
Packing the tree ourselves (Sort-Tile-Recursive, as GDAL 3.7 and later do) is much
faster. We write the table without an index, then create the same R-tree table, triggers
and extension row GDAL would, and fill the R-tree's node tables directly, in SQLite's own
format (sqlite.org/rtree.html and rtree.c: a node is a 2-byte depth, a 2-byte cell count,
then cells of a 64-bit id and four 32-bit floats, big-endian; minima rounded down, maxima
up). SQLite's ``rtreecheck()`` verifies the tree before it is committed; should it ever
fail, nothing is kept and the caller lets GDAL build the index its own way.

Pure: stdlib and numpy only.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from .gpkg_sql import ENVELOPE_DOUBLES, HEADER_BYTES, geometry_column, primary_key, quoted, read_only

CELL = np.dtype([("id", ">i8"), ("box", ">f4", 4)])  # minx, maxx, miny, maxy
BATCH = 4096  # rows per sqlite3 call or numpy conversion: each holds the GIL, and so QGIS's main thread
ROWS_PER_INSERT = 400  # 800 parameters a statement: under the 999 of SQLite before 3.32
LITTLE_ENDIAN_XY_ENVELOPE = 0b011  # header flags: little-endian, a minx-maxx-miny-maxy envelope, not empty

TRIGGERS = (  # GDAL 3.6's, which follow the GeoPackage specification's (its F.3 extension)
    'CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}" WHEN (new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}")) '
    'BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."{f}",ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),'
    'ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "{r}_update1" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."{f}" = NEW."{f}" AND '
    '(NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW."{f}",'
    'ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "{g}" ON "{t}" WHEN OLD."{f}" = NEW."{f}" AND '
    '(NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id = OLD."{f}"; END',
    'CREATE TRIGGER "{r}_update3" AFTER UPDATE ON "{t}" WHEN OLD."{f}" != NEW."{f}" AND '
    '(NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id = OLD."{f}"; '
    'INSERT OR REPLACE INTO "{r}" VALUES (NEW."{f}",ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),'
    'ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END',
    'CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}" WHEN OLD."{f}" != NEW."{f}" AND '
    '(NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}")) BEGIN DELETE FROM "{r}" WHERE id IN (OLD."{f}", NEW."{f}"); END',
    'CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}" WHEN old."{g}" NOT NULL '
    'BEGIN DELETE FROM "{r}" WHERE id = OLD."{f}"; END',
)


Boxes = Tuple[np.ndarray, np.ndarray]  # ids, and their boxes (minx, maxx, miny, maxy)


def add_spatial_index(path: Path, table: str, boxes: Optional[Boxes] = None) -> bool:
    """Give ``table`` of the GeoPackage at ``path`` (written without one) GDAL's spatial index,
    of ``boxes`` if given (every geometry's, from ``read_boxes``), else of the boxes read now.

    Returns False, having changed nothing, when the packed tree fails SQLite's own check, a
    geometry is not what GDAL writes, or this Python's SQLite lacks what it takes (the R-tree
    module, ``rtreecheck``): the caller then lets GDAL build the index.
    """
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        return _add(connection, table, boxes)
    except sqlite3.Error:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        return False
    finally:
        connection.close()


def read_boxes(path: Path, table: str, after_fid: int) -> Optional[Boxes]:
    """The boxes of ``table``'s geometries whose fid is above ``after_fid`` (to read them as rows
    are added, instead of all at the end); None where ``add_spatial_index`` would give up."""
    try:
        with read_only(path) as connection:
            names = _names(connection, table)
            return None if names is None else _boxes(connection, names, after_fid)
    except sqlite3.Error:
        return None


def _names(connection: sqlite3.Connection, table: str) -> Optional[dict]:
    """The quoted names of the R-tree (r), the table (t), its geometry (g) and fid (f) columns."""
    geometry = geometry_column(connection, table)
    if geometry is None:
        return None
    (fid,) = primary_key(connection, table)
    return {"r": quoted(f"rtree_{table}_{geometry}"), "t": quoted(table), "g": quoted(geometry),
            "f": quoted(fid), "rtree": f"rtree_{table}_{geometry}", "geometry": geometry}


def _add(connection: sqlite3.Connection, table: str, boxes: Optional[Boxes]) -> bool:
    """``add_spatial_index`` on an open connection (``sqlite3.Error`` rolls it back there)."""
    names = _names(connection, table)
    if names is None:
        return False
    if boxes is None:
        boxes = _boxes(connection, names)
    if boxes is None:
        return False
    connection.execute("BEGIN")
    connection.execute(f'CREATE VIRTUAL TABLE "{names["r"]}" USING rtree(id, minx, maxx, miny, maxy)')
    _pack(connection, names["r"], *boxes)
    check = connection.execute("SELECT rtreecheck(?)", (names["rtree"],)).fetchone()[0]
    if check != "ok":
        connection.execute("ROLLBACK")
        return False
    for trigger in TRIGGERS:
        connection.execute(trigger.format(**names))
    connection.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT "
        "NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, "
        "extension_name))")
    connection.execute("INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
                       "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
                       (table, names["geometry"]))
    connection.execute("COMMIT")
    return True


def _boxes(connection: sqlite3.Connection, names: dict, after_fid: int = -2 ** 63) -> Optional[Boxes]:
    """Every non-empty geometry's id and bounding box (minx, maxx, miny, maxy), from the
    GeoPackage geometry header's envelope, or from the point itself when it has none; only
    fids above ``after_fid``. None when a geometry other than a point comes without an
    envelope (GDAL always writes one)."""
    table, column, fid_column = names["t"], names["g"], names["f"]
    rows = f'FROM "{table}" WHERE "{column}" IS NOT NULL AND "{fid_column}" > {int(after_fid)}'
    # One pass over the rows (each substr() reads the whole blob): the header and envelope of
    # each, kept as they are when all are what GDAL writes for lines and polygons.
    cursor = connection.execute(f'SELECT "{fid_column}", substr("{column}", 1, {HEADER_BYTES + 32}) {rows}')
    id_parts, box_parts = [np.empty(0, np.int64)], [np.empty((0, 4))]
    for batch in iter(lambda: cursor.fetchmany(BATCH), []):  # small steps: see BATCH
        heads = b"".join([row[1] for row in batch])
        if len(heads) != len(batch) * (HEADER_BYTES + 32):  # a short geometry (a point): not all envelopes
            return _boxes_one_by_one(connection, names, rows)
        heads = np.frombuffer(heads, np.uint8).reshape(-1, HEADER_BYTES + 32)
        if (heads[:, 3] != LITTLE_ENDIAN_XY_ENVELOPE).any():
            return _boxes_one_by_one(connection, names, rows)
        id_parts.append(np.array([row[0] for row in batch], np.int64))
        box_parts.append(heads[:, HEADER_BYTES:].copy().view("<f8").reshape(-1, 4))
    return np.concatenate(id_parts), np.concatenate(box_parts)


def _boxes_one_by_one(connection: sqlite3.Connection, names: dict, rows: str) -> Optional[Boxes]:
    """``_boxes`` where not every geometry has a little-endian xy envelope: each read in full."""
    fid_column, column = names["f"], names["g"]
    ids: List[int] = []
    boxes: List[Tuple[float, float, float, float]] = []
    for fid, blob in _fetch_all(connection.execute(f'SELECT "{fid_column}", "{column}" {rows}')):
        flags = blob[3]
        if flags & 0x10:  # the empty flag: not in the index
            continue
        doubles = ENVELOPE_DOUBLES.get((flags >> 1) & 0x7)
        if doubles is None:
            return None
        if doubles:
            envelope = np.frombuffer(blob, ("<" if flags & 1 else ">") + "f8", 4, HEADER_BYTES)
        else:  # no envelope: only a point may do without one
            order = "<" if blob[HEADER_BYTES] == 1 else ">"
            kind = int(np.frombuffer(blob, order + "u4", 1, HEADER_BYTES + 1)[0])
            if kind % 1000 != 1:
                return None
            x, y = np.frombuffer(blob, order + "f8", 2, HEADER_BYTES + 5)
            envelope = (x, x, y, y)
        ids.append(fid)
        boxes.append(tuple(envelope))
    return np.asarray(ids, np.int64), np.asarray(boxes, np.float64).reshape(-1, 4)


def _float32_outward(boxes: np.ndarray) -> np.ndarray:
    """Boxes as SQLite's R-tree stores them: float32, minima rounded down and maxima up."""
    rounded = boxes.astype(np.float32)
    for column in (0, 2):
        too_high = rounded[:, column] > boxes[:, column]
        rounded[too_high, column] = np.nextafter(rounded[too_high, column], np.float32(-np.inf))
    for column in (1, 3):
        too_low = rounded[:, column] < boxes[:, column]
        rounded[too_low, column] = np.nextafter(rounded[too_low, column], np.float32(np.inf))
    return rounded


def _str_order(boxes: np.ndarray, capacity: int) -> np.ndarray:
    """Sort-Tile-Recursive: vertical slices by centre x, each sorted by centre y, so that each
    run of ``capacity`` entries is a compact tile."""
    nodes = -(-len(boxes) // capacity)
    slice_length = int(np.ceil(np.sqrt(nodes))) * capacity
    centre_x = boxes[:, 0] + boxes[:, 1]
    centre_y = boxes[:, 2] + boxes[:, 3]
    by_x = np.argsort(centre_x, kind="stable")
    slices = [by_x[start:start + slice_length] for start in range(0, len(by_x), slice_length)]
    return np.concatenate([part[np.argsort(centre_y[part], kind="stable")] for part in slices])


def _pack(connection: sqlite3.Connection, rtree: str, ids: np.ndarray, boxes: np.ndarray) -> None:
    """Fill the new, empty R-tree's node, rowid and parent tables with a packed tree, level
    by level from the leaves; the root is node 1 and holds the tree's depth."""
    node_bytes = connection.execute(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1').fetchone()[0]
    capacity = (node_bytes - 4) // CELL.itemsize
    if len(ids) == 0:
        return
    level_ids, level_boxes = ids, _float32_outward(boxes)
    nodes: Tuple[List[int], List[bytes]] = ([], [])  # numbers, contents
    links = {"rowid": [], "parent": []}  # leaf entries → their node; nodes → their parent
    depth, next_number = 0, 2
    while True:
        order = _str_order(level_boxes, capacity)
        cells = np.empty(len(order), CELL)
        box = level_boxes[order]
        cells["id"], cells["box"] = level_ids[order], box
        count = -(-len(cells) // capacity)
        is_root = count == 1
        numbers = np.array([1]) if is_root else np.arange(next_number, next_number + count)
        next_number += count
        links["rowid" if depth == 0 else "parent"].append(
            np.column_stack([cells["id"], np.repeat(numbers, capacity)[:len(cells)]]))
        starts = np.arange(0, len(cells), capacity)  # each node's box: its cells' minima and maxima
        above = np.column_stack([np.minimum.reduceat(box[:, 0], starts), np.maximum.reduceat(box[:, 1], starts),
                                 np.minimum.reduceat(box[:, 2], starts), np.maximum.reduceat(box[:, 3], starts)])
        nodes[0].extend(numbers.tolist())
        nodes[1].extend(_node_blobs(cells, capacity, node_bytes, depth if is_root else 0))
        if is_root:
            break
        level_ids, level_boxes = numbers.astype(np.int64), above
        depth += 1
    connection.execute(f'DELETE FROM "{rtree}_node"')  # the empty root SQLite made
    columns = {"node": nodes, **{name: _sorted_pairs(parts) for name, parts in links.items()}}
    for table, (keys, values) in columns.items():
        _insert_pairs(connection, f"{rtree}_{table}", keys, values)


def _node_blobs(cells: np.ndarray, capacity: int, node_bytes: int, depth: int) -> List[bytes]:
    """The nodes holding ``cells`` in order, ``capacity`` each: a 2-byte depth (the root's; 0
    elsewhere), a 2-byte cell count, the cells, zeros to ``node_bytes``. Made about BATCH cells
    at a time: the array beside the blobs stays small however large the level."""
    step = max(1, BATCH // capacity) * capacity
    return [blob for start in range(0, len(cells), step)
            for blob in _some_node_blobs(cells[start:start + step], capacity, node_bytes, depth)]


def _some_node_blobs(cells: np.ndarray, capacity: int, node_bytes: int, depth: int) -> List[bytes]:
    """``_node_blobs`` of some of a level's cells: whole nodes, but for the level's last."""
    count = -(-len(cells) // capacity)
    blobs = np.zeros((count, node_bytes), np.uint8)
    header = np.empty((count, 2), ">u2")
    header[:, 0] = depth
    header[:, 1] = capacity
    header[-1, 1] = len(cells) - (count - 1) * capacity
    blobs[:, :4] = header.view(np.uint8).reshape(count, 4)
    body = np.zeros(count * capacity, CELL)
    body[:len(cells)] = cells
    blobs[:, 4:4 + capacity * CELL.itemsize] = body.view(np.uint8).reshape(count, -1)
    return [blob.tobytes() for blob in blobs]


def _insert_pairs(connection: sqlite3.Connection, table: str, keys: list, values: list) -> None:
    """Insert (key, value) rows, ``ROWS_PER_INSERT`` in each statement: a row a statement cost
    three times as much (127 of the 206 ms that packing 100,000 boxes took), most of it the
    sqlite3 module's work per statement."""
    def rows(first: int, last: int) -> list:
        flat = [None] * (2 * (last - first))
        flat[::2], flat[1::2] = keys[first:last], values[first:last]
        return flat

    whole = len(keys) - len(keys) % ROWS_PER_INSERT
    insert = f'INSERT INTO "{table}" VALUES ' + ", ".join(["(?, ?)"] * ROWS_PER_INSERT)
    firsts = range(0, whole, ROWS_PER_INSERT)
    per_call = max(1, BATCH // ROWS_PER_INSERT)  # about BATCH rows a call: see BATCH
    for start in range(0, len(firsts), per_call):
        connection.executemany(insert, (rows(first, first + ROWS_PER_INSERT) for first in firsts[start:start + per_call]))
    if whole < len(keys):
        connection.execute(f'INSERT INTO "{table}" VALUES ' + ", ".join(["(?, ?)"] * (len(keys) - whole)),
                           rows(whole, len(keys)))


def _sorted_pairs(parts: List[np.ndarray]) -> Tuple[list, list]:
    """(key, value) rows sorted by key (SQLite appends them to its b-tree instead of inserting), as
    two lists of ints: a list per row (100,000 of them, alive until inserted) made Python's
    collector run a full pass over every object of QGIS's process, holding the GIL 25-30 ms."""
    if not parts:
        return [], []
    pairs = np.concatenate(parts)
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    return pairs[:, 0].tolist(), pairs[:, 1].tolist()


def _fetch_all(cursor: sqlite3.Cursor) -> list:
    """All rows, fetched in batches: one call for 100,000 rows would hold the GIL (and so
    QGIS's main thread) for a tenth of a second."""
    rows: list = []
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            return rows
        rows.extend(batch)
