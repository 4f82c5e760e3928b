"""GDAL's process-wide block cache, resized by overlapping runs and put back once they end."""
from __future__ import annotations

import pytest
from osgeo import gdal

from offload.core.gdal_cache import block_cache

MB = 1 << 20


@pytest.fixture
def cache_of_100_mb():
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(100 * MB)
    yield
    gdal.SetCacheMax(before)


def test_overlapping_holders_agree_and_the_last_one_out_restores_it(cache_of_100_mb):
    with block_cache(at_most=32 * MB):  # a tile mosaic's overviews
        assert gdal.GetCacheMax() == 32 * MB
        with block_cache(at_least=600 * MB):  # a calculation reading a one-strip raster: it needs its strip kept
            assert gdal.GetCacheMax() == 600 * MB
            with block_cache(at_most=16 * MB):
                assert gdal.GetCacheMax() == 600 * MB
            assert gdal.GetCacheMax() == 600 * MB
        assert gdal.GetCacheMax() == 32 * MB
    assert gdal.GetCacheMax() == 100 * MB


def test_a_holder_never_shrinks_what_it_only_needs_at_least_of(cache_of_100_mb):
    with block_cache(at_least=10 * MB):
        assert gdal.GetCacheMax() == 100 * MB
    assert gdal.GetCacheMax() == 100 * MB


def test_the_cache_is_restored_when_the_work_fails(cache_of_100_mb):
    with pytest.raises(RuntimeError):
        with block_cache(at_least=300 * MB):
            raise RuntimeError("failed")
    assert gdal.GetCacheMax() == 100 * MB


def test_holders_may_end_in_any_order(cache_of_100_mb):
    """A calculation and a tile mosaic run in tasks of their own: the first to start may end first."""
    mosaic, calculation = block_cache(at_most=32 * MB), block_cache(at_least=600 * MB)
    mosaic.__enter__()
    calculation.__enter__()
    mosaic.__exit__(None, None, None)
    assert gdal.GetCacheMax() == 600 * MB
    calculation.__exit__(None, None, None)
    assert gdal.GetCacheMax() == 100 * MB


def test_a_size_someone_else_sets_meanwhile_is_kept(cache_of_100_mb):
    with block_cache(at_most=32 * MB):
        gdal.SetCacheMax(200 * MB)  # QGIS's settings, or a user in the Python console
    assert gdal.GetCacheMax() == 200 * MB
