"""What the buffer engine reads of a GeoPackage straight from SQLite: a read-only connection,
quoted names, a table's geometry column and primary key, its null geometries.

Pure: stdlib ``sqlite3`` only (no numpy, no QGIS), so the engine's set-up imports nothing heavy for it.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Union

HEADER_BYTES = 8  # of a GeoPackage geometry: 'GP', version, flags, srs_id
ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}  # the header's envelope indicator → doubles


@contextmanager
def read_only(path: Union[str, Path]) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the GeoPackage at ``path`` (a file URI: '?' or '#' in a path stay
    part of it), closed after the block. Raises ``sqlite3.Error`` where SQLite cannot open it."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


def quoted(name: str) -> str:
    """``name`` as it goes between the double quotes of an SQL identifier: ``f'"{quoted(name)}"'``."""
    return name.replace('"', '""')


def geometry_column(connection: sqlite3.Connection, table: str) -> Optional[str]:
    """The geometry column of the features table ``table``; None when it has none."""
    found = connection.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                               (table,)).fetchone()
    return None if found is None else found[0]


def declared_geometry_type(path: str, table: str) -> Optional[str]:
    """The geometry type the GeoPackage at ``path`` declares for ``table`` (its only features table
    when ``table`` is ""), upper case (``POINT``, ``GEOMETRY``…); None when it cannot be read."""
    try:
        with read_only(path) as connection:
            found = connection.execute(
                "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = ? OR ? = ''",
                (table, table)).fetchall()
    except sqlite3.Error:
        return None
    return str(found[0][0]).upper() if len(found) == 1 else None


def primary_key(connection: sqlite3.Connection, table: str) -> List[str]:
    """The columns of ``table``'s primary key (a GeoPackage's features table has one: its fid)."""
    return [row[1] for row in connection.execute(f'PRAGMA table_info("{quoted(table)}")') if row[5] == 1]


def same_fid_column(output_key: List[str], source_fid: str) -> bool:
    """Whether QGIS made the output's fid column the source's (to it ``FID`` is ``fid``): then
    native:buffer writes the source's fids, and so must an engine standing in for it."""
    return [name.lower() for name in output_key] == [source_fid.lower()]


def count_null_geometries(path: Path, table: str) -> int:
    """Features of ``table`` without a geometry, or with an empty one (the GeoPackage header's flag)."""
    with read_only(path) as connection:
        column = f'"{quoted(geometry_column(connection, table) or "")}"'
        empty_flag_set = f"substr(hex(substr({column}, 4, 1)), 1, 1) IN ('1', '3', '5', '7', '9', 'B', 'D', 'F')"
        (count,) = connection.execute(
            f'SELECT count(*) FROM "{quoted(table)}" WHERE {column} IS NULL OR {empty_flag_set}').fetchone()
    return count
