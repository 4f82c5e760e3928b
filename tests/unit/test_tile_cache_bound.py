"""The tile cache's bound (net_tasks/tile_cache.py): past ``max_bytes`` on disk, closing drops the
least recently stored tiles and gives their space back to the file system."""
from __future__ import annotations

import random
import sqlite3

import pytest

from offload.net_tasks.tile_cache import DATABASE_NAME, INCREMENTAL, TRIM_TO, TileCache
from offload.net_tasks.tiles import Tile

BODY_BYTES = 25_000  # an imagery tile's size: it overflows SQLite's 4 KiB pages, as real tiles do
BODIES = [random.Random(n).randbytes(BODY_BYTES) for n in range(8)]  # incompressible, like imagery


def cache_in(folder, **options) -> TileCache:
    return TileCache(folder, warn=lambda message: pytest.fail(f"unexpected warning: {message}"), **options)


def store(folder, tiles, **options) -> None:
    """One run: ``tiles`` written in this order, then closed (where the bound is held)."""
    with cache_in(folder, **options) as cache:
        for tile in tiles:
            cache.write(tile, BODIES[tile.x % len(BODIES)], {}, now=1000.0)


def on_disk(folder) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith(DATABASE_NAME))


def row(n: int, run: int = 0) -> list:
    return [Tile(x, run, 14) for x in range(n)]


def test_a_run_that_stores_more_than_the_bound_ends_under_it_keeping_the_most_recent(tmp_path):
    bound = 1_000_000  # 40 tiles of 25 KB
    store(tmp_path, row(100), max_bytes=bound)
    assert on_disk(tmp_path) <= bound * TRIM_TO
    with cache_in(tmp_path) as cache:
        kept = cache.tiles()
        assert kept == row(100)[-len(kept):] and len(kept) >= 30  # the last stored, as many as fit
        assert cache.read(kept[0], BODY_BYTES).body == BODIES[kept[0].x % len(BODIES)]  # still read: hits
    store(tmp_path, row(20, run=1), max_bytes=bound)  # the next run's tiles push out the oldest of the first
    with cache_in(tmp_path) as cache:
        again = cache.tiles()
    assert on_disk(tmp_path) <= bound
    assert set(row(20, run=1)) <= set(again) and set(again) - set(row(20, run=1)) <= set(kept[-(len(again) - 20):])


def test_a_cache_within_its_bound_is_left_as_it_is(tmp_path):
    store(tmp_path, row(10), max_bytes=10_000_000)
    before = on_disk(tmp_path)
    store(tmp_path, [], max_bytes=10_000_000)
    assert on_disk(tmp_path) == before
    with cache_in(tmp_path) as cache:
        assert cache.tiles() == row(10)
    store(tmp_path, row(100))  # no bound (a run that gives none): nothing dropped
    with cache_in(tmp_path) as cache:
        assert len(cache.tiles()) == 100


def test_a_cache_made_before_the_bound_is_rewritten_once_and_then_shrinks(tmp_path):
    store(tmp_path, row(100))
    with sqlite3.connect(str(tmp_path / DATABASE_NAME)) as db:  # as an earlier version made it
        db.execute("PRAGMA auto_vacuum = NONE")
        db.execute("VACUUM")
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    store(tmp_path, [], max_bytes=1_000_000)
    assert on_disk(tmp_path) <= 1_000_000
    with sqlite3.connect(str(tmp_path / DATABASE_NAME)) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL
    with cache_in(tmp_path) as cache:
        assert cache.tiles() == row(100)[-len(cache.tiles()):]


def test_a_new_cache_can_give_pages_back(tmp_path):
    store(tmp_path, row(1))
    with sqlite3.connect(str(tmp_path / DATABASE_NAME)) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL
