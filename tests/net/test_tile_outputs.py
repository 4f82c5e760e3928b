"""Tile outputs through the CLI, Processing and the task: packages (GeoPackage, MBTiles) that hold
the served bytes of every zoom, sparse and resumable after a kill; mosaics (GeoTIFF, COG) with
overviews; extra headers sent and never shown."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from offload.demo.tile_server import Faults, TileServer
from offload.net_tasks.tile_task import TileDownloadTask
from offload.net_tasks.tile_decode import decode_image
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tiles import Tile, tile_range
from qgis_helpers import run_to_end

BBOX = "6.95,45.95,7.05,46.05"  # 2 × 3 tiles at zoom 12
SECRET = "Bearer s3cr3t-T0KEN-never-shown"


def offload(*args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "offload", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def package_tiles(path: Path) -> dict:
    """{Tile: bytes} read with plain SQLite (GeoPackage rows from the top, MBTiles from the bottom)."""
    with sqlite3.connect(str(path)) as db:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    tms = path.suffix == ".mbtiles"
    return {Tile(x, (2 ** z - 1 - row) if tms else row, z): bytes(data) for z, x, row, data in rows}


def expected_tiles(server: TileServer, bbox: str, zooms) -> dict:
    from offload.net_tasks.tile_plan import to_mercator

    bounds = to_mercator(tuple(float(v) for v in bbox.split(",")), "EPSG:4326")
    return {t: server._tile(t.z, t.x, t.y) for z in zooms for t in tile_range(bounds, z).tiles()}


class RecordingServer(TileServer):
    """Remembers every request's headers; can refuse one tile for good."""

    def __init__(self, *args, broken=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.seen_headers = []
        self.broken = set(broken)

    def answer(self, handler):
        self.seen_headers.append(dict(handler.headers))
        if handler.path in self.broken:
            handler.send_body(500, b"always broken", "text/plain")
            return
        super().answer(handler)


@pytest.mark.parametrize("suffix", ["gpkg", "mbtiles"])
def test_a_package_holds_every_zoom_byte_for_byte_with_complete_metadata(subprocess_env, tmp_path, suffix):
    output = tmp_path / f"basemap.{suffix}"
    with TileServer("imagery") as server:
        result = offload("tiles", "--url", server.template, "--bbox", BBOX, "--zoom", "10-12", "--output",
                         str(output), "--cache", str(tmp_path / "cache"), "--name", "Valais",
                         "--attribution", "© Test Tiles", env=subprocess_env)
        assert result.returncode == 0, result.stderr
        expected = expected_tiles(server, BBOX, range(10, 13))
    assert package_tiles(output) == expected  # every tile of every zoom, its bytes as served
    assert len(expected) == 6 + 4 + 2  # zooms 12, 11, 10
    dataset = gdal.Open(str(output))
    metadata = {k.lower(): v for k, v in dataset.GetMetadata().items()}
    assert dataset.GetRasterBand(1).GetOverviewCount() == 2  # zooms 11 and 10
    if suffix == "mbtiles":
        assert (metadata["name"], metadata["format"], metadata["minzoom"], metadata["maxzoom"]) == (
            "Valais", "png", "10", "12")
        assert metadata["attribution"] == "© Test Tiles"
        west, south, east, north = (float(v) for v in metadata["bounds"].split(","))
        assert west < 6.95 and south < 45.95 and east > 7.05 and north > 46.05
    else:
        with sqlite3.connect(str(output)) as db:
            zooms = [z for (z,) in db.execute("SELECT zoom_level FROM gpkg_tile_matrix ORDER BY zoom_level")]
            (identifier,) = db.execute("SELECT identifier FROM gpkg_contents").fetchone()
            metadata_text = " ".join(m for (m,) in db.execute("SELECT metadata FROM gpkg_metadata"))
        assert zooms == [10, 11, 12] and identifier == "Valais" and "© Test Tiles" in metadata_text
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == [output.name]  # no temp left


def test_processing_makes_an_mbtiles_package_and_a_resumed_rerun_fetches_nothing(qgis_processing, tmp_path):
    import processing
    from qgis.core import QgsApplication

    from offload.provider import OffloadProvider

    registry = QgsApplication.processingRegistry()
    added = registry.providerById("offload") is None
    if added:
        registry.addProvider(OffloadProvider())
    output = tmp_path / "p.mbtiles"
    parameters = {"URL": "", "EXTENT": "6.95,7.05,45.95,46.05 [EPSG:4326]", "ZOOM": 12, "MIN_ZOOM": 11,
                  "FORMAT": 3, "CACHE": str(tmp_path / "cache"), "RESUME": True, "OUTPUT": str(output)}
    try:
        with TileServer("imagery") as server:
            parameters["URL"] = server.template
            processing.run("offload:tiles", parameters)
            first = sum(server.requests.values())
            parameters["CACHE"] = str(tmp_path / "other-cache")  # only the package can spare the requests
            processing.run("offload:tiles", parameters)
            expected = expected_tiles(server, BBOX, (11, 12))
            assert first == len(expected) == sum(server.requests.values())
    finally:
        if added:
            registry.removeProvider("offload")
    assert package_tiles(output) == expected


def test_a_sparse_package_lacks_the_failed_tile_and_all_failing_still_fails(tmp_path):
    probe = TileDownloadTask(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", (6.95, 45.95, 7.05, 46.05), 12,
                                         tmp_path / "p.gpkg", format="GPKG"))
    tiles = probe.plan.tiles
    broken = f"/12/{tiles.x_max}/{tiles.y_min + 1}.png"
    with RecordingServer("imagery", broken=[broken]) as server:
        fields = dict(template=server.template, bbox=(6.95, 45.95, 7.05, 46.05), zoom=12, format="GPKG",
                      output=tmp_path / "sparse.gpkg", cache_dir=tmp_path / "cache", retries=0)
        strict = TileDownloadTask(TileRequest(**fields))
        assert run_to_end(strict, 60) is False and "1 of 6 tile(s) failed" in strict.error.one_line()
        assert not (tmp_path / "sparse.gpkg").exists()  # a new package appears whole or not at all
        tolerant = TileDownloadTask(TileRequest(**fields, allow_missing=True))
        assert run_to_end(tolerant, 60) is True
        expected = expected_tiles(server, BBOX, [12])
    stored = package_tiles(tmp_path / "sparse.gpkg")
    missing = Tile(tiles.x_max, tiles.y_min + 1, 12)
    assert missing not in stored and len(stored) == 5  # absent, not a blank tile
    assert stored == {t: b for t, b in expected.items() if t != missing}
    with RecordingServer("imagery", broken=[f"/12/{t.x}/{t.y}.png" for t in tiles.tiles()]) as everything_broken:
        fields.update(template=everything_broken.template, output=tmp_path / "none.gpkg", allow_missing=True,
                      cache_dir=tmp_path / "empty-cache")
        hopeless = TileDownloadTask(TileRequest(**fields))
        assert run_to_end(hopeless, 60) is False and "every tile failed" in hopeless.error.one_line()
    assert not (tmp_path / "none.gpkg").exists()


def test_a_package_killed_mid_run_resumes_with_only_the_missing_tiles(subprocess_env, tmp_path):
    output = tmp_path / "resume.gpkg"
    bbox = "6.9,45.9,7.1,46.1"
    with TileServer("imagery", Faults(latency_ms=40)) as server:
        common = ["tiles", "--url", server.template, "--bbox", bbox, "--output", str(output), "--workers", "2"]
        first = offload(*common, "--zoom", "12", "--cache", str(tmp_path / "c1"), env=subprocess_env)
        assert first.returncode == 0, first.stderr
        before = len(package_tiles(output))
        runner = subprocess.Popen([sys.executable, "-m", "offload", *common, "--zoom", "12-15", "--cache",
                                   str(tmp_path / "c2")], env=subprocess_env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while sum(server.requests.values()) < before + 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(runner.pid, signal.SIGKILL)  # whatever it was doing: no cleanup runs
        runner.wait(10)
        after_kill = package_tiles(output)
        with sqlite3.connect(str(output)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        expected = expected_tiles(server, bbox, range(12, 16))
        assert before < len(after_kill) < len(expected)
        assert all(expected[t] == body for t, body in after_kill.items())  # no tile truncated
        requests_before = sum(server.requests.values())
        third = offload(*common, "--zoom", "12-15", "--cache", str(tmp_path / "c3"), env=subprocess_env)
        assert third.returncode == 0, third.stderr
        fetched_again = sum(server.requests.values()) - requests_before
    assert package_tiles(output) == expected
    assert fetched_again == len(expected) - len(after_kill)  # a fresh cache: only the package spared them


def test_the_package_opens_in_qgis_with_its_zooms_as_overviews(qgis_app, tmp_path):
    from qgis.core import QgsRasterLayer, QgsRectangle

    from offload.net_tasks.tiles import tile_bounds

    output = tmp_path / "qgis.gpkg"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, (6.95, 45.95, 7.05, 46.05), 12, output, zoom_min=10,
                                            format="GPKG", cache_dir=tmp_path / "cache"))
        assert run_to_end(task, 60) is True
        expected = expected_tiles(server, BBOX, range(10, 13))
    layer = QgsRasterLayer(str(output), "basemap", "gdal")
    assert layer.isValid() and layer.crs().authid() == "EPSG:3857"
    for z, size in ((12, 256), (10, 256)):  # the finest tile at full scale; a zoom-10 tile's area at its own
        fine = task.plan.tiles
        tile = Tile(fine.x_min >> (12 - z), fine.y_min >> (12 - z), z)
        x_min, y_min, x_max, y_max = tile_bounds(tile)
        layer_extent = layer.extent()
        area = QgsRectangle(max(x_min, layer_extent.xMinimum()), max(y_min, layer_extent.yMinimum()),
                            min(x_max, layer_extent.xMaximum()), min(y_max, layer_extent.yMaximum()))
        pixel = (x_max - x_min) / 256
        cols, rows = round(area.width() / pixel), round(area.height() / pixel)
        col0, row0 = round((area.xMinimum() - x_min) / pixel), round((y_max - area.yMaximum()) / pixel)
        block = layer.dataProvider().block(1, area, cols, rows)
        red = np.frombuffer(bytes(block.data()), np.uint8).reshape(rows, cols)
        served = decode_image(expected[tile])[0, row0:row0 + rows, col0:col0 + cols]
        np.testing.assert_array_equal(red, served)


def test_headers_reach_the_server_and_a_secret_never_shows(subprocess_env, tmp_path):
    output = tmp_path / "with-headers.mbtiles"
    with RecordingServer("imagery") as server:
        result = offload("--debug", "tiles", "--url", server.template, "--bbox", BBOX, "--zoom", "12", "--output",
                         str(output), "--cache", str(tmp_path / "cache"), "--header", "Referer: https://maps.example.test/",
                         "--header", f"Authorization: {SECRET}", env=subprocess_env)
        assert result.returncode == 0, result.stderr
        bad = offload("tiles", "--url", server.template, "--bbox", BBOX, "--zoom", "12", "--output",
                      str(tmp_path / "bad.tif"), "--header", f"Bad Name: {SECRET}", env=subprocess_env)
        assert bad.returncode == 2
    assert len(server.seen_headers) == 6
    assert {h.get("Referer") for h in server.seen_headers} == {"https://maps.example.test/"}
    assert {h.get("Authorization") for h in server.seen_headers} == {SECRET}
    token = SECRET.split()[1]
    for text in (result.stdout, result.stderr, bad.stdout, bad.stderr):
        assert token not in text
    for path in tmp_path.rglob("*"):
        assert token not in str(path)
        if path.is_file():
            assert token.encode() not in path.read_bytes()


@pytest.mark.parametrize("output_format", ["GTiff", "COG"])
def test_a_mosaic_equals_the_decoded_tiles_and_a_zoom_range_gives_overviews(subprocess_env, tmp_path, output_format):
    output = tmp_path / f"mosaic-{output_format}.tif"
    with TileServer("imagery") as server:
        result = offload("tiles", "--url", server.template, "--bbox", BBOX, "--zoom", "10-12", "--format",
                         output_format, "--output", str(output), "--cache", str(tmp_path / "cache"),
                         env=subprocess_env)
        assert result.returncode == 0, result.stderr
        expected = expected_tiles(server, BBOX, [12])
        assert sum(server.requests.values()) == 6  # only the finest zoom is fetched: overviews come from it
    dataset = gdal.Open(str(output))
    x_min = min(t.x for t in expected)
    y_min = min(t.y for t in expected)
    pixels = dataset.ReadAsArray()
    for tile, body in expected.items():
        col, row = (tile.x - x_min) * 256, (tile.y - y_min) * 256
        np.testing.assert_array_equal(pixels[:, row:row + 256, col:col + 256], decode_image(body))
    band = dataset.GetRasterBand(1)
    assert [band.GetOverview(i).XSize for i in range(band.GetOverviewCount())] == [256, 128]  # zooms 11, 10
    structure = dataset.GetMetadata("IMAGE_STRUCTURE")
    assert structure["COMPRESSION"] == "ZSTD"
    assert (structure.get("LAYOUT") == "COG") == (output_format == "COG")
    # bands in blocks of their own, no predictor: faster, and as small on imagery (a COG's: tile_cog.py)
    assert (structure["INTERLEAVE"], structure.get("PREDICTOR", "1")) == ("BAND", "1")
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == [output.name]  # no stage, no temp


def test_a_package_across_the_antimeridian_stores_the_tiles_as_servers_name_them(tmp_path):
    output = tmp_path / "dateline.mbtiles"
    with TileServer("imagery") as server:
        task = TileDownloadTask(TileRequest(server.template, (179.95, -0.05, 180.05, 0.05), 12, output,
                                            format="MBTiles", cache_dir=tmp_path / "cache"))
        assert run_to_end(task, 60) is True
    assert {(t.x, t.z) for t in package_tiles(output)} == {(4095, 12), (0, 12)}
    assert all(t.x < 2 ** t.z for t in package_tiles(output))


def test_a_cog_is_copied_with_a_small_block_cache_and_the_process_gets_its_own_back(tmp_path, monkeypatch):
    """GDAL's cache (5 % of RAM by default) took a COG of 16,384 tiles to 1.6 GB: bench/tiles.py measures it.

    Clipped, so GDAL's COG driver copies it (a COG of whole tiles is assembled: test_tile_cog.py)."""
    from offload.net_tasks.tile_mosaic import COG_COPY_CACHE_BYTES

    seen = []
    translate = gdal.Translate

    def recording_translate(*args, **kwargs):
        seen.append(gdal.GetCacheMax())
        return translate(*args, **kwargs)

    monkeypatch.setattr(gdal, "Translate", recording_translate)
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(512 * 1024 * 1024)
    try:
        with TileServer("imagery") as server:
            task = TileDownloadTask(TileRequest(server.template, tuple(map(float, BBOX.split(","))), 12,
                                                tmp_path / "out.tif", cache_dir=tmp_path / "cache", format="COG",
                                                clip=True))
            assert run_to_end(task, 60) is True
        assert seen == [COG_COPY_CACHE_BYTES] and gdal.GetCacheMax() == 512 * 1024 * 1024
    finally:
        gdal.SetCacheMax(before)
    assert gdal.Open(str(tmp_path / "out.tif")).GetMetadata("IMAGE_STRUCTURE")["LAYOUT"] == "COG"
