"""Which tables of a GeoPackage (or any SQLite file) are the user's, and which are its bookkeeping.

One rule for every family that writes into such a file: tables whose names start with a
bookkeeping prefix belong to SQLite (``sqlite_*``), GeoPackage and its extensions (``gpkg_*``,
``gpkgext_*``) or a layer's spatial index (``rtree_*``); every other table or view is the
user's, whether ``gpkg_contents`` lists it as a layer or not (QGIS's ``qgis_projects``,
another program's tables: "hidden" here). SQLite's names ignore case, so this rule does too.

Pure: stdlib only; each function reads through the ``sqlite3`` connection it is given.
"""
from __future__ import annotations

import sqlite3
from typing import List, Tuple

BOOKKEEPING_PREFIXES = ("gpkg_", "gpkgext_", "rtree_", "sqlite_")


def is_bookkeeping(name: str) -> bool:
    """Whether a table named ``name`` is SQLite's, GeoPackage's or a spatial index's own."""
    return name.lower().startswith(BOOKKEEPING_PREFIXES)


def user_tables(connection: sqlite3.Connection) -> List[str]:
    """Every table and view of the database that is not bookkeeping, by name."""
    names = connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
    return [name for (name,) in names if not is_bookkeeping(name)]


def gpkg_user_tables(connection: sqlite3.Connection) -> Tuple[List[str], List[str]]:
    """A GeoPackage's layers (as ``gpkg_contents`` lists them) and its hidden user tables: the
    other tables and views that are not bookkeeping.

    :raises sqlite3.Error: when the database is not a GeoPackage (no ``gpkg_contents``).
    """
    layers = [name for (name,) in connection.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]
    listed = {name.lower() for name in layers}
    return layers, [name for name in user_tables(connection) if name.lower() not in listed]
