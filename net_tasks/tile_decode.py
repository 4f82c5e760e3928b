"""What a tile body holds: checked from its header, then decoded to pixels or heights.

``tile_problem`` reads only the image header (a 100 KB PNG can declare 30000² pixels, which
decoded would take gigabytes); ``decode_image`` gives RGBA pixels through GDAL, which
releases the GIL while it inflates, so worker threads decode on every core;
``decode_elevation`` turns Terrarium or Terrain-RGB pixels into heights.
"""
from __future__ import annotations

import uuid
from typing import Optional

import numpy as np
from osgeo import gdal

from .image_size import image_size
from .request import TILE_SIZES  # a tile is 256² or 512²: nothing larger is ever decoded
from .tiles import TILE_PX

MAX_DECODED_PX = max(TILE_SIZES)
DEM_NODATA = -32768.0  # a height tile's transparent pixels, and a DEM mosaic's unwritten blocks


def tile_problem(body: bytes, content_type: str = "", tile_px: int = TILE_PX) -> str:
    """Why ``body`` is no tile for the mosaic, read from its header before decoding ("" if none).

    A tile is ``tile_px``² (256² or 512²).
    """
    size = image_size(body)
    if size is None:
        what = f"{content_type.split(';')[0].strip()}, " if content_type else ""
        return f"not an image ({what}{len(body)} bytes)"
    if size != (tile_px, tile_px):
        other = size[0] if size[0] == size[1] and size[0] in TILE_SIZES else None
        hint = f" (--tile-size {other} takes them)" if other else ""
        return f"a {size[0]}×{size[1]} image, not a {tile_px}×{tile_px} tile{hint}"
    return ""


def decode_image(body: bytes, max_px: int = MAX_DECODED_PX) -> Optional[np.ndarray]:
    """A tile image (PNG, JPEG, WebP: palette, grey, RGB or RGBA) as RGBA (4, rows, cols) uint8.

    None for a body GDAL cannot read, or whose size passes ``max_px`` on either side (checked
    before any pixel is decoded).
    """
    name = f"/vsimem/offload-tile-{uuid.uuid4().hex}"
    gdal.FileFromMemBuffer(name, body)
    try:
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        dataset = gdal.Open(name)
        gdal.PopErrorHandler()
        if dataset is None or max(dataset.RasterXSize, dataset.RasterYSize) > max_px:
            return None
        bands = dataset.RasterCount
        first = dataset.GetRasterBand(1)
        if bands in (3, 4) and first.DataType == gdal.GDT_Byte:  # RGB(A): read straight into the RGBA array
            rgba = np.empty((4, dataset.RasterYSize, dataset.RasterXSize), np.uint8)
            if dataset.ReadAsArray(buf_obj=rgba[:bands]) is None:
                return None
            if bands == 3:
                rgba[3] = 255
            return rgba
        table = first.GetColorTable()
        values = dataset.ReadAsArray()
        if values is None:
            return None
        if bands == 1 and table is not None:
            lookup = np.array([table.GetColorEntry(i) for i in range(table.GetCount())], np.uint8).reshape(-1, 4)
            return np.moveaxis(lookup[values], -1, 0)
        if bands == 1:
            return np.stack([values, values, values, np.full_like(values, 255)])
        if bands == 2:  # grey + alpha
            return np.stack([values[0], values[0], values[0], values[1]])
        if bands == 3:
            return np.concatenate([values, np.full_like(values[:1], 255)])
        return values[:4].astype(np.uint8)
    finally:
        gdal.Unlink(name)


def decode_elevation(rgba: np.ndarray, encoding: str) -> np.ndarray:
    """Heights (m) from an elevation tile; transparent pixels are nodata."""
    red, green, blue = (rgba[i].astype(np.float64) for i in range(3))
    if encoding == "terrarium":
        heights = red * 256.0 + green + blue / 256.0 - 32768.0
    else:  # terrain-rgb (Mapbox, MapTiler)
        heights = -10000.0 + (red * 65536.0 + green * 256.0 + blue) * 0.1
    heights[rgba[3] == 0] = DEM_NODATA
    return heights.astype(np.float32)
