"""GDAL's block cache, resized while some work runs, then put back as it was.

The cache size is process-wide (``GDAL_CACHEMAX`` is read once, at GDAL's first use): inside
QGIS every change reaches QGIS's own raster drawing too. Overlapping holders share one restore,
and the size is worked out from all of them at each change.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

from osgeo import gdal

_lock = threading.Lock()
_holders: List[Tuple[Optional[int], Optional[int]]] = []  # (at_most, at_least) of each running holder
_before = 0
_applied = 0  # the size this module set last: a size someone else set since is theirs to keep


@contextmanager
def block_cache(at_most: Optional[int] = None, at_least: Optional[int] = None) -> Iterator[None]:
    """GDAL's block cache no larger than ``at_most`` and no smaller than ``at_least`` bytes during the
    block. Where holders disagree, the largest ``at_least`` wins: a cache too small to keep what a
    reader needs costs it a decompression per read, one too large only memory it would use anyway."""
    global _before
    holder = (at_most, at_least)
    with _lock:
        if not _holders or gdal.GetCacheMax() != _applied:  # set by someone else meanwhile: theirs
            _before = gdal.GetCacheMax()
        _holders.append(holder)
        _apply()
    try:
        yield
    finally:
        with _lock:
            _holders.remove(holder)
            if _holders:
                _apply()
            elif gdal.GetCacheMax() == _applied:
                gdal.SetCacheMax(_before)


def _apply() -> None:
    global _applied
    size = _before
    limits = [most for most, _ in _holders if most is not None]
    needs = [least for _, least in _holders if least is not None]
    if limits:
        size = min(size, *limits)
    if needs:
        size = max(size, *needs)
    gdal.SetCacheMax(size)
    _applied = gdal.GetCacheMax()
