"""``raster_tasks/blocks.py``: windows cover a raster exactly once, follow the block grid, stay
bounded; halos pad right."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from offload.raster_tasks.blocks import Window, plan_windows, window_shape, with_halo


@settings(max_examples=200, deadline=None)
@given(width=st.integers(1, 3000), height=st.integers(1, 3000), block_w=st.integers(1, 512),
       block_h=st.integers(1, 512), max_pixels=st.integers(1, 1 << 20))
def test_windows_cover_the_raster_exactly_once(width, height, block_w, block_h, max_pixels):
    hits = np.zeros((height, width), np.uint8)
    windows = plan_windows(width, height, block_w, block_h, max_pixels)
    for window in windows:
        hits[window.slices()] += 1
    assert (hits == 1).all()
    win_w, win_h = window_shape(width, height, block_w, block_h, max_pixels)
    bw, bh = min(block_w, width), min(block_h, height)
    assert win_w == width or win_w % bw == 0, "windows are whole blocks wide"
    assert win_h == height or win_h % bh == 0, "windows are whole blocks high"
    assert win_w * win_h <= max(max_pixels, bw * bh), "memory is bounded (at least one block)"


def test_wide_rasters_get_strips_of_whole_blocks():
    assert window_shape(8192, 8192, 256, 256, 1 << 20) == (4096, 256)
    assert window_shape(1000, 8192, 256, 256, 1 << 20) == (1000, 1024)


@given(col=st.integers(0, 99), row=st.integers(0, 79), w=st.integers(1, 40), h=st.integers(1, 40),
       halo=st.integers(0, 5))
def test_halo_reads_stay_inside_and_padding_makes_up_the_rest(col, row, w, h, halo):
    width, height = 100, 80
    w, h = min(w, width - col), min(h, height - row)
    read = with_halo(Window(col, row, w, h), halo, width, height)
    assert 0 <= read.read.col_off and read.read.col_off + read.read.width <= width
    assert 0 <= read.read.row_off and read.read.row_off + read.read.height <= height
    assert read.read.width + read.pad_left + read.pad_right == w + 2 * halo
    assert read.read.height + read.pad_top + read.pad_bottom == h + 2 * halo
