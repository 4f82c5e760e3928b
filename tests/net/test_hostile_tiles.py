"""`python -m offload tiles` against hostile servers on 127.0.0.1: bounded memory (peak RSS of
the run), bounded time per tile, causes named, nothing that failed a check cached; the
antimeridian; refusals before any work."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hostile.py, beside this file
from hostile import ATTACKS, ROW_BBOX, HostileServer, measured_offload  # noqa: E402
from offload.demo.tile_server import TileServer  # noqa: E402
from offload.demo.tile_images import imagery_rgb, tile_heights  # noqa: E402
from offload.net_tasks.image_size import image_size  # noqa: E402
from offload.net_tasks.tile_cache import TileCache  # noqa: E402
from offload.net_tasks.tiles import Tile, tile_bounds  # noqa: E402

def measured_tiles(*args, env, timeout=120):
    """(exit code, stderr, peak RSS in MB) of `python -m offload tiles ARGS`."""
    return measured_offload("tiles", *args, env=env, timeout=timeout)


def column_bbox(x: int) -> str:
    """The bbox of zoom-3 tile x (row 3), shrunk a little inside it."""
    west = -180 + 45 * x + 1
    return f"--bbox={west},1,{west + 43},40"


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


def test_a_hostile_server_costs_bounded_memory_and_bounded_time_and_nothing_failed_is_cached(
        hostile, subprocess_env, tmp_path):
    cache = tmp_path / "cache"
    common = ["--url", hostile.template, "--zoom", "3", "--cache", str(cache), "--retries", "0", "--timeout", "3"]
    rc, _, baseline_mb = measured_tiles(*common, column_bbox(ATTACKS.index("good")),
                                        "--output", str(tmp_path / "good.tif"), env=subprocess_env)
    assert rc == 0
    rc, stderr, peak_mb = measured_tiles(*common, "--bbox=" + ",".join(map(str, ROW_BBOX)),
                                         "--output", str(tmp_path / "row.tif"), env=subprocess_env)
    assert rc == 1 and not (tmp_path / "row.tif").exists()
    assert peak_mb < baseline_mb + 100, f"peak RSS {peak_mb:.0f} MB against {baseline_mb:.0f} MB for one good tile"
    with TileCache(cache, create=False) as cached:
        assert cached.tiles() == [Tile(7, 3, 3)], "only the good tile is cached"
    assert "7 of 8 tile(s) failed" in stderr
    for cause in ("a 10000×10000 image, not a 256×256 tile: 3/0/3",
                  "a body of more than 4194304 bytes once inflated (--max-tile-bytes raises it): 3/1/3",
                  "no complete answer within 3 s (--timeout): 3/2/3",
                  "a body of more than 4194304 bytes (--max-tile-bytes raises it): 3/3/3",
                  "a 512×512 image, not a 256×256 tile (--tile-size 512 takes them): 3/4/3",
                  "not an image (text/html, 49 bytes): 3/5/3",
                  "HTTP 403 (not retried): 3/6/3"):
        assert cause in stderr
    assert hostile.requests["forbidden"] == 1


def test_every_tile_failing_fails_even_with_allow_missing_and_a_403_is_asked_once(hostile, subprocess_env, tmp_path):
    before = hostile.requests["forbidden"]
    rc, stderr, _ = measured_tiles("--url", hostile.template, "--zoom", "3", column_bbox(ATTACKS.index("forbidden")),
                                   "--allow-missing", "--cache", str(tmp_path / "cache"),
                                   "--output", str(tmp_path / "blank.tif"), env=subprocess_env)
    assert rc == 1 and not (tmp_path / "blank.tif").exists()
    assert "every tile failed (1 of 1; --allow-missing leaves only some empty); HTTP 403 (not retried" in stderr
    assert hostile.requests["forbidden"] == before + 1, "a 403 is not retried"


@pytest.mark.parametrize("bbox", ["170,-10,190,10", "-190,-10,-170,10"])
def test_a_bbox_across_the_antimeridian_fetches_the_columns_it_touches(subprocess_env, tmp_path, bbox):
    with TileServer("imagery") as server:
        rc, stderr, _ = measured_tiles("--url", server.template, "--zoom", "3", "--bbox", bbox,
                                       "--cache", str(tmp_path / "cache"), "--output", str(tmp_path / "am.tif"),
                                       env=subprocess_env)
        assert rc == 0, stderr
        assert sorted(server.requests) == ["3/0/3", "3/0/4", "3/7/3", "3/7/4"]
    mosaic = gdal.Open(str(tmp_path / "am.tif"))
    assert (mosaic.RasterXSize, mosaic.RasterYSize) == (512, 512)
    assert mosaic.GetGeoTransform()[0] == pytest.approx(tile_bounds(Tile(7, 3, 3))[0])  # 135°, east across 180°
    east_of_180 = mosaic.ReadAsArray(256, 0, 256, 256)[:3]
    assert (east_of_180 == imagery_rgb(tile_heights(Tile(0, 3, 3)))).all(), "column 0 is placed east of column 7"


def test_a_negative_bbox_needs_no_equals_sign(subprocess_env, tmp_path):
    with TileServer("imagery") as server:
        rc, stderr, _ = measured_tiles("--url", server.template, "--zoom", "6", "--bbox", "-122.5,37.7,-122.4,37.8",
                                       "--cache", str(tmp_path / "cache"), "--output", str(tmp_path / "sf.tif"),
                                       env=subprocess_env)
    assert rc == 0, stderr
    assert list(server.requests) == ["6/10/24"]


def test_a_billion_tiles_at_zoom_24_are_refused_at_once_with_flat_memory(subprocess_env, tmp_path):
    rc, stderr, peak_mb = measured_tiles("--url", "http://127.0.0.1:9/{z}/{x}/{y}.png", "--zoom", "24",
                                         "--bbox", "0,0,1,1", "--max-tiles", "999999999",
                                         "--output", str(tmp_path / "never.tif"), env=subprocess_env, timeout=30)
    assert rc == 2 and peak_mb < 400
    assert "zoom 24 needs 2172026024 tiles, more than --max-tiles 999999999" in stderr
    rc, stderr, peak_mb = measured_tiles("--url", "http://127.0.0.1:9/{z}/{x}/{y}.png", "--zoom", "24",
                                         "--bbox", "0,0,0.1,0.1", "--max-tiles", "999999999",
                                         "--output", str(tmp_path / "never.tif"), env=subprocess_env, timeout=30)
    assert rc == 2 and peak_mb < 400
    assert "more than the 1000000 a GeoTIFF mosaic holds" in stderr and list(tmp_path.iterdir()) == []


def test_a_bad_tile_an_older_version_cached_is_fetched_again(subprocess_env, tmp_path):
    import time

    import numpy as np

    from offload.demo.tile_images import encode_png

    cache = tmp_path / "cache"
    poisoned = Tile(4, 3, 3)
    with TileCache(cache) as cached:  # before sizes were checked
        cached.write(poisoned, encode_png(np.zeros((3, 512, 512), np.uint8)), {}, time.time())
    with TileServer("imagery") as server:
        rc, stderr, _ = measured_tiles("--url", server.template, "--zoom", "3", column_bbox(4), "--cache", str(cache),
                                       "--output", str(tmp_path / "healed.tif"), env=subprocess_env)
        assert rc == 0, stderr
        assert dict(server.requests) == {"3/4/3": 1}
    with TileCache(cache) as cached:
        assert image_size(cached.read(poisoned, 10 ** 7).body) == (256, 256)


@pytest.mark.parametrize("output_format", ["GTiff", "COG"])
def test_tile_size_512_mosaics_512_pixel_tiles(subprocess_env, tmp_path, output_format):
    import numpy as np

    from offload.demo.tile_images import encode_png

    for x, grey in ((0, 10), (1, 200)):
        tile = tmp_path / "tiles" / "3" / str(x) / "3.png"
        tile.parent.mkdir(parents=True)
        tile.write_bytes(encode_png(np.full((3, 512, 512), grey, np.uint8)))
    with TileServer(str(tmp_path / "tiles")) as server:
        rc, stderr, _ = measured_tiles("--url", server.template, "--zoom", "3", "--bbox=-179,1,-91,40", "--tile-size",
                                       "512", "--cache", str(tmp_path / "cache"), "--output", str(tmp_path / "512.tif"),
                                       "--format", output_format, env=subprocess_env)
    assert rc == 0, stderr
    mosaic = gdal.Open(str(tmp_path / "512.tif"))
    assert (mosaic.RasterXSize, mosaic.RasterYSize) == (1024, 512)
    assert mosaic.GetGeoTransform()[1] == pytest.approx(2 * 20037508.342789244 / 8 / 512)
    pixels = mosaic.ReadAsArray()
    assert (pixels[:3, :, :512] == 10).all() and (pixels[:3, :, 512:] == 200).all() and (pixels[3] == 255).all()
