"""GDAL configuration options set for this thread only, during a block.

Inside QGIS a process-wide option (``gdal.SetConfigOption``) would reach QGIS's own drawing
and every other plugin; a thread-local one reaches only what this thread calls meanwhile.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from osgeo import gdal


@contextmanager
def on_this_thread(key: str, value: str) -> Iterator[None]:
    """GDAL option ``key`` is ``value`` for this thread during the block, then as it was."""
    previous = gdal.GetThreadLocalConfigOption(key, None)
    gdal.SetThreadLocalConfigOption(key, value)
    try:
        yield
    finally:
        gdal.SetThreadLocalConfigOption(key, previous)
