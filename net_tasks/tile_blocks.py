"""A mosaic's blocks, each written once and whole, from the tiles that cover it.

When the mosaic's extent is not aligned to the tile grid (``--clip``), a tile covers parts of
up to four of the file's 256² blocks. Written piece by piece, GDAL compressed a block at each
piece and appended it again at the next, leaving the old copy as dead space (a clipped mosaic
took ~2-3× the bytes of a compact copy). Here each piece waits in memory until every tile its
block needs has come (or was empty), then the block is written once. A mosaic on the tile grid
(no clip) has each block inside one tile, written straight from it. Pure numpy.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import numpy as np

BLOCK = 256  # the mosaic's block size
# Pieces waiting for their block's other tiles: tiles come row by row, so about one row of blocks
# waits (a mosaic 128 tiles wide: 32 MB of RGBA). Past this, the oldest block is written as it is
# and its later pieces go straight to the file, as every piece did before (that block is bloated).
# So a clipped mosaic wider than about 256 tiles of 256 px (128 of 512 px) has most blocks along
# its tile rows' seams written in pieces: its file is larger (1.75× a compact copy at 300 tiles wide).
PENDING_BYTES = 64 * 1024 * 1024

Write = Callable[[np.ndarray, int, int], None]  # (bands, rows, cols) pixels, column, row in the mosaic


class WholeBlocks:
    """Tiles in, whole blocks out, for a mosaic of ``width`` × ``height`` pixels whose top-left pixel is
    pixel (``col_off``, ``row_off``) of the tile grid (tiles of ``tile_px``² numbered from 0).

    ``write(pixels, col, row)`` stores pixels in the mosaic. A block's pixels that no tile gave are
    ``fill`` (what GDAL reads in a block never written), and a block no tile gave pixels to is never
    written (sparse, as before). ``close()`` writes the blocks still waiting for a tile that failed.
    """

    def __init__(self, width: int, height: int, col_off: int, row_off: int, tile_px: int, bands: int,
                 dtype: np.dtype, fill: float, write: Write, pending_bytes: int = PENDING_BYTES) -> None:
        self.width, self.height = width, height
        self.col_off, self.row_off, self.tile_px = col_off, row_off, tile_px
        self.bands, self.dtype, self.fill = bands, np.dtype(dtype), fill
        self.write = write
        self.most_pending = max(1, pending_bytes // (bands * BLOCK * BLOCK * self.dtype.itemsize))
        # block -> [pixels (None until a tile gave some), tiles still to come]; oldest first
        self.pending: Dict[Tuple[int, int], list] = {}
        # blocks written before they were whole -> tiles still to come: their pieces go straight in
        self.spilled: Dict[Tuple[int, int], int] = {}

    def add(self, tile_col: int, tile_row: int, pixels: Optional[np.ndarray]) -> None:
        """Tile (``tile_col``, ``tile_row``) of the range came: ``pixels`` (bands, tile_px, tile_px), or None if empty."""
        left, top = tile_col * self.tile_px - self.col_off, tile_row * self.tile_px - self.row_off
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(self.width, left + self.tile_px), min(self.height, top + self.tile_px)
        if x0 >= x1 or y0 >= y1:
            return  # outside the clipped mosaic
        for by in range(y0 // BLOCK, (y1 - 1) // BLOCK + 1):
            for bx in range(x0 // BLOCK, (x1 - 1) // BLOCK + 1):
                bc0, br0 = bx * BLOCK, by * BLOCK
                bc1, br1 = min(bc0 + BLOCK, self.width), min(br0 + BLOCK, self.height)
                c0, r0, c1, r1 = max(x0, bc0), max(y0, br0), min(x1, bc1), min(y1, br1)  # this tile's piece
                piece = None if pixels is None else pixels[:, r0 - top:r1 - top, c0 - left:c1 - left]
                if (c0, r0, c1, r1) == (bc0, br0, bc1, br1):  # the whole block from one tile
                    if piece is not None:
                        self.write(piece, c0, r0)
                    continue
                if (bx, by) in self.spilled:  # a late piece of a block written before it was whole
                    if piece is not None:
                        self.write(piece, c0, r0)
                    self.spilled[bx, by] -= 1
                    if self.spilled[bx, by] == 0:
                        del self.spilled[bx, by]
                    continue
                entry = self.pending.get((bx, by))
                if entry is None:
                    entry = self.pending[bx, by] = [None, self._tiles_of(bc0, br0, bc1, br1)]
                if piece is not None:
                    if entry[0] is None:
                        entry[0] = np.full((self.bands, br1 - br0, bc1 - bc0), self.fill, self.dtype)
                    entry[0][:, r0 - br0:r1 - br0, c0 - bc0:c1 - bc0] = piece
                entry[1] -= 1
                if entry[1] == 0:
                    self._finish((bx, by))
        while len(self.pending) > self.most_pending:
            oldest = next(iter(self.pending))
            self.spilled[oldest] = self._finish(oldest)

    def _tiles_of(self, c0: int, r0: int, c1: int, r1: int) -> int:
        """How many tiles cover mosaic pixels c0..c1 × r0..r1 (ends excluded)."""
        cols = (self.col_off + c1 - 1) // self.tile_px - (self.col_off + c0) // self.tile_px + 1
        rows = (self.row_off + r1 - 1) // self.tile_px - (self.row_off + r0) // self.tile_px + 1
        return cols * rows

    def _finish(self, block: Tuple[int, int]) -> int:
        """Write a waiting block as it is; returns how many of its tiles are still to come."""
        pixels, to_come = self.pending.pop(block)
        if pixels is not None:
            self.write(pixels, block[0] * BLOCK, block[1] * BLOCK)
        return to_come

    def close(self) -> None:
        """Write every block still waiting (a tile that failed, allowed missing: its part stays ``fill``)."""
        while self.pending:
            self._finish(next(iter(self.pending)))
