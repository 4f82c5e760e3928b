"""A mosaic's blocks made whole from the tiles that cover them (net_tasks/tile_blocks.py): pure numpy."""
from __future__ import annotations

import random

import numpy as np
import pytest

from offload.net_tasks.tile_blocks import BLOCK, WholeBlocks

RNG = np.random.default_rng(8)


def run(tile_px: int, cols: int, rows: int, clip: tuple, pending_bytes: int, order_seed: int, empty=()):
    """Tiles of a ``cols`` × ``rows`` grid given in a shuffled order to WholeBlocks for the mosaic ``clip``
    (col_off, row_off, width, height); returns the expected pixels, the file as written, and the writes."""
    col_off, row_off, width, height = clip
    grid = RNG.integers(1, 256, (4, rows * tile_px, cols * tile_px), dtype=np.uint8)
    for dx, dy in empty:
        grid[:, dy * tile_px:(dy + 1) * tile_px, dx * tile_px:(dx + 1) * tile_px] = 0
    expected = grid[:, row_off:row_off + height, col_off:col_off + width]
    written = np.zeros_like(expected)  # a file whose blocks read 0 until written, as GDAL's do
    writes = []
    most = []

    def write(pixels, col, row):
        written[:, row:row + pixels.shape[1], col:col + pixels.shape[2]] = pixels
        writes.append((col, row, pixels.shape[1:]))

    blocks = WholeBlocks(width, height, col_off, row_off, tile_px, 4, np.uint8, 0, write, pending_bytes)
    order = [(dx, dy) for dy in range(rows) for dx in range(cols)]
    random.Random(order_seed).shuffle(order)
    for dx, dy in order:
        tile = None if (dx, dy) in empty else grid[:, dy * tile_px:(dy + 1) * tile_px, dx * tile_px:(dx + 1) * tile_px]
        blocks.add(dx, dy, tile)
        most.append(len(blocks.pending))
    blocks.close()
    return expected, written, writes, max(most), blocks


@pytest.mark.parametrize("tile_px", [256, 512])
def test_each_block_is_written_once_whole_from_the_tiles_that_cut_it(tile_px):
    clip = (37, 101, 5 * tile_px - 37 - 70, 4 * tile_px - 101 - 55)
    expected, written, writes, _, _ = run(tile_px, 5, 4, clip, 64 << 20, order_seed=1, empty={(2, 1)})
    np.testing.assert_array_equal(written, expected)
    width, height = clip[2:]
    origins = [(col, row) for col, row, _ in writes]
    assert len(origins) == len(set(origins))  # once each
    assert all(col % BLOCK == 0 and row % BLOCK == 0 for col, row in origins)  # whole blocks only
    for col, row, shape in writes:
        assert shape == (min(BLOCK, height - row), min(BLOCK, width - col))


def test_a_mosaic_on_the_tile_grid_writes_straight_from_each_tile():
    expected, written, writes, most, _ = run(512, 3, 2, (0, 0, 3 * 512, 2 * 512), 64 << 20, order_seed=2)
    np.testing.assert_array_equal(written, expected)
    assert most == 0 and len(writes) == 3 * 2 * 4  # nothing waits: a 512² tile is 4 whole blocks


def test_past_its_memory_bound_the_oldest_block_is_written_as_it_is_and_pixels_stay_exact():
    one_block = 4 * BLOCK * BLOCK
    clip = (37, 101, 12 * 256 - 37 - 70, 6 * 256 - 101 - 55)
    expected, written, writes, most, blocks = run(256, 12, 6, clip, 3 * one_block, order_seed=3, empty={(4, 4)})
    np.testing.assert_array_equal(written, expected)
    assert most <= 3  # bounded: later pieces of a spilled block go straight to the file
    assert any(col % BLOCK or row % BLOCK for col, row, _ in writes)  # such pieces were written
    assert not blocks.spilled  # and a spilled block is forgotten once its last tile came (held no longer)
