"""The tile cache's files (net_tasks/tile_cache.py): written whole, read back, distrusted when half-known."""
from __future__ import annotations

import pytest

from offload.net_tasks.tile_cache import DEFAULT_MAX_AGE_S, MAGIC, TRAILER, read_cache, write_cache


def test_a_written_tile_reads_back_with_its_expiry_and_etag(tmp_path):
    path = tmp_path / "12" / "2140" / "1450.png"  # the folders are made on the first write
    write_cache(path, b"tile", {"Cache-Control": "public, max-age=60", "ETag": '"v1"'}, now=1000.0)
    entry = read_cache(path, max_bytes=100)
    assert (entry.body, entry.fetched, entry.expires, entry.etag) == (b"tile", 1000.0, 1060.0, '"v1"')
    assert [p.name for p in path.parent.iterdir()] == ["1450.png"]  # one file a tile, no temporary left


def test_a_304_renews_the_record_and_keeps_the_body(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"tile", {"ETag": '"v1"'}, now=0.0)
    cached = read_cache(path, 100)
    assert cached.expires == DEFAULT_MAX_AGE_S
    write_cache(path, cached.body, {"Cache-Control": "max-age=5"}, now=50.0, renews=cached.etag)  # as a 304's job does
    entry = read_cache(path, 100)
    assert (entry.body, entry.fetched, entry.expires, entry.etag) == (b"tile", 50.0, 55.0, '"v1"')  # kept: the 304 named none


def test_a_304_does_not_bring_back_an_older_tile_another_run_replaced_meanwhile(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"old tile", {"ETag": '"v1"'}, now=0.0)
    cached = read_cache(path, 100)  # stale: asked for with If-None-Match "v1"
    write_cache(path, b"new tile", {"ETag": '"v2"'}, now=40.0)  # another run's 200 lands first
    write_cache(path, cached.body, {"Cache-Control": "max-age=600"}, now=50.0, renews=cached.etag)  # then the 304
    entry = read_cache(path, 100)
    assert (entry.body, entry.fetched, entry.etag) == (b"new tile", 40.0, '"v2"')


@pytest.mark.parametrize("record", [b"", b'{"fetched": 1', b"[]", b'{"fetched": null, "expires": 2}', b'{"expires": 2}'])
def test_a_tile_whose_record_is_wrong_is_fetched_again(tmp_path, record):
    path = tmp_path / "1.png"
    path.write_bytes(b"tile" + record + TRAILER.pack(4, len(record), MAGIC))
    assert read_cache(path, 100) is None


@pytest.mark.parametrize("keep", [0, 1, 10, -1])
def test_a_tile_cut_short_anywhere_is_fetched_again(tmp_path, keep):
    path = tmp_path / "1.png"
    write_cache(path, b"tile", {"ETag": '"v1"'}, now=0.0)
    whole = path.read_bytes()
    path.write_bytes(whole[:keep % len(whole)])
    assert read_cache(path, 100) is None


def test_a_tile_cached_in_the_former_layout_is_fetched_again_and_its_sidecar_goes(tmp_path):
    path = tmp_path / "1.png"
    path.write_bytes(b"tile")
    (tmp_path / "1.png.json").write_text('{"fetched": 0, "expires": 1e12, "etag": ""}')  # the former sidecar
    assert read_cache(path, 100) is None
    write_cache(path, b"new tile", {}, now=0.0)  # as the engine does with the tile fetched again
    assert read_cache(path, 100).body == b"new tile"
    assert [p.name for p in tmp_path.iterdir()] == ["1.png"]  # no sidecar left forever beside it


def test_a_former_sidecar_that_cannot_be_removed_does_not_fail_the_read(tmp_path):
    path = tmp_path / "1.png"
    path.write_bytes(b"tile")
    (tmp_path / "1.png.json").mkdir()  # unlink() fails with an OSError other than FileNotFoundError
    assert read_cache(path, 100) is None


def test_an_etag_too_long_to_keep_leaves_the_tile_cached_without_it(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"tile", {"ETag": '"' + "x" * 5000 + '"'}, now=0.0)
    entry = read_cache(path, 100)
    assert (entry.body, entry.etag) == (b"tile", "")


def test_a_tile_larger_than_any_the_engine_caches_is_not_trusted(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"x" * 101, {}, now=0.0)
    assert read_cache(path, 100) is None and read_cache(path, 101) is not None
