"""Windows over a raster: made of whole blocks (the caller's unit: the first input's blocks
that are also whole output tiles), bounded in memory, with halos.

Pure: stdlib only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple


@dataclass(frozen=True)
class Window:
    """A rectangle of pixels: offset and size, rasterio-style."""

    col_off: int
    row_off: int
    width: int
    height: int

    def slices(self) -> Tuple[slice, slice]:
        return slice(self.row_off, self.row_off + self.height), slice(self.col_off, self.col_off + self.width)

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class HaloRead:
    """What to read for a window with a halo, and how to pad it where the raster ends."""

    read: Window
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int


def window_shape(width: int, height: int, block_w: int, block_h: int, max_pixels: int) -> Tuple[int, int]:
    """The (width, height) of windows: whole blocks, as wide as the raster when that fits.

    Wide windows (strips) make numpy's per-call overhead small and let a second thread pay;
    ``max_pixels`` bounds the memory one window takes.
    """
    if min(width, height, block_w, block_h, max_pixels) < 1:
        raise ValueError(f"bad window request {(width, height, block_w, block_h, max_pixels)}")
    block_w, block_h = min(block_w, width), min(block_h, height)
    if width * block_h <= max_pixels:
        rows = block_h * max(1, max_pixels // (width * block_h))
        return width, min(rows, height)
    cols = block_w * max(1, max_pixels // (block_w * block_h))
    return min(cols, width), block_h


def plan_windows(width: int, height: int, block_w: int, block_h: int, max_pixels: int) -> List[Window]:
    """Windows that cover the raster exactly once, row by row."""
    win_w, win_h = window_shape(width, height, block_w, block_h, max_pixels)
    return [
        Window(col, row, min(win_w, width - col), min(win_h, height - row))
        for row in range(0, height, win_h)
        for col in range(0, width, win_w)
    ]


def with_halo(window: Window, halo: int, width: int, height: int) -> HaloRead:
    """Grow ``window`` by ``halo`` pixels each side, clipped to the raster, with the padding
    that makes up for the clipped part."""
    top = max(0, window.row_off - halo)
    left = max(0, window.col_off - halo)
    bottom = min(height, window.row_off + window.height + halo)
    right = min(width, window.col_off + window.width + halo)
    return HaloRead(
        read=Window(left, top, right - left, bottom - top),
        pad_top=halo - (window.row_off - top),
        pad_bottom=halo - (bottom - window.row_off - window.height),
        pad_left=halo - (window.col_off - left),
        pad_right=halo - (right - window.col_off - window.width),
    )
