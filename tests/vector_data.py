"""Vector test data: GeoPackage layers written with OGR."""
from __future__ import annotations

from pathlib import Path

from osgeo import ogr, osr

SHAPES = {
    "points": (ogr.wkbPoint, ["POINT ({x} {y})"]),
    "lines": (ogr.wkbLineString, ["LINESTRING ({x} {y}, {x2} {y}, {x2} {y2})"]),
    "polygons": (ogr.wkbPolygon, ["POLYGON (({x} {y}, {x2} {y}, {x2} {y2}, {x} {y}))"]),
}


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
