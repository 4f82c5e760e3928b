"""A bbox at Web Mercator's limit (latitude ±85.0511°): one reaching past it is clamped to it,
as GDAL and QGIS clamp; one wholly beyond it, or with a value that is not a number, is refused
in one line before any work (it was an OverflowError) — by the engine, the command line and
Processing. A template whose port or host is broken is refused there too, not per tile."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException

from offload.core.errors import InputError
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_plan import validate_tile_request
from offload.net_tasks.tiles import MAX_LAT, TileRange

NOWHERE = "http://127.0.0.1:9/{z}/{x}/{y}.png"


def plan(bbox, crs="EPSG:4326", zoom=3, template=NOWHERE):
    return validate_tile_request(TileRequest(template, bbox, zoom, Path("unused.tif"), bbox_crs=crs))


@pytest.mark.parametrize("bbox,crs,named", [
    ((0, 86, 10, 90), "EPSG:4326", "0,86,10,90 lies wholly beyond latitude 85.0511°"),
    ((0, -90, 10, -86), "EPSG:4326", "0,-90,10,-86 lies wholly beyond latitude -85.0511°"),
    ((0, MAX_LAT, 10, 90), "EPSG:4326", "beyond latitude 85.0511°"),
    ((-1e5, -1e5, 1e5, 1e5), "EPSG:3413", "beyond latitude 85.0511°"),  # polar stereographic, around the pole
    ((-1e5, -1e5, 1e5, 1e5), "EPSG:3031", "beyond latitude -85.0511°"),
    ((0, 0, 1, 1), "+proj=ortho +lat_0=90", "beyond latitude 85.0511°"),
    ((math.nan, 0, 1, 1), "EPSG:4326", "bbox value nan is not a finite number"),
    ((0, 0, math.inf, 1), "EPSG:4326", "bbox value inf is not a finite number"),
])
def test_a_bbox_wholly_beyond_mercator_or_not_a_number_is_refused_in_one_line(bbox, crs, named):
    with pytest.raises(InputError) as refused:
        plan(bbox, crs)
    assert named in str(refused.value) and "\n" not in str(refused.value)


def test_a_bbox_reaching_past_the_limit_is_clamped_to_it():
    assert plan((0, 80, 10, 90)).tiles == TileRange(4, 0, 4, 0, 3)  # the top row
    assert plan((0, -90, 10, -80)).tiles == TileRange(4, 7, 4, 7, 3)  # the bottom row
    assert plan((0, -90, 10, 90)).tiles == TileRange(4, 0, 4, 7, 3)
    assert plan((-1e6, -1e6, 1e6, 1e6), "EPSG:3413").tiles.y_min == 0


def cli(*args, env):
    return subprocess.run([sys.executable, "-m", "offload", "tiles", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("url,bbox,named", [
    (NOWHERE, "0,86,10,90", "lies wholly beyond latitude 85.0511°"),
    ("http://127.0.0.1:99999/{z}/{x}/{y}.png", "6.9,45.9,7.0,46.0", "port '99999'"),
    ("http://[::1/{z}/{x}/{y}.png", "6.9,45.9,7.0,46.0", "host '[::1'"),
])
def test_the_cli_refuses_with_exit_2_and_one_line_and_writes_nothing(subprocess_env, tmp_path, url, bbox, named):
    result = cli("--url", url, "--bbox", bbox, "--zoom", "3", "--output", str(tmp_path / "out.tif"),
                 "--cache", str(tmp_path / "cache"), env=subprocess_env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if named in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr and "Error" not in result.stderr.replace(
        "InputError", "")
    assert list(tmp_path.iterdir()) == []


def test_processing_refuses_with_its_own_exception_and_writes_nothing(offload_provider, tmp_path):
    import processing

    for url, extent, named in ((NOWHERE, "0,10,86,90 [EPSG:4326]", "beyond latitude 85.0511°"),
                               ("http://127.0.0.1:abc/{z}/{x}/{y}.png", "6.9,7.0,45.9,46.0 [EPSG:4326]", "port 'abc'")):
        with pytest.raises(QgsProcessingException, match=named):
            processing.run("offload:tiles", {"URL": url, "EXTENT": extent, "ZOOM": 3,
                                             "CACHE": str(tmp_path / "cache"), "OUTPUT": str(tmp_path / "o.tif")})
    assert list(tmp_path.iterdir()) == []
