"""Where a buffer's output goes: a GeoPackage's tables that are not layers (QGIS's saved
project, ``qgis_projects``) are as protected as its layers (review finding 6)."""
from __future__ import annotations

import sqlite3

import pytest
from osgeo import ogr, osr

from offload.core.errors import InputError
from offload.vector_tasks.destination import check_destination


def geopackage(path, *layers: str, project: bool = True):
    """A GeoPackage of ``layers`` (polygons) and, if ``project``, a QGIS project saved in it
    (QGIS's "Save project to GeoPackage": a table ``qgis_projects`` not in gpkg_contents)."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name in layers:
        dataset.CreateLayer(name, srs, ogr.wkbPolygon)
    dataset = None
    if project:
        connection = sqlite3.connect(str(path))
        connection.execute("CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
        connection.execute("INSERT INTO qgis_projects VALUES ('my project', '{}', x'504b0304')")
        connection.commit()
        connection.close()
    return path


def test_replacing_a_geopackage_that_holds_a_saved_project_is_refused(tmp_path):
    path = geopackage(tmp_path / "proj.gpkg", "proj")
    with pytest.raises(InputError, match=r"holds other layers \(qgis_projects \(not a layer\)\)"):
        check_destination(path, None, overwrite=True)
    plain = geopackage(tmp_path / "plain.gpkg", "plain", project=False)  # only its own layer: replaced
    assert check_destination(plain, None, overwrite=True).layer == "plain"


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_table_that_is_not_a_layer_is_never_the_layer_written(tmp_path, overwrite):
    path = geopackage(tmp_path / "m.gpkg", "parcels", "roads")
    with pytest.raises(InputError, match="holds a table 'qgis_projects' that is not a layer"):
        check_destination(f"{path}|layername=qgis_projects", None, overwrite)
    with pytest.raises(InputError, match="holds a table 'QGIS_Projects' that is not a layer"):
        check_destination(f"{path}|layername=QGIS_Projects", None, overwrite)


def test_a_layer_named_in_another_case_is_not_a_new_layer(tmp_path):
    path = geopackage(tmp_path / "m.gpkg", "parcels", project=False)
    with pytest.raises(InputError, match="layer 'parcels' exists in .*name it exactly to replace it"):
        check_destination(f"{path}|layername=Parcels", None, overwrite=True)
    assert check_destination(f"{path}|layername=parcels", None, overwrite=True).inside


@pytest.mark.parametrize("name", ["gpkg_contents", "rtree_parcels_geom", "sqlite_stat1", "GPKG_OGR_CONTENTS"])
def test_a_name_geopackage_or_sqlite_keep_for_their_own_tables_is_refused(tmp_path, name):
    path = geopackage(tmp_path / "m.gpkg", "parcels", project=False)
    with pytest.raises(InputError, match=f"layer name {name!r} is reserved"):
        check_destination(f"{path}|layername={name}", None, overwrite=True)


def test_a_raster_layer_of_the_geopackage_is_never_replaced_by_a_buffer(tmp_path):
    from osgeo import gdal

    path = tmp_path / "r.gpkg"
    raster = gdal.GetDriverByName("MEM").Create("", 8, 8, 1, gdal.GDT_Byte)
    raster.SetGeoTransform((0, 1, 0, 8, 0, -1))
    gdal.Translate(str(path), raster, format="GPKG", creationOptions=["RASTER_TABLE=dem"])
    with pytest.raises(InputError, match="holds 'dem', a layer of tiles"):
        check_destination(f"{path}|layername=dem", None, overwrite=True)


def test_a_geopackage_holding_only_a_project_keeps_it(tmp_path):
    path = geopackage(tmp_path / "p.gpkg")
    assert check_destination(f"{path}|layername=zones", None, overwrite=False).inside


@pytest.mark.parametrize("output, said", [
    ("zones", "no file extension"), ("z.mif", "'.mif' is not a format buffer writes"),
    ("z.geojsonseq", "'.geojsonseq' is not a format buffer writes"),
    ("z.json", "'.json' is not a format buffer writes"),
    ("memory:", "a memory layer is not a file"),
])
def test_an_output_whose_driver_writes_other_names_is_refused(tmp_path, output, said):
    with pytest.raises(InputError, match=f"{said}; name a file ending in .gpkg, .shp, "):
        check_destination(tmp_path / output if output != "memory:" else output, None, overwrite=False)
    assert list(tmp_path.iterdir()) == []
