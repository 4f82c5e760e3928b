"""Image sizes read from headers (pure), against what GDAL's drivers write."""
from __future__ import annotations

import pytest
from osgeo import gdal

from offload.net_tasks.image_size import image_size


@pytest.mark.parametrize("driver, options", [("PNG", []), ("JPEG", []), ("WEBP", []), ("WEBP", ["LOSSLESS=YES"]),
                                             ("GIF", [])])
def test_the_declared_size_of_each_tile_format(driver, options):
    memory = gdal.GetDriverByName("MEM").Create("", 300, 200, 1 if driver == "GIF" else 3, gdal.GDT_Byte)
    name = f"/vsimem/size-test.{driver.lower()}"
    gdal.GetDriverByName(driver).CreateCopy(name, memory, options=options)
    try:
        handle = gdal.VSIFOpenL(name, "rb")
        body = gdal.VSIFReadL(1, 1 << 20, handle)
        gdal.VSIFCloseL(handle)
    finally:
        gdal.Unlink(name)
    assert image_size(bytes(body)) == (300, 200)


@pytest.mark.parametrize("body", [b"", b"<html>", b"\x89PNG\r\n\x1a\n\0\0", b"\xff\xd8\xff\xe0\0\x10JFIF",
                                  b"RIFF\0\0\0\0WEBP"])
def test_what_is_no_image_or_cut_short_has_no_size(body):
    assert image_size(body) is None
