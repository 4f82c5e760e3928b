"""A COG of imagery assembled from the blocks GDAL compressed while the tiles arrived (net_tasks/tile_cog.py):
overviews averaged block by block as tiles come in any order, a layout GDAL's own COG validation
accepts (classic TIFF and BigTIFF), pixels exact, and no copy by GDAL's COG driver."""
from __future__ import annotations

import os
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate

from offload.core.control import Control
from offload.demo.tile_server import TileServer
from offload.net_tasks import tile_cog
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_cog import Overviews, assemble_cog, average_2x2, needs_bigtiff, overview_sizes
from offload.net_tasks.tile_decode import decode_image
from offload.net_tasks.tile_download import run_tiles
from offload.net_tasks.tile_mosaic import COG_BLOCKS
from offload.net_tasks.tile_plan import validate_tile_request
from offload.net_tasks.tiles import Tile, tile_bounds

RNG = np.random.default_rng(13)


def cog_errors(path: Path) -> list:
    *_, errors, _details = validate(gdal.Open(str(path)), full_check=True)
    return errors


def test_average_2x2_weighs_colours_by_the_opaque_pixels_only():
    opaque = RNG.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    opaque[3] = 255
    expected = (opaque.astype(np.uint16).reshape(4, 2, 2, 2, 2).sum(axis=(2, 4)) + 2) // 4
    np.testing.assert_array_equal(average_2x2(opaque), expected)
    edge = np.zeros((4, 2, 2), np.uint8)
    edge[:, 0, 0] = (200, 100, 50, 255)  # one opaque pixel, three transparent (a missing neighbour)
    assert average_2x2(edge)[:, 0, 0].tolist() == [200, 100, 50, 64]


def test_overviews_are_each_block_averaged_once_whatever_order_the_tiles_come_in(monkeypatch):
    dirty = dict(vars(np), empty=lambda shape, dtype=float: np.full(shape, 77, dtype))  # np.empty: never assumed zero
    monkeypatch.setattr(tile_cog, "np", SimpleNamespace(**dirty))
    cols, rows = 3, 3  # 768² pixels: overviews of 384² (2×2 blocks) and 192² (one block)
    mosaic = RNG.integers(0, 256, (4, rows * 256, cols * 256), dtype=np.uint8)
    mosaic[3] = 255
    mosaic[:, 256:512, 0:256] = 0  # a tile the server did not have
    written = {}

    def write_block(level, col, row, rgba):
        assert (level, col, row) not in written  # each block once
        written[level, col, row] = rgba.copy()

    sizes = overview_sizes(cols * 256, rows * 256)
    assert sizes == [(384, 384), (192, 192)]
    overviews = Overviews((cols, rows), sizes, write_block)
    blocks = [(c, r) for r in range(rows) for c in range(cols)]
    random.Random(3).shuffle(blocks)
    for col, row in blocks:
        empty = (col, row) == (0, 1)
        overviews.add(0, col, row, None if empty else mosaic[:, row * 256:(row + 1) * 256, col * 256:(col + 1) * 256])
    assert all(not pending for pending in overviews.pending)  # nothing left waiting: all written as they came
    level1 = average_2x2(mosaic)
    level2 = average_2x2(level1)
    assert sorted(written) == [(1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1), (2, 0, 0)]
    for (level, col, row), block in written.items():
        expected = (level1 if level == 1 else level2)[:, row * 256:(row + 1) * 256, col * 256:(col + 1) * 256]
        np.testing.assert_array_equal(block[:, :expected.shape[1], :expected.shape[2]], expected)


def average_inside(level: np.ndarray) -> np.ndarray:
    """An opaque level's next, each pixel the rounded mean of the pixels of its 2×2 window inside the level."""
    bands, height, width = level.shape
    padded = np.zeros((bands, height + height % 2, width + width % 2), np.uint32)
    padded[:, :height, :width] = level
    inside = np.zeros(padded.shape[1:], np.uint32)
    inside[:height, :width] = 1
    sums = padded.reshape(bands, padded.shape[1] // 2, 2, padded.shape[2] // 2, 2).sum(axis=(2, 4))
    counts = inside.reshape(inside.shape[0] // 2, 2, inside.shape[1] // 2, 2).sum(axis=(1, 3))
    return ((sums + counts // 2) // counts).astype(np.uint8)


def test_a_level_of_odd_size_averages_its_edge_over_the_pixels_inside_only(tmp_path):
    """3 × 1 tiles and 9 levels: level 8 is 3 × 1 pixels, so level 9's pixels pair its last column, and
    its one row, with the block's padding. That padding (transparent) halved the edge's alpha, where
    GDAL's averaging keeps 255: its windows hold only pixels inside the image."""
    cols, rows = 3, 1
    mosaic = RNG.integers(0, 256, (4, rows * 256, cols * 256), dtype=np.uint8)
    mosaic[3] = 255
    sizes = overview_sizes(cols * 256, rows * 256, 9)
    assert sizes[-2:] == [(3, 1), (2, 1)]
    levels = [np.zeros((4, h, w), np.uint8) for w, h in sizes]

    def write_block(level, col, row, rgba):
        canvas = levels[level - 1]
        part = canvas[:, row * 256:(row + 1) * 256, col * 256:(col + 1) * 256]
        part[...] = rgba[:, :part.shape[1], :part.shape[2]]

    overviews = Overviews((cols, rows), sizes, write_block)
    for col in range(cols):
        overviews.add(0, col, 0, mosaic[:, :, col * 256:(col + 1) * 256].copy())
    overviews.close()
    # GDAL's own averaging of the same image (an RGBA GeoTIFF, overviews by factors of 2: the same sizes)
    reference = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "gdal.tif"), cols * 256, rows * 256, 4,
                                                     gdal.GDT_Byte, ["TILED=YES"])
    reference.WriteArray(mosaic)
    reference.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    reference.BuildOverviews("AVERAGE", [2 ** level for level in range(1, len(sizes) + 1)])
    finer = mosaic
    for index, level in enumerate(levels):
        by_gdal = np.stack([reference.GetRasterBand(b).GetOverview(index).ReadAsArray() for b in range(1, 5)])
        assert by_gdal.shape == level.shape
        np.testing.assert_array_equal(level[3], by_gdal[3])  # opaque, to the edge
        np.testing.assert_array_equal(level, average_inside(finer))
        finer = level


def test_blocks_whose_tiles_never_came_are_written_on_close():
    written = []
    overviews = Overviews((2, 2), overview_sizes(512, 512), lambda *block: written.append(block[:3]))
    overviews.add(0, 0, 0, np.full((4, 256, 256), 255, np.uint8))  # the three others failed (--allow-missing)
    assert written == []
    overviews.close()
    assert written == [(1, 0, 0)]


def stage(path: Path, pixels: np.ndarray, sparse_block=None, georeferenced=True) -> Path:
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), pixels.shape[2], pixels.shape[1], 4, gdal.GDT_Byte,
                                                   list(COG_BLOCKS))
    if georeferenced:
        dataset.SetGeoTransform((600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
        dataset.SetProjection('EPSG:3857')
    for row in range(0, pixels.shape[1], 256):
        for col in range(0, pixels.shape[2], 256):
            if (col // 256, row // 256) != sparse_block:
                dataset.WriteArray(pixels[:, row:row + 256, col:col + 256], col, row)
    dataset = None
    return path



def test_bigtiff_is_chosen_when_the_block_index_pushes_the_file_past_4_gb():
    # 600,000 blocks (a COG of ~113,000 RGBA tiles in bands of their own): an index of 4.8 MB
    blocks = 600_000
    data = 2 ** 32 - 2 ** 21  # the blocks alone, framed, end 2 MB short of 4 GB
    sizes = [data // blocks - 8] * blocks
    sizes[-1] += data - sum(size + 8 for size in sizes)
    level = ([], [0] * blocks, sizes)
    assert needs_bigtiff([level], ghost_bytes=300)  # the index does not fit in what is left
    assert not needs_bigtiff([([], [0] * 10, [1000] * 10)], ghost_bytes=300)

@pytest.mark.parametrize("bigtiff", [False, True])
def test_an_assembled_cog_is_valid_for_gdal_and_holds_the_stages_pixels(tmp_path, monkeypatch, bigtiff):
    if bigtiff:
        monkeypatch.setattr(tile_cog, "CLASSIC_END", 0)  # as if the file passed 4 GB
    full = RNG.integers(0, 256, (4, 512, 768), dtype=np.uint8)
    full[:, 256:, 512:] = 0  # a block never written (a tile missing on the server)
    overview = average_2x2(full)
    stages = [stage(tmp_path / "full.tif", full, sparse_block=(2, 1)),
              stage(tmp_path / "ovr.tif", overview, georeferenced=False)]
    output = tmp_path / "out.tif"
    assemble_cog(stages, output)
    assert cog_errors(output) == []
    dataset = gdal.Open(str(output))
    assert dataset.GetMetadata("IMAGE_STRUCTURE") == {"COMPRESSION": "ZSTD", "INTERLEAVE": "BAND", "LAYOUT": "COG"}
    assert b"\nINTERLEAVE=TILE\n" in output.read_bytes()[:300]  # GDAL >= 3.11 reads the layout from here
    # row by row, each block's bands side by side (one range of the file per block), nothing between
    framed = [(int(dataset.GetRasterBand(b).GetMetadataItem(f"BLOCK_OFFSET_{x}_{y}", "TIFF")),
               int(dataset.GetRasterBand(b).GetMetadataItem(f"BLOCK_SIZE_{x}_{y}", "TIFF")))
              for x, y in [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1)] for b in range(1, 5)]
    assert [offset for offset, _ in framed[1:]] == [offset + size + 8 for offset, size in framed[:-1]]
    assert dataset.GetGeoTransform() == (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
    assert dataset.GetSpatialRef().GetAuthorityCode(None) == "3857"
    assert dataset.GetRasterBand(4).GetColorInterpretation() == gdal.GCI_AlphaBand
    np.testing.assert_array_equal(dataset.ReadAsArray(), full)
    bands = [dataset.GetRasterBand(b) for b in range(1, 5)]
    assert [b.GetOverviewCount() for b in bands] == [1] * 4
    np.testing.assert_array_equal(np.stack([b.GetOverview(0).ReadAsArray() for b in bands]), overview)
    assert dataset.GetRasterBand(1).GetMetadataItem("BLOCK_SIZE_2_1", "TIFF") is None  # sparse, not a blank block


@pytest.mark.parametrize("preadv", [True, False])
def test_blocks_are_copied_alike_whatever_the_chunk_and_with_or_without_preadv(tmp_path, monkeypatch, preadv):
    full = RNG.integers(0, 256, (4, 512, 512), dtype=np.uint8)
    stages = [stage(tmp_path / "full.tif", full), stage(tmp_path / "ovr.tif", average_2x2(full), georeferenced=False)]
    assemble_cog(stages, tmp_path / "reference.tif")  # every block in one write
    monkeypatch.setattr(tile_cog, "COPY_BYTES", 1)  # a write after each block
    if not preadv:  # Windows has no os.preadv: a seek and a read each block
        monkeypatch.delattr(tile_cog.os, "preadv")
    assemble_cog(stages, tmp_path / "out.tif")
    assert (tmp_path / "out.tif").read_bytes() == (tmp_path / "reference.tif").read_bytes()
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "out.tif")).ReadAsArray(), full)


def test_reads_that_come_back_short_still_copy_whole_blocks(tmp_path, monkeypatch):
    """A read may return fewer bytes than asked (network and FUSE mounts do): the rest is read on."""
    full = RNG.integers(0, 256, (4, 512, 512), dtype=np.uint8)
    stages = [stage(tmp_path / "full.tif", full), stage(tmp_path / "ovr.tif", average_2x2(full), georeferenced=False)]
    assemble_cog(stages, tmp_path / "reference.tif")
    real = os.preadv
    monkeypatch.setattr(tile_cog.os, "preadv", lambda descriptor, views, offset: real(
        descriptor, [view[:4096] for view in views], offset))
    assemble_cog(stages, tmp_path / "out.tif")
    assert (tmp_path / "out.tif").read_bytes() == (tmp_path / "reference.tif").read_bytes()


def test_a_stage_that_ends_inside_a_block_fails_rather_than_make_a_corrupt_cog(tmp_path):
    path = stage(tmp_path / "full.tif", RNG.integers(0, 256, (4, 256, 256), dtype=np.uint8))
    _, offsets, sizes = tile_cog.read_ifd(path)
    with open(path, "r+b") as f:
        f.truncate(offsets[-1] + sizes[-1] - 1)  # the last block's last byte gone
    with open(tmp_path / "out.tif", "wb") as out, pytest.raises(OSError, match="ends inside a block"):
        tile_cog._copy_blocks(path, list(range(len(sizes))), offsets, sizes, out)


def write_png(path: Path, rgba: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    memory = gdal.GetDriverByName("MEM").Create("", 256, 256, 4, gdal.GDT_Byte)
    memory.WriteArray(rgba)
    gdal.GetDriverByName("PNG").CreateCopy(str(path), memory)


def test_a_cog_of_imagery_is_assembled_from_its_blocks_with_no_copy_by_gdal(tmp_path, monkeypatch):
    """3 × 3 tiles, one missing on the server, one half transparent: pixels exact, overviews averaged."""
    first = Tile(8500, 5800, 14)
    tiles = {}
    for dy in range(3):
        for dx in range(3):
            if (dx, dy) == (1, 2):
                continue  # 404: no tile there
            rgba = RNG.integers(0, 256, (4, 256, 256), dtype=np.uint8)
            rgba[3] = 255
            if (dx, dy) == (2, 0):
                rgba[:, :, 128:] = 0  # half transparent
            tile = Tile(first.x + dx, first.y + dy, first.z)
            write_png(tmp_path / "served" / str(tile.z) / str(tile.x) / f"{tile.y}.png", rgba)
            tiles[dx, dy] = rgba

    def no_copy(*_args, **_kwargs):
        raise AssertionError("a COG of imagery is assembled, not copied by GDAL's COG driver")

    monkeypatch.setattr(gdal, "Translate", no_copy)
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + 2, first.y + 2, first.z))
    output = tmp_path / "out.tif"
    with TileServer(str(tmp_path / "served")) as server:
        plan = validate_tile_request(TileRequest(server.template, (x_min + 1, y_min + 1, x_max - 1, y_max - 1), 14,
                                                 output, bbox_crs="EPSG:3857", cache_dir=tmp_path / "cache",
                                                 format="COG", workers=4))
        result = run_tiles(plan, output, Control())
    assert (result.fetched, result.missing) == (8, 1)
    assert cog_errors(output) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out.tif", "served"]  # no stage left
    expected = np.zeros((4, 768, 768), np.uint8)
    for (dx, dy), rgba in tiles.items():
        expected[:, dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256] = decode_image(
            (tmp_path / "served" / "14" / str(first.x + dx) / f"{first.y + dy}.png").read_bytes())
    dataset = gdal.Open(str(output))
    np.testing.assert_array_equal(dataset.ReadAsArray(), expected)
    bands = [dataset.GetRasterBand(b) for b in range(1, 5)]
    assert [bands[0].GetOverview(i).XSize for i in range(bands[0].GetOverviewCount())] == [384, 192]
    level1 = np.stack([b.GetOverview(0).ReadAsArray() for b in bands])
    np.testing.assert_array_equal(level1, average_2x2(expected))
    np.testing.assert_array_equal(np.stack([b.GetOverview(1).ReadAsArray() for b in bands]), average_2x2(level1))


def test_a_canceled_cog_leaves_no_stage_and_no_output(tmp_path):
    from offload.core.errors import Canceled

    reports = []

    def cancel_after_a_few(fraction, status=None):
        reports.append(fraction)

    def check_canceled():
        if len(reports) >= 5:
            raise Canceled("canceled")

    output = tmp_path / "out" / "cog.tif"
    output.parent.mkdir()
    first = Tile(8500, 5800, 14)
    x_min, _, _, y_max = tile_bounds(first)
    _, y_min, x_max, _ = tile_bounds(Tile(first.x + 5, first.y + 5, first.z))
    with TileServer("imagery") as server:
        plan = validate_tile_request(TileRequest(server.template, (x_min + 1, y_min + 1, x_max - 1, y_max - 1), 14,
                                                 output, bbox_crs="EPSG:3857", cache_dir=tmp_path / "cache",
                                                 format="COG", workers=2))
        with pytest.raises(Canceled):
            run_tiles(plan, output, Control(cancel_after_a_few, check_canceled))
    assert list(output.parent.iterdir()) == []  # neither the stages nor a partial COG


def test_qgis_reads_an_assembled_cog_at_full_resolution_and_from_its_overview(qgis_app, tmp_path):
    from qgis.core import QgsRasterLayer

    full = RNG.integers(0, 256, (4, 512, 512), dtype=np.uint8)
    full[3] = 255
    overview = average_2x2(full)
    stages = [stage(tmp_path / "full.tif", full), stage(tmp_path / "ovr.tif", overview, georeferenced=False)]
    output = tmp_path / "out.tif"
    assemble_cog(stages, output)
    layer = QgsRasterLayer(str(output), "cog", "gdal")
    assert layer.isValid()
    provider = layer.dataProvider()
    for bands, size in ((full, 512), (overview, 256)):  # a block of 256² over the whole extent: the overview's pixels
        for band in (1, 4):
            block = provider.block(band, layer.extent(), size, size)
            np.testing.assert_array_equal(np.frombuffer(bytes(block.data()), np.uint8).reshape(size, size),
                                          bands[band - 1])
