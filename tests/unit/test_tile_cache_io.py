"""The tile cache's database (net_tasks/tile_cache.py): written whole, read back, a bad or locked
database never failing a run, a kill never leaving a tile half-recorded, two processes at once."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import pytest

from offload.net_tasks.tile_cache import DATABASE_NAME, DEFAULT_MAX_AGE_S, TileCache
from offload.net_tasks.tiles import Tile

TILE = Tile(2140, 1450, 12)


def cache_in(folder, **options) -> TileCache:
    return TileCache(folder, warn=lambda message: pytest.fail(f"unexpected warning: {message}"), **options)


def test_a_written_tile_reads_back_with_its_expiry_and_etag_from_one_database_file(tmp_path):
    with cache_in(tmp_path / "cache") as cache:  # the folder is made when missing
        cache.write(TILE, b"tile", {"Cache-Control": "public, max-age=60", "ETag": '"v1"'}, now=1000.0)
        assert cache.read(TILE, max_bytes=100) is None  # a read sees what is committed: its batch is not yet
    with cache_in(tmp_path / "cache") as cache:
        entry = cache.read(TILE, max_bytes=100)
        assert cache.tiles() == [TILE]
    assert (entry.body, entry.fetched, entry.expires, entry.etag) == (b"tile", 1000.0, 1060.0, '"v1"')
    assert {p.name for p in (tmp_path / "cache").iterdir()} <= {DATABASE_NAME, DATABASE_NAME + "-journal"}


def test_a_tile_s_row_holds_its_integers_body_times_and_etag_and_nothing_of_the_request(tmp_path):
    import sqlite3

    with cache_in(tmp_path) as cache:
        cache.write(Tile(2 ** 12 + 5, 7, 12), b"tile", {"ETag": '"v1"', "Authorization": "Bearer SECRET",
                                                         "Set-Cookie": "session=SECRET"}, now=0.0)
    rows = sqlite3.connect(str(tmp_path / DATABASE_NAME)).execute("SELECT * FROM tiles").fetchall()
    assert rows == [(12, 5, 7, b"tile", zlib.crc32(b"tile"), 0.0, DEFAULT_MAX_AGE_S, '"v1"')]  # x wrapped as servers name it
    assert b"SECRET" not in (tmp_path / DATABASE_NAME).read_bytes()


def test_a_304_renews_the_record_and_keeps_the_body(tmp_path):
    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"tile", {"ETag": '"v1"'}, now=0.0)
        cache.commit()
        cached = cache.read(TILE, 100)
        assert cached.expires == DEFAULT_MAX_AGE_S
        cache.write(TILE, cached.body, {"Cache-Control": "max-age=5"}, now=50.0, renews=cached.etag)  # as a 304's job does
        cache.commit()
        entry = cache.read(TILE, 100)
    assert (entry.body, entry.fetched, entry.expires, entry.etag) == (b"tile", 50.0, 55.0, '"v1"')  # kept: the 304 named none


def test_a_304_does_not_bring_back_an_older_tile_another_run_replaced_meanwhile(tmp_path):
    with cache_in(tmp_path) as ours:
        ours.write(TILE, b"old tile", {"ETag": '"v1"'}, now=0.0)
    with cache_in(tmp_path) as ours:
        cached = ours.read(TILE, 100)  # stale: asked for with If-None-Match "v1"
        with cache_in(tmp_path) as other_run:  # its 200 lands first
            other_run.write(TILE, b"new tile", {"ETag": '"v2"'}, now=40.0)
        ours.write(TILE, cached.body, {"Cache-Control": "max-age=600"}, now=50.0, renews=cached.etag)  # then the 304
        ours.commit()
        entry = ours.read(TILE, 100)
    assert (entry.body, entry.fetched, entry.etag) == (b"new tile", 40.0, '"v2"')


def test_an_etag_too_long_to_keep_leaves_the_tile_cached_without_it(tmp_path):
    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"tile", {"ETag": '"' + "x" * 5000 + '"'}, now=0.0)
        cache.commit()
        entry = cache.read(TILE, 100)
    assert (entry.body, entry.etag) == (b"tile", "")


def test_a_tile_larger_than_any_the_engine_caches_is_not_trusted(tmp_path):
    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"x" * 101, {}, now=0.0)
        cache.commit()
        assert cache.read(TILE, 100) is None and cache.read(TILE, 101) is not None


def test_a_body_that_fails_its_crc_is_a_miss_and_is_replaced_when_fetched_again(tmp_path):
    """What a power cut can leave with the journal unsynced: a row whose body is not what was written."""
    import sqlite3

    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"tile", {}, now=0.0)
    other = sqlite3.connect(str(tmp_path / DATABASE_NAME))
    other.execute("UPDATE tiles SET body = ?", (b"tilf",))
    other.commit()
    other.close()
    with cache_in(tmp_path) as cache:
        assert cache.read(TILE, 100) is None
        cache.write(TILE, b"tile again", {}, now=1.0)
    with cache_in(tmp_path) as cache:
        assert cache.read(TILE, 100).body == b"tile again"


def test_a_forgotten_tile_is_a_miss_until_written_anew(tmp_path):
    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"bad tile", {}, now=0.0)
        cache.commit()
        cache.forget(TILE)
        assert cache.read(TILE, 100) is None  # at once, before the deletion is committed
        cache.write(TILE, b"good tile", {}, now=1.0)
        cache.commit()
        assert cache.read(TILE, 100).body == b"good tile"
    with cache_in(tmp_path) as cache:
        assert cache.read(TILE, 100).body == b"good tile"


def test_a_tile_cached_in_the_former_layout_is_ignored_and_its_files_left_alone(tmp_path):
    former = tmp_path / "12" / "2140" / "1450.png"
    former.parent.mkdir(parents=True)
    former.write_bytes(b"tile")
    with cache_in(tmp_path) as cache:
        assert cache.read(TILE, 100) is None  # fetched again, into the database
        cache.write(TILE, b"new tile", {}, now=0.0)
    assert former.read_bytes() == b"tile"  # perhaps the user's: not ours to delete


def test_a_package_s_run_reads_the_cache_and_creates_none(tmp_path):
    with TileCache(tmp_path / "none", create=False) as cache:
        assert cache.read(TILE, 100) is None
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("junk", [b"junk" * 1000, b"SQLite format 3\x00" + b"\xff" * 2000],
                         ids=["junk", "a damaged header"])
def test_a_file_that_is_no_database_is_set_aside_with_one_line_and_the_cache_starts_anew(tmp_path, junk):
    (tmp_path / DATABASE_NAME).write_bytes(junk)
    said = []
    with TileCache(tmp_path, warn=said.append) as cache:
        assert cache.read(TILE, 100) is None
        cache.write(TILE, b"tile", {}, now=0.0)
    assert len(said) == 1 and "set aside" in said[0]
    assert (tmp_path / (DATABASE_NAME + ".broken")).read_bytes() == junk  # kept, for a person to look at
    with cache_in(tmp_path) as cache:
        assert cache.read(TILE, 100).body == b"tile"


def test_another_program_s_database_is_set_aside_not_written_into(tmp_path):
    import sqlite3

    other = sqlite3.connect(str(tmp_path / DATABASE_NAME))
    other.execute("CREATE TABLE tiles (zoom_level, tile_column, tile_row, tile_data)")  # an MBTiles
    other.commit()
    other.close()
    said = []
    with TileCache(tmp_path, warn=said.append) as cache:
        cache.write(TILE, b"tile", {}, now=0.0)
        cache.commit()
        assert cache.read(TILE, 100).body == b"tile"
    assert len(said) == 1 and (tmp_path / (DATABASE_NAME + ".broken")).exists()


def test_a_database_damaged_while_in_use_is_a_miss_never_an_error_and_set_aside_at_the_end(tmp_path):
    with cache_in(tmp_path) as cache:
        for y in range(200):
            cache.write(Tile(1, y, 9), bytes([y]) * 5000, {}, now=0.0)
    data = bytearray((tmp_path / DATABASE_NAME).read_bytes())
    data[4096:len(data) - 4096] = b"\xa5" * (len(data) - 8192)  # every page but the first and last
    (tmp_path / DATABASE_NAME).write_bytes(bytes(data))
    said = []
    cache = TileCache(tmp_path, warn=said.append)
    assert all(cache.read(Tile(1, y, 9), 10 ** 6) is None for y in range(200))
    cache.write(TILE, b"tile", {}, now=0.0)  # dropped, silently
    cache.close()
    assert len(said) == 1 and "damaged" in said[0]
    assert (tmp_path / (DATABASE_NAME + ".broken")).exists()
    with cache_in(tmp_path) as fresh:
        assert fresh.tiles() == []


HOLD_THE_WRITE_LOCK = textwrap.dedent("""
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
""")


def test_a_database_another_process_keeps_locked_means_the_tile_is_not_cached_this_time(tmp_path):
    with cache_in(tmp_path) as cache:
        cache.write(Tile(0, 0, 1), b"old", {}, now=0.0)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(tmp_path / DATABASE_NAME)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"locked\n"
        with cache_in(tmp_path) as cache:
            started = time.monotonic()
            for y in range(100):
                cache.write(Tile(0, y, 9), b"tile", {}, now=0.0)  # neither raises nor waits per tile
            assert time.monotonic() - started < 30  # one busy timeout (1 s), not one per tile
            assert cache.read(Tile(0, 0, 1), 100).body == b"old"  # reads go on
            assert cache.read(Tile(0, 0, 9), 100) is None
    finally:
        holder.stdin.close()
        holder.wait(10)
    with cache_in(tmp_path) as cache:
        cache.write(TILE, b"tile", {}, now=0.0)  # the lock gone, tiles are kept again
    with cache_in(tmp_path) as cache:
        assert cache.tiles() == [Tile(0, 0, 1), TILE]


def test_a_batch_is_committed_when_no_tile_follows_so_another_run_can_write(tmp_path):
    """Review: an open batch held SQLite's write lock while the writer waited (a slow server, a
    Retry-After), and another run into the same cache gave up all its tiles meanwhile."""
    from offload.net_tasks.tile_cache import BATCH_S

    with cache_in(tmp_path) as idle:
        idle.write(TILE, b"tile", {}, now=0.0)  # and then nothing, for a while
        time.sleep(BATCH_S + 1.0)
        with cache_in(tmp_path) as other:
            other.write(Tile(0, 0, 9), b"other", {}, now=0.0)
        with cache_in(tmp_path) as reader:
            assert reader.tiles() == [Tile(0, 0, 9), TILE]  # both kept, the idle run's committed


def body_of(y: int) -> bytes:
    """A body whose every byte and length says which tile it is."""
    return y.to_bytes(4, "big") * (500 + 37 * (y % 50))


WRITE_TILES_UNTIL_KILLED = textwrap.dedent("""
    import sys
    from offload.net_tasks.tile_cache import TileCache
    from offload.net_tasks.tiles import Tile
    y = int(sys.argv[2])
    cache = TileCache(sys.argv[1])
    while True:
        cache.write(Tile(y % 7, y, 20), y.to_bytes(4, "big") * (500 + 37 * (y % 50)), {"ETag": str(y)}, now=y)
        if y % 64 == 0:
            print(y, flush=True)
        y += 1
""")


def test_a_writer_killed_at_any_moment_leaves_only_whole_tiles(tmp_path):
    """SIGKILL mid-way, three times at different moments: every tile that reads back is the one written."""
    start = 0
    for stop_after in (3, 11, 29):  # batches seen before the kill
        writer = subprocess.Popen([sys.executable, "-c", WRITE_TILES_UNTIL_KILLED, str(tmp_path), str(start)],
                                  stdout=subprocess.PIPE)
        for _ in range(stop_after):
            assert writer.stdout.readline()
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        with cache_in(tmp_path) as cache:
            tiles = cache.tiles()
            assert len(tiles) >= start + 64 * (stop_after - 2)  # committed batches are all there
            for tile in tiles:
                entry = cache.read(tile, 10 ** 6)
                assert (entry.body, entry.etag, entry.fetched) == (body_of(tile.y), str(tile.y), tile.y)
        start = max(tile.y for tile in tiles) + 1


WRITE_AND_READ = textwrap.dedent("""
    import sys
    from offload.net_tasks.tile_cache import TileCache
    from offload.net_tasks.tiles import Tile
    said = []
    with TileCache(sys.argv[1], warn=said.append) as cache:
        for y in range(400):
            body = y.to_bytes(4, "big") * (500 + 37 * (y % 50))
            cache.write(Tile(0, y, 20), body, {}, now=0.0)
            if y % 7 == 0:
                cache.commit()
            entry = cache.read(Tile(0, y, 20), 10 ** 6)
            assert entry is None or entry.body == body
    print("said", said)
""")


def test_two_processes_writing_the_same_tiles_at_once_both_finish_and_every_tile_is_whole(tmp_path):
    runs = [subprocess.Popen([sys.executable, "-c", WRITE_AND_READ, str(tmp_path / "cache")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
        assert out == b"said []\n"  # busy is no damage: nothing set aside
    with cache_in(tmp_path / "cache") as cache:
        tiles = cache.tiles()
        assert len(tiles) >= 300  # a tile is only dropped when the other held the lock past the timeout
        assert all(cache.read(tile, 10 ** 6).body == body_of(tile.y) for tile in tiles)


def test_reads_on_many_threads_while_one_thread_writes(tmp_path):
    errors = []
    with cache_in(tmp_path) as cache:
        def read_all() -> None:
            for _ in range(3):
                for y in range(300):
                    entry = cache.read(Tile(0, y, 20), 10 ** 6)
                    if entry is not None and entry.body != body_of(y):
                        errors.append(y)

        readers = [threading.Thread(target=read_all) for _ in range(8)]
        for reader in readers:
            reader.start()
        for y in range(300):
            cache.write(Tile(0, y, 20), body_of(y), {}, now=0.0)
            if y % 10 == 0:
                cache.commit()  # reads find some tiles, not only misses
        cache.commit()
        for reader in readers:
            reader.join()
        assert errors == [] and len(cache.tiles()) == 300
