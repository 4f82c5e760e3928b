"""Buffering a GeoPackage table inside SQLite (SpatiaLite's ST_Buffer), one worker per core:
native:buffer's bytes in input order; invalid geometries skipped, failed or fixed; whatever
SpatiaLite cannot do left to native:buffer's slices; a cancel that stops the workers and leaves
nothing."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from osgeo import ogr, osr
from qgis.core import QgsVectorLayer

import offload.vector_tasks.buffer as buffer_module
import offload.vector_tasks.slices as slices_module
import offload.vector_tasks.sqlite_slices as sqlite_module
from offload.core.task import start
from offload.vector_tasks.buffer import validate_buffer_request
from offload.vector_tasks.buffer_task import BufferTask
from offload.vector_tasks.request import BufferRequest
from qgis_helpers import run_to_end, wait_until
from vector_data import assert_same, make_layer, make_squares_with_bow_ties, native


@pytest.fixture
def engines(monkeypatch):
    """Many small slices (so that they finish out of order), and the engines each run went through."""
    monkeypatch.setattr(slices_module, "MIN_SLICE_FEATURES", 50)
    used = []
    for name in ("buffer_in_sqlite", "buffer_in_slices"):
        real = getattr(buffer_module, name)

        def recorded(plan, destination, *args, _real=real, _name=name):
            used.append(_name)
            return _real(plan, destination, *args)

        monkeypatch.setattr(buffer_module, name, recorded)
    return used


def rows(path, table):
    """fid, geometry blob and attributes of every row, in fid order."""
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    finally:
        connection.close()


def contents(path, table):
    connection = sqlite3.connect(str(path))
    try:
        extent = connection.execute("SELECT min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents WHERE table_name = ?",
                                    (table,)).fetchone()
        count = connection.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?",
                                   (table,)).fetchone()
        check = connection.execute("SELECT rtreecheck(?)", (f"rtree_{table}_geom",)).fetchone()
        return extent, count, check
    finally:
        connection.close()


def sqlite_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("offload-buffer-sqlite")]


@pytest.mark.parametrize("kind, cap, join, native_cap, native_join", [
    ("points", "round", "round", 0, 0),
    ("lines", "flat", "miter", 1, 1),
    ("lines", "square", "bevel", 2, 2),
    ("polygons", "round", "miter", 0, 1),
    ("polygons", "square", "round", 2, 0),
])
def test_sqlite_writes_native_buffer_s_bytes_in_input_order(qgis_processing, tmp_path, engines, kind, cap, join,
                                                            native_cap, native_join):
    spec = make_layer(tmp_path / "in.gpkg", kind, count=2000)
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=3.5, segments=7, end_cap=cap, join=join,
                                    miter_limit=3.0))
    assert run_to_end(task, 120) is True and engines == ["buffer_in_sqlite"]
    native(qgis_processing, spec, tmp_path, DISTANCE=3.5, SEGMENTS=7, END_CAP_STYLE=native_cap,
           JOIN_STYLE=native_join, MITER_LIMIT=3.0)
    ours, theirs = rows(tmp_path / "ours.gpkg", "ours"), rows(tmp_path / "native.gpkg", "native")
    assert len(ours) == 2000 and ours == theirs  # every blob the same bytes, the feature without geometry too
    (extent, count, check), (their_extent, their_count, their_check) = (
        contents(tmp_path / "ours.gpkg", "ours"), contents(tmp_path / "native.gpkg", "native"))
    assert extent == pytest.approx(their_extent, rel=1e-14)  # GDAL prints its extent to 16 digits
    assert (count, check) == (their_count, their_check) == ((2000,), ("ok",))
    assert task.details.written == 2000 and task.details.null == 1 and not sqlite_threads()


def test_a_geographic_layer_is_buffered_in_its_own_units(qgis_processing, tmp_path, engines):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300, epsg=4326)
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=0.5, units="layer"))
    assert run_to_end(task, 60) is True and engines == ["buffer_in_sqlite"]
    native(qgis_processing, spec, tmp_path, DISTANCE=0.5)
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")


def test_a_layer_inside_a_geopackage_is_written_by_sqlite_too(qgis_processing, tmp_path, engines):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=600)
    make_layer(tmp_path / "out.gpkg", "points", count=5, name="keep")
    task = BufferTask(BufferRequest(spec, f"{tmp_path / 'out.gpkg'}|layername=zones", distance=2))
    assert run_to_end(task, 120) is True and engines == ["buffer_in_sqlite"]
    zones = QgsVectorLayer(f"{tmp_path / 'out.gpkg'}|layername=zones", "zones", "ogr")
    assert_same(zones, native(qgis_processing, spec, tmp_path, DISTANCE=2))
    assert QgsVectorLayer(f"{tmp_path / 'out.gpkg'}|layername=keep", "keep", "ogr").featureCount() == 5
    extent, count, check = contents(tmp_path / "out.gpkg", "zones")
    assert count == (600,) and check == ("ok",) and None not in extent


def test_invalid_geometries_are_skipped_failed_or_fixed(tmp_path, engines):
    spec = make_squares_with_bow_ties(tmp_path / "bad.gpkg", 400, bow_ties=(150, 320))
    skipped = BufferTask(BufferRequest(spec, tmp_path / "skipped.gpkg", distance=1, invalid="skip"))
    assert run_to_end(skipped, 60) is True and skipped.details.skipped == 2 and skipped.details.written == 398
    assert [row[0] for row in rows(tmp_path / "skipped.gpkg", "skipped")] == [n for n in range(1, 401)
                                                                               if n not in (151, 321)]
    failed = BufferTask(BufferRequest(spec, tmp_path / "failed.gpkg", distance=1, invalid="fail"))
    assert run_to_end(failed, 60) is False and "feature 151 has an invalid geometry" in failed.error.one_line()
    assert not (tmp_path / "failed.gpkg").exists()
    fixed = BufferTask(BufferRequest(spec, tmp_path / "fixed.gpkg", distance=1))  # SQLite does not fix: ours does
    assert run_to_end(fixed, 60) is True and fixed.details.fixed == 2 and fixed.details.written == 400
    assert engines == ["buffer_in_sqlite"] * 3 and not sqlite_threads()


def test_a_geometry_spatialite_cannot_buffer_goes_to_native_buffer(qgis_processing, tmp_path, engines):
    """An empty polygon: SpatiaLite reads none, native:buffer writes an empty one."""
    path = tmp_path / "in.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("holes", srs, ogr.wkbPolygon)
    for n in range(300):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(
            "POLYGON EMPTY" if n == 200 else f"POLYGON (({n} 0, {n + 0.5} 0, {n + 0.5} 1, {n} 0))"))
        layer.CreateFeature(feature)
    source = None
    task = BufferTask(BufferRequest(f"{path}|layername=holes", tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and engines == ["buffer_in_sqlite", "buffer_in_slices"]
    native(qgis_processing, f"{path}|layername=holes", tmp_path, DISTANCE=1)
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")


def plan_for(spec, **options):
    return validate_buffer_request(BufferRequest(spec, None, **options))


def test_what_the_table_tells_decides_before_any_work(tmp_path):
    polygons = make_layer(tmp_path / "in.gpkg", "polygons", count=10)
    assert sqlite_module.sqlite_can_buffer(plan_for(polygons, distance=2))
    assert not sqlite_module.sqlite_can_buffer(plan_for(polygons, distance=-1))  # empty results: native writes them
    assert not sqlite_module.sqlite_can_buffer(plan_for(polygons, distance=2, distance_field="d"))
    path = tmp_path / "other.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    for name, kind, field in (("z", ogr.wkbPolygon25D, None), ("curves", ogr.wkbCurvePolygon, None),
                              ("when", ogr.wkbPolygon, ogr.OFTDateTime)):
        layer = source.CreateLayer(name, srs, kind)
        if field is not None:
            layer.CreateField(ogr.FieldDefn("at", field))
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((0 0, 1 0, 1 1, 0 0))"))
        layer.CreateFeature(feature)
    source = None
    for name in ("z", "curves", "when"):  # 3D, curved, a date and time QGIS writes its own way
        assert not sqlite_module.sqlite_can_buffer(plan_for(f"{path}|layername={name}", distance=2)), name


def test_cancel_stops_the_workers_and_leaves_nothing(tmp_path, engines, monkeypatch):
    monkeypatch.setattr(slices_module, "SLICES_PER_CORE", 1)  # few, long slices: under way when the cancel comes
    started = []
    real_slice = sqlite_module._Run._slice

    def slice_(run, connection, statement, index):
        started.append(index)
        return real_slice(run, connection, statement, index)

    monkeypatch.setattr(sqlite_module._Run, "_slice", slice_)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=60_000)
    task = start(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2, segments=48)))
    wait_until(lambda: started, 60, "a slice to be under way")
    task.cancel()
    wait_until(lambda: task.result is not None, 20, "the canceled task to end")
    assert task.result is False and task.canceled and task.error is None
    assert engines == ["buffer_in_sqlite"] and len(started) <= 2  # the running statements were interrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]
    wait_until(lambda: not sqlite_threads(), 5, "the workers to end")


def test_a_table_whose_fid_column_qgis_renames_goes_to_native_buffer(qgis_processing, tmp_path, engines):
    """QGIS writes a source fid column of another name as a field beside its own fid."""
    path = tmp_path / "in.gpkg"
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("parcels", srs, ogr.wkbPolygon, ["FID=OBJECTID"])
    layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    for n in range(300):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({n} 0, {n + 0.5} 0, {n + 0.5} 1, {n} 0))"))
        layer.CreateFeature(feature)
    source = None
    task = BufferTask(BufferRequest(f"{path}|layername=parcels", tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and engines == ["buffer_in_sqlite", "buffer_in_slices"]
    native(qgis_processing, f"{path}|layername=parcels", tmp_path, DISTANCE=1)
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")
