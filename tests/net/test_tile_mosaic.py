"""The mosaic sink (net_tasks/tile_mosaic.py) written tile by tile: each block reaches the file once."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from offload.core.control import Control
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_mosaic import MosaicSink
from offload.net_tasks.tile_plan import validate_tile_request
from offload.net_tasks.tiles import Tile, tile_bounds


def bytes_written() -> int:
    """What this process has written so far (every file and socket)."""
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/io")
@pytest.mark.parametrize("output_format", ["GTiff", "COG"])
def test_each_tile_is_written_once_not_the_block_index_with_it(tmp_path, output_format):
    """A dataset's FlushCache() after each tile also rewrote the file's whole block index (8 bytes a block):
    2 MB for these 256 tiles of one colour each, whose blocks take a few KB."""
    first, side = Tile(8500, 5800, 14), 16
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + side - 1, first.y + side - 1, first.z))
    output = tmp_path / "out.tif"
    plan = validate_tile_request(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", (x_min + 1, y_min + 1, x_max - 1,
                                                                                     y_max - 1), 14, output,
                                             bbox_crs="EPSG:3857", cache_dir=tmp_path / "cache", format=output_format))
    colours = np.random.default_rng(5).integers(0, 256, (side * side, 3), dtype=np.uint8)
    before = bytes_written()
    sink = MosaicSink(plan, output, Control())
    try:
        for index, colour in enumerate(colours):
            rgba = np.full((4, 256, 256), 255, np.uint8)
            rgba[:3] = colour[:, None, None]
            sink.write(Tile(first.x + index % side, first.y + index // side, 14), rgba)
        sink.close()
    finally:
        sink.abandon()
    written = bytes_written() - before
    size = output.stat().st_size
    assert size < 400_000
    assert written < 3 * size + 100_000  # a COG: its stages, then the file (without the fix: 2 MB more)
    pixels = gdal.Open(str(output)).ReadAsArray()
    for index, colour in enumerate(colours):
        col, row = index % side * 256, index // side * 256
        assert (pixels[:3, row:row + 256, col:col + 256] == colour[:, None, None]).all()
