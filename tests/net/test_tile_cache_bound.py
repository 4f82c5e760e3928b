"""A tiles run holds its cache folder to --cache-size (cache_mb) at its end: tiles of earlier runs
are dropped, oldest first, never its own, so a rerun reads every tile it stored; a failed or
canceled run drops nothing."""
from __future__ import annotations

import pytest

from offload.core.errors import InputError
from offload.demo.tile_server import Faults, TileServer
from offload.net_tasks.request import TileRequest
from offload.net_tasks.tile_cache import DATABASE_NAME, TileCache
from offload.net_tasks.tile_task import TileDownloadTask
from qgis_helpers import run_to_end

BBOX = (6.6, 45.7, 7.4, 46.3)
ZOOM = 12  # 110 tiles of ~25 KB: 2.7 MB, more than twice a 1 MB bound


def run(server: TileServer, tmp_path, name: str, ok: bool = True, zoom: int = ZOOM, **options) -> TileDownloadTask:
    task = TileDownloadTask(TileRequest(server.template, BBOX, zoom, tmp_path / name, cache_dir=tmp_path / "cache",
                                        workers=1, **options), load_outputs=False)  # one worker: stored in order
    assert run_to_end(task, 120) is ok
    return task


def cached(tmp_path) -> list:
    with TileCache(tmp_path / "cache") as cache:
        return cache.tiles()


def on_disk(tmp_path) -> int:
    return (tmp_path / "cache" / DATABASE_NAME).stat().st_size


def test_a_bounded_cache_keeps_a_run_s_own_tiles_and_drops_the_oldest_of_earlier_runs(tmp_path):
    with TileServer("imagery") as server:
        first = run(server, tmp_path, "first.tif", cache_mb=1)
        order = list(first.plan.tiles.tiles())
        assert sum(server.requests.values()) == len(order) == 110
        assert set(cached(tmp_path)) == set(order) and on_disk(tmp_path) > 2 ** 20  # its own: all kept
        run(server, tmp_path, "again.tif", cache_mb=1)
        assert sum(server.requests.values()) == 110  # the rerun read every tile from the cache
        coarser = run(server, tmp_path, "coarser.tif", zoom=ZOOM - 2, cache_mb=1)  # a few tiles, well under 1 MB
        own = set(coarser.plan.tiles.tiles())
        kept = set(cached(tmp_path)) - own
        assert own <= set(cached(tmp_path)) and 0 < len(kept) < 40 and kept == set(order[-len(kept):])
    assert on_disk(tmp_path) <= 2 ** 20


def test_a_failed_run_drops_none_of_its_tiles_and_its_rerun_fetches_only_those_it_lacks(tmp_path):
    with TileServer("imagery", faults=Faults(fail_rate=0.3, seed=3)) as server:  # failures on the first attempt
        run(server, tmp_path, "failed.tif", ok=False, cache_mb=1, retries=0)
        stored = set(cached(tmp_path))
        assert 60 < len(stored) < 110 and on_disk(tmp_path) > 2 ** 20  # past the bound, nothing dropped
        asked = sum(server.requests.values())
        run(server, tmp_path, "rerun.tif", cache_mb=1, retries=0)  # a tile's second attempt succeeds
        assert sum(server.requests.values()) - asked == 110 - len(stored)


def test_the_default_bound_keeps_a_whole_run_and_a_bound_below_one_mb_is_refused(tmp_path):
    with TileServer("imagery") as server:
        run(server, tmp_path, "first.tif")
        run(server, tmp_path, "second.tif")
        assert sum(server.requests.values()) == 110  # 512 MB: the rerun fetched nothing
    with pytest.raises(InputError, match="cache_mb 0 is below the smallest allowed, 1"):
        TileDownloadTask(TileRequest("http://127.0.0.1:9/{z}/{x}/{y}.png", BBOX, ZOOM, tmp_path / "x.tif", cache_mb=0))
