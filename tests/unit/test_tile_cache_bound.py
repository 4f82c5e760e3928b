"""The tile cache's bound (net_tasks/tile_cache.py): past ``max_bytes`` on disk, the close of a
completed run drops the least recently stored tiles of earlier runs and gives their space back to
the file system; a canceled or failed run drops nothing."""
from __future__ import annotations

import random
import sqlite3

import pytest

from offload.net_tasks.tile_cache import DATABASE_NAME, INCREMENTAL, TileCache
from offload.net_tasks.tiles import Tile

BODY_BYTES = 25_000  # an imagery tile's size: it overflows SQLite's 4 KiB pages, as real tiles do
BODIES = [random.Random(n).randbytes(BODY_BYTES) for n in range(8)]  # incompressible, like imagery


def cache_in(folder, **options) -> TileCache:
    return TileCache(folder, warn=lambda message: pytest.fail(f"unexpected warning: {message}"), **options)


def store(folder, tiles, **options) -> None:
    """One completed run: ``tiles`` written in this order, then closed (where the bound is held)."""
    with cache_in(folder, **options) as cache:
        for tile in tiles:
            cache.write(tile, BODIES[tile.x % len(BODIES)], {}, now=1000.0)


def on_disk(folder) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith(DATABASE_NAME))


def row(n: int, run: int = 0) -> list:
    return [Tile(x, run, 14) for x in range(n)]


def kept(folder) -> list:
    with cache_in(folder) as cache:
        return cache.tiles()


def test_a_completed_run_drops_the_oldest_tiles_of_earlier_runs_and_never_its_own(tmp_path):
    bound = 1_000_000  # 40 tiles of 25 KB
    store(tmp_path, row(30, run=0), max_bytes=bound)
    assert kept(tmp_path) == row(30, run=0)  # within the bound: nothing dropped
    store(tmp_path, row(30, run=1), max_bytes=bound)
    assert on_disk(tmp_path) <= bound
    after = kept(tmp_path)
    older = [tile for tile in after if tile.y == 0]
    assert set(row(30, run=1)) <= set(after) and older == row(30, run=0)[-len(older):] and len(older) >= 3
    with cache_in(tmp_path) as cache:
        assert cache.read(older[0], BODY_BYTES).body == BODIES[older[0].x % len(BODIES)]  # still read: hits
    store(tmp_path, row(60, run=2), max_bytes=bound)  # more than the bound by itself: every tile of it is kept
    assert kept(tmp_path) == row(60, run=2)
    assert bound < on_disk(tmp_path) <= 1.6 * bound  # past the bound by this run's own tiles only
    store(tmp_path, row(4, run=3), max_bytes=bound)  # the next run's end brings it back under
    assert on_disk(tmp_path) <= bound and set(row(4, run=3)) <= set(kept(tmp_path))


def test_a_canceled_or_failed_run_drops_nothing(tmp_path):
    bound = 1_000_000
    store(tmp_path, row(30, run=0), max_bytes=bound)
    cache = cache_in(tmp_path, max_bytes=bound)
    for tile in row(30, run=1):
        cache.write(tile, BODIES[tile.x % len(BODIES)], {}, now=1000.0)
    cache.close()  # what a canceled or failed run does: closes at once
    assert set(kept(tmp_path)) == set(row(30, run=0) + row(30, run=1))
    with pytest.raises(RuntimeError):
        with cache_in(tmp_path, max_bytes=bound) as cache:
            cache.write(Tile(0, 2, 14), BODIES[0], {}, now=1000.0)
            raise RuntimeError("the run failed")
    assert len(kept(tmp_path)) == 61 and on_disk(tmp_path) > bound
    store(tmp_path, [], max_bytes=bound)  # the next completed run trims
    assert on_disk(tmp_path) <= bound


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


@pytest.mark.parametrize("body_bytes", [1000, 25_000])  # a blank or sea tile; an imagery tile
def test_a_trim_leaves_the_cache_near_its_target_whatever_the_tiles_size(tmp_path, body_bytes):
    bound = 1 << 20
    per_run = int(0.4 * bound / body_bytes)  # bodies of 0.4 of the bound a run: most runs end with a trim
    trimmed = []
    for run in range(6):
        before = on_disk(tmp_path) if run else 0
        with cache_in(tmp_path, max_bytes=bound) as cache:
            for n in range(run * per_run, (run + 1) * per_run):
                cache.write(Tile(n % 4096, n // 4096, 14), bytes([n % 251]) * body_bytes, {}, now=1000.0)
        if before + 0.4 * bound > bound:  # past the bound at this run's end: trimmed to TRIM_TO of it
            trimmed.append(round(on_disk(tmp_path) / bound, 2))
    assert len(trimmed) >= 3 and all(0.8 <= share <= 1.0 for share in trimmed), trimmed


def test_a_tile_a_304_renewed_counts_as_stored_then(tmp_path):
    """A 304 renews a tile's record; the trim then takes it for one stored in that run, not for
    the oldest tile of the cache (it kept its first row, and went first)."""
    bound = 1_000_000  # 40 tiles of 25 KB
    renewed = Tile(0, 0, 14)
    with cache_in(tmp_path, max_bytes=bound) as cache:
        cache.write(renewed, BODIES[0], {"ETag": '"v1"'}, now=1000.0)
        for tile in row(30, run=0)[1:]:
            cache.write(tile, BODIES[tile.x % len(BODIES)], {}, now=1000.0)
    with cache_in(tmp_path, max_bytes=bound) as cache:
        cache.write(renewed, BODIES[0], {"Cache-Control": "max-age=60"}, now=2000.0, renews='"v1"')
        for tile in row(30, run=1):
            cache.write(tile, BODIES[tile.x % len(BODIES)], {}, now=2000.0)
    after = kept(tmp_path)
    assert on_disk(tmp_path) <= bound and row(30, run=0)[1] not in after  # the oldest went
    assert renewed in after
    with cache_in(tmp_path) as cache:
        entry = cache.read(renewed, BODY_BYTES)
    assert entry.body == BODIES[0] and entry.etag == '"v1"' and entry.fresh(None, 2030.0)
