"""Buffering a GeoPackage table inside SQLite (SpatiaLite's ST_Buffer), one worker per core:
native:buffer's bytes in input order; invalid geometries skipped, failed or fixed; whatever
SpatiaLite cannot do left to native:buffer's slices; a cancel that stops the workers and leaves
nothing."""
from __future__ import annotations

import contextlib
import sqlite3
import struct
import threading
import time

import pytest
from osgeo import ogr, osr
from qgis.core import QgsVectorLayer

import offload.vector_tasks.buffer as buffer_module
import offload.vector_tasks.slices as slices_module
import offload.vector_tasks.sqlite_slices as sqlite_module
from offload.vector_tasks.buffer import validate_buffer_request
from offload.vector_tasks.buffer_task import BufferTask
from offload.vector_tasks.request import BufferRequest
from qgis_helpers import run_to_end, wait_until
from vector_data import CAP_AND_JOIN_CASES, assert_same, cancel_a_heavy_buffer, make_layer, make_squares_with_bow_ties, native


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


def layer_of(path, kind, geometries, name="t", options=("SPATIAL_INDEX=NO",), counted=True):
    """A GeoPackage layer of the given geometries (WKT, or WKB bytes), fids 1, 2, …, with an
    integer ``n`` counting them (unless not ``counted``)."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer(name, srs, kind, list(options))  # no index: its triggers need GDAL's SQL functions
    if counted:
        layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    for n, geometry in enumerate(geometries):
        feature = ogr.Feature(layer.GetLayerDefn())
        if counted:
            feature.SetField("n", n)
        feature.SetGeometry(ogr.CreateGeometryFromWkb(geometry) if isinstance(geometry, bytes)
                            else ogr.CreateGeometryFromWkt(geometry))
        layer.CreateFeature(feature)
    source = None
    return f"{path}|layername={name}"


def sqlite_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("offload-buffer-sqlite")]


@pytest.mark.parametrize("kind, cap, join, native_cap, native_join", CAP_AND_JOIN_CASES + [("polygons", "square", "round", 2, 0)])
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
    layer_of(path, ogr.wkbPolygon, ["POLYGON EMPTY" if n == 200 else f"POLYGON (({n} 0, {n + 0.5} 0, {n + 0.5} 1, {n} 0))"
                                    for n in range(300)], name="holes")
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
    task = cancel_a_heavy_buffer(tmp_path, started)
    assert task.result is False and task.canceled and task.error is None
    assert engines == ["buffer_in_sqlite"] and len(started) <= 2  # the running statements were interrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]
    wait_until(lambda: not sqlite_threads(), 5, "the workers to end")


def test_the_workers_buffer_while_the_output_file_is_made(qgis_processing, tmp_path, engines, monkeypatch):
    """Making the output GeoPackage took 60 ms before any worker started: they start first now,
    and the file is made while they buffer (a table QGIS makes otherwise stops them: see below)."""
    buffering = threading.Event()
    real_slice, real_sink = sqlite_module._Run._slice, sqlite_module.FileSink

    def slice_(self, *args):
        buffering.set()
        return real_slice(self, *args)

    waited = []

    def sink(*args, **kwargs):
        waited.append(buffering.wait(10))  # never set when the file is made before the workers start
        return real_sink(*args, **kwargs)

    monkeypatch.setattr(sqlite_module._Run, "_slice", slice_)
    monkeypatch.setattr(sqlite_module, "FileSink", sink)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=600)
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=2))
    assert run_to_end(task, 120) is True and engines == ["buffer_in_sqlite"] and waited == [True]
    native(qgis_processing, spec, tmp_path, DISTANCE=2)
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")
    assert not sqlite_threads()


def test_a_table_whose_fid_column_qgis_renames_goes_to_native_buffer(qgis_processing, tmp_path, engines):
    """QGIS writes a source fid column of another name as a field beside its own fid."""
    path = tmp_path / "in.gpkg"
    layer_of(path, ogr.wkbPolygon, [f"POLYGON (({n} 0, {n + 0.5} 0, {n + 0.5} 1, {n} 0))" for n in range(300)],
             name="parcels", options=("FID=OBJECTID",))
    task = BufferTask(BufferRequest(f"{path}|layername=parcels", tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and engines == ["buffer_in_sqlite", "buffer_in_slices"]
    native(qgis_processing, f"{path}|layername=parcels", tmp_path, DISTANCE=1)
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")
    assert not sqlite_threads()  # the workers, started before the table was found wanting, were stopped


SQUARE = "POLYGON ((20 0, 21 0, 21 1, 20 1, 20 0))"
VALID_FOR_QGIS = {  # SpatiaLite's ST_IsValid calls them invalid ("toxic"); QGIS's isGeosValid does not
    "an unclosed ring": (ogr.wkbPolygon, bytes.fromhex("0103000000") + struct.pack("<II", 1, 4)
                         + struct.pack("<8d", 0, 0, 1, 0, 1, 1, 0, 1)),
    "an empty inner ring": (ogr.wkbPolygon, bytes.fromhex("0103000000") + struct.pack("<II", 2, 5)
                            + struct.pack("<10d", 0, 0, 1, 0, 1, 1, 0, 1, 0, 0) + struct.pack("<I", 0)),
}


@pytest.mark.parametrize("kind, geometry", VALID_FOR_QGIS.values(), ids=VALID_FOR_QGIS.keys())
def test_a_geometry_only_spatialite_calls_invalid_is_kept(qgis_processing, tmp_path, engines, kind, geometry):
    spec = layer_of(tmp_path / "in.gpkg", kind, [SQUARE, geometry, SQUARE])
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1, invalid="skip"))
    assert run_to_end(task, 60) is True and task.details.skipped == 0 and task.details.written == 3
    assert engines == ["buffer_in_sqlite", "buffer_in_slices"]


def attribute_layer(path):
    """Ten polygons with a column of each type the SQLite engine copies."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("t", srs, ogr.wkbPolygon, ["SPATIAL_INDEX=NO"])  # its triggers need GDAL's SQL functions
    for name, kind, subtype, width in (("i64", ogr.OFTInteger64, None, 0), ("i32", ogr.OFTInteger, None, 0),
                                       ("i16", ogr.OFTInteger, ogr.OFSTInt16, 0),
                                       ("b", ogr.OFTInteger, ogr.OFSTBoolean, 0), ("r", ogr.OFTReal, None, 0),
                                       ("s", ogr.OFTString, None, 0), ("s3", ogr.OFTString, None, 3)):
        definition = ogr.FieldDefn(name, kind)
        if subtype is not None:
            definition.SetSubType(subtype)
        definition.SetWidth(width)
        layer.CreateField(definition)
    for n in range(10):
        feature = ogr.Feature(layer.GetLayerDefn())
        for name, value in (("i64", n * 10 ** 12), ("i32", -n), ("i16", n), ("b", n % 2), ("r", n / 3),
                            ("s", f"é{n}"), ("s3", "abc")):
            feature.SetField(name, value)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({n * 10} 0, {n * 10 + 5} 0, {n * 10 + 5} 5, "
                                                      f"{n * 10} 0))"))
        layer.CreateFeature(feature)
    source = None
    return f"{path}|layername=t"


def test_attributes_of_every_copied_type_are_native_buffer_s(qgis_processing, tmp_path, engines):
    spec = attribute_layer(tmp_path / "in.gpkg")
    assert run_to_end(BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1)), 60) is True
    native(qgis_processing, spec, tmp_path, DISTANCE=1)
    assert engines == ["buffer_in_sqlite"]
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")


UNLIKE_GDAL = {  # legal in SQLite, never written by GDAL: QGIS writes something else
    "a number beyond 32 bits in a 32-bit column": "UPDATE t SET i32 = 3000000000 WHERE fid = 1",
    "a real in an integer column": "UPDATE t SET i64 = 1.5 WHERE fid = 2",
    "text in an integer column": "UPDATE t SET i64 = 'abc' WHERE fid = 3",
    "a boolean of 2": "UPDATE t SET b = 2 WHERE fid = 4",
    "bytes that are not UTF-8": "UPDATE t SET s = CAST(X'41FF42' AS TEXT) WHERE fid = 5",
    "a NUL in a text": "UPDATE t SET s = 'a' || char(0) || 'b' WHERE fid = 6",
    "a blob in a real column": "UPDATE t SET r = X'00FF' WHERE fid = 7",
    "a text opening with a byte-order mark": "UPDATE t SET s = char(65279) || 'name' WHERE fid = 8",
}


@pytest.mark.parametrize("sql", UNLIKE_GDAL.values(), ids=UNLIKE_GDAL.keys())
def test_a_value_gdal_never_writes_goes_to_native_buffer(qgis_processing, tmp_path, engines, sql):
    spec = attribute_layer(tmp_path / "in.gpkg")
    connection = sqlite3.connect(str(tmp_path / "in.gpkg"))
    connection.execute(sql)
    connection.commit()
    connection.close()
    assert run_to_end(BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1)), 60) is True
    native(qgis_processing, spec, tmp_path, DISTANCE=1)
    assert engines == ["buffer_in_sqlite", "buffer_in_slices"]
    assert rows(tmp_path / "ours.gpkg", "ours") == rows(tmp_path / "native.gpkg", "native")


def test_slices_hold_as_many_features_whatever_the_fids(tmp_path):
    """Gaps in the fids (here up to the largest a GeoPackage allows) make no slice larger."""
    path = tmp_path / "in.gpkg"
    spec = layer_of(path, ogr.wkbPolygon, [SQUARE] * 2000)
    connection = sqlite3.connect(str(path))
    connection.execute("UPDATE t SET fid = 1000000000000 WHERE fid = 1000")
    connection.execute("UPDATE t SET fid = 9223372036854775807 WHERE fid = 2000")
    connection.commit()
    connection.close()
    plan = plan_for(spec, distance=1)
    ranges = slices_module.fid_ranges(plan, 2)
    assert len(ranges) == 16 and ranges[-1][1] == 2 ** 63 - 1
    with sqlite3.connect(str(path)) as connection:
        counts = [connection.execute("SELECT count(*) FROM t WHERE fid BETWEEN ? AND ?", pair).fetchone()[0]
                  for pair in ranges]
    assert counts == [200] * 8 + [50] * 8  # each worker's last slice in four parts: the workers end together
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and task.details.written == 2000
    assert rows(tmp_path / "ours.gpkg", "ours")[-1][0] == 2 ** 63 - 1


def test_a_utf16_geopackage_is_left_to_native_buffer(tmp_path, engines):
    spec = layer_of(tmp_path / "utf8.gpkg", ogr.wkbPolygon, [SQUARE] * 300, name="polygons")
    source = sqlite3.connect(str(tmp_path / "utf8.gpkg"))
    dump = "\n".join(source.iterdump())
    application_id, user_version = (source.execute(f"PRAGMA {name}").fetchone()[0]
                                    for name in ("application_id", "user_version"))
    source.close()
    copy = sqlite3.connect(str(tmp_path / "in16.gpkg"))
    copy.execute("PRAGMA encoding = 'UTF-16le'")
    copy.executescript(dump)
    copy.execute(f"PRAGMA application_id = {application_id}")
    copy.execute(f"PRAGMA user_version = {user_version}")
    copy.commit()
    copy.close()
    assert not sqlite_module.sqlite_can_buffer(plan_for(f"{tmp_path / 'in16.gpkg'}|layername=polygons", distance=2))
    inside = BufferTask(BufferRequest(spec, f"{tmp_path / 'in16.gpkg'}|layername=zones", distance=2))
    assert run_to_end(inside, 60) is True and inside.details.written == 300  # into a UTF-16 file: native:buffer's
    assert engines == ["buffer_in_sqlite", "buffer_in_slices"]


def test_a_large_layer_is_cut_into_slices_of_bounded_size(tmp_path, monkeypatch):
    """The slices waiting to be written are held in memory: a large layer gets more slices, not larger ones."""
    monkeypatch.setattr(slices_module, "MAX_SLICE_FEATURES", 150)
    spec = layer_of(tmp_path / "in.gpkg", ogr.wkbPolygon, [SQUARE] * 3000)
    ranges = slices_module.fid_ranges(plan_for(spec, distance=1), 2)
    assert len(ranges) == 20 and all(last - first + 1 == 150 for first, last in ranges)


def test_without_spatialite_native_buffer_does_the_run(tmp_path, engines, monkeypatch):
    """A Python built without SQLite's extension loading (or no SpatiaLite module): the slices engine."""
    import qgis.utils

    def no_extension_loading(*_args, **_kwargs):
        raise AttributeError("'sqlite3.Connection' object has no attribute 'enable_load_extension'")

    monkeypatch.setattr(qgis.utils, "spatialite_connect", no_extension_loading)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300)
    task = BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2))
    assert run_to_end(task, 60) is True and task.details.written == 300 and engines == ["buffer_in_slices"]


def test_a_text_longer_than_its_column_s_width_is_written_as_the_file_holds_it(tmp_path, engines):
    """GDAL writes it (with a warning) and native:buffer fails on it: nothing is dropped, whatever --invalid says."""
    spec = attribute_layer(tmp_path / "in.gpkg")
    with sqlite3.connect(str(tmp_path / "in.gpkg")) as connection:
        connection.execute("UPDATE t SET s3 = 'abcdefgh' WHERE fid = 3")
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1, invalid="skip"))
    assert run_to_end(task, 60) is True and task.details.written == 10 and engines == ["buffer_in_sqlite"]
    assert [row[-1] for row in rows(tmp_path / "ours.gpkg", "ours")][2] == "abcdefgh"


@pytest.mark.parametrize("engine", ["sqlite", "slices"])
def test_a_fid_column_named_like_the_slicing_query_s_own_names(tmp_path, monkeypatch, engine):
    """The fid column may be called ``n`` (or anything): every feature is read, by either engine."""
    if engine == "slices":
        monkeypatch.setattr(buffer_module, "sqlite_can_buffer", lambda plan: False)
    spec = layer_of(tmp_path / "in.gpkg", ogr.wkbPolygon, [SQUARE] * 700, name="parcels",
                    options=("FID=n", "SPATIAL_INDEX=NO"), counted=False)
    with sqlite3.connect(str(tmp_path / "in.gpkg")) as connection:
        low, high, count = connection.execute("SELECT min(n), max(n), count(*) FROM parcels").fetchone()
    ranges = slices_module.fid_ranges(plan_for(spec, distance=1), 2)
    assert count == 700 and ranges[0][0] == low and ranges[-1][1] == high
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and task.details.written == 700


@pytest.mark.parametrize("engine", ["sqlite", "slices"])
def test_a_fid_column_named_fid_in_capitals_keeps_the_source_s_fids(qgis_processing, tmp_path, monkeypatch, engines,
                                                                    engine):
    """QGIS takes a source's FID for its own fid column, as native:buffer shows: gaps and negative fids kept."""
    if engine == "slices":
        monkeypatch.setattr(buffer_module, "sqlite_can_buffer", lambda plan: False)
    spec = layer_of(tmp_path / "in.gpkg", ogr.wkbPolygon, [SQUARE] * 600, name="parcels",
                    options=("FID=FID", "SPATIAL_INDEX=NO"))
    with sqlite3.connect(str(tmp_path / "in.gpkg")) as connection:
        connection.execute("UPDATE parcels SET FID = -FID - 10000")  # out of the way, then -897, -894, …, 900
        connection.execute("UPDATE parcels SET FID = (-FID - 10000) * 3 - 900")
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and task.details.written == 600 and engines == [f"buffer_in_{engine}"]
    ours = rows(tmp_path / "ours.gpkg", "ours")
    assert [row[0] for row in ours] == [n * 3 - 900 for n in range(1, 601)]
    assert ours == rows(native(qgis_processing, spec, tmp_path, DISTANCE=1).source().split("|")[0], "native")


def test_a_run_is_freed_as_it_ends_not_by_the_garbage_collector(tmp_path, monkeypatch):
    """A run holds the plan (QGIS's objects): left in a cycle, it would be freed at any moment, on any
    thread, or after QGIS has exited."""
    import gc
    import weakref

    made = []
    real_init = sqlite_module._Run.__init__

    def init(run, *args):
        real_init(run, *args)
        made.append(weakref.ref(run))

    monkeypatch.setattr(sqlite_module._Run, "__init__", init)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=600)
    gc.disable()
    try:
        assert run_to_end(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2)), 60) is True
        assert len(made) == 1 and made[0]() is None
    finally:
        gc.enable()


def test_ctrl_c_stops_the_statements_with_geos(tmp_path, subprocess_env):
    """Each row left of a running statement would call GEOS in vain after the cancel, and
    SpatiaLite print "GEOS error: InterruptedException" for it (695 lines in one run)."""
    import signal
    import subprocess
    import sys
    import time

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=60_000)
    run = subprocess.Popen([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "2",
                            "--segments", "48", "--output", str(tmp_path / "out.gpkg")], env=subprocess_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".out") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)  # the output's temporary file: the workers are under way
        time.sleep(0.5)
        assert run.poll() is None, "the run ended before the cancel"
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=30)
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 130, stderr
    assert stderr.count("GEOS error") <= 10, stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]


def test_a_layer_without_gaps_is_cut_without_reading_its_fids(tmp_path, monkeypatch):
    """GDAL's feature count says the fids have no gaps: the slices a pass over them would give, by
    arithmetic. A stale count that equals the span is caught by looking fids up, and loses nothing."""
    statements = []
    real_read_only = slices_module.read_only

    @contextlib.contextmanager
    def traced(path):
        with real_read_only(path) as connection:
            connection.set_trace_callback(statements.append)
            yield connection

    monkeypatch.setattr(slices_module, "read_only", traced)
    path = tmp_path / "in.gpkg"
    spec = layer_of(path, ogr.wkbPolygon, [SQUARE] * 3000)
    plan = plan_for(spec, distance=1)
    by_arithmetic = slices_module.fid_ranges(plan, 2)
    assert statements and not any("row_number" in statement or "count(*)" in statement for statement in statements)
    with sqlite3.connect(str(path)) as connection:
        connection.execute("UPDATE gpkg_ogr_contents SET feature_count = NULL")  # as another tool's file: no count
    assert slices_module.fid_ranges(plan, 2) == by_arithmetic
    assert any("row_number" in statement for statement in statements)
    with sqlite3.connect(str(path)) as connection:  # 1,000 features deleted, the count left at 3,000
        connection.execute("DELETE FROM t WHERE fid BETWEEN 1001 AND 2000")
        connection.execute("UPDATE gpkg_ogr_contents SET feature_count = 3000")
    statements.clear()
    ranges = slices_module.fid_ranges(plan, 2)
    assert any("row_number" in statement for statement in statements)  # counted: slices of even counts
    assert len(ranges) == 16 and ranges[0][0] == 1 and ranges[-1][1] == 3000
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=1))
    assert run_to_end(task, 60) is True and task.details.written == 2000
    forged = tmp_path / "forged.gpkg"  # 2 features, fids 1 and 2,000,000, and a count of 2,000,000
    layer_of(forged, ogr.wkbPolygon, [SQUARE] * 2)
    with sqlite3.connect(str(forged)) as connection:
        connection.execute("UPDATE t SET fid = 2000000 WHERE fid = 2")
        connection.execute("UPDATE gpkg_ogr_contents SET feature_count = 2000000")
    assert slices_module.fid_ranges(plan_for(f"{forged}|layername=t", distance=1), 2) == [(1, 2000000)]


def test_a_cancel_interrupts_the_pass_over_the_fids(tmp_path):
    """Cutting a layer of millions of features whose fids have gaps reads every fid: a cancel stops it."""
    from offload.core.control import Control
    from offload.core.errors import Canceled

    path = tmp_path / "in.gpkg"
    layer_of(path, ogr.wkbPoint, ["POINT (1 1)"])
    with sqlite3.connect(str(path)) as connection:  # 400,000 more rows, with gaps: the fids are read, one by one
        connection.execute("WITH RECURSIVE k(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM k WHERE i < 400001) "
                           "INSERT INTO t (fid, geom, n) SELECT 2 * i, (SELECT geom FROM t WHERE fid = 1), i FROM k")
    plan = plan_for(f"{path}|layername=t", distance=1)
    registered, removed = threading.Event(), threading.Event()

    def on_cancel(hook):  # the cancel comes as the fids are read: the hook, called until it is removed
        registered.set()

        def keep_calling():
            while not removed.is_set():
                hook()
                time.sleep(0.001)

        threading.Thread(target=keep_calling, daemon=True).start()
        return removed.set

    def check_canceled():
        if registered.is_set():
            raise Canceled("canceled")

    with pytest.raises(Canceled):
        slices_module.fid_ranges(plan, 2, Control(check_canceled=check_canceled, on_cancel=on_cancel))
    assert removed.is_set()
