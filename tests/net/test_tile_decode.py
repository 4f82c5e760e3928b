"""decode_image: every kind of tile image GDAL reads, as RGBA (4, rows, cols) uint8."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from offload.net_tasks.tile_decode import decode_image

RNG = np.random.default_rng(7)


def encoded(pixels: np.ndarray, driver: str = "PNG", table=None) -> bytes:
    memory = gdal.GetDriverByName("MEM").Create("", pixels.shape[2], pixels.shape[1], pixels.shape[0], gdal.GDT_Byte)
    memory.WriteArray(pixels)
    if table is not None:
        colours = gdal.ColorTable()
        for index, entry in enumerate(table):
            colours.SetColorEntry(index, tuple(int(v) for v in entry))
        memory.GetRasterBand(1).SetColorTable(colours)
    gdal.GetDriverByName(driver).CreateCopy("/vsimem/decode-test", memory)
    try:
        return bytes(gdal.VSIGetMemFileBuffer_unsafe("/vsimem/decode-test"))
    finally:
        gdal.Unlink("/vsimem/decode-test")


def opaque(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb, np.full_like(rgb[:1], 255)])


@pytest.mark.parametrize("bands", [1, 2, 3, 4])
def test_grey_rgb_and_their_alpha_become_rgba(bands):
    pixels = RNG.integers(0, 256, (bands, 256, 256), dtype=np.uint8)
    rgba = decode_image(encoded(pixels))
    channels = {1: [0, 0, 0], 2: [0, 0, 0, 1], 3: [0, 1, 2], 4: [0, 1, 2, 3]}[bands]  # grey spread over R, G, B
    expected = opaque(pixels[channels]) if bands in (1, 3) else pixels[channels]
    assert rgba.dtype == np.uint8 and rgba.shape == (4, 256, 256)
    np.testing.assert_array_equal(rgba, expected)


def test_a_palette_tile_takes_its_colours_and_their_alpha():
    table = RNG.integers(0, 256, (16, 4), dtype=np.uint8)
    indices = RNG.integers(0, 16, (1, 256, 256), dtype=np.uint8)
    rgba = decode_image(encoded(indices, table=table))
    np.testing.assert_array_equal(rgba, np.moveaxis(table[indices[0]], -1, 0))


def test_a_jpeg_tile_is_opaque_rgb_as_gdal_decodes_it():
    body = encoded(RNG.integers(0, 256, (3, 256, 256), dtype=np.uint8), "JPEG")
    gdal.FileFromMemBuffer("/vsimem/decode-test.jpg", body)
    try:
        expected = opaque(gdal.Open("/vsimem/decode-test.jpg").ReadAsArray())
    finally:
        gdal.Unlink("/vsimem/decode-test.jpg")
    np.testing.assert_array_equal(decode_image(body), expected)


def test_what_is_no_image_or_too_large_gives_none():
    assert decode_image(b"not an image at all") is None
    assert decode_image(encoded(np.zeros((3, 600, 600), np.uint8))) is None  # past 512 on a side
