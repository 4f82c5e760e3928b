"""Vector test data: GeoPackage layers written with OGR."""
from __future__ import annotations

from pathlib import Path

import pytest
from osgeo import ogr, osr

SHAPES = {
    "points": (ogr.wkbPoint, ["POINT ({x} {y})"]),
    "lines": (ogr.wkbLineString, ["LINESTRING ({x} {y}, {x2} {y}, {x2} {y2})"]),
    "polygons": (ogr.wkbPolygon, ["POLYGON (({x} {y}, {x2} {y}, {x2} {y2}, {x} {y}))"]),
}


# Offload's end cap and join, and native:buffer's numbers for them, on each kind of layer.
CAP_AND_JOIN_CASES = [
    ("points", "round", "round", 0, 0),
    ("lines", "flat", "miter", 1, 1),
    ("lines", "square", "bevel", 2, 2),
    ("polygons", "round", "miter", 0, 1),
]


def make_layer(path, kind: str, count: int = 2500, epsg: int = 3857, name: str = ""):
    """A GeoPackage layer (named ``name`` or ``kind``; added to the file if it exists) with n (int)
    and d (distance) fields, one null geometry, odd shapes."""
    geometry_type, (template,) = SHAPES[kind]
    name = name or kind
    exists = Path(path).exists()
    source = ogr.Open(str(path), 1) if exists else ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = source.CreateLayer(name, srs, geometry_type)
    layer.CreateField(ogr.FieldDefn("n", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("d", ogr.OFTReal))
    layer.StartTransaction()
    for n in range(count):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        feature.SetField("d", 1.0 + (n % 7))
        x, y = (n % 50) * 13.0, (n // 50) * 11.0
        if n != 17:  # one feature without geometry
            feature.SetGeometry(ogr.CreateGeometryFromWkt(template.format(x=x, y=y, x2=x + 9.5, y2=y + 4.25)))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None
    return f"{path}|layername={name}"


def make_squares_with_bow_ties(path, count: int, bow_ties, per_row: int = 20) -> str:
    """A layer ``bad`` of ``count`` 10 m squares, 20 m apart, ``per_row`` a row; the features at the
    indexes in ``bow_ties`` are self-crossing (invalid) bow ties instead."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("bad", srs, ogr.wkbPolygon)
    layer.StartTransaction()
    for n in range(count):
        x, y = (n % per_row) * 20.0, (n // per_row) * 20.0
        wkt = (f"POLYGON (({x} {y}, {x + 10} {y + 10}, {x + 10} {y}, {x} {y + 10}, {x} {y}))" if n in bow_ties
               else f"POLYGON (({x} {y}, {x + 10} {y}, {x + 10} {y + 10}, {x} {y + 10}, {x} {y}))")
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    layer.CommitTransaction()
    source = None
    return f"{path}|layername=bad"


def make_zigzag(path, vertices: int = 1_000_000) -> str:
    """One comb-shaped polygon of ``vertices`` vertices: teeth 0.5 apart and 10 high. Its buffer
    at a distance wider than the teeth makes GEOS work for many minutes (issue 14)."""
    import numpy as np

    teeth = vertices // 2
    x = np.repeat(np.arange(teeth, dtype=np.float64), 2)
    x[1::2] += 0.5
    y = np.tile([0.0, 10.0], teeth)
    x = np.concatenate([x, [teeth, 0.0, 0.0]])
    y = np.concatenate([y, [-1.0, -1.0, 0.0]])
    ring = np.column_stack([x, y]).astype("<f8")
    wkb = (np.array([1], "u1").tobytes() + np.array([3, 1, len(ring)], "<u4").tobytes() + ring.tobytes())
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = source.CreateLayer("zigzag", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkb(wkb))
    layer.CreateFeature(feature)
    source = None
    return f"{path}|layername=zigzag"


def native(qgis_processing, spec, tmp_path, **parameters):
    """native:buffer of ``spec`` into tmp_path/native.gpkg, as a layer."""
    import processing
    from qgis.core import QgsVectorLayer

    defaults = {"DISTANCE": 10, "SEGMENTS": 5, "END_CAP_STYLE": 0, "JOIN_STYLE": 0, "MITER_LIMIT": 2,
                "DISSOLVE": False}
    defaults.update(parameters)
    out = str(tmp_path / "native.gpkg")
    layer = QgsVectorLayer(spec, "in", "ogr")  # referenced here: Processing does not keep it alive
    processing.run("native:buffer", {"INPUT": layer, "OUTPUT": out, **defaults})
    return QgsVectorLayer(out, "native", "ogr")


def assert_same(ours, theirs):
    """The same features (their fids too), attributes and geometries (to GEOS's rounding)."""
    ours_features, their_features = list(ours.getFeatures()), list(theirs.getFeatures())
    assert [f.id() for f in ours_features] == [f.id() for f in their_features]
    for a, b in zip(ours_features, their_features):
        assert a.attributes()[1:] == b.attributes()[1:]  # after the fid
        assert a.geometry().isNull() == b.geometry().isNull()
        if not a.geometry().isNull():
            assert a.geometry().area() == pytest.approx(b.geometry().area(), rel=1e-9)
            assert a.geometry().symDifference(b.geometry()).area() <= 1e-9 * b.geometry().area() + 1e-12


def cancel_a_heavy_buffer(tmp_path, started: list):
    """Buffer 60,000 polygons at 48 segments into tmp_path/out.gpkg, cancel the task once
    ``started`` (filled by the test's patch of the engine) says a slice is under way, and return
    the task once it has ended."""
    from offload.core.task import start
    from offload.vector_tasks.buffer_task import BufferTask
    from offload.vector_tasks.request import BufferRequest
    from qgis_helpers import wait_until

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=60_000)
    task = start(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=2, segments=48)))
    # a slice under way (a worker thread alone may not have begun one: 2 runs in 8 failed)
    wait_until(lambda: started, 60, "a slice to be under way")
    task.cancel()
    wait_until(lambda: task.result is not None, 20, "the canceled task to end")
    return task
