"""The bulk-loaded GeoPackage spatial index answers exactly as GDAL's own, and edits keep it right."""
from __future__ import annotations

import random
import shutil
import sqlite3

import pytest
from osgeo import ogr, osr

from offload.vector_tasks import gpkg_rtree
from offload.vector_tasks.gpkg_rtree import add_spatial_index


def write_unindexed(path, kind: str, count: int):
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    geometry_type = ogr.wkbPoint if kind == "points" else ogr.wkbMultiPolygon
    layer = source.CreateLayer("t", srs, geometry_type, ["SPATIAL_INDEX=NO"])
    spread = random.Random(3)
    layer.StartTransaction()
    for n in range(count):
        feature = ogr.Feature(layer.GetLayerDefn())
        x, y = spread.uniform(-5e5, 5e5), spread.uniform(-5e5, 5e5)
        if n % 97 == 5:
            pass  # no geometry
        elif n % 89 == 7:
            feature.SetGeometry(ogr.Geometry(geometry_type))  # an empty one
        elif kind == "points":
            feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})"))
        else:
            w, h = spread.uniform(1, 3000), spread.uniform(1, 3000)
            feature.SetGeometry(ogr.CreateGeometryFromWkt(
                f"MULTIPOLYGON ((({x} {y}, {x + w} {y}, {x + w} {y + h}, {x} {y})))"))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None


def query(path, boxes):
    dataset = ogr.Open(str(path))
    layer = dataset.GetLayer(0)
    assert layer.TestCapability(ogr.OLCFastSpatialFilter)
    found = []
    for box in boxes:
        layer.SetSpatialFilterRect(*box)
        found.append(sorted(f.GetFID() for f in layer))
    return found


@pytest.mark.parametrize("kind", ["polygons", "points"])
def test_the_packed_index_answers_as_gdals_own(tmp_path, kind):
    ours, theirs = tmp_path / "ours.gpkg", tmp_path / "theirs.gpkg"
    write_unindexed(ours, kind, 20_000)
    shutil.copy(ours, theirs)
    gdal = ogr.Open(str(theirs), 1)
    gdal.ExecuteSQL("SELECT CreateSpatialIndex('t', 'geom')")
    gdal = None
    assert add_spatial_index(ours, "t") is True
    spread = random.Random(9)
    boxes = []
    for _ in range(300):
        x, y, size = spread.uniform(-5.2e5, 5e5), spread.uniform(-5.2e5, 5e5), spread.uniform(10, 60_000)
        boxes.append((x, y, x + size, y + size))
    answers = query(ours, boxes)
    assert answers == query(theirs, boxes) and sum(map(len, answers)) > 1000
    with sqlite3.connect(str(ours)) as connection:
        assert connection.execute("SELECT rtreecheck('rtree_t_geom')").fetchone() == ("ok",)
        triggers = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers == {row[0] for row in sqlite3.connect(str(theirs)).execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert connection.execute("SELECT extension_name FROM gpkg_extensions WHERE table_name = 't'").fetchall() == [
            ("gpkg_rtree_index",)]


def test_edits_after_the_bulk_load_keep_the_index_right(tmp_path):
    path = tmp_path / "edit.gpkg"
    write_unindexed(path, "polygons", 3000)
    assert add_spatial_index(path, "t")
    dataset = ogr.Open(str(path), 1)
    layer = dataset.GetLayer(0)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("MULTIPOLYGON (((9e6 9e6, 9.1e6 9e6, 9.1e6 9.1e6, 9e6 9e6)))"))
    layer.CreateFeature(feature)
    layer.DeleteFeature(1)
    moved = layer.GetFeature(2)
    moved.SetGeometry(ogr.CreateGeometryFromWkt("MULTIPOLYGON (((-9e6 -9e6, -8.9e6 -9e6, -8.9e6 -8.9e6, -9e6 -9e6)))"))
    layer.SetFeature(moved)
    dataset = None
    assert query(path, [(8.9e6, 8.9e6, 9.2e6, 9.2e6), (-9.1e6, -9.1e6, -8.8e6, -8.8e6)]) == [[3001], [2]]
    with sqlite3.connect(str(path)) as connection:
        assert connection.execute("SELECT rtreecheck('rtree_t_geom')").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM rtree_t_geom WHERE id = 1").fetchone() == (0,)


def broken_pack(connection, rtree, ids, boxes):
    connection.executemany(f'INSERT INTO "{rtree}_rowid" VALUES (?, 1)', [(int(i),) for i in ids])  # no cells


def sqlite_without_rtree(connection, rtree, ids, boxes):
    raise sqlite3.OperationalError("no such module: rtree")  # as a Python whose SQLite lacks the R-tree module


@pytest.mark.parametrize("pack", [broken_pack, sqlite_without_rtree])
def test_a_tree_that_cannot_be_packed_or_checked_is_not_kept(tmp_path, monkeypatch, pack):
    path = tmp_path / "bad.gpkg"
    write_unindexed(path, "polygons", 500)
    monkeypatch.setattr(gpkg_rtree, "_pack", pack)
    assert add_spatial_index(path, "t") is False
    with sqlite3.connect(str(path)) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert not [name for name in names if name.startswith("rtree_")]


def test_packing_keeps_few_python_objects_alive(tmp_path):
    """Objects that live through collections make Python's collector run a full pass over the
    whole process (every object of QGIS), holding the GIL and so QGIS's main thread: packing
    100,000 boxes must not keep an object per box alive."""
    import gc

    import numpy as np

    path = tmp_path / "many.gpkg"
    write_unindexed(path, "polygons", 10)
    count = 100_000
    spread = np.random.default_rng(5)
    low = spread.uniform(-5e5, 5e5, (count, 2))
    boxes = np.column_stack([low[:, 0], low[:, 0] + 10, low[:, 1], low[:, 1] + 10])
    surviving = []

    def after_collection(phase, info):  # objects promoted since the freeze below: those that lived on
        if phase == "stop":
            surviving.append(len(gc.get_objects(generation=1)) + len(gc.get_objects(generation=2)))

    gc.collect()
    gc.freeze()  # what exists now is left out of the count
    gc.callbacks.append(after_collection)
    try:
        assert add_spatial_index(path, "t", (np.arange(1, count + 1, dtype=np.int64), boxes))
    finally:
        gc.callbacks.remove(after_collection)
        gc.unfreeze()
    assert max(surviving, default=0) < 10_000  # one object per box: 100,000
    with sqlite3.connect(str(path)) as connection:
        assert connection.execute("SELECT count(*) FROM rtree_t_geom").fetchone() == (count,)
