"""The mosaic sink (net_tasks/tile_mosaic.py) written tile by tile: each block reaches the file once, whole,
whether the extent is on the tile grid or cuts tiles (--clip)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from offload.core.control import Control
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_decode import decode_elevation, decode_image
from offload.net_tasks.tile_download import run_tiles
from offload.net_tasks.tile_mosaic import MOSAIC_CODEC, MOSAIC_LAYOUT, MosaicSink
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
            sink.write(Tile(first.x + index % side, first.y + index // side, 14), sink.prepare(rgba))
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


def served_tiles(folder: Path, first: Tile, cols: int, rows: int, missing=(), broken=()) -> dict:
    """Noisy RGBA tiles (they compress as imagery does) in ``folder``, z/x/y.png; a few transparent pixels.
    ``missing`` tiles are not served (404), ``broken`` ones are no image (they fail)."""
    rng = np.random.default_rng(11)
    tiles = {}
    for dy in range(rows):
        for dx in range(cols):
            path = folder / str(first.z) / str(first.x + dx) / f"{first.y + dy}.png"
            if (dx, dy) in missing:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if (dx, dy) in broken:
                path.write_bytes(b"no image here")
                continue
            rgba = rng.integers(0, 256, (4, 256, 256), dtype=np.uint8)
            rgba[3] = np.where(rng.random((256, 256)) < 0.01, 0, 255)
            memory = gdal.GetDriverByName("MEM").Create("", 256, 256, 4, gdal.GDT_Byte)
            memory.WriteArray(rgba)
            gdal.GetDriverByName("PNG").CreateCopy(str(path), memory)
            tiles[dx, dy] = decode_image(path.read_bytes())
    return tiles


@pytest.mark.parametrize("output_format, decode", [("GTiff", "none"), ("GTiff", "terrarium"), ("COG", "none")])
def test_a_clipped_mosaic_writes_each_block_once_and_whole(tmp_path, monkeypatch, output_format, decode):
    """An extent that cuts tiles: each 256² block of the file takes pieces of up to 4 tiles. Written piece
    by piece, GDAL compressed a block at each piece and appended it again at the next (the GeoTIFF took
    2-3× a compact copy's bytes; a COG's stage as much, before GDAL's COG driver copied it)."""
    first, cols, rows = Tile(8500, 5800, 14), 4, 3
    missing, broken = {(3, 0)}, {(1, 2)}  # a 404, and a tile that fails (allowed missing): both stay empty
    tiles = served_tiles(tmp_path / "served", first, cols, rows, missing, broken)
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + cols - 1, first.y + rows - 1, first.z))
    px = (x_max - x_min) / (cols * 256)
    bbox = (x_min + 37.5 * px, y_min + 55.5 * px, x_max - 70.5 * px, y_max - 101.5 * px)  # no side on a tile's edge
    output = tmp_path / "out.tif"
    copy = gdal.Translate
    staged = []  # a clipped COG's stage, as GDAL's COG driver is given it

    def copy_of_stage(destination, source, **options):
        staged.append(Path(source).stat().st_size)
        return copy(destination, source, **options)

    monkeypatch.setattr(gdal, "Translate", copy_of_stage)
    with TileServer(str(tmp_path / "served")) as server:
        plan = validate_tile_request(TileRequest(server.template, bbox, 14, output, bbox_crs="EPSG:3857",
                                                 cache_dir=tmp_path / "cache", format=output_format, clip=True,
                                                 decode=decode, allow_missing=True, retries=0, workers=4))
        result = run_tiles(plan, output, Control())
    assert (result.fetched, result.missing, result.failed) == (cols * rows - 2, 1, 1)
    # the expected pixels: the served tiles side by side, cut to the bbox's whole pixels
    full = np.zeros((4, rows * 256, cols * 256), np.uint8)
    for (dx, dy), rgba in tiles.items():
        full[:, dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256] = rgba
    expected = full[:, 101:rows * 256 - 55, 37:cols * 256 - 70]
    if decode != "none":
        expected = decode_elevation(expected, decode)
    dataset = gdal.Open(str(output))
    np.testing.assert_array_equal(dataset.ReadAsArray(), expected)
    gt = dataset.GetGeoTransform()
    assert (round((gt[0] - x_min) / px), round((y_max - gt[3]) / px)) == (37, 101)
    # as compact as GDAL's own copy of the same pixels, in the mosaic's layout
    compact = tmp_path / "compact.tif"
    layout = MOSAIC_LAYOUT if decode == "none" else ("PREDICTOR=1" if output_format == "COG" else "PREDICTOR=3",)
    copy(str(compact), str(output), format="GTiff", creationOptions=[
        "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", *MOSAIC_CODEC, *layout, "SPARSE_OK=TRUE"])
    written = staged[0] if output_format == "COG" else output.stat().st_size
    assert written < 1.02 * compact.stat().st_size + 4096


@pytest.mark.parametrize("output_format, clip", [("COG", False), ("GTiff", True)])
def test_a_tile_that_fails_finishes_the_blocks_waiting_for_it_at_once(tmp_path, monkeypatch, output_format, clip):
    """With --allow-missing, a failed tile is an empty one to the mosaic as soon as it fails: the
    overview blocks (an assembled COG) and the clipped blocks that wait for it are written then. Held
    to the end, a server failing one tile in 20 kept 400 MB of a 16,384-tile COG's overviews waiting."""
    from offload.net_tasks.tile_blocks import WholeBlocks
    from offload.net_tasks.tile_cog import Overviews

    waiting_at_close = []
    for cls in (Overviews, WholeBlocks):
        def spy(self, close=cls.close):  # blocks still waiting when the mosaic closes
            levels = [self.pending] if isinstance(self.pending, dict) else self.pending  # Overviews: one a level
            waiting_at_close.append(sum(len(level) for level in levels))
            close(self)
        monkeypatch.setattr(cls, "close", spy)
    first, cols, rows = Tile(8500, 5800, 14), 4, 4
    served_tiles(tmp_path / "served", first, cols, rows, broken={(1, 1), (2, 3)})
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + cols - 1, first.y + rows - 1, first.z))
    inset = 1 if not clip else (x_max - x_min) / (cols * 256) * 40.5  # a clipped one cuts every edge tile
    output = tmp_path / "out.tif"
    with TileServer(str(tmp_path / "served")) as server:
        plan = validate_tile_request(TileRequest(server.template, (x_min + inset, y_min + inset, x_max - inset,
                                                                   y_max - inset), 14, output,
                                                 bbox_crs="EPSG:3857", cache_dir=tmp_path / "cache",
                                                 format=output_format, clip=clip, allow_missing=True, retries=0,
                                                 workers=4))
        result = run_tiles(plan, output, Control())
    assert (result.fetched, result.failed) == (cols * rows - 2, 2)
    assert waiting_at_close == [0]
    dataset = gdal.Open(str(output))
    alpha = dataset.GetRasterBand(4).ReadAsArray()
    off = round((dataset.GetGeoTransform()[0] - x_min) / ((x_max - x_min) / (cols * 256)))  # the clip's
    assert alpha[256 - off:512 - off, 256 - off:512 - off].max() == 0  # the failed tile (1, 1): transparent
    assert alpha[:256 - off, :256 - off].max() == 255


FILE_TOO_LARGE = r'''
import resource, signal, sys
from pathlib import Path
from offload.core.control import Control
from offload.core.errors import TaskFailed
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_download import run_tiles
from offload.net_tasks.tile_plan import validate_tile_request

served, output, fmt, bbox = sys.argv[1], Path(sys.argv[2]), sys.argv[3], tuple(map(float, sys.argv[4:8]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
with TileServer(served) as server:
    plan = validate_tile_request(TileRequest(server.template, bbox, 14, output, bbox_crs="EPSG:3857",
                                             cache_dir=None, format=fmt, workers=2))
    try:
        run_tiles(plan, output, Control())
        print("no failure")
    except TaskFailed as exc:
        print("failed after", sum(server.requests.values()), "requests:", exc)
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE and SIGXFSZ")
@pytest.mark.parametrize("output_format", ["GTiff", "COG"])
def test_a_write_that_fails_on_the_writing_thread_stops_the_download(tmp_path, output_format):
    """The disk refuses a write (here: a file-size limit): the run stops there, naming GDAL's error, and
    does not fetch every other tile first (GDAL's errors on the writing threads went unseen before; only the
    file's close, after the whole download, failed)."""
    import subprocess

    first, side = Tile(8500, 5800, 14), 8
    served_tiles(tmp_path / "served", first, side, side)
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + side - 1, first.y + side - 1, first.z))
    bbox = (x_min + 1, y_min + 1, x_max - 1, y_max - 1)
    output = tmp_path / "out.tif"
    run = subprocess.run([sys.executable, "-c", FILE_TOO_LARGE, str(tmp_path / "served"), str(output), output_format,
                          *map(str, bbox)], capture_output=True, text=True, timeout=120)
    line = run.stdout.strip().splitlines()[-1]
    assert line.startswith("failed after") and "GDAL:" in line, run.stdout + run.stderr
    assert int(line.split()[2]) < side * side // 2, line  # 64 noisy tiles take ~4 MB; 400 KB hold a few
