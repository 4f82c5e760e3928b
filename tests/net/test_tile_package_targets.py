"""An existing file a tile package would be written to: a GeoPackage holding the user's layers,
an SQLite database that is not a package, an MBTiles whose tiles are a view. Each is refused
before any request, naming the file and what it holds, and is left byte for byte as it was."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from offload.core.errors import InputError
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

BBOX = (6.95, 45.95, 7.05, 46.05)  # 2 × 3 tiles at zoom 12
NOWHERE = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # never asked: every refusal here comes first


def field_geopackage(path: Path, raster: bool = False) -> Path:
    """A GeoPackage as a user has it: two vector layers (and an elevation raster)."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    for name in ("parcels", "roads"):
        layer = source.CreateLayer(name, srs, ogr.wkbPoint)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (7 46)"))
        layer.CreateFeature(feature)
    source = None
    if raster:
        elevation = gdal.GetDriverByName("MEM").Create("", 4, 4, 1, gdal.GDT_Byte)
        elevation.SetGeoTransform((7.0, 0.01, 0, 46.0, 0, -0.01))
        elevation.SetProjection(srs.ExportToWkt())
        elevation.WriteRaster(0, 0, 4, 4, np.arange(16, dtype=np.uint8).tobytes())
        gdal.GetDriverByName("GPKG").CreateCopy(str(path), elevation, options=["APPEND_SUBDATASET=YES",
                                                                               "RASTER_TABLE=elevation"])
    return path


def tiles_task(output: Path, **options) -> TileDownloadTask:
    return TileDownloadTask(TileRequest(NOWHERE, BBOX, 12, output, format=options.pop("format", "GPKG"), **options))


@pytest.mark.parametrize("overwrite", [False, True])
def test_tiles_into_a_geopackage_with_other_layers_are_refused_up_front(tmp_path, overwrite):
    path = field_geopackage(tmp_path / "field.gpkg", raster=True)
    before = path.read_bytes()
    with pytest.raises(InputError) as refused:
        tiles_task(path, overwrite=overwrite)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message
    assert "elevation, parcels, roads" in message
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["field.gpkg"]


def test_tiles_into_a_geopackage_with_a_hidden_table_are_refused_with_overwrite(tmp_path):
    """A QGIS project stored in the GeoPackage (qgis_projects) is not in gpkg_contents, and still the user's."""
    path = tmp_path / "tiles.gpkg"
    with TileServer("imagery") as server:
        first = TileDownloadTask(TileRequest(server.template, BBOX, 12, path, format="GPKG",
                                             cache_dir=tmp_path / "cache"))
        assert run_to_end(first, 60) is True
    with sqlite3.connect(str(path)) as db:
        db.execute("CREATE TABLE qgis_projects (name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
    with pytest.raises(InputError, match=r"holds other layers \(qgis_projects\) that replacing it would delete"):
        tiles_task(path, overwrite=True)
    assert tiles_task(path).resuming  # adding tiles to its tile table in place deletes nothing


def test_a_geopackage_of_only_offloads_tiles_may_be_replaced(tmp_path):
    path = tmp_path / "tiles.gpkg"
    with TileServer("imagery") as server:
        assert run_to_end(TileDownloadTask(TileRequest(server.template, BBOX, 12, path, format="GPKG",
                                                       cache_dir=tmp_path / "cache")), 60) is True
    task = tiles_task(path, overwrite=True)
    assert not task.resuming


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_mbtiles_onto_a_database_that_is_not_one_is_refused_up_front(tmp_path, overwrite):
    path = tmp_path / "survey.mbtiles"
    with sqlite3.connect(str(path)) as db:
        db.execute("CREATE TABLE observations (id INTEGER PRIMARY KEY, note TEXT)")
        db.execute("INSERT INTO observations (note) VALUES ('a fox')")
    before = path.read_bytes()
    with pytest.raises(InputError, match=r"survey\.mbtiles.*observations") as refused:
        tiles_task(path, format="MBTiles", overwrite=overwrite)
    assert "\n" not in str(refused.value)
    assert path.read_bytes() == before
    mbtiles_onto_gpkg = field_geopackage(tmp_path / "field.mbtiles")
    with pytest.raises(InputError, match=r"field\.mbtiles.*parcels, roads"):
        tiles_task(mbtiles_onto_gpkg, format="MBTiles", overwrite=overwrite)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_the_cli_refuses_before_any_request_and_keeps_the_layers(subprocess_env, tmp_path, overwrite):
    path = field_geopackage(tmp_path / "field.gpkg")
    before = path.read_bytes()
    with TileServer("imagery") as server:
        result = subprocess.run([sys.executable, "-m", "offload", "tiles", "--url", server.template, "--bbox",
                                 ",".join(map(str, BBOX)), "--zoom", "12", "--format", "GPKG", "--output", str(path),
                                 "--cache", str(tmp_path / "cache"), *overwrite],
                                env=subprocess_env, capture_output=True, text=True, timeout=120)
        assert sum(server.requests.values()) == 0
    assert result.returncode == 2, result.stderr
    assert "parcels, roads" in result.stderr
    assert path.read_bytes() == before
