"""An existing output is never lost to a tiles run that should not replace it: a Format the
output's extension contradicts (a GeoTIFF into a .gpkg or an .mbtiles) is refused before any
request, and a run that got no tile at all fails, in Processing as on the command line."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from osgeo import ogr, osr

from offload.core.errors import InputError
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest, format_for_output
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

EXTENT = "6.95,7.05,45.95,46.05 [EPSG:4326]"  # 2 × 3 tiles at zoom 12
BBOX = (6.95, 45.95, 7.05, 46.05)
GTIFF, COG, GPKG, MBTILES = range(4)  # Processing's FORMAT choices


def field_geopackage(path: Path) -> Path:
    """A GeoPackage as a user has it: a vector layer."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("parcels", srs, ogr.wkbPoint)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (7 46)"))
    layer.CreateFeature(feature)
    source = None
    return path


def basemap(path: Path, server: TileServer) -> Path:
    """An MBTiles package of 6 tiles, as a first run makes it."""
    import processing

    processing.run("offload:tiles", {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12,
                                     "CACHE": str(path.parent / "cache"), "OUTPUT": str(path)})
    with sqlite3.connect(str(path)) as db:
        assert db.execute("SELECT count(*) FROM tiles").fetchone()[0] == 6
    return path


@pytest.mark.parametrize("resume", [False, True])
@pytest.mark.parametrize("fmt", [None, GTIFF, COG])
@pytest.mark.parametrize("kind", ["gpkg", "mbtiles"])
def test_processing_never_writes_a_geotiff_over_a_package(offload_provider, tmp_path, kind, fmt, resume):
    """Format unset: the extension decides (a package, added to or replaced as RESUME says, with
    the package's checks); Format a GeoTIFF: refused before any request, naming both."""
    import processing
    from qgis.core import QgsProcessingException

    with TileServer("imagery") as server:
        path = field_geopackage(tmp_path / "field.gpkg") if kind == "gpkg" else basemap(tmp_path / "b.mbtiles", server)
        before = path.read_bytes()
        asked = sum(server.requests.values())
        parameters = {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12, "RESUME": resume,
                      "CACHE": str(tmp_path / "cache"), "OUTPUT": str(path)}
        if fmt is not None:
            parameters["FORMAT"] = fmt
        if fmt is None and kind == "mbtiles":  # a package: the tiles it holds are kept or replaced by tiles
            processing.run("offload:tiles", parameters)
            assert path.read_bytes()[:16] == b"SQLite format 3\x00"
            with sqlite3.connect(str(path)) as db:
                assert db.execute("SELECT count(*) FROM tiles").fetchone()[0] == 6
            return
        named = "GPKG" if kind == "gpkg" else "MBTiles"
        refusal = (r"field\.gpkg.*parcels" if fmt is None
                   else rf"{path.name} is {named} by its suffix, but Format is (GTiff|COG)")
        with pytest.raises(QgsProcessingException, match=refusal) as refused:
            processing.run("offload:tiles", parameters)
        assert "Traceback" not in str(refused.value)  # refused by the check, said as Processing says it
        assert re.search(refusal, str(refused.value).splitlines()[-1])
        assert sum(server.requests.values()) == asked
    assert path.read_bytes() == before


def test_processing_temporary_output_takes_format_s_extension(offload_provider, tmp_path):
    import processing

    with TileServer("imagery") as server:
        produced = processing.run("offload:tiles", {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12,
                                                    "FORMAT": GPKG, "CACHE": str(tmp_path / "cache"),
                                                    "OUTPUT": "TEMPORARY_OUTPUT"})
    assert produced["OUTPUT"].endswith("OUTPUT.gpkg") and Path(produced["OUTPUT"]).is_file()


@pytest.mark.parametrize("output, chosen, expected", [
    ("a.gpkg", None, "GPKG"), ("a.MBTiles", None, "MBTiles"), ("a.tif", None, "GTiff"), ("a.tiff", "COG", "COG"),
    ("a.vrt", None, "GTiff"), ("a.dat", "GPKG", "GPKG"), ("a.gpkg", "GPKG", "GPKG"),
])
def test_the_extension_decides_and_format_picks_among_what_it_allows(output, chosen, expected):
    assert format_for_output(output, chosen) == expected


@pytest.mark.parametrize("output, chosen", [("a.gpkg", "GTiff"), ("a.mbtiles", "COG"), ("a.tif", "GPKG"),
                                            ("a.gpkg", "MBTiles")])
def test_a_format_the_extension_contradicts_is_refused_by_every_front_end(tmp_path, output, chosen):
    with pytest.raises(InputError, match=rf"output {output} is .* by its suffix, but Format is {chosen}"):
        TileDownloadTask(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", BBOX, 12, tmp_path / output,
                                     format=chosen, overwrite=True))


@pytest.mark.parametrize("suffix", [".gpkg", ".mbtiles"])
def test_a_run_that_got_no_tile_keeps_the_package_it_would_replace(offload_provider, subprocess_env, tmp_path, suffix):
    """Every tile 404 (a wrong URL, an expired key, a zoom past the server's): a one-line failure
    in Processing, the CLI and the task, and the package is left byte for byte, no temp beside it."""
    import processing
    from qgis.core import QgsProcessingException

    path = tmp_path / f"basemap{suffix}"
    with TileServer("imagery") as server:
        processing.run("offload:tiles", {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12,
                                         "CACHE": str(tmp_path / "cache"), "OUTPUT": str(path)})
    before = path.read_bytes()
    with TileServer("imagery", max_zoom=11) as server:
        with pytest.raises(QgsProcessingException) as failed:
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12,
                                             "ALLOW_MISSING": True, "CACHE": str(tmp_path / "cache"),
                                             "OUTPUT": str(path)})
        assert str(failed.value).strip().splitlines()[-1].startswith(  # Offload's error (processing.run from Python)
            "offload.core.errors.TaskFailed: no tile was served (6 missing on the server): check the URL and the zoom")
        cli = subprocess.run([sys.executable, "-m", "offload", "tiles", "--url", server.template, "--bbox",
                              ",".join(map(str, BBOX)), "--zoom", "12", "--output", str(path), "--overwrite",
                              "--cache", str(tmp_path / "cache")],
                             capture_output=True, text=True, env=subprocess_env, timeout=120)
        assert cli.returncode == 1 and "no tile was served (6 missing on the server)" in cli.stderr
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, path, overwrite=True,
                                            format=format_for_output(path), cache_dir=tmp_path / "cache"))
        assert not run_to_end(task)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == [path.name]


def test_a_sparse_run_still_succeeds(tmp_path):
    """Some tiles missing, some served: a package of those served, as before."""
    with TileServer("imagery", max_zoom=11) as server:
        task = TileDownloadTask(TileRequest(server.template, BBOX, 12, tmp_path / "b.mbtiles", zoom_min=11,
                                            format="MBTiles", cache_dir=tmp_path / "cache"))
        assert run_to_end(task)
    assert task.details.missing == 6 and task.details.fetched == 4


def add_survey_layer(path: Path) -> None:
    """What a user does while the run downloads: save a layer into the same GeoPackage."""
    source = ogr.Open(str(path), 1)
    layer = source.CreateLayer("survey", None, ogr.wkbPoint)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POINT (7 46)"))
    layer.CreateFeature(feature)
    source = None


def layers_of(path: Path) -> list:
    with sqlite3.connect(str(path)) as db:
        return sorted(name for (name,) in db.execute("SELECT table_name FROM gpkg_contents"))


def test_processing_keeps_a_layer_saved_into_the_package_while_it_ran(offload_provider, tmp_path):
    """The 'other layers' check is made again right before the replace: the survey layer saved
    during the download is kept, with the package it was saved into, and no temp is left."""
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    path = tmp_path / "field.gpkg"
    with TileServer("imagery") as server:
        parameters = {"URL": server.template, "EXTENT": EXTENT, "ZOOM": 12, "MIN_ZOOM": 11,
                      "CACHE": str(tmp_path / "cache"), "OUTPUT": str(path)}
        processing.run("offload:tiles", parameters)
        feedback = QgsProcessingFeedback()
        saved = []

        def save_once(_progress):  # the first tile stored: the run is under way, its check long made
            if not saved:
                saved.append(add_survey_layer(path))

        feedback.progressChanged.connect(save_once)
        with pytest.raises(QgsProcessingException, match=r"TaskFailed: while this ran, output '.*field\.gpkg' holds "
                                                         r"other layers \(survey\) that replacing it would delete") as failed:
            processing.run("offload:tiles", parameters, feedback=feedback)
        assert saved and "it was kept, and nothing was written" in str(failed.value)
    assert layers_of(path) == ["survey", "tiles"]
    with sqlite3.connect(str(path)) as db:
        assert db.execute("SELECT count(*) FROM tiles").fetchone()[0] == 6 + 4
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == ["field.gpkg"]


def test_the_task_keeps_a_layer_saved_into_the_package_after_its_check(tmp_path):
    path = tmp_path / "field.gpkg"
    with TileServer("imagery") as server:
        request = TileRequest(server.template, BBOX, 12, path, format="GPKG", cache_dir=tmp_path / "cache",
                              overwrite=True)
        assert run_to_end(TileDownloadTask(request))
        task = TileDownloadTask(request)  # checked here: only Offload's tiles
        add_survey_layer(path)
        assert not run_to_end(task)
    assert "holds other layers (survey)" in task.error.one_line()
    assert layers_of(path) == ["survey", "tiles"]
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == ["field.gpkg"]


def test_processing_s_check_takes_the_format_from_the_output_s_suffix(offload_provider, tmp_path):
    """Checked before the run, a package output with Format left empty is a package, not the
    GeoTIFF a placeholder's suffix would make it: a package may hold more tiles than a mosaic."""
    from qgis.core import QgsApplication, QgsProcessingContext

    algorithm = QgsApplication.processingRegistry().algorithmById("offload:tiles")
    world = {"URL": "http://127.0.0.1:9/{z}/{x}/{y}.png", "EXTENT": "-180,180,-85,85 [EPSG:4326]", "ZOOM": 11,
             "MAX_TILES": 5_000_000}  # 4,194,304 tiles: more than a GeoTIFF mosaic holds
    ok, message = algorithm.checkParameterValues(dict(world, OUTPUT=str(tmp_path / "world.gpkg")),
                                                 QgsProcessingContext())
    assert ok, message
    ok, message = algorithm.checkParameterValues(dict(world, OUTPUT=str(tmp_path / "world.tif")),
                                                 QgsProcessingContext())
    assert not ok and "GeoTIFF" in message
    assert list(tmp_path.iterdir()) == []
