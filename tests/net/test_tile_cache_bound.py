"""A tiles run holds its cache folder to --cache-size (cache_mb): a run that stores more ends
at or under it, keeping the most recently stored tiles, and a rerun reads those from the cache."""
from __future__ import annotations

import pytest

from offload.core.errors import InputError
from offload.demo.tile_server import TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_cache import DATABASE_NAME, TileCache
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

BBOX = (6.6, 45.7, 7.4, 46.3)
ZOOM = 12  # 110 tiles of ~25 KB: 2.7 MB, more than twice a 1 MB bound


def run(server: TileServer, tmp_path, name: str, **options) -> TileDownloadTask:
    task = TileDownloadTask(TileRequest(server.template, BBOX, ZOOM, tmp_path / name, cache_dir=tmp_path / "cache",
                                        workers=1, **options), load_outputs=False)  # one worker: stored in order
    assert run_to_end(task, 120) is True
    return task


def test_a_bounded_cache_ends_under_its_bound_keeps_the_latest_tiles_and_serves_them(tmp_path):
    with TileServer("imagery") as server:
        first = run(server, tmp_path, "first.tif", cache_mb=1)
        order = list(first.plan.tiles.tiles())
        assert sum(server.requests.values()) == len(order) == 110
        assert (tmp_path / "cache" / DATABASE_NAME).stat().st_size <= 2 ** 20
        with TileCache(tmp_path / "cache") as cache:
            kept = cache.tiles()
        assert 30 <= len(kept) < 40 and set(kept) == set(order[-len(kept):])  # the most recent
        run(server, tmp_path, "second.tif", cache_mb=1)
        assert sum(server.requests.values()) == 2 * len(order) - len(kept)  # the kept ones were read, not fetched
    assert (tmp_path / "cache" / DATABASE_NAME).stat().st_size <= 2 ** 20


def test_the_default_bound_keeps_a_whole_run_and_a_bound_below_one_mb_is_refused(tmp_path):
    with TileServer("imagery") as server:
        run(server, tmp_path, "first.tif")
        run(server, tmp_path, "second.tif")
        assert sum(server.requests.values()) == 110  # 512 MB: the rerun fetched nothing
    with pytest.raises(InputError, match="cache_mb 0 is below the smallest allowed, 1"):
        TileDownloadTask(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", BBOX, ZOOM, tmp_path / "x.tif", cache_mb=0))
