"""Which tables of a GeoPackage (or any SQLite file) are the user's, and which are its bookkeeping.

One rule for every family that writes into such a file: a layer ``gpkg_contents`` lists is
the user's, whatever its name. Of the other tables, those whose names start with a
bookkeeping prefix belong to SQLite (``sqlite_*``), GeoPackage and its extensions (``gpkg_*``,
``gpkgext_*``) or a layer's spatial index (``rtree_*``); every other table or view is the
user's too (QGIS's ``qgis_projects``, another program's tables: "hidden" here). SQLite's
names ignore case, so this rule does too.

Pure: stdlib only; each function reads through the ``sqlite3`` connection it is given.
"""
from __future__ import annotations

import sqlite3
from typing import Dict, List, Tuple

BOOKKEEPING_PREFIXES = ("gpkg_", "gpkgext_", "rtree_", "sqlite_")


def is_bookkeeping(name: str) -> bool:
    """Whether a table named ``name`` is SQLite's, GeoPackage's or a spatial index's own."""
    return name.lower().startswith(BOOKKEEPING_PREFIXES)


def listed_layers(connection: sqlite3.Connection) -> Dict[str, str]:
    """{table name: data type} of what ``gpkg_contents`` lists (``tiles``, ``features`` …);
    {} for a database without one."""
    has_contents = connection.execute("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') "
                                      "AND lower(name) = 'gpkg_contents'").fetchone()[0]
    if not has_contents:
        return {}
    return dict(connection.execute("SELECT table_name, data_type FROM gpkg_contents ORDER BY table_name"))


def user_tables(connection: sqlite3.Connection) -> List[str]:
    """Every table and view of the database that is a listed layer or not bookkeeping, by name."""
    listed = {name.lower() for name in listed_layers(connection)}
    names = connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
    return [name for (name,) in names if name.lower() in listed or not is_bookkeeping(name)]


def gpkg_user_tables(connection: sqlite3.Connection) -> Tuple[List[str], List[str]]:
    """A GeoPackage's layers (as ``gpkg_contents`` lists them) and its hidden user tables: the
    other tables and views that are not bookkeeping.

    :raises sqlite3.Error: when the database is not a GeoPackage (no ``gpkg_contents``).
    """
    layers = [name for (name,) in connection.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]
    listed = {name.lower() for name in layers}
    return layers, [name for name in user_tables(connection) if name.lower() not in listed]
