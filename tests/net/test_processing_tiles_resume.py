"""``offload:tiles`` in Processing replaces an existing output, as every Toolbox algorithm does,
unless "Add to an existing package (resume)" is on: then an existing GeoPackage or MBTiles
package gets only the tiles it lacks. A GeoTIFF is always replaced."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from osgeo import gdal

from offload.demo.tile_server import TileServer

WIDE = "6.95,7.05,45.95,46.05 [EPSG:4326]"  # 2 × 3 tiles at zoom 12
NARROW = "6.96,7.02,45.96,46.0 [EPSG:4326]"  # 1 tile at zoom 12, inside WIDE


def zooms_held(path: Path) -> dict:
    """{zoom: number of tiles} of a package, read with plain SQLite."""
    with sqlite3.connect(str(path)) as db:
        return dict(db.execute("SELECT zoom_level, count(*) FROM tiles GROUP BY zoom_level"))


def run_tiles(server: TileServer, output: Path, extent: str, **more) -> int:
    """Requests the run sent (a package reads the cache but never writes it: only the package
    can spare a request)."""
    import processing

    before = sum(server.requests.values())
    kind = 3 if output.suffix == ".mbtiles" else 2
    processing.run("offload:tiles", {"URL": server.template, "EXTENT": extent, "ZOOM": 12, "FORMAT": kind,
                                     "CACHE": str(output.parent / "cache"), "OUTPUT": str(output), **more})
    return sum(server.requests.values()) - before


@pytest.mark.parametrize("suffix", [".gpkg", ".mbtiles"])
def test_processing_replaces_a_package_unless_told_to_add_to_it(offload_provider, tmp_path, suffix):
    output = tmp_path / f"basemap{suffix}"
    with TileServer("imagery") as server:
        assert run_tiles(server, output, WIDE, MIN_ZOOM=11) == 6 + 4
        assert zooms_held(output) == {11: 4, 12: 6}
        # the default: replaced, as the file dialog's "replace?" promised; nothing of the old package stays
        assert run_tiles(server, output, NARROW) == 1
        assert zooms_held(output) == {12: 1}
        # resume: only the 5 tiles the package lacks are fetched, the one it holds is kept
        assert run_tiles(server, output, WIDE, RESUME=True) == 5
        assert zooms_held(output) == {12: 6}
    assert [p.name for p in tmp_path.iterdir()] == [output.name]  # no temp left


def test_resuming_from_another_source_is_refused_before_any_request(offload_provider, tmp_path):
    """A package's tiles all come from one source: another server's are not mixed in."""
    from qgis.core import QgsProcessingException

    output = tmp_path / "basemap.gpkg"
    with TileServer("imagery") as server:
        assert run_tiles(server, output, NARROW) == 1
    with TileServer("imagery") as other:  # another port: another source
        with pytest.raises(QgsProcessingException, match=r"its tiles come from http://127\.0\.0\.1:\d+/"):
            run_tiles(other, output, WIDE, RESUME=True)
        assert sum(other.requests.values()) == 0
    assert zooms_held(output) == {12: 1}


def test_a_geotiff_is_replaced_even_when_resuming(offload_provider, tmp_path):
    import processing

    output = tmp_path / "mosaic.tif"
    with TileServer("imagery") as server:
        for extent in (WIDE, NARROW):
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": extent, "ZOOM": 12, "RESUME": True,
                                             "CACHE": str(tmp_path / "cache"), "OUTPUT": str(output)})
    dataset = gdal.Open(str(output))
    assert (dataset.RasterXSize, dataset.RasterYSize) == (256, 256)  # the narrow run's one tile


def test_the_parameter_says_what_it_does_and_defaults_to_replacing(offload_provider):
    algorithm = offload_provider.algorithm("tiles")
    resume = algorithm.parameterDefinition("RESUME")
    assert resume.description() == "Add to an existing package (resume)" and resume.defaultValue() is False
    assert "replaced" in resume.help() and "only the tiles it lacks" in resume.help()
