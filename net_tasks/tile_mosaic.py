"""The mosaic sink: tiles decoded by the workers, written into one GeoTIFF (or a COG) on the tile grid.

A thread of its own (``core.ordered_writer``) writes and so compresses the tiles, so the
scheduling thread only keeps every worker busy; the queue is short, so memory stays flat. What
can be done per tile (a DEM's heights, a COG tile's 2×2 average) is done by the decoding threads
(``decode()``), on every core: the one writing thread is what a COG at 16 workers waited for.
Each block of the file is written once, whole (``tile_blocks``: a clipped mosaic's blocks take
pieces of up to 4 tiles).
A zoom range makes overviews, built from the finest zoom. A COG of imagery is built while the
tiles arrive and assembled from the blocks GDAL compressed (``tile_cog``); a DEM, a clipped
COG or one of 512-pixel tiles is staged as a GeoTIFF beside the destination, then copied by GDAL's COG driver.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
from osgeo import gdal, osr

from ..core.control import Control, gdal_callback
from ..core.errors import TaskFailed
from ..core.gdal_cache import block_cache
from ..core.gdal_config import on_this_thread
from ..core.gdal_errors import gdal_errors_raised
from ..core.ordered_writer import OrderedWriter
from .tile_blocks import WholeBlocks
from .tile_cog import BLOCK, Overviews, assemble_cog, average_2x2, overview_sizes
from .tile_decode import DEM_NODATA, decode_elevation, decode_image
from .tiles import Tile, range_bounds

Pixels = Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]  # what decode() gives and write() takes

# The mosaic's codec: ZSTD level 1, each band in blocks of its own, no predictor. With the write into
# the file, a 256² RGBA tile of noisy PNG imagery takes 0.53 ms (12% of uncompressed) and one of
# JPEG photos 0.33 ms (55%). Pixel-interleaved with the horizontal predictor (the former choice)
# took 1.04 / 0.83 ms for 12% / 66%: the predictor gains nothing on noisy imagery, and one band's
# block compresses better than four interleaved. DEFLATE 3 took 7× as long for the same size.
MOSAIC_CODEC = ("COMPRESS=ZSTD", "ZSTD_LEVEL=1")
MOSAIC_LAYOUT = ("INTERLEAVE=BAND", "PREDICTOR=1")  # imagery; a DEM's one band takes PREDICTOR=3
COG_CODEC = ("COMPRESS=ZSTD", "LEVEL=1")  # the COG driver's spelling
# An assembled COG's blocks: the mosaic's codec and layout, each band in blocks of its own, which
# tile_cog places side by side (GDAL 3.11's INTERLEAVE=TILE: one read per block over HTTP with
# GDAL >= 3.11, one per band before; README says the trade). Against GDAL's COG driver's
# (pixel-interleaved, PREDICTOR=2), 256² RGBA blocks were compressed in 0.56 / 0.36 ms (noisy
# PNG / JPEG) instead of 1.03 / 1.04 ms, for 11.6% / 55.4% of uncompressed instead of 11.6% / 65.9%.
COG_BLOCKS = ("TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", *MOSAIC_CODEC, *MOSAIC_LAYOUT, "PHOTOMETRIC=RGB",
              "ALPHA=YES", "BIGTIFF=IF_SAFER", "SPARSE_OK=TRUE")
# GDAL's block cache while overviews are built and while a COG is copied. Both pass the whole
# mosaic through the cache, which GDAL sizes at 5% of RAM (1.2 GB on a 24 GB machine): a COG of
# 16,384 tiles peaked at 1.6 GB added. Measured on a 32768² RGBA mosaic: overviews take as long
# with 16 MB as with 64 MB (43 s; 66 MB added instead of 130 MB); the COG copy needs 64 MB
# (a 16384² copy took 17 s, and 26 s with 32 MB).
OVERVIEW_CACHE_BYTES = 16 * 1024 * 1024
COG_COPY_CACHE_BYTES = 64 * 1024 * 1024


class MosaicSink:
    """The output GeoTIFF on the tile grid (or clipped to the bbox), written tile by tile.

    ``plan`` is the engine's ``TilePlan``. Overviews (a zoom range) are GDAL's averaging, one
    per coarser level. A COG's stage is named from ``destination``, so a dead run's stage is
    swept like its other leftovers.
    """

    def __init__(self, plan, destination: Path, control: Control) -> None:
        self.plan = plan
        self.destination = destination
        self.control = control
        self.stage = destination.with_name(destination.stem + ".stage.tif") if plan.format == "COG" else None
        x_min, y_min, x_max, y_max = range_bounds(plan.tiles)
        self.tile_px = plan.tile_px
        self.pixel_m = (x_max - x_min) / (plan.tiles.width * self.tile_px)
        self.col_off = self.row_off = 0
        width, height = plan.tiles.width * self.tile_px, plan.tiles.height * self.tile_px
        if plan.clip:  # whole pixels of the tile grid that touch the bbox
            bx_min, by_min, bx_max, by_max = plan.bounds_m
            self.col_off = max(0, int((bx_min - x_min) // self.pixel_m))
            self.row_off = max(0, int((y_max - by_max) // self.pixel_m))
            width = min(width, int(np.ceil((bx_max - x_min) / self.pixel_m))) - self.col_off
            height = min(height, int(np.ceil((y_max - by_min) / self.pixel_m))) - self.row_off
        self.width, self.height = width, height
        self.dem = plan.decode != "none"
        # A COG of whole 256² tiles (a tile, a block) is assembled from blocks written as they come
        # (tile_cog); else GDAL copies it
        self.assembled = plan.format == "COG" and not self.dem and not plan.clip and self.tile_px == BLOCK
        self.overviews: Optional[Overviews] = None
        self.writing_threads = 1  # threads of this sink that compress: the tiles', and an assembled COG's overviews'
        self.blocks: Optional[WholeBlocks] = None
        self.overview_stages: list = []
        # SPARSE_OK: a tile never written (ocean, missing, or the rest after a cancel) costs nothing,
        # and reads as nodata / transparent; without it, closing writes every empty block.
        options = list(COG_BLOCKS) if self.assembled else [
            "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", *MOSAIC_CODEC, "BIGTIFF=IF_SAFER", "SPARSE_OK=TRUE",
            *self._layout()]
        self.dataset = gdal.GetDriverByName("GTiff").Create(
            str(self.stage or destination), width, height, 1 if self.dem else 4, gdal.GDT_Float32 if self.dem else gdal.GDT_Byte,
            options)
        if self.dataset is None:
            raise TaskFailed(f"GDAL could not create {destination}")
        self.dataset.SetGeoTransform((x_min + self.col_off * self.pixel_m, self.pixel_m, 0.0,
                                      y_max - self.row_off * self.pixel_m, 0.0, -self.pixel_m))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(3857)
        self.dataset.SetProjection(srs.ExportToWkt())
        if self.dem:
            band = self.dataset.GetRasterBand(1)
            band.SetNoDataValue(DEM_NODATA)  # what the blocks never written read as
        else:
            for index, colour in enumerate((gdal.GCI_RedBand, gdal.GCI_GreenBand, gdal.GCI_BlueBand, gdal.GCI_AlphaBand), 1):
                self.dataset.GetRasterBand(index).SetColorInterpretation(colour)
        if self.assembled:
            levels = len(plan.zooms) - 1
            sizes = overview_sizes(width, height, levels or None)  # one zoom: GDAL's COG default, down to a block
            for level, (level_width, level_height) in enumerate(sizes, 1):
                path = destination.with_name(f"{destination.stem}.stage{level}.tif")
                self.overview_stages.append((path, gdal.GetDriverByName("GTiff").Create(
                    str(path), level_width, level_height, 4, gdal.GDT_Byte, list(COG_BLOCKS))))
                if self.overview_stages[-1][1] is None:
                    raise TaskFailed(f"GDAL could not create {path}")
            # Each tile comes averaged by a decoding thread (decode()): the writing thread places it in its
            # overview block, and a thread of its own compresses the finished blocks (a third as many)
            self._overview_writer = OrderedWriter(_gdal_checked(lambda block: self._write_overview(*block)),
                                                  capacity=8, name="offload-overviews")
            self.overviews = Overviews((plan.tiles.width, plan.tiles.height), sizes,
                                       lambda *block: self._overview_writer.put(block))
            self.writing_threads = 2
        else:  # each block written once, whole (a clipped mosaic's blocks take pieces of up to 4 tiles)
            self.blocks = WholeBlocks(width, height, self.col_off, self.row_off, self.tile_px, 1 if self.dem else 4,
                                      np.float32 if self.dem else np.uint8, DEM_NODATA if self.dem else 0,
                                      self._write_pixels)
        # bounded: memory stays flat; the writer's failure reaches the scheduler at its next write()
        self._writer = OrderedWriter(_gdal_checked(lambda item: self._write_now(*item)),
                                     capacity=2 * plan.workers, name="offload-mosaic")

    def _layout(self) -> tuple:
        """Imagery: MOSAIC_LAYOUT. A DEM: the floating-point predictor, unless it is a COG's stage (read
        once more: undoing the predictor cost the copy ~1 ms a tile; the COG itself gets one)."""
        if not self.dem:
            return MOSAIC_LAYOUT
        return ("PREDICTOR=1",) if self.stage is not None else ("PREDICTOR=3",)

    def held(self) -> set:
        """Tiles already written (none: a mosaic is always made anew)."""
        return set()

    def decode(self, body: bytes) -> Optional[Pixels]:
        """A tile's body as ``write()`` takes it (None if it does not decode), on a decoding thread: what can
        be done per tile is done here, on every core, not on the one writing thread. Imagery: its RGBA
        pixels (an assembled COG's: with their 2×2 average, the tile's quarter of the first overview);
        a DEM: its heights."""
        rgba = decode_image(body)
        return None if rgba is None else self.prepare(rgba)

    def prepare(self, rgba: np.ndarray) -> Pixels:
        """Decoded RGBA pixels as ``write()`` takes them (see ``decode()``)."""
        if self.dem:
            return decode_elevation(rgba, self.plan.decode)[None]
        return (rgba, average_2x2(rgba)) if self.overviews is not None else rgba

    def write(self, tile: Tile, pixels: Optional[Pixels]) -> None:
        """Queue a tile (``decode()``'s) for the writing thread (raises what that thread met, if anything).

        An empty tile (None) is queued too: the blocks it shares with other tiles, or an assembled
        COG's overviews, count it."""
        self._writer.put((tile, pixels))

    def _write_now(self, tile: Tile, pixels: Optional[Pixels]) -> None:
        col, row = tile.x - self.plan.tiles.x_min, tile.y - self.plan.tiles.y_min
        if self.overviews is None:
            self.blocks.add(col, row, pixels)
            _flush_blocks(self.dataset)  # the blocks just made whole: each compressed once, and out of the cache
            return
        rgba, half = pixels if pixels is not None else (None, None)
        if rgba is not None:
            self.dataset.WriteArray(rgba, col * self.tile_px, row * self.tile_px)
            _flush_blocks(self.dataset)
        self.overviews.add_averaged(0, col, row, half)

    def _write_pixels(self, pixels: np.ndarray, col: int, row: int) -> None:
        if self.dem:
            self.dataset.GetRasterBand(1).WriteArray(pixels[0], col, row)
        else:  # all bands at once
            self.dataset.WriteArray(pixels, col, row)

    def _write_overview(self, level: int, col: int, row: int, rgba: np.ndarray) -> None:
        _, dataset = self.overview_stages[level - 1]
        width, height = min(BLOCK, dataset.RasterXSize - col * BLOCK), min(BLOCK, dataset.RasterYSize - row * BLOCK)
        dataset.WriteArray(rgba[:, :height, :width], col * BLOCK, row * BLOCK)
        _flush_blocks(dataset)

    def close(self) -> None:
        self._writer.close()
        if self.overviews is not None:
            self.overviews.close()  # blocks still waiting for a tile that failed (--allow-missing)
            self._overview_writer.close()
            stages = [self.stage] + [path for path, _ in self.overview_stages]
            self.dataset = None
            self.overview_stages = [(path, None) for path in stages[1:]]  # closed: GDAL writes their IFDs
            self.control.check_canceled()
            assemble_cog(stages, self.destination)
            for path in stages:
                path.unlink()
            self.overview_stages = []
            return
        self.blocks.close()  # blocks still waiting for a tile that failed (--allow-missing)
        _flush_blocks(self.dataset)
        dataset, self.dataset = self.dataset, None
        levels = [2 ** i for i in range(1, len(self.plan.zooms))]
        if levels and self.stage is None:  # a COG makes its own, from the same counts
            with on_this_thread("COMPRESS_OVERVIEW", "ZSTD"), block_cache(at_most=OVERVIEW_CACHE_BYTES):
                dataset.BuildOverviews("AVERAGE", levels, callback=gdal_callback(self.control.within(0.9, 0.1)))
        dataset.FlushCache()
        dataset = None
        if self.stage is not None:
            overviews = [f"OVERVIEW_COUNT={len(levels)}"] if levels else []  # else GDAL's AUTO: down to one block
            with block_cache(at_most=COG_COPY_CACHE_BYTES):
                copied = gdal.Translate(str(self.destination), str(self.stage), format="COG", creationOptions=[
                    *COG_CODEC, "PREDICTOR=YES", "BLOCKSIZE=256", "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS",
                    "OVERVIEW_RESAMPLING=AVERAGE", *overviews], callback=gdal_callback(self.control.within(0.9, 0.1)))
            if copied is None:
                self.control.check_canceled()
                raise TaskFailed(f"GDAL could not write the COG {self.destination}")
            copied = None
            self.stage.unlink()

    def abandon(self) -> None:
        self._writer.abandon()  # canceled or failed: what is still queued is not worth writing
        if self.overviews is not None:
            self._overview_writer.abandon()
        self.dataset = None
        paths = [path for path, _ in self.overview_stages]
        self.overview_stages = []  # their datasets closed before their files go
        for path in paths:
            path.unlink(missing_ok=True)
        if self.stage is not None:
            self.stage.unlink(missing_ok=True)


def _gdal_checked(write):
    """``write`` raising GDAL's failures on its thread (``TaskFailed``). GDAL's error handlers are per
    thread, so the task's sees none of a writing thread's, and a band's WriteArray into the cache and
    FlushCache (GDAL 3.6) report no error: a full disk went unnoticed until the file's close."""
    def checked(item) -> None:
        with gdal_errors_raised():
            write(item)
    return checked


def _flush_blocks(dataset) -> None:
    """Compress the blocks just written into the file, and drop them from GDAL's cache.

    Band by band: the dataset's FlushCache() also rewrites the file's block index each time (all its
    offsets and sizes), which doubled the bytes a mosaic of 1,024 tiles wrote (65 MB for 31 MB of blocks),
    and for 16,384 tiles wrote 0.5 MB more per tile."""
    for index in range(1, dataset.RasterCount + 1):
        dataset.GetRasterBand(index).FlushCache()
