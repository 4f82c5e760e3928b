"""Tiled downloads against the embedded tile server on 127.0.0.1: exact mosaics, faults,
the cache, resume after cancel, connection limits, decodings, refusals, the User-Agent."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from offload.core.errors import InputError
from offload.core.task import start
from offload.demo.tile_server import Faults, TileServer
from offload.net_tasks.tile_cache import TileCache
from offload.net_tasks.tile_task import TileDownloadTask
from offload.net_tasks.tile_decode import decode_elevation
from offload.net_tasks.request import TileRequest
from offload.demo.tile_images import imagery_rgb, terrarium_rgb, tile_heights
from offload.net_tasks.tiles import Tile
from qgis_helpers import cancel_and_time, run_to_end, wait_until

BBOX = (6.95, 45.95, 7.05, 46.05)  # 2 × 3 tiles at zoom 12


@pytest.fixture
def server(request):
    faults = getattr(request, "param", Faults())
    with TileServer("terrain", faults) as running:
        yield running


def tiles_task(server, tmp_path, **options) -> TileDownloadTask:
    fields = dict(template=server.template, bbox=BBOX, zoom=12, output=tmp_path / "out.tif",
                  cache_dir=tmp_path / "cache", decode="terrarium", overwrite=True)
    fields.update(options)
    return TileDownloadTask(TileRequest(**fields))


def cached_names(folder) -> set:
    """The cached tiles, named as the server's request counts name them (``z/x/y``)."""
    with TileCache(folder, create=False) as cache:
        return {f"{tile.z}/{tile.x}/{tile.y}" for tile in cache.tiles()}


def expected_dem(tile_range) -> np.ndarray:
    rows = []
    for y in range(tile_range.y_min, tile_range.y_max + 1):
        row = [decode_elevation(np.concatenate([terrarium_rgb(tile_heights(Tile(x, y, 12))),
                                                np.full((1, 256, 256), 255, np.uint8)]), "terrarium")
               for x in range(tile_range.x_min, tile_range.x_max + 1)]
        rows.append(np.hstack(row))
    return np.vstack(rows)


def test_the_dem_mosaic_equals_the_source_and_sits_on_the_tile_grid(server, tmp_path):
    task = tiles_task(server, tmp_path)
    assert run_to_end(task, 60) is True
    dataset = gdal.Open(str(tmp_path / "out.tif"))
    tiles = task.plan.tiles
    assert (tiles.width, tiles.height) == (2, 3)
    np.testing.assert_array_equal(dataset.ReadAsArray(), expected_dem(tiles))
    geotransform = dataset.GetGeoTransform()
    assert geotransform[1] == pytest.approx(2 * 20037508.342789244 / 2 ** 12 / 256)
    assert geotransform[0] == pytest.approx(-20037508.342789244 + tiles.x_min * 256 * geotransform[1])
    assert task.details.fetched == 6 and max(server.requests.values()) == 1
    with TileCache(tmp_path / "cache") as cache:
        served = sum(len(cache.read(tile, 10 ** 7).body) for tile in cache.tiles())
    assert task.details.bytes_fetched == served and task.details.seconds > 0
    assert task.details.summary().startswith("6 tiles: 6 downloaded (")
    assert set(server.user_agents) == {task.plan.user_agent} and task.plan.user_agent.startswith("Offload/")


@pytest.mark.parametrize("server", [Faults(fail_rate=0.3, rate_429=0.15, truncate_rate=0.2, seed=3)], indirect=True)
def test_faults_are_survived_with_an_exact_mosaic(server, tmp_path):
    task = tiles_task(server, tmp_path, retries=4)
    assert run_to_end(task, 60) is True
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "out.tif")).ReadAsArray(), expected_dem(task.plan.tiles))
    assert max(server.requests.values()) == 2, "each faulty tile was asked again, once"


def test_imagery_is_rgba_and_clip_cuts_the_same_pixels_to_the_bbox(tmp_path):
    with TileServer("imagery") as imagery:
        whole = TileDownloadTask(TileRequest(imagery.template, BBOX, 12, tmp_path / "whole.tif",
                                             cache_dir=tmp_path / "cache"))
        clipped = TileDownloadTask(TileRequest(imagery.template, BBOX, 12, tmp_path / "clip.tif",
                                               cache_dir=tmp_path / "cache", clip=True))
        assert run_to_end(whole, 60) is True and run_to_end(clipped, 60) is True
    big, small = gdal.Open(str(tmp_path / "whole.tif")), gdal.Open(str(tmp_path / "clip.tif"))
    tiles = whole.plan.tiles
    first = imagery_rgb(tile_heights(Tile(tiles.x_min, tiles.y_min, 12)))
    np.testing.assert_array_equal(big.ReadAsArray()[:3, :256, :256], first)
    assert big.RasterCount == 4 and (big.GetRasterBand(4).ReadAsArray() == 255).all()
    assert small.RasterXSize < big.RasterXSize and small.RasterYSize < big.RasterYSize
    pixel = big.GetGeoTransform()[1]
    col = round((small.GetGeoTransform()[0] - big.GetGeoTransform()[0]) / pixel)
    row = round((big.GetGeoTransform()[3] - small.GetGeoTransform()[3]) / pixel)
    np.testing.assert_array_equal(small.ReadAsArray(),
                                  big.ReadAsArray()[:, row:row + small.RasterYSize, col:col + small.RasterXSize])


def test_a_second_run_downloads_nothing_and_max_age_zero_revalidates(server, tmp_path):
    assert run_to_end(tiles_task(server, tmp_path), 60) is True
    again = tiles_task(server, tmp_path)
    assert run_to_end(again, 60) is True
    assert again.details.cached == 6 and again.details.fetched == 0 and max(server.requests.values()) == 1
    revalidated = tiles_task(server, tmp_path, max_age_s=0)
    assert run_to_end(revalidated, 60) is True
    assert revalidated.details.cached == 6 and max(server.requests.values()) == 2  # 304s, bodies from cache


def test_a_cached_tile_that_no_longer_decodes_is_fetched_again_even_when_the_server_says_unchanged(server, tmp_path):
    assert run_to_end(tiles_task(server, tmp_path), 60) is True
    with TileCache(tmp_path / "cache") as cache:
        damaged = cache.tiles()[0]
        entry = cache.read(damaged, 10 ** 7)  # cut short as cached (an older version's bug): its header still
        cache.write(damaged, entry.body[:200], {"ETag": entry.etag}, entry.fetched)  # says 256×256, only decoding tells
    again = tiles_task(server, tmp_path, max_age_s=0)  # stale: asked for with its ETag, and the server answers 304
    assert run_to_end(again, 60) is True
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "out.tif")).ReadAsArray(), expected_dem(again.plan.tiles))
    assert sorted(server.requests.values()) == [2] * 5 + [3], "only the damaged tile is fetched again, whole"


@pytest.mark.parametrize("server", [Faults(latency_ms=150)], indirect=True)
def test_cancel_is_prompt_and_a_rerun_fetches_only_what_is_missing(server, tmp_path):
    task = start(tiles_task(server, tmp_path, bbox=(6.9, 45.9, 7.1, 46.1), workers=2))
    wait_until(lambda: sum(server.requests.values()) >= 3, 30, "a few tiles")
    cancel_and_time(task)  # answered (within its generous deadline) as a cancel, not a failure
    assert not (tmp_path / "out.tif").exists() and not [p for p in tmp_path.iterdir() if ".offload-" in p.name]
    cached = cached_names(tmp_path / "cache")
    fetched_before_cancel = sum(server.requests.values())
    rerun = tiles_task(server, tmp_path, bbox=(6.9, 45.9, 7.1, 46.1), workers=2)
    assert run_to_end(rerun, 120) is True
    asked_again = {tile for tile, count in server.requests.items() if count > 1}
    assert cached and not asked_again & cached, "a tile already had is never fetched twice"
    assert len(asked_again) <= 2, "only the tiles in flight at the cancel (≤ workers) are asked again"
    assert rerun.details.cached >= 1 and rerun.details.fetched + rerun.details.cached == rerun.plan.tiles.count
    assert len(cached_names(tmp_path / "cache")) == rerun.plan.tiles.count
    assert fetched_before_cancel < rerun.plan.tiles.count


def test_never_more_connections_than_workers(server, tmp_path):
    task = tiles_task(server, tmp_path, bbox=(6.9, 45.9, 7.1, 46.1), workers=3)
    assert run_to_end(task, 120) is True
    assert server.max_open_connections <= 3 and server.connections_opened <= 3


class OneBadTile(TileServer):
    """Tile (x_max, y_min + 1) always answers 500; tile (x_min, y_max) is an ocean (404)."""

    broken, ocean = "/12/2128/1457.png", "/12/2127/1458.png"

    def answer(self, handler):
        if handler.path == self.broken:
            handler.send_body(500, b"always broken", "text/plain")
            return
        if handler.path == self.ocean:
            handler.send_error(404, "ocean")
            return
        super().answer(handler)


def test_a_tile_that_always_fails_is_named_and_404_is_nodata(tmp_path):
    probe = TileDownloadTask(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", BBOX, 12, tmp_path / "p.tif"))
    tiles = probe.plan.tiles
    assert (OneBadTile.broken, OneBadTile.ocean) == (f"/12/{tiles.x_max}/{tiles.y_min + 1}.png",
                                                     f"/12/{tiles.x_min}/{tiles.y_max}.png")
    with OneBadTile("terrain") as bad:
        task = TileDownloadTask(TileRequest(bad.template, BBOX, 12, tmp_path / "out.tif", decode="terrarium",
                                            cache_dir=tmp_path / "cache", retries=1))
        assert run_to_end(task, 60) is False
        assert "1 of 6 tile(s) failed; HTTP 500 (after 1 retries): 12/2128/1457" in task.error.one_line()
        assert not (tmp_path / "out.tif").exists()
        tolerant = TileDownloadTask(TileRequest(bad.template, BBOX, 12, tmp_path / "out.tif", decode="terrarium",
                                                cache_dir=tmp_path / "cache", retries=0, allow_missing=True))
        assert run_to_end(tolerant, 60) is True
    values = gdal.Open(str(tmp_path / "out.tif")).ReadAsArray()
    assert (values[512:768, 0:256] == -32768).all() and (values[256:512, 256:512] == -32768).all()
    assert tolerant.details.missing == 1 and tolerant.details.failed == 1


def test_elevation_decodings():
    pixel = lambda r, g, b: np.array([[[r]], [[g]], [[b]], [[255]]], np.uint8)  # noqa: E731
    assert decode_elevation(pixel(128, 0, 128), "terrarium")[0, 0] == pytest.approx(0.5)
    assert decode_elevation(pixel(1, 134, 160), "terrain-rgb")[0, 0] == pytest.approx(0.0)
    assert decode_elevation(pixel(1, 135, 160), "terrain-rgb")[0, 0] == pytest.approx(25.6)
    transparent = pixel(9, 9, 9)
    transparent[3] = 0
    assert decode_elevation(transparent, "terrarium")[0, 0] == -32768


@pytest.mark.parametrize("options, message", [
    ({"template": "ftp://127.0.0.1/{z}/{x}/{y}.png"}, "URL scheme 'ftp'"),
    ({"template": "http://127.0.0.1/{z}/{x}.png"}, "neither"),
    ({"zoom": 25}, "zoom 25 is not within 0..24"),
    ({"zoom": 16, "max_tiles": 100}, "zoom 16 needs 191625 tiles, more than --max-tiles 100"),
    ({"template": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "zoom": 16, "max_tiles": 10 ** 6},
     "tile.openstreetmap.org forbids bulk downloads: 191625 tiles is more than 5000"),
    ({"decode": "lerc"}, "decode 'lerc'"),
    ({"workers": 0}, "workers 0"),
    ({"bbox": (7, 46, 6, 45)}, "is not XMIN,YMIN,XMAX,YMAX"),
    ({"bbox_crs": "EPSG:999999"}, "bbox CRS 'EPSG:999999'"),
    ({"format": "PNG"}, "format 'PNG' is not one of GTiff, COG, GPKG, MBTiles"),
    ({"zoom_min": 11, "zoom": 10}, "zoom range 11-10"),
    ({"zoom_min": 8, "zoom": 12, "max_tiles": 100, "format": "GPKG", "output": "o.gpkg"}, "zooms 8-12 need 1100 tiles, more than --max-tiles 100"),
    ({"format": "GPKG", "decode": "terrarium"}, "decode terrarium makes a DEM"),
    ({"headers": (("Bad Name", "x"),)}, "header name 'Bad Name'"),
    ({"headers": (("Referer", "a\r\nX-Injected: 1"),)}, "header Referer's value holds a line break"),
    ({"headers": (("User-Agent", "x"),)}, "header User-Agent is set by Offload"),
])
def test_refusals_send_no_request_and_write_nothing(tmp_path, options, message):
    fields = dict(template="http://127.0.0.1:9/{z}/{x}/{y}.png", bbox=(6.0, 45.0, 8.0, 47.0), zoom=10,
                  output=tmp_path / "out.tif", cache_dir=tmp_path / "cache")
    fields.update(options)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", ".*")):
        TileDownloadTask(TileRequest(**fields))
    assert list(tmp_path.iterdir()) == []


def test_processing_tiles_gives_the_tasks_mosaic(qgis_processing, server, tmp_path):
    import processing
    from qgis.core import QgsApplication

    from offload.provider import OffloadProvider

    registry = QgsApplication.processingRegistry()
    added = registry.providerById("offload") is None
    if added:
        registry.addProvider(OffloadProvider())
    try:
        result = processing.run("offload:tiles", {
            "URL": server.template, "EXTENT": "6.95,7.05,45.95,46.05 [EPSG:4326]", "ZOOM": 12, "DECODE": 1,
            "CACHE": str(tmp_path / "cache"), "OUTPUT": str(tmp_path / "alg.tif")})
        with pytest.raises(Exception, match="zoom 16 needs 191625 tiles"):
            processing.run("offload:tiles", {"URL": server.template, "EXTENT": "6,8,45,47 [EPSG:4326]", "ZOOM": 16,
                                             "MAX_TILES": 100, "OUTPUT": str(tmp_path / "no.tif")})
    finally:
        if added:
            registry.removeProvider("offload")
    task = tiles_task(server, tmp_path)
    assert run_to_end(task, 60) is True
    np.testing.assert_array_equal(gdal.Open(result["OUTPUT"]).ReadAsArray(), gdal.Open(str(tmp_path / "out.tif")).ReadAsArray())
    assert not (tmp_path / "no.tif").exists()


def test_the_imagery_mosaic_equals_gdals_wms_driver_over_the_same_tiles(tmp_path, monkeypatch):
    from offload.net_tasks.tiles import ORIGIN_M

    monkeypatch.setenv("GDAL_ENABLE_WMS_CACHE", "NO")
    with TileServer("imagery") as imagery:
        task = TileDownloadTask(TileRequest(imagery.template, BBOX, 12, tmp_path / "ours.tif",
                                            cache_dir=tmp_path / "cache"))
        assert run_to_end(task, 60) is True
        tiles = task.plan.tiles
        url = imagery.template.replace("{z}", "${z}").replace("{x}", "${x}").replace("{y}", "${y}")
        xml = (f"<GDAL_WMS><Service name='TMS'><ServerUrl>{url}</ServerUrl></Service><DataWindow>"
               f"<UpperLeftX>{-ORIGIN_M}</UpperLeftX><UpperLeftY>{ORIGIN_M}</UpperLeftY><LowerRightX>{ORIGIN_M}"
               f"</LowerRightX><LowerRightY>{-ORIGIN_M}</LowerRightY><TileLevel>12</TileLevel><TileCountX>1"
               f"</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857"
               f"</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>4</BandsCount>"
               f"</GDAL_WMS>")
        theirs = gdal.Translate(str(tmp_path / "theirs.tif"), xml, srcWin=[tiles.x_min * 256, tiles.y_min * 256,
                                                                          tiles.width * 256, tiles.height * 256])
        assert theirs is not None
        their_values, their_geotransform = theirs.ReadAsArray(), theirs.GetGeoTransform()
        theirs = None
    ours = gdal.Open(str(tmp_path / "ours.tif"))
    np.testing.assert_array_equal(ours.ReadAsArray(), their_values)
    np.testing.assert_allclose(ours.GetGeoTransform(), their_geotransform, rtol=1e-12)


def test_two_processes_downloading_into_one_cache_at_once_both_finish_and_cache_whole_tiles(subprocess_env, tmp_path):
    import subprocess
    import sys
    import urllib.request

    cache = tmp_path / "cache"
    with TileServer("imagery", Faults(latency_ms=20)) as server:
        runs = [subprocess.Popen([sys.executable, "-m", "offload", "tiles", "--url", server.template, "--zoom", "14",
                                  "--bbox=6.9,45.9,7.1,46.1", "--cache", str(cache), "--output",
                                  str(tmp_path / f"run{number}.tif")],
                                 env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for number in (1, 2)]
        for run in runs:
            _, stderr = run.communicate(timeout=120)
            assert run.returncode == 0, stderr
            assert "tile cache" not in stderr  # nothing set aside, no failure to tell
        first, second = (gdal.Open(str(tmp_path / f"run{number}.tif")).ReadAsArray() for number in (1, 2))
        np.testing.assert_array_equal(first, second)
        with TileCache(cache, create=False) as cached:
            tiles = cached.tiles()
            # Most are cached (a tile the other run kept locked past the busy timeout is not: best
            # effort), and every one cached is whole and the one served
            assert len(tiles) >= first.shape[1] * first.shape[2] // 256 ** 2 // 2
            for tile in tiles:
                served = urllib.request.urlopen(server.template.format(z=tile.z, x=tile.x, y=tile.y)).read()
                assert cached.read(tile, 10 ** 7).body == served
