"""Offline tile packages: GeoPackage tiles and MBTiles, holding each tile's bytes as served.

A tile is never decoded or re-encoded: ``put()`` stores the body the server sent, after
checking from its header and end alone that it is a whole image of the package's format
and tile size.
Rows are written in SQLite transactions committed every ``BATCH_TILES`` tiles (or
``BATCH_S`` seconds), so whatever is killed when, the file holds whole tiles only: a kill
loses at most the last uncommitted batch, which SQLite's journal rolls back on the next open.

Both formats are Web Mercator pyramids on the XYZ grid, one row per tile:

- GeoPackage 1.2 tiles: ``gpkg_spatial_ref_sys`` (with EPSG:3857), ``gpkg_contents``
  (bounds, which GDAL uses as the raster's extent), ``gpkg_tile_matrix_set`` covering the
  Web Mercator world (GoogleMapsCompatible), one ``gpkg_tile_matrix`` row per zoom level,
  the ``tiles`` table (rows counted from the top, as XYZ). GDAL opens it as one raster at
  the finest zoom that holds a tile; the coarser levels of ``gpkg_tile_matrix`` are its
  overviews. Name, attribution and source also go into ``gpkg_metadata`` as GDAL metadata,
  so ``gdalinfo`` and QGIS show them.
- MBTiles 1.3: ``metadata`` (name, format, bounds, center, minzoom, maxzoom, attribution,
  type, and ``offload_source``) and ``tiles`` with TMS rows (counted from the bottom) under a
  unique index.

Tiles that were never given are absent: a package is sparse, never padded with blanks.
Reopening a package reports the tiles it holds (``holds()``), so a rerun fetches only
what is missing; a package of another format, CRS or tile size is refused, and so is one that
says its tiles come from another URL template (its query values hidden: a new key is the same
source), so that no package mixes two sources' tiles.

``PackageSink`` is the download engine's way in: the same package, written on a thread
of its own.

Plain ``sqlite3`` (the stdlib) and ``osr`` for the CRS definitions; no Qt.
"""
from __future__ import annotations

import hashlib
import html
import math
import re
import sqlite3
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Optional, Set, Tuple
from urllib.parse import urlsplit

from osgeo import osr

from ..core.errors import InputError, TaskFailed, shown
from ..core.gpkg_tables import listed_layers, user_tables
from ..core.ordered_writer import OrderedWriter
from .image_size import image_size
from .redact import redact_url
from .tiles import (
    MAX_ZOOM, ORIGIN_M, TILE_PX, Tile, lonlat_to_mercator, pixel_size_m, range_bounds, tile_bounds, tms_row,
)

PACKAGE_KINDS = ("GPKG", "MBTiles")
TILE_FORMATS = ("png", "jpg", "webp")
TILE_TABLE = "tiles"  # GeoPackage's tile table: one per package, so GDAL needs no TABLE option
BATCH_TILES = 256  # rows per transaction: ~6 MB of imagery, one journal sync per batch
BATCH_S = 2.0  # and at least this often, so a slow download loses at most a moment's tiles to a kill

GPKG_APPLICATION_ID = 0x47504B47  # 'GPKG'
GPKG_USER_VERSION = 10200  # GeoPackage 1.2
MBTILES_APPLICATION_ID = 0x4D504258  # 'MPBX', as GDAL and Mapbox's tools write it
_GDAL_METADATA_URI = "http://gdal.org"  # GDAL reads gpkg_metadata rows of this standard as its own metadata
_WEBP_DEFINITION = "http://www.geopackage.org/spec120/#extension_tiles_webp"
_METADATA_DEFINITION = "http://www.geopackage.org/spec120/#extension_metadata"
SOURCE_KEY = {"GPKG": "OFFLOAD_SOURCE", "MBTiles": "offload_source"}  # where a package says its source
SOURCE_ID_KEY = {"GPKG": "OFFLOAD_SOURCE_ID", "MBTiles": "offload_source_id"}  # and its digest (source_id)
SOURCE_ID_ROUNDS = 20_000  # PBKDF2's: each guess at a key hidden in the path costs as many hashes
_METADATA_READ = 1 << 20  # characters of a package's GDAL metadata read for its source: bounded


@dataclass(frozen=True)
class PackageMeta:
    """What a package says about itself.

    ``bounds_m`` is the covered area in Web Mercator metres (usually the tile range's
    bounds at the finest zoom); MBTiles gets it as longitudes and latitudes.
    ``tile_format`` is png, jpg or webp; None takes it from the first tile stored.
    """

    name: str
    bounds_m: Tuple[float, float, float, float]
    zoom_min: int
    zoom_max: int
    attribution: str = ""
    description: str = ""
    tile_format: Optional[str] = None
    tile_px: int = TILE_PX
    layer_type: str = "baselayer"  # MBTiles' type: baselayer or overlay
    source: str = ""  # the tiles' URL template, its secrets hidden (redact_url); "" when not known
    source_id: str = ""  # source_id() of the template: tells apart sources that differ where source hides


def check_meta(meta: PackageMeta) -> None:
    """:raises InputError: naming the first bad value."""
    if not 0 <= meta.zoom_min <= meta.zoom_max <= MAX_ZOOM:
        raise InputError(f"zoom range {meta.zoom_min}-{meta.zoom_max} is not within 0-{MAX_ZOOM}")
    x_min, y_min, x_max, y_max = meta.bounds_m
    if not (-ORIGIN_M <= x_min < x_max <= ORIGIN_M and -ORIGIN_M <= y_min < y_max <= ORIGIN_M):
        raise InputError(f"package bounds {tuple(meta.bounds_m)} are not XMIN,YMIN,XMAX,YMAX in the Web Mercator world")
    if meta.tile_format is not None and meta.tile_format not in TILE_FORMATS:
        raise InputError(f"tile format {meta.tile_format!r} is not one of {', '.join(TILE_FORMATS)}")
    if meta.tile_px not in (256, 512):
        raise InputError(f"tile size {meta.tile_px} px is not 256 or 512")
    if meta.layer_type not in ("baselayer", "overlay"):
        raise InputError(f"layer type {meta.layer_type!r} is not baselayer or overlay")


def tile_format(data: bytes) -> Optional[str]:
    """png, jpg or webp from an image's magic number; None for anything else (an error page, say)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last 8 bytes of every PNG


def is_complete(data: bytes, found: str) -> bool:
    """Whether an image of format ``found`` ends where its format says it ends (never decoded):
    PNG's IEND chunk, JPEG's end-of-image marker, WebP's RIFF length."""
    if found == "png":
        return data.endswith(PNG_END)
    if found == "jpg":
        return data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9")  # some servers pad a JPEG after its end
    return len(data) >= 12 and int.from_bytes(data[4:8], "little") + 8 <= len(data)


def tile_problem(data: bytes, tile_px: int) -> Optional[str]:
    """Why ``data`` cannot be stored as a tile of ``tile_px`` pixels (None when it can).

    The download can call it on a worker thread to retry a tile whose body came truncated;
    ``put()`` calls it again, so a package never holds one.
    """
    found = tile_format(data)
    if found is None:
        return "is not a PNG, JPEG or WebP image"
    if not is_complete(data, found):
        return f"is a truncated {found} image ({len(data)} bytes)"
    size = image_size(data)
    if size is not None and size != (tile_px, tile_px):
        return f"is {size[0]}x{size[1]} pixels, but the package's tiles are {tile_px}x{tile_px}"
    return None


def mercator_to_lonlat(x_m: float, y_m: float) -> Tuple[float, float]:
    """Web Mercator metres to degrees (the inverse of ``tiles.lonlat_to_mercator``)."""
    lon = x_m / ORIGIN_M * 180.0
    lat = math.degrees(math.atan(math.sinh(y_m / ORIGIN_M * math.pi)))
    return lon, lat


def open_package(path: Path, kind: str, meta: PackageMeta) -> "TilePackage":
    """Create the package at ``path``, or reopen it to add tiles (resume).

    Reopening keeps what the package holds, and its metadata until tiles are stored: each
    commit widens the zoom range and bounds to cover the tiles it stores (within ``meta``'s
    bounds), and nothing else the package says (MBTiles' name, description …) changes. It
    refuses a package of another kind, CRS, tile size or tile format, and an MBTiles whose
    ``tiles`` is a view.

    :raises InputError: for bad metadata, or a file that is not a package this could extend.
    """
    if kind not in PACKAGE_KINDS:
        raise InputError(f"package format {kind!r} is not one of {', '.join(PACKAGE_KINDS)}")
    check_meta(meta)
    path = Path(path)
    existed = path.exists()
    if path.is_dir() or (existed and not _is_sqlite(path)):
        raise InputError(f"{path} exists and is not a SQLite file, so not a {kind} package to add tiles to")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} of package {path.name} does not exist")
    connection = None
    try:
        connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.execute("PRAGMA synchronous = NORMAL")  # a killed process loses nothing committed
        package = (_GeoPackage if kind == "GPKG" else _MBTiles)(path, connection, meta)
        package._prepare()
        return package
    except BaseException as exc:
        if connection is not None:
            connection.close()
        if not existed:  # refused before any tile: leave no file behind
            for leftover in (path, path.with_name(path.name + "-journal")):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise InputError(f"{path} is being written by another process") from None
        if isinstance(exc, sqlite3.DatabaseError):
            raise InputError(f"{path} is not a {kind} package this can add tiles to: {exc}") from None
        raise


def check_existing_output(path: Path, kind: str, meta: PackageMeta, overwrite: bool) -> bool:
    """Whether a run adds to the package at ``path`` in place; refuse, before any work, a file no run may write.

    Without ``overwrite`` an existing file must be a package this could add to. With it, a
    database holding anything but this package's own tables (a GeoPackage's vector or raster
    layers, another application's tables) is never replaced: those would be lost. What is the
    package's own is read from the file (``gpkg_contents``, the tile matrix set, MBTiles'
    schema), never from a table's name alone; for a mosaic (``kind`` GTiff or COG) nothing is.
    A replacing run checks again right before it publishes (``tile_task.run_checked``).

    :raises InputError: naming the file, and the layers that would be lost.
    """
    path = Path(path)
    if not path.is_file():
        return False
    mosaic = kind not in PACKAGE_KINDS  # never added to: an existing one is refused, or replaced
    if not _is_sqlite(path):
        if overwrite or mosaic:
            return False
        raise InputError(f"{path} exists and is not a SQLite file, so not a {kind} package to add tiles to")
    if mosaic and not overwrite:
        return False
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.execute("PRAGMA query_only = 1")  # a check: nothing in the file changes
        package = (_GeoPackage if kind == "GPKG" else _MBTiles)(path, connection, meta)
        others = user_tables(connection) if mosaic else package.foreign_tables()  # everything, for a mosaic
        if overwrite and others:
            raise InputError(f"output {str(path)!r} holds other layers ({', '.join(others)}) that replacing it "
                             f"would delete; write the tiles to another file")
        if not overwrite and not package._is_empty():
            package._check()
        return not overwrite
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path} is not a {kind} package this can add tiles to: {exc}") from None
    finally:
        connection.close()


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(16)
    return head == b"" or head == b"SQLite format 3\x00"


class TilePackage:
    """An open package: ``put()`` tiles, then ``close()``. Use from one thread at a time.

    Also a context manager: leaving the block closes it, keeping every whole tile stored
    (they are valid tiles a rerun need not fetch again).
    """

    kind = ""

    def __init__(self, path: Path, connection: sqlite3.Connection, meta: PackageMeta) -> None:
        self.path = path
        self.meta = meta
        self._db = connection
        self._in_batch = 0
        self._batch_started = 0.0
        self._zooms = set(range(meta.zoom_min, meta.zoom_max + 1))  # widened by what a reopened package has
        # What the package's metadata says it covers, and what the tiles put since the last commit add:
        # a resumed package's metadata is widened in the transaction that stores the tiles, never before.
        self._covered: Optional[Tuple[float, float, float, float]] = None
        self._covered_zooms: Set[int] = set()
        self._landed: Optional[Tuple[float, float, float, float]] = None
        self._landed_zooms: Set[int] = set()

    # -- the public side --------------------------------------------------------------------

    def holds(self) -> Set[Tile]:
        """Every tile the package holds, at any zoom."""
        return set(self._stored())

    def put(self, tile: Tile, data: bytes) -> None:
        """Store a tile's bytes as they are (replacing any it held).

        :raises TaskFailed: when the bytes are not a whole image of the package's format and
            tile size, or the tile is outside the package's zoom levels.
        """
        where = f"tile {tile.z}/{tile.x}/{tile.y}"
        problem = tile_problem(data, self.meta.tile_px)
        if problem is not None:
            raise TaskFailed(f"{where} {problem}")
        found = tile_format(data)
        if found != (self.meta.tile_format or found):
            raise TaskFailed(f"{where} is {found}, but the package holds {self.meta.tile_format} tiles")
        if tile.z not in self._zooms:
            raise TaskFailed(f"{where} is outside the package's zoom levels {min(self._zooms)}-{max(self._zooms)}")
        if self._in_batch == 0:
            self._db.execute("BEGIN IMMEDIATE")
            self._batch_started = time.monotonic()
        if self.meta.tile_format is None:  # the first tile decides, in the same transaction as its row
            self.meta = replace(self.meta, tile_format=found)
            self._record_format(found)
        self._insert(tile, data)
        self._note_landed(tile)
        self._in_batch += 1
        if self._in_batch >= BATCH_TILES or time.monotonic() - self._batch_started >= BATCH_S:
            self.commit()

    def get(self, tile: Tile) -> Optional[bytes]:
        """A stored tile's bytes, or None."""
        row = self._db.execute(self._select_one, self._key(tile)).fetchone()
        return bytes(row[0]) if row else None

    def commit(self) -> None:
        """Make every tile put so far durable, with the metadata widened to cover them."""
        if self._in_batch:
            if self._landed is not None or self._landed_zooms:
                self._widen()
                if self._landed is not None:
                    self._covered = self._landed if self._covered is None else _union(self._covered, self._landed)
                self._covered_zooms |= self._landed_zooms
                self._landed, self._landed_zooms = None, set()
            self._db.execute("COMMIT")
            self._in_batch = 0

    def close(self) -> None:
        """Commit and close (idempotent)."""
        if self._db is None:
            return
        try:
            self.commit()
        finally:
            self._db.close()
            self._db = None

    def discard(self) -> None:
        """Drop the tiles put since the last commit, and close."""
        if self._db is None:
            return
        try:
            if self._in_batch:
                self._db.execute("ROLLBACK")
                self._in_batch = 0
                self._landed, self._landed_zooms = None, set()
        finally:
            self._db.close()
            self._db = None

    def __enter__(self) -> "TilePackage":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- what each format fills in ------------------------------------------------------------

    _select_one = ""

    def _prepare(self) -> None:
        """Create the schema, or check and widen an existing one, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._is_empty():
                self._create()
            else:
                self._check()
            self._read_coverage()
            self._zooms |= self._covered_zooms
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _is_empty(self) -> bool:
        return self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0

    def foreign_tables(self) -> List[str]:
        """The tables a run writing this package must not delete: everything not the package's own."""
        raise NotImplementedError

    def _note_landed(self, tile: Tile) -> None:
        """Count a stored tile into what the metadata must cover: its zoom, and its area within the
        request's bounds (a coarser zoom's tile reaches past them)."""
        if tile.z not in self._covered_zooms:
            self._landed_zooms.add(tile.z)
        area = _intersection(tile_bounds(tile), self.meta.bounds_m)
        if area is not None and not _within(area, self._covered):
            self._landed = area if self._landed is None else _union(self._landed, area)

    def _refuse(self, why: str) -> None:
        raise InputError(f"{self.path} cannot take these tiles: {why}")

    def _agreed_source(self, stored: Optional[str], stored_id: Optional[str]) -> None:
        """Refuse a package that says its tiles come from another source than this run's."""
        if not stored or not self.meta.source:
            return
        stored = redact_url(stored)  # hidden as this version hides it: an older one left keys in the path
        if _server_of(stored) != _server_of(self.meta.source):
            self._refuse(f"its tiles come from {shown(stored)}, not {self.meta.source}; write these to another "
                         f"file, or replace it")
        if stored_id and self.meta.source_id and stored_id != self.meta.source_id:  # a digest, no secret
            self._refuse(f"its tiles come from {shown(stored)}, which differs from this run's where it is hidden "
                         f"(another layer's id, or another key, in the path); write these to another file, or "
                         f"replace it")

    def _agreed_format(self, stored: Optional[str]) -> None:
        """Refuse a package of another tile format; take its format when ours is open."""
        if stored is not None and self.meta.tile_format not in (None, stored):
            self._refuse(f"it holds {stored} tiles, not {self.meta.tile_format}")
        if stored is not None:
            self.meta = replace(self.meta, tile_format=stored)

    def _create(self) -> None:
        raise NotImplementedError

    def _check(self) -> None:
        """Refuse an existing package this run could not add to (reads only)."""
        raise NotImplementedError

    def _read_coverage(self) -> None:
        """Set ``_covered`` and ``_covered_zooms`` from an existing package's metadata."""
        raise NotImplementedError

    def _widen(self) -> None:
        """Widen the metadata to cover ``_landed`` and ``_landed_zooms``, inside the open transaction."""
        raise NotImplementedError

    def _record_format(self, found: str) -> None:
        raise NotImplementedError

    def _insert(self, tile: Tile, data: bytes) -> None:
        raise NotImplementedError

    def _key(self, tile: Tile) -> Tuple[int, int, int]:
        raise NotImplementedError

    def _stored(self) -> Iterator[Tile]:
        raise NotImplementedError


@lru_cache(maxsize=8)  # a run asks for it two or three times (its checks, then its package)
def source_id(template: str) -> str:
    """A digest of a template as ``_server_of`` compares it, its path whole: two layers' ids (or
    keys) in the path that the shown source hides alike differ here. Query values stay hidden (a
    new key is the same source), and the digest gives no key back (PBKDF2, SOURCE_ID_ROUNDS)."""
    compared = "\n".join(_server_of(redact_url(template, keep_path=True))).encode("utf-8")
    return "pbkdf2-sha256:" + hashlib.pbkdf2_hmac("sha256", compared, b"offload tile source", SOURCE_ID_ROUNDS).hex()


def _server_of(source: str) -> Tuple[str, ...]:
    """What tells two sources apart: the template but for what names one server several ways
    (http or https, the host's case and trailing dot, the scheme's default port, and a first
    label ``{s}``, or of one letter before three more, which shards the host: OpenStreetMap's
    ``{s}.tile.openstreetmap.org`` is ``tile.openstreetmap.org``)."""
    try:
        parts = urlsplit(source)
        port = parts.port
    except ValueError:
        return (source,)
    labels = (parts.hostname or "").rstrip(".").split(".")
    if not labels[-1].isdigit() and (labels[0] == "{s}" and len(labels) > 2 or len(labels[0]) == 1 and len(labels) > 3):
        labels = labels[1:]  # an IP address keeps its first number
    if (parts.scheme, port) in (("http", 80), ("https", 443)):
        port = None
    scheme = "web" if parts.scheme in ("http", "https") else parts.scheme
    return scheme, ".".join(labels), "" if port is None else str(port), parts.path, parts.query


def _wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def _union(a: Tuple[float, ...], b: Tuple[float, ...]) -> Tuple[float, float, float, float]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _intersection(a: Tuple[float, ...], b: Tuple[float, ...]) -> Optional[Tuple[float, float, float, float]]:
    x_min, y_min, x_max, y_max = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x_min, y_min, x_max, y_max) if x_min < x_max and y_min < y_max else None


def _within(inner: Tuple[float, ...], outer: Optional[Tuple[float, ...]], tolerance_m: float = 1e-3) -> bool:
    """Whether ``outer`` holds ``inner`` (to a millimetre: bounds stored in degrees come back a hair off)."""
    return outer is not None and (outer[0] - tolerance_m <= inner[0] and outer[1] - tolerance_m <= inner[1]
                                  and inner[2] <= outer[2] + tolerance_m and inner[3] <= outer[3] + tolerance_m)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class _GeoPackage(TilePackage):
    kind = "GPKG"
    _select_one = f"SELECT tile_data FROM {TILE_TABLE} WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"

    def _create(self) -> None:
        db, meta = self._db, self.meta
        db.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        db.execute("""CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""")
        db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _wkt(4326), "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
            ("WGS 84 / Pseudo-Mercator", 3857, "EPSG", 3857, _wkt(3857), "Web Mercator, as XYZ tile servers use it"),
        ])
        db.execute("""CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""")
        db.execute("""CREATE TABLE gpkg_tile_matrix_set (
            table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL,
            min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL,
            CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""")
        db.execute("""CREATE TABLE gpkg_tile_matrix (
            table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL,
            matrix_width INTEGER NOT NULL, matrix_height INTEGER NOT NULL,
            tile_width INTEGER NOT NULL, tile_height INTEGER NOT NULL,
            pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
            CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
            CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name))""")
        db.execute("""CREATE TABLE gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
            scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""")
        db.execute(f"""CREATE TABLE {TILE_TABLE} (
            id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL,
            tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL,
            UNIQUE (zoom_level, tile_column, tile_row))""")
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                   "min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'tiles', ?, ?, ?, ?, ?, ?, 3857)",
                   (TILE_TABLE, meta.name, meta.description, *meta.bounds_m))
        db.execute("INSERT INTO gpkg_tile_matrix_set VALUES (?, 3857, ?, ?, ?, ?)",
                   (TILE_TABLE, -ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M))
        self._add_zoom_levels()
        self._write_gdal_metadata()
        if meta.tile_format is not None:
            self._record_format(meta.tile_format)

    def _add_zoom_levels(self) -> None:
        """One tile matrix per zoom of the range: GDAL's overviews are the levels below the finest."""
        size = self.meta.tile_px
        self._db.executemany(
            "INSERT OR IGNORE INTO gpkg_tile_matrix VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(TILE_TABLE, z, 2 ** z, 2 ** z, size, size, pixel_size_m(z, size), pixel_size_m(z, size))
             for z in range(self.meta.zoom_min, self.meta.zoom_max + 1)])

    def _write_gdal_metadata(self) -> None:
        """Name and attribution as GDAL metadata of the tile table (gpkg_metadata extension)."""
        items = [("NAME", self.meta.name)] + ([("ATTRIBUTION", self.meta.attribution)] if self.meta.attribution else [])
        items += [(SOURCE_KEY["GPKG"], self.meta.source)] if self.meta.source else []
        items += [(SOURCE_ID_KEY["GPKG"], self.meta.source_id)] if self.meta.source_id else []
        xml = "<GDALMultiDomainMetadata><Metadata>" + "".join(
            f'<MDI key="{key}">{_xml_escape(value)}</MDI>' for key, value in items) + "</Metadata></GDALMultiDomainMetadata>"
        db = self._db
        db.execute("""CREATE TABLE gpkg_metadata (
            id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, md_scope TEXT NOT NULL DEFAULT 'dataset',
            md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml',
            metadata TEXT NOT NULL DEFAULT '')""")
        db.execute("""CREATE TABLE gpkg_metadata_reference (
            reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT, row_id_value INTEGER,
            timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
            CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
            CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))""")
        db.executemany("INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
                       [("gpkg_metadata", _METADATA_DEFINITION), ("gpkg_metadata_reference", _METADATA_DEFINITION)])
        md_id = db.execute("INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                           "VALUES ('dataset', ?, 'text/xml', ?)", (_GDAL_METADATA_URI, xml)).lastrowid
        db.execute("INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
                   "VALUES ('table', ?, ?)", (TILE_TABLE, md_id))

    def _record_format(self, found: str) -> None:
        if found == "webp":  # PNG and JPEG are GeoPackage's own; WebP is an extension
            self._db.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, 'tile_data', 'gpkg_webp', ?, 'read-write')",
                             (TILE_TABLE, _WEBP_DEFINITION))

    def foreign_tables(self) -> List[str]:
        """Every user table but the package's own tiles: a table named ``tiles`` is this package's
        only when gpkg_contents lists it as tiles on the Web Mercator world's matrix set."""
        own = TILE_TABLE if self._tile_matrix_problem() is None else None
        return [name for name in user_tables(self._db) if name != own]

    def _tile_matrix_problem(self) -> Optional[str]:
        """Why the ``tiles`` table is not a Web Mercator tile pyramid as this package writes (None if it is)."""
        if listed_layers(self._db).get(TILE_TABLE) != "tiles":
            return f"it has no tile table {TILE_TABLE!r}"
        row = self._db.execute("SELECT srs_id, min_x, min_y, max_x, max_y FROM gpkg_tile_matrix_set "
                               "WHERE table_name = ?", (TILE_TABLE,)).fetchone()
        if row is None:
            return f"it has no tile matrix set for {TILE_TABLE!r}"
        if row[0] != 3857 or any(abs(abs(v) - ORIGIN_M) > 1e-3 for v in row[1:5]):
            return f"its tile matrix set is not the Web Mercator world (EPSG:{row[0]})"
        return None

    def _check(self) -> None:
        db = self._db
        others = self.foreign_tables()
        if others and TILE_TABLE not in user_tables(self._db):
            self._refuse(f"it has no tile table {TILE_TABLE!r}, only other layers ({', '.join(others)}); "
                         f"write the tiles to another file")
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        if application_id != GPKG_APPLICATION_ID:
            self._refuse("it is not a GeoPackage (its application_id is not 'GPKG')")
        problem = self._tile_matrix_problem()
        if problem is not None:
            self._refuse(problem)
        sizes = {r for r in db.execute("SELECT tile_width, tile_height FROM gpkg_tile_matrix WHERE table_name = ?",
                                       (TILE_TABLE,))}
        if sizes - {(self.meta.tile_px, self.meta.tile_px)}:
            self._refuse(f"its tiles are {sorted(sizes)[0][0]} px, not {self.meta.tile_px}")
        first = db.execute(f"SELECT tile_data FROM {TILE_TABLE} LIMIT 1").fetchone()
        self._agreed_format(tile_format(bytes(first[0])) if first else None)
        self._agreed_source(self._stored_item(SOURCE_KEY["GPKG"]), self._stored_item(SOURCE_ID_KEY["GPKG"]))

    def _stored_item(self, key: str) -> Optional[str]:
        """An item of the tile table's GDAL metadata (as this module writes it), if any."""
        try:
            item = f'<MDI key="{key}">'
            row = self._db.execute(  # one row, from the item on, bounded: the file may be anybody's
                "SELECT substr(m.metadata, instr(m.metadata, ?), ?) FROM gpkg_metadata m JOIN "
                "gpkg_metadata_reference r ON r.md_file_id = m.id WHERE r.table_name = ? AND m.md_standard_uri = ? "
                "AND instr(m.metadata, ?) > 0 LIMIT 1",
                (item, _METADATA_READ, TILE_TABLE, _GDAL_METADATA_URI, item)).fetchone()
        except sqlite3.OperationalError:  # no metadata tables: a package made by another tool
            return None
        found = re.match(f'{re.escape(item)}([^<]*)</MDI>', str(row[0])) if row else None  # a pattern, not XML
        return html.unescape(found.group(1)) if found else None

    def _read_coverage(self) -> None:
        db = self._db
        bounds = db.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                            (TILE_TABLE,)).fetchone()
        self._covered = None if None in bounds else tuple(bounds)
        self._covered_zooms = {z for (z,) in db.execute("SELECT zoom_level FROM gpkg_tile_matrix WHERE table_name = ?",
                                                         (TILE_TABLE,))}

    def _widen(self) -> None:
        size = self.meta.tile_px
        self._db.executemany(
            "INSERT OR IGNORE INTO gpkg_tile_matrix VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(TILE_TABLE, z, 2 ** z, 2 ** z, size, size, pixel_size_m(z, size), pixel_size_m(z, size))
             for z in sorted(self._landed_zooms)])
        if self._landed is not None:
            bounds = self._landed if self._covered is None else _union(self._covered, self._landed)
            self._db.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                             "last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
                             (*bounds, TILE_TABLE))

    def _insert(self, tile: Tile, data: bytes) -> None:
        self._db.execute(f"INSERT OR REPLACE INTO {TILE_TABLE} (zoom_level, tile_column, tile_row, tile_data) "
                         "VALUES (?, ?, ?, ?)", (*self._key(tile), sqlite3.Binary(data)))

    def _key(self, tile: Tile) -> Tuple[int, int, int]:
        return tile.z, tile.x, tile.y  # GeoPackage counts rows from the top, as XYZ does

    def _stored(self) -> Iterator[Tile]:
        for z, x, y in self._db.execute(f"SELECT zoom_level, tile_column, tile_row FROM {TILE_TABLE}"):
            yield Tile(x, y, z)


class _MBTiles(TilePackage):
    kind = "MBTiles"
    _select_one = "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?"

    def _create(self) -> None:
        db = self._db
        db.execute(f"PRAGMA application_id = {MBTILES_APPLICATION_ID}")
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE UNIQUE INDEX metadata_name ON metadata (name)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        self._write_metadata(self.meta.bounds_m)

    def _write_metadata(self, bounds_m: Tuple[float, float, float, float]) -> None:
        meta = self.meta
        west, south = mercator_to_lonlat(bounds_m[0], bounds_m[1])
        east, north = mercator_to_lonlat(bounds_m[2], bounds_m[3])
        values = {
            "name": meta.name,
            "type": meta.layer_type,
            "version": "1.3",
            "description": meta.description,
            "bounds": f"{west!r},{south!r},{east!r},{north!r}",
            "center": f"{(west + east) / 2!r},{(south + north) / 2!r},{(meta.zoom_min + meta.zoom_max) // 2}",
            "minzoom": str(meta.zoom_min),
            "maxzoom": str(meta.zoom_max),
        }
        if meta.attribution:
            values["attribution"] = meta.attribution
        if meta.source:
            values[SOURCE_KEY["MBTiles"]] = meta.source
        if meta.source_id:
            values[SOURCE_ID_KEY["MBTiles"]] = meta.source_id
        if meta.tile_format is not None:
            values["format"] = meta.tile_format
        self._db.executemany("INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)", values.items())

    def _record_format(self, found: str) -> None:
        self._set_metadata("format", found)

    def foreign_tables(self) -> List[str]:
        """Nothing when the file has MBTiles' schema and is no GeoPackage (an MBTiles file is all
        the tileset's); else every user table."""
        tables = user_tables(self._db)
        if listed_layers(self._db) or not {"metadata", "tiles"} <= set(tables):
            return tables
        columns = {table: {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                   for table in ("metadata", "tiles")}
        if {"name", "value"} <= columns["metadata"] and \
                {"zoom_level", "tile_column", "tile_row", "tile_data"} <= columns["tiles"]:
            return []
        return tables

    def _check(self) -> None:
        db = self._db
        others = self.foreign_tables()
        if others:
            self._refuse(f"it is not an MBTiles file (no metadata and tiles tables; it holds {', '.join(others)})")
        if db.execute("SELECT type FROM sqlite_master WHERE name = 'tiles'").fetchone()[0] == "view":
            self._refuse("its tiles are a view over other tables (a deduplicated MBTiles, as mbutil writes); "
                         "write the tiles to another file")
        stored = dict(db.execute("SELECT name, value FROM metadata"))
        found = stored.get("format")
        if found is not None and found not in TILE_FORMATS:
            self._refuse(f"it holds {shown(found)} tiles, not images")
        self._agreed_format(found)
        source, digest = stored.get(SOURCE_KEY["MBTiles"]), stored.get(SOURCE_ID_KEY["MBTiles"])
        self._agreed_source(source if isinstance(source, str) else None, digest if isinstance(digest, str) else None)

    def _read_coverage(self) -> None:
        db = self._db
        self._metadata = dict(db.execute("SELECT name, value FROM metadata"))
        try:
            zooms = int(self._metadata["minzoom"]), int(self._metadata["maxzoom"])
        except (KeyError, ValueError):  # none said: what the tiles are
            zooms = db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        self._covered_zooms = set(range(zooms[0], zooms[1] + 1)) if None not in zooms else set()
        try:
            west, south, east, north = (float(v) for v in self._metadata["bounds"].split(","))
            self._covered = (*lonlat_to_mercator(west, south), *lonlat_to_mercator(east, north))
            self._lonlat = [west, south, east, north]
        except (KeyError, ValueError):
            self._covered = None  # none said, or unreadable: the tiles stored say it

    def _widen(self) -> None:
        """Only minzoom, maxzoom and bounds change (and a missing name is added): the package's
        name, description and any other value its maker set are kept."""
        values = {}
        zooms = self._covered_zooms | self._landed_zooms
        if self._landed_zooms:
            values.update(minzoom=str(min(zooms)), maxzoom=str(max(zooms)))
        if self._landed is not None:
            old = self._covered
            bounds = self._landed if old is None else _union(old, self._landed)
            west, south = mercator_to_lonlat(bounds[0], bounds[1])
            east, north = mercator_to_lonlat(bounds[2], bounds[3])
            if old is not None:  # a side that did not move keeps the value as it was written
                west, south, east, north = (new if abs(b - o) > 1e-3 else kept for new, b, o, kept in zip(
                    (west, south, east, north), bounds, old, self._lonlat))
            self._lonlat = [west, south, east, north]
            values["bounds"] = f"{west!r},{south!r},{east!r},{north!r}"
        if "name" not in self._metadata:
            values["name"] = self.meta.name
        for key, value in values.items():
            if self._metadata.get(key) != value:
                self._set_metadata(key, value)
                self._metadata[key] = value

    def _set_metadata(self, key: str, value: str) -> None:
        """Set one value, in a metadata table with or without a unique index on its names."""
        if self._db.execute("UPDATE metadata SET value = ? WHERE name = ?", (value, key)).rowcount == 0:
            self._db.execute("INSERT INTO metadata (name, value) VALUES (?, ?)", (key, value))

    def _insert(self, tile: Tile, data: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
                         (*self._key(tile), sqlite3.Binary(data)))

    def _key(self, tile: Tile) -> Tuple[int, int, int]:
        return tile.z, tile.x, tms_row(tile)  # MBTiles counts rows from the bottom (TMS)

    def _stored(self) -> Iterator[Tile]:
        for z, x, row in self._db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles"):
            yield Tile(x, 2 ** z - 1 - row, z)



def plan_meta(plan) -> PackageMeta:
    """What a package made by ``plan`` (the engine's ``TilePlan``) says about itself."""
    x_min, y_min, x_max, y_max = range_bounds(plan.tiles)
    if x_max > ORIGIN_M:  # across the antimeridian: the package spans the world's width
        x_min, x_max = -ORIGIN_M, ORIGIN_M
    return PackageMeta(name=plan.name, bounds_m=(x_min, y_min, x_max, y_max), zoom_min=plan.zooms[0],
                       zoom_max=plan.zooms[-1], attribution=plan.attribution, tile_px=plan.tile_px,
                       source=redact_url(plan.template.text), source_id=source_id(plan.template.text))


class PackageSink:
    """The engine's sink for a package: each tile's body as served, stored on a writing thread.

    ``plan`` is the engine's ``TilePlan``; ``destination`` is a new package's temporary
    name, or an existing package to add to. Whole tiles are committed in SQLite
    transactions, so a kill loses at most the last batch and never leaves a truncated tile.
    """

    def __init__(self, plan, destination: Path) -> None:
        self.package = open_package(destination, plan.format, plan_meta(plan))
        self._writer = OrderedWriter(lambda item: self.package.put(*item), capacity=4 * plan.workers,
                                     name="offload-package")

    def held(self) -> Set[Tile]:
        """Tiles the package holds already (a rerun fetches only the others)."""
        return self.package.holds()

    def write(self, tile: Tile, body: Optional[bytes]) -> None:
        """Queue a tile's body (None: no tile here, and a package stays sparse)."""
        if body is None:
            self._writer.raise_failure()
        else:
            self._writer.put((tile.wrapped(), body))  # stored as servers name it

    def close(self) -> None:
        self._writer.close()
        self.package.close()

    def abandon(self) -> None:
        """Canceled or failed: keep the whole tiles written (a rerun need not fetch them again)."""
        self._writer.abandon()
        self.package.close()
