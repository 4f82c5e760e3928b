"""Buffering matches native:buffer feature for feature, and stays off the main thread."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from osgeo import ogr, osr
from qgis.core import QgsProject, QgsVectorLayer

from offload.core.errors import InputError
from offload.core.task import start
from offload.vector_tasks.buffer_task import BufferTask
from offload.vector_tasks.request import BufferRequest
from qgis_helpers import run_to_end, wait_until
from vector_data import assert_same, make_layer, native

@pytest.mark.parametrize("kind, cap, join, native_cap, native_join", [
    ("points", "round", "round", 0, 0),
    ("lines", "flat", "miter", 1, 1),
    ("lines", "square", "bevel", 2, 2),
    ("polygons", "round", "miter", 0, 1),
])
def test_parity_with_native_buffer(qgis_processing, tmp_path, kind, cap, join, native_cap, native_join):
    spec = make_layer(tmp_path / "in.gpkg", kind)
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=3.5, segments=8, end_cap=cap, join=join))
    assert run_to_end(task, 120) is True
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=3.5, SEGMENTS=8, END_CAP_STYLE=native_cap,
                    JOIN_STYLE=native_join)
    assert_same(QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr"), theirs)
    assert task.details.null == 1


def test_parity_with_field_distances_and_dissolve(qgis_processing, tmp_path):
    from qgis.core import QgsProperty

    spec = make_layer(tmp_path / "in.gpkg", "polygons")
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance_field="d"))
    assert run_to_end(task, 120) is True
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=QgsProperty.fromField("d"))
    assert_same(QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr"), theirs)
    dissolved = BufferTask(BufferRequest(spec, tmp_path / "dissolved.gpkg", distance=4, dissolve=True))
    assert run_to_end(dissolved, 120) is True
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=4, DISSOLVE=True)
    assert_same(QgsVectorLayer(str(tmp_path / "dissolved.gpkg"), "ours", "ogr"), theirs)


def test_geographic_layers_buffer_in_metres(tmp_path):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=3, epsg=4326)
    task = BufferTask(BufferRequest(spec, tmp_path / "m.gpkg", distance=1000, units="meters"))
    assert run_to_end(task, 60) is True
    feature = next(QgsVectorLayer(str(tmp_path / "m.gpkg"), "m", "ogr").getFeatures())
    box = feature.geometry().boundingBox()
    assert box.height() == pytest.approx(2 * 1000 / 110_574, rel=0.01)  # degrees of latitude for 2 km


def test_the_snapshot_survives_the_layer_being_deleted(tmp_path, project):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20_000)
    layer = QgsVectorLayer(spec, "in", "ogr")
    project.addMapLayer(layer)
    task = start(BufferTask(BufferRequest(layer, tmp_path / "out.gpkg", distance=2)))
    layer.setSubsetString('"n" < 3')
    project.removeMapLayer(layer.id())
    wait_until(lambda: task.result is not None, 120, "the buffer to finish")
    assert task.result is True and task.details.written == 20_000
    assert [l.name() for l in QgsProject.instance().mapLayers().values()] == ["out"]


def test_a_live_layer_in_the_request_is_read_as_it_is_into_a_frozen_plan(tmp_path, project):
    from offload.core.snapshot import refuse_main_thread_object
    from offload.vector_tasks.buffer import validate_buffer_request

    spec = make_layer(tmp_path / "in.gpkg", "points", count=10)
    layer = QgsVectorLayer(spec, "in", "ogr")
    layer.startEditing()
    layer.deleteFeatures([1, 2, 3])  # unsaved: only the live layer knows
    plan = validate_buffer_request(BufferRequest(layer, None, distance=2))
    layer.rollBack()
    assert plan.expected == 7 and len(list(plan.source.getFeatures())) == 7
    assert validate_buffer_request(BufferRequest(spec, None)).expected == 10  # a path: the file as saved
    refuse_main_thread_object(plan, "plan")  # nothing in it lives on the main thread
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.distance = 3.0


def test_invalid_geometries_are_fixed_skipped_or_fail(tmp_path):
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "bad.gpkg"))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("bad", srs, ogr.wkbPolygon)
    for wkt in ("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "POLYGON ((20 0, 30 0, 30 10, 20 0))"):  # a bow tie
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    spec = f"{tmp_path / 'bad.gpkg'}|layername=bad"
    fixed = BufferTask(BufferRequest(spec, tmp_path / "fixed.gpkg", distance=1))
    assert run_to_end(fixed) is True and fixed.details.fixed == 1 and fixed.details.written == 2
    skipped = BufferTask(BufferRequest(spec, tmp_path / "skipped.gpkg", distance=1, invalid="skip"))
    assert run_to_end(skipped) is True and skipped.details.skipped == 1 and skipped.details.written == 1
    failed = BufferTask(BufferRequest(spec, tmp_path / "failed.gpkg", distance=1, invalid="fail"))
    assert run_to_end(failed) is False and "feature 1 has an invalid geometry" in failed.error.one_line()
    assert not (tmp_path / "failed.gpkg").exists()


def test_a_geopackage_layer_of_mixed_geometries_has_its_polygons_checked_and_kept(tmp_path):
    # QGIS 3.22 opens a layer declared GEOMETRY as a point layer, and gives its polygons as they are
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "mixed.gpkg"))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("mixed", srs, ogr.wkbUnknown)
    for wkt in ("POINT (0 0)", "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", "POLYGON ((20 0, 30 0, 30 10, 20 10, 20 0))"):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    spec = f"{tmp_path / 'mixed.gpkg'}|layername=mixed"
    failed = BufferTask(BufferRequest(spec, tmp_path / "failed.gpkg", distance=1, invalid="fail"))
    assert run_to_end(failed) is False and "feature 2 has an invalid geometry" in failed.error.one_line()
    skipped = BufferTask(BufferRequest(spec, tmp_path / "skipped.gpkg", distance=1, invalid="skip"))
    assert run_to_end(skipped) is True and skipped.details.skipped == 1 and skipped.details.written == 2
    written = ogr.Open(str(tmp_path / "skipped.gpkg"))  # kept: its layer dies with it
    areas = sorted(round(f.GetGeometryRef().GetArea()) for f in written.GetLayer(0))
    assert areas == [3, 143]  # the point's and the square's


@pytest.mark.parametrize("options, message", [
    ({"input": "missing.gpkg"}, "input 'missing.gpkg' does not exist"),
    ({"input": 42}, "input 42 is neither a path nor a layer"),
    ({"distance_field": "nope"}, "distance field 'nope' is not a field"),
    ({"distance_field": "n", "distance_expression": '"n" * 2'}, "a distance field or a distance expression, not both"),
    ({"segments": 0}, "segments 0 is below the smallest allowed, 1"),
    ({"end_cap": "pointy"}, "end_cap 'pointy' is not one of round, flat, square"),
    ({"join": "glue"}, "join 'glue' is not one of round, miter, bevel"),
    ({"miter_limit": 0}, "miter_limit 0 is below the smallest allowed, 0.01"),
    ({"units": None}, "units None is not allowed"),
    ({"where": '"n" >'}, "filter"),
])
def test_refusals_name_the_bad_value(tmp_path, options, message):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    fields = {"input": spec, "output": tmp_path / "out.gpkg", **options}
    with pytest.raises(InputError, match=message):
        BufferTask(BufferRequest(**fields))
    assert not (tmp_path / "out.gpkg").exists()


def test_the_cli_buffers_and_refuses_with_exit_2(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=10)
    ok = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "2",
                         "--output", str(tmp_path / "out.gpkg")], env=subprocess_env, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert QgsVectorLayer(str(tmp_path / "out.gpkg"), "o", "ogr").featureCount() == 10
    bad = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance-field", "name",
                          "--output", str(tmp_path / "bad.gpkg")], env=subprocess_env, capture_output=True, text=True,
                         timeout=120)
    lines = [l for l in bad.stderr.splitlines() if "XDG_RUNTIME_DIR" not in l]
    assert bad.returncode == 2 and lines == ["offload buffer: distance field 'name' is not a field of 'in'"]
    assert not (tmp_path / "bad.gpkg").exists()


def test_processing_offload_buffer_matches_native(qgis_processing, tmp_path):
    import processing
    from qgis.core import QgsApplication, QgsProperty

    from offload.provider import OffloadProvider

    spec = make_layer(tmp_path / "in.gpkg", "lines", count=300)
    registry = QgsApplication.processingRegistry()
    added = registry.providerById("offload") is None
    if added:
        registry.addProvider(OffloadProvider())
    layer = QgsVectorLayer(spec, "in", "ogr")  # referenced here: Processing does not keep it alive
    try:
        ours = processing.run("offload:buffer", {"INPUT": layer, "DISTANCE": 2.5, "END_CAP_STYLE": 1,
                                                 "JOIN_STYLE": 2, "OUTPUT": str(tmp_path / "o.gpkg")})
        dynamic = processing.run("offload:buffer", {"INPUT": layer, "DISTANCE": QgsProperty.fromExpression('"n" % 3 + 1'),
                                                    "OUTPUT": str(tmp_path / "dynamic.gpkg")})
        with pytest.raises(Exception, match="Incorrect parameter value for SEGMENTS"):
            processing.run("offload:buffer", {"INPUT": layer, "SEGMENTS": 0, "OUTPUT": str(tmp_path / "x.gpkg")})
    finally:
        if added:
            registry.removeProvider("offload")
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=2.5, END_CAP_STYLE=1, JOIN_STYLE=2)
    assert_same(QgsVectorLayer(ours["OUTPUT"], "ours", "ogr"), theirs)
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=QgsProperty.fromExpression('"n" % 3 + 1'))
    assert_same(QgsVectorLayer(dynamic["OUTPUT"], "dynamic", "ogr"), theirs)


def test_processing_opens_the_layer_once(offload_provider, qgis_processing, tmp_path, monkeypatch):
    """checkParameterValues and the run each validated the request: the layer was opened twice
    before any feature was buffered. The run takes the checked plan, and the algorithm lets it go."""
    import processing

    from offload.vector_tasks import buffer

    opened = []
    open_layer = buffer.open_layer
    monkeypatch.setattr(buffer, "open_layer", lambda spec: opened.append(spec) or open_layer(spec))
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300)
    result = processing.run("offload:buffer", {"INPUT": spec, "DISTANCE": 1.5, "OUTPUT": str(tmp_path / "once.gpkg")})
    assert len(opened) == 1
    assert_same(QgsVectorLayer(result["OUTPUT"], "once", "ogr"), native(qgis_processing, spec, tmp_path, DISTANCE=1.5))
    opened.clear()
    processing.run("offload:buffer", {"INPUT": spec, "DISTANCE": 2.5, "OUTPUT": str(tmp_path / "again.gpkg")})
    assert len(opened) == 1  # a check of other values is not the one the run reuses


def test_a_checked_plan_serves_the_next_run_only(offload_provider, qgis_processing, tmp_path, monkeypatch):
    """A script checks once and runs its algorithm twice, as a batch dialog runs copies of one:
    the check's plan (the layer's snapshot, its fields of then) goes to the first run alone.
    Handed to every copy, the second run wrote the layer as it was at the check, without the
    field added since."""
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    from offload.vector_tasks import buffer

    opened = []
    open_layer = buffer.open_layer
    monkeypatch.setattr(buffer, "open_layer", lambda spec: opened.append(spec) or open_layer(spec))
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300)
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("offload:buffer")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    first = {"INPUT": spec, "DISTANCE": 1.5, "OUTPUT": str(tmp_path / "first.gpkg")}
    assert algorithm.checkParameterValues(first, context) == (True, "")
    _, ok = algorithm.run(first, context, feedback)
    assert ok and len(opened) == 1  # the check's opening: the run took its plan
    source = ogr.Open(str(tmp_path / "in.gpkg"), 1)
    assert source.GetLayer(0).CreateField(ogr.FieldDefn("added", ogr.OFTInteger)) == 0
    source = None
    _, ok = algorithm.run(dict(first, OUTPUT=str(tmp_path / "second.gpkg")), context, feedback)
    assert ok and len(opened) == 2  # checked afresh
    fields = QgsVectorLayer(str(tmp_path / "second.gpkg"), "second", "ogr").fields().names()
    assert "added" in fields


def test_where_buffers_only_the_matching_features(qgis_processing, tmp_path):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300)
    task = BufferTask(BufferRequest(spec, tmp_path / "some.gpkg", distance=1.5, where='"n" % 3 = 0 AND "n" < 200'))
    assert run_to_end(task) is True
    ours = QgsVectorLayer(str(tmp_path / "some.gpkg"), "some", "ogr")
    assert sorted(f["n"] for f in ours.getFeatures()) == [n for n in range(0, 200, 3)]
    subset = QgsVectorLayer(spec, "subset", "ogr")
    subset.setSubsetString('"n" % 3 = 0 AND "n" < 200')
    import processing

    theirs = processing.run("native:buffer", {"INPUT": subset, "DISTANCE": 1.5, "OUTPUT": str(tmp_path / "n.gpkg")})
    assert_same(ours, QgsVectorLayer(theirs["OUTPUT"], "native", "ogr"))


def test_parity_with_an_expression_distance(qgis_processing, tmp_path):
    from qgis.core import QgsProperty

    spec = make_layer(tmp_path / "in.gpkg", "lines", count=500)
    expression = 'CASE WHEN "n" % 4 = 0 THEN NULL ELSE "d" * 0.5 + length(@layer_name) END'
    task = BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance_expression=expression))
    assert run_to_end(task, 120) is True
    theirs = native(qgis_processing, spec, tmp_path, DISTANCE=QgsProperty.fromExpression(expression))
    assert_same(QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr"), theirs)
    areas = {round(f.geometry().area(), 6) for f in theirs.getFeatures() if f.hasGeometry()}
    assert len(areas) > 2  # the expression did vary the distance
    fallback = BufferTask(BufferRequest(spec, tmp_path / "fallback.gpkg", distance=0.25, distance_expression=expression))
    assert run_to_end(fallback, 120) is True
    thin = QgsVectorLayer(str(tmp_path / "fallback.gpkg"), "fallback", "ogr")
    by_n = {f["n"]: f.geometry().area() for f in thin.getFeatures() if f.hasGeometry()}
    assert by_n[4] < by_n[5] / 2  # n % 4 == 0: the null expression gave the given distance, 0.25, not 10


@pytest.mark.parametrize("expression, message", [
    ('"d" *', "distance expression '\"d\" \\*'"),
    ('"nope" + 1', "Field 'nope' not found"),
    ("no_such_function(3)", "no_such_function"),
])
def test_bad_distance_expressions_are_refused(tmp_path, expression, message):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    with pytest.raises(InputError, match=message):
        BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance_expression=expression))


def test_selected_features_only_into_a_memory_layer(tmp_path, project):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=400)
    layer = QgsVectorLayer(spec, "in", "ogr")
    with pytest.raises(InputError, match="layer 'in' has no selected features"):
        BufferTask(BufferRequest(layer, None, selected_only=True))
    layer.selectByExpression('"n" >= 390')
    task = start(BufferTask(BufferRequest(layer, None, distance=2, selected_only=True)))
    layer.removeSelection()  # after submission: changes nothing
    wait_until(lambda: task.result is not None, 60, "the buffer to finish")
    assert task.result is True
    (memory,) = task.loaded_layers()
    assert memory.providerType() == "memory" and memory.name() == "in buffered"
    assert memory.thread() == project.thread()
    assert sorted(f["n"] for f in memory.getFeatures()) == list(range(390, 400))
    assert all(f.geometry().area() > 9.5 * 4.25 for f in memory.getFeatures())
    assert not list(tmp_path.glob("*.offload-*"))


def test_the_last_progress_status_counts_every_feature_read(tmp_path):
    """A layer of one chunk once ended on "0 features read" (the count before its first feature)."""
    from offload.core.control import Control
    from offload.vector_tasks.buffer import run_buffer, validate_buffer_request

    spec = make_layer(tmp_path / "in.gpkg", "points", count=40)
    statuses = []
    run_buffer(validate_buffer_request(BufferRequest(spec, None, distance=1)), None,
               Control(report=lambda _fraction, status=None: statuses.append(status)), made=lambda _layer: None)
    assert [s for s in statuses if s][-1] == "40 features read"


def test_cancel_leaves_nothing_and_progress_was_reported(tmp_path):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=60_000)
    task = start(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2, segments=24)))
    progress = []
    task.progressChanged.connect(progress.append)
    wait_until(lambda: task.fraction > 0.1, 60, "the buffer to get going")
    task.cancel()
    wait_until(lambda: task.result is not None, 10, "the canceled task to end")
    assert task.result is False and task.canceled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gpkg"]  # no output, no temporary file
    assert progress and 0 < max(progress) < 100


def test_a_layer_without_geometry_is_refused(tmp_path):
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp_path / "table.gpkg"))
    table = source.CreateLayer("rows", None, ogr.wkbNone)
    table.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    source = None
    with pytest.raises(InputError, match="has no geometry"):
        BufferTask(BufferRequest(f"{tmp_path / 'table.gpkg'}|layername=rows", tmp_path / "out.gpkg"))
    assert not (tmp_path / "out.gpkg").exists()


@pytest.mark.parametrize("bulk_index", [True, False])
def test_the_output_has_a_spatial_index_answering_as_natives(qgis_processing, tmp_path, monkeypatch, bulk_index):
    import offload.vector_tasks.gpkg_rtree as gpkg_rtree

    if not bulk_index:  # the packed tree refused: GDAL builds the index its own way
        monkeypatch.setattr(gpkg_rtree, "add_spatial_index", lambda path, table, boxes=None: False)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=3000)
    assert run_to_end(BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=3)), 60) is True
    native(qgis_processing, spec, tmp_path, DISTANCE=3)
    answers = []
    for path in (tmp_path / "ours.gpkg", tmp_path / "native.gpkg"):
        dataset = ogr.Open(str(path))  # referenced while its layer is used
        layer = dataset.GetLayer(0)
        assert layer.TestCapability(ogr.OLCFastSpatialFilter)
        found = []
        for x in range(0, 650, 50):
            layer.SetSpatialFilterRect(x, 100, x + 37, 180)
            found.append(sorted(f.GetField("n") for f in layer))
        answers.append(found)
    assert answers[0] == answers[1] and sum(map(len, answers[0])) > 100


@pytest.mark.parametrize("suffix", [".shp", ".geojson"])
def test_other_formats_by_extension(tmp_path, suffix):
    spec = make_layer(tmp_path / "in.gpkg", "lines", count=200)
    task = BufferTask(BufferRequest(spec, tmp_path / f"out{suffix}", distance=1.5, dissolve=suffix == ".geojson"))
    assert run_to_end(task, 60) is True
    written = QgsVectorLayer(str(tmp_path / f"out{suffix}"), "out", "ogr")
    assert written.isValid() and written.featureCount() == (1 if suffix == ".geojson" else 200)
    assert not [p for p in tmp_path.iterdir() if ".offload-" in p.name]


def test_gdal_3_8_and_later_build_the_index_themselves(tmp_path, monkeypatch):
    import offload.vector_tasks.gpkg_rtree as gpkg_rtree
    import offload.vector_tasks.sinks as sinks_module

    packed = []
    monkeypatch.setattr(sinks_module, "gdal_packs_rtree", lambda: True)
    monkeypatch.setattr(gpkg_rtree, "add_spatial_index",
                        lambda path, table, boxes=None: packed.append(table) or True)
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=300)
    assert run_to_end(BufferTask(BufferRequest(spec, tmp_path / "ours.gpkg", distance=3)), 60) is True
    dataset = ogr.Open(str(tmp_path / "ours.gpkg"))
    assert dataset.GetLayer(0).TestCapability(ogr.OLCFastSpatialFilter) and packed == []
