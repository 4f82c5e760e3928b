"""The tile cache's files (net_tasks/tile_cache.py): written whole, read back, distrusted when half-known."""
from __future__ import annotations

import pytest

from offload.net_tasks.tile_cache import DEFAULT_MAX_AGE_S, read_cache, write_cache


def test_a_written_tile_reads_back_with_its_expiry_and_etag(tmp_path):
    path = tmp_path / "12" / "2140" / "1450.png"  # the folders are made on the first write
    write_cache(path, b"tile", {"Cache-Control": "public, max-age=60", "ETag": '"v1"'}, now=1000.0)
    entry = read_cache(path, max_bytes=100)
    assert (entry.body, entry.fetched, entry.expires, entry.etag) == (b"tile", 1000.0, 1060.0, '"v1"')
    assert sorted(p.name for p in path.parent.iterdir()) == ["1450.png", "1450.png.json"]  # no temporary left


def test_a_304_renews_the_sidecar_and_keeps_the_body(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"tile", {}, now=0.0)
    assert read_cache(path, 100).expires == DEFAULT_MAX_AGE_S
    write_cache(path, None, {"Cache-Control": "max-age=5"}, now=50.0)
    entry = read_cache(path, 100)
    assert (entry.body, entry.fetched, entry.expires) == (b"tile", 50.0, 55.0)


@pytest.mark.parametrize("sidecar", ["", '{"fetched": 1', "[]", '{"fetched": null, "expires": 2}', '{"expires": 2}'])
def test_a_tile_whose_sidecar_is_cut_short_or_wrong_is_fetched_again(tmp_path, sidecar):
    path = tmp_path / "1.png"
    write_cache(path, b"tile", {}, now=0.0)
    (tmp_path / "1.png.json").write_text(sidecar)
    assert read_cache(path, 100) is None


def test_a_tile_larger_than_any_the_engine_caches_is_not_trusted(tmp_path):
    path = tmp_path / "1.png"
    write_cache(path, b"x" * 101, {}, now=0.0)
    assert read_cache(path, 100) is None and read_cache(path, 101) is not None
