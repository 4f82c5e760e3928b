"""Uncompressed GeoTIFF inputs are read straight from the file (GDAL's ``GTIFF_DIRECT_IO``), not
through GDAL's block cache: every layout still gives the pixels GDAL's own reads give, and a
compressed input still goes through the cache (GDAL must decompress whole blocks)."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from offload.raster_tasks.blocks import Window, with_halo
from offload.raster_tasks.calc_task import RasterCalcTask
from offload.raster_tasks.gdal_io import Readers, describe
from offload.raster_tasks.request import CalcRequest, parse_input
from qgis_helpers import read_raster, run_to_end

SHAPE = (700, 1000)  # rows, cols: partial edge blocks every way

LAYOUTS = {  # name: (GDAL type, bands, creation options)
    "tiles of 64×32": (gdal.GDT_Int16, 1, ["TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=32"]),
    "strips": (gdal.GDT_UInt16, 1, []),
    "one strip": (gdal.GDT_Float64, 1, ["BLOCKYSIZE=700"]),
    "big-endian tiles": (gdal.GDT_Float32, 1, ["TILED=YES", "ENDIANNESS=BIG"]),
    "big-endian strips": (gdal.GDT_Int32, 1, ["ENDIANNESS=BIG"]),
    "band 2 of 3, pixel-interleaved tiles": (gdal.GDT_Byte, 3, ["TILED=YES", "INTERLEAVE=PIXEL"]),
    "band 2 of 4, pixel-interleaved strips": (gdal.GDT_UInt16, 4, ["INTERLEAVE=PIXEL"]),
    "12 bits a pixel": (gdal.GDT_UInt16, 1, ["TILED=YES", "NBITS=12"]),
    "half floats": (gdal.GDT_Float32, 1, ["TILED=YES", "NBITS=16"]),
    "sparse tiles": (gdal.GDT_Float32, 1, ["TILED=YES", "SPARSE_OK=TRUE"]),
}


def write_layout(path, gdal_type, bands, options):
    rng = np.random.default_rng(5)
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), SHAPE[1], SHAPE[0], bands, gdal_type, options)
    dataset.SetGeoTransform((0.0, 10.0, 0.0, 7000.0, 0.0, -10.0))
    for index in range(1, bands + 1):
        band = dataset.GetRasterBand(index)
        if "SPARSE_OK=TRUE" in options:  # most blocks never written: GDAL reads them as 0
            band.WriteArray((rng.random((100, 300)) * 100).astype(np.float32), 300, 250)
        else:
            band.WriteArray(np.round(rng.random(SHAPE) * 4000))
    dataset = None
    return path


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_uncompressed_layout_gives_gdals_own_pixels(tmp_path, layout, monkeypatch):
    gdal_type, bands, options = LAYOUTS[layout]
    path = write_layout(tmp_path / "in.tif", gdal_type, bands, options)
    band_index = 2 if bands > 1 else 1
    monkeypatch.setattr("offload.raster_tasks.calc.MAX_WINDOW_PIXELS", 300 * 200)  # windows across blocks
    monkeypatch.setattr("offload.raster_tasks.calc.POOL_WORTH_SECONDS", 0.0)
    output = tmp_path / "out.tif"
    request = CalcRequest(("A",), (parse_input(f"A={path}@{band_index}"),), output, output_type="Float64")
    task = RasterCalcTask(request)
    assert run_to_end(task, 60) is True, task.error
    dataset = gdal.Open(str(path))  # keep it: a band does not keep its dataset alive
    expected = dataset.GetRasterBand(band_index).ReadAsArray().astype(np.float64)
    values, _ = read_raster(output)
    np.testing.assert_array_equal(values, expected)


@pytest.mark.parametrize("compress, cached", [("NONE", False), ("DEFLATE", True)])
def test_only_compressed_inputs_go_through_gdals_block_cache(tmp_path, compress, cached):
    path = write_layout(tmp_path / "in.tif", gdal.GDT_Float32, 1,
                        ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", f"COMPRESS={compress}"])
    readers = Readers([describe("A", str(path), 1)], overlapping=True)  # keeps blocks between reads
    before = gdal.GetCacheUsed()
    values, _ = readers.read("A", with_halo(Window(0, 0, 512, 512), 0, SHAPE[1], SHAPE[0]))
    held = gdal.GetCacheUsed() - before
    assert (held >= 4 * 256 * 256 * 4) is cached, held  # the four blocks the window spans
    dataset = gdal.Open(str(path))
    np.testing.assert_array_equal(values, dataset.GetRasterBand(1).ReadAsArray(0, 0, 512, 512))


def test_a_block_stored_without_bytes_reads_as_gdals_normal_reads_do(tmp_path):
    """GDAL 3.6's direct reads look at a block's offset only; such a file goes through the cache."""
    import struct

    path = tmp_path / "zero-bytes.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 64, 64, 1, gdal.GDT_Int16,
                                                   ["SPARSE_OK=TRUE", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"])
    dataset.GetRasterBand(1).SetNoDataValue(-1)
    dataset.GetRasterBand(1).WriteArray(np.full((16, 16), 7, np.int16), 16, 16)  # tile 5 only
    dataset = None
    data = bytearray(path.read_bytes())  # tile 0: tile 5's offset, its byte count left at 0
    directory = struct.unpack_from("<I", data, 4)[0]
    tags = {}
    for index in range(struct.unpack_from("<H", data, directory)[0]):
        tag, _, count, value = struct.unpack_from("<HHII", data, directory + 2 + 12 * index)
        tags[tag] = (count, value)
    count, at = tags[324]  # TileOffsets
    offsets = list(struct.unpack_from(f"<{count}I", data, at))
    offsets[0] = offsets[5]
    struct.pack_into(f"<{count}I", data, at, *offsets)
    path.write_bytes(bytes(data))
    assert describe("A", str(path), 1).direct_reads is False
    output = tmp_path / "out.tif"
    task = RasterCalcTask(CalcRequest(("A",), (parse_input(f"A={path}"),), output))
    assert run_to_end(task, 60) is True, task.error
    values, nodata = read_raster(output)
    assert (values[:16, :16] == nodata).all() and (values[16:32, 16:32] == 7).all()


def test_a_truncated_striped_input_fails_with_gdals_reason(tmp_path):
    path = write_layout(tmp_path / "in.tif", gdal.GDT_Float32, 1, [])
    with open(path, "r+b") as stream:
        stream.truncate(path.stat().st_size // 2)
    assert describe("A", str(path), 1).direct_reads is False
    output = tmp_path / "out.tif"
    task = RasterCalcTask(CalcRequest(("A * 2",), (parse_input(f"A={path}"),), output))
    assert run_to_end(task, 60) is False
    assert "TIFFReadEncodedStrip" in task.error.one_line() and not output.exists()


def test_a_whole_uncompressed_file_is_read_directly(tmp_path):
    for layout in ("tiles of 64×32", "strips", "band 2 of 3, pixel-interleaved tiles"):
        gdal_type, bands, options = LAYOUTS[layout]
        path = write_layout(tmp_path / f"{bands}-{len(options)}.tif", gdal_type, bands, options)
        assert describe("A", str(path), 1).direct_reads is True, layout
