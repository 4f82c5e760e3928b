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
from offload.net_tasks.tile_package import PackageMeta, open_package
from offload.net_tasks.tile_task import TileDownloadTask
from offload.net_tasks.tiles import Tile, tile_bounds
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
    return TileDownloadTask(TileRequest(options.pop("template", NOWHERE), BBOX, 12, output,
                                        format=options.pop("format", "GPKG"), **options))


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
    assert tiles_task(path, template=server.template).resuming  # adding tiles to its tile table deletes nothing


def test_a_geopackage_of_only_offloads_tiles_may_be_replaced(tmp_path):
    path = tmp_path / "tiles.gpkg"
    with TileServer("imagery") as server:
        assert run_to_end(TileDownloadTask(TileRequest(server.template, BBOX, 12, path, format="GPKG",
                                                       cache_dir=tmp_path / "cache")), 60) is True
    task = tiles_task(path, overwrite=True)
    assert not task.resuming


def test_a_geopackage_extension_s_table_is_bookkeeping_for_tiles_as_for_buffer(tmp_path):
    """A ``gpkgext_*`` table (the related-tables extension's, say) is GeoPackage's own, not a user's
    layer: ``--overwrite`` replaces a package of only tiles that has one, as the buffer's output
    check does (the tiles used to refuse it as a layer that would be lost)."""
    from offload.vector_tasks.destination import check_destination

    path = tmp_path / "tiles.gpkg"
    with TileServer("imagery") as server:
        assert run_to_end(TileDownloadTask(TileRequest(server.template, BBOX, 12, path, format="GPKG",
                                                       cache_dir=tmp_path / "cache")), 60) is True
    with sqlite3.connect(str(path)) as db:
        db.execute("CREATE TABLE gpkgext_relations (id INTEGER PRIMARY KEY, base_table_name TEXT)")
    assert check_destination(path, None, overwrite=True).layer == "tiles"  # the buffer would replace it too
    assert not tiles_task(path, overwrite=True).resuming
    assert tiles_task(path, template=server.template).resuming


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


def mbtiles_metadata(path: Path) -> list:
    with sqlite3.connect(str(path)) as db:
        return sorted(db.execute("SELECT name, value FROM metadata"))


def test_an_mbtiles_whose_tiles_are_a_view_is_refused_up_front_and_left_byte_for_byte(tmp_path):
    """mbutil's deduplicated layout: ``tiles`` is a view over ``map`` and ``images``; nothing can be inserted."""
    path = tmp_path / "dedup.mbtiles"
    with sqlite3.connect(str(path)) as db:
        db.executescript("""
            CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);
            CREATE TABLE images (tile_data BLOB, tile_id TEXT);
            CREATE TABLE metadata (name TEXT, value TEXT);
            CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,
                map.tile_row AS tile_row, images.tile_data AS tile_data FROM map JOIN images ON images.tile_id = map.tile_id;
            INSERT INTO metadata VALUES ('name', 'my basemap'), ('format', 'png'), ('minzoom', '5'), ('maxzoom', '5'),
                ('bounds', '6.9,45.9,7.0,46.0');""")
    before = path.read_bytes()
    with TileServer("imagery") as server:
        with pytest.raises(InputError, match=r"dedup\.mbtiles cannot take these tiles: its tiles are a view") as refused:
            TileDownloadTask(TileRequest(server.template, (0, 40, 20, 50), 6, path, format="MBTiles",
                                         cache_dir=tmp_path / "cache"))
        assert sum(server.requests.values()) == 0
    assert "\n" not in str(refused.value)
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="its tiles are a view"):  # Processing's way in: the package itself
        open_package(path, "MBTiles", PackageMeta("x", tile_bounds(Tile(33, 22, 6)), 6, 6))
    assert path.read_bytes() == before


def first_package(tmp_path: Path, server: TileServer) -> Path:
    """An MBTiles made by a run, then named and described by its user."""
    path = tmp_path / "basemap.mbtiles"
    assert run_to_end(TileDownloadTask(TileRequest(server.template, BBOX, 12, path, format="MBTiles",
                                                   cache_dir=tmp_path / "cache")), 60) is True
    with sqlite3.connect(str(path)) as db:
        db.executemany("UPDATE metadata SET value = ? WHERE name = ?",
                       [("Valais field basemap", "name"), ("Imagery for the 2026 season", "description")])
        db.execute("INSERT INTO metadata VALUES ('author', 'survey team')")
    return path


def test_a_failed_resume_leaves_the_metadata_as_it_was(tmp_path):
    with TileServer("imagery") as server:
        path = first_package(tmp_path, server)
    before = mbtiles_metadata(path)
    gone = server.template  # the same source, its server stopped: every new tile fails
    task = TileDownloadTask(TileRequest(gone, (6.9, 45.9, 7.1, 46.1), 12, path, zoom_min=10, format="MBTiles",
                                        cache_dir=tmp_path / "cache", retries=0))
    assert task.resuming and run_to_end(task, 60) is False  # every new tile fails: none stored
    assert mbtiles_metadata(path) == before


def test_a_resume_widens_bounds_and_zooms_and_keeps_what_the_user_set(tmp_path):
    with TileServer("imagery") as server:
        path = first_package(tmp_path, server)
        before = dict(mbtiles_metadata(path))
        wider = TileDownloadTask(TileRequest(server.template, (6.9, 45.9, 7.1, 46.1), 12, path, zoom_min=11,
                                             format="MBTiles", cache_dir=tmp_path / "cache"),
                                 load_outputs=False)  # QGIS would leave ' - zoom_level=11.aux.xml' in the cwd
        assert wider.resuming and run_to_end(wider, 60) is True
    after = dict(mbtiles_metadata(path))
    assert after["name"] == "Valais field basemap" and after["description"] == "Imagery for the 2026 season"
    assert after["author"] == "survey team" and after["format"] == "png"
    assert (after["minzoom"], after["maxzoom"]) == ("11", "12")
    old = [float(v) for v in before["bounds"].split(",")]
    new = [float(v) for v in after["bounds"].split(",")]
    assert new[0] < old[0]  # wider, and holding both runs' areas
    assert new[0] <= 6.9 and new[1] <= min(old[1], 45.9) and new[2] >= 7.1 and new[3] >= max(old[3], 46.1)
    assert {k: v for k, v in after.items() if k not in ("minzoom", "bounds")} == {
        k: v for k, v in before.items() if k not in ("minzoom", "bounds")}
    dataset = gdal.Open(str(path))
    assert dataset.GetRasterBand(1).GetOverviewCount() == 1  # zoom 11 under zoom 12


@pytest.mark.parametrize("resume, refusal", [
    (False, r"field\.gpkg' holds other layers \(parcels, roads\) that replacing it would delete"),
    (True, r"field\.gpkg cannot take these tiles: .*parcels, roads"),
])
def test_processing_refuses_before_any_request_and_keeps_the_layers(offload_provider, tmp_path, resume, refusal):
    """Processing replaces its output, or adds to a package with RESUME: either way the same checks
    as the command line's refuse, in Processing's own exception."""
    import processing
    from qgis.core import QgsProcessingException

    path = field_geopackage(tmp_path / "field.gpkg")
    before = path.read_bytes()
    with TileServer("imagery") as server:
        with pytest.raises(QgsProcessingException, match=refusal):
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": "6.95,7.05,45.95,46.05 [EPSG:4326]",
                                             "ZOOM": 12, "FORMAT": 2, "CACHE": str(tmp_path / "cache"),
                                             "RESUME": resume, "OUTPUT": str(path)})
        assert sum(server.requests.values()) == 0
    assert path.read_bytes() == before


def vector_layer(path: Path, name: str) -> Path:
    """Add a point layer ``name`` to the GeoPackage at ``path`` (made if need be), as OGR lets a user name it."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    driver = ogr.GetDriverByName("GPKG")
    source = ogr.Open(str(path), 1) if path.exists() else driver.CreateDataSource(str(path))
    layer = source.CreateLayer(name, srs, ogr.wkbPoint)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (7 46)"))
    layer.CreateFeature(feature)
    source = None
    return path


@pytest.mark.parametrize("name, with_tiles", [("tiles", False), ("rtree_sites", False), ("grid", False),
                                              ("rtree_sites", True), ("grid", True)])
def test_a_user_s_layer_is_kept_whatever_its_name(tmp_path, name, with_tiles):
    """What the package's own is comes from gpkg_contents and the tile matrix set, never the
    table's name: a vector layer named tiles or rtree_sites is refused as any other layer."""
    path = tmp_path / "field.gpkg"
    if with_tiles:  # Offload's package, then the user's layer saved into it
        with TileServer("imagery") as server:
            assert run_to_end(tiles_task(path, template=server.template, cache_dir=tmp_path / "cache"))
    vector_layer(path, name)
    before = path.read_bytes()
    with pytest.raises(InputError, match=rf"field\.gpkg' holds other layers \({name}\) that replacing it would delete"):
        tiles_task(path, overwrite=True)
    assert path.read_bytes() == before


def test_a_tiles_raster_not_on_web_mercator_is_a_user_s_layer(tmp_path):
    """GDAL's own GeoPackage raster named tiles, in EPSG:4326: not a package this run may replace."""
    raster = gdal.GetDriverByName("MEM").Create("", 4, 4, 1, gdal.GDT_Byte)
    raster.SetGeoTransform((7.0, 0.01, 0, 46.0, 0, -0.01))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    raster.SetProjection(srs.ExportToWkt())
    path = tmp_path / "dem.gpkg"
    gdal.GetDriverByName("GPKG").CreateCopy(str(path), raster, options=["RASTER_TABLE=tiles"])
    with pytest.raises(InputError, match=r"holds other layers \(tiles\)"):
        tiles_task(path, overwrite=True)


def test_a_mosaic_never_replaces_a_database_with_layers(tmp_path):
    path = field_geopackage(tmp_path / "field.tif")  # a GeoPackage misnamed: its layers are still the user's
    before = path.read_bytes()
    with pytest.raises(InputError, match=r"field\.tif' holds other layers \(parcels, roads\)"):
        tiles_task(path, format="GTiff", overwrite=True)
    assert path.read_bytes() == before


def test_a_mosaic_onto_an_existing_file_without_overwrite_is_told_to_pass_overwrite(tmp_path):
    """Whatever the file holds (a database with a layer, bytes that only start like one): a mosaic
    is never added to, so the refusal is the one for any existing output."""
    for name, make in (("notes.tif", lambda db: db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")),
                       ("corrupt.tif", None)):
        path = tmp_path / name
        if make is not None:
            with sqlite3.connect(str(path)) as db:
                make(db)
        else:
            path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 2000)
        before = path.read_bytes()
        with pytest.raises(InputError, match=rf"output '.*{name}' exists; pass overwrite to replace it"):
            tiles_task(path, format="GTiff")
        assert path.read_bytes() == before
