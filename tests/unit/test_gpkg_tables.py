"""One rule for a GeoPackage's own tables (``core.gpkg_tables``), which the tiles packages and
the buffer's destination both use: bookkeeping is SQLite's, GeoPackage's and its extensions',
and spatial indexes'; everything else is the user's, listed in gpkg_contents or not."""
from __future__ import annotations

import sqlite3

import pytest
from osgeo import ogr, osr

from offload.core.gpkg_tables import (
    BOOKKEEPING_PREFIXES, gpkg_user_tables, is_bookkeeping, listed_layers, user_tables,
)


def field_geopackage(path):
    """Two point layers (GDAL adds gpkg_* tables and rtree_* indexes), then what other programs
    add: a QGIS project (not in gpkg_contents), a related-tables extension table, a view."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name in ("roads", "Parcels"):
        dataset.CreateLayer(name, srs, ogr.wkbPoint)
    dataset = None
    with sqlite3.connect(str(path)) as db:
        db.execute("CREATE TABLE qgis_projects (name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        db.execute("CREATE TABLE gpkgext_relations (id INTEGER PRIMARY KEY, base_table_name TEXT)")
        db.execute("CREATE TABLE GPKG_Custom (a)")  # SQLite's names ignore case: still GeoPackage's prefix
        db.execute("CREATE VIEW main_roads AS SELECT * FROM roads")
    return path


def test_a_geopackage_s_layers_and_hidden_tables(tmp_path):
    path = field_geopackage(tmp_path / "field.gpkg")
    with sqlite3.connect(str(path)) as db:
        names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert any(name.startswith("rtree_roads") for name in names)  # GDAL's spatial index is there
        assert gpkg_user_tables(db) == (["Parcels", "roads"], ["main_roads", "qgis_projects"])
        assert user_tables(db) == ["Parcels", "main_roads", "qgis_projects", "roads"]


def test_a_database_that_is_not_a_geopackage(tmp_path):
    with sqlite3.connect(str(tmp_path / "other.sqlite")) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER)")
        assert user_tables(db) == ["metadata", "tiles"]
        with pytest.raises(sqlite3.Error):
            gpkg_user_tables(db)


@pytest.mark.parametrize("name, bookkeeping", [
    ("gpkg_contents", True), ("gpkgext_relations", True), ("rtree_roads_geom", True), ("sqlite_sequence", True),
    ("GPKG_Ogr_Contents", True), ("qgis_projects", False), ("layer_styles", False), ("tiles", False),
    ("gpkgroads", False),
])
def test_which_names_are_bookkeeping(name, bookkeeping):
    assert is_bookkeeping(name) is bookkeeping
    assert BOOKKEEPING_PREFIXES == ("gpkg_", "gpkgext_", "rtree_", "sqlite_")


def test_a_listed_layer_is_the_user_s_whatever_its_name(tmp_path):
    """OGR lets a layer be named rtree_sites or gpkg_sites: gpkg_contents lists it, so it is a layer."""
    path = field_geopackage(tmp_path / "field.gpkg")
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    dataset = ogr.Open(str(path), 1)
    dataset.CreateLayer("rtree_sites", srs, ogr.wkbPoint)
    dataset = None
    with sqlite3.connect(str(path)) as db:
        assert listed_layers(db) == {"Parcels": "features", "roads": "features", "rtree_sites": "features"}
        assert "rtree_sites" in user_tables(db)
        assert not any(name.startswith("rtree_roads") for name in user_tables(db))  # a real index stays bookkeeping
        assert gpkg_user_tables(db)[0] == ["Parcels", "roads", "rtree_sites"]
    with sqlite3.connect(str(tmp_path / "other.sqlite")) as db:
        assert listed_layers(db) == {}
