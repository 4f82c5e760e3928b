"""The tile cache's freshness (``net_tasks/tile_cache.py``), by its properties: how long a
server's headers let a tile be used without asking, and when a cached tile must be asked for
again. (Its database, written and read back, is in ``test_tile_cache_io.py``.)"""
from __future__ import annotations

import email.utils
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from offload.net_tasks.tile_cache import DEFAULT_MAX_AGE_S, CacheEntry, TileCache, max_age_from
from offload.net_tasks.tiles import Tile

DEFAULT = 123_456.0  # what the caller passes when the server says nothing usable
HTTP_DATE_0 = 1_700_000_000  # the server's Date, 2023-11-14
# What a header value can hold: http.client decodes header bytes as Latin-1.
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60)
SECONDS = st.integers(min_value=0, max_value=10 ** 9)
# Whole seconds, so "fetched + age" is exact and the comparisons are the property's, not rounding's.
TIMES = st.integers(min_value=0, max_value=4 * 10 ** 9).map(float)
AGES = st.integers(min_value=0, max_value=10 ** 9).map(float)


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


# -- how long a server's answer stays fresh ------------------------------------------------------

@given(st.dictionaries(st.sampled_from(["Cache-Control", "Expires", "Date", "ETag"]), HEADER_TEXT))
@example({"Cache-Control": "max-age=\u00b2"})  # Latin-1's superscript two: a digit to str.isdigit only
@example({"Cache-Control": "max-age=" + "9" * 400})  # more than a float holds
@example({"Expires": "Fri, 31 Dec 9999 23:59:59 -0000", "Date": "Mon, 01 Jan 0001 00:00:00 -0000"})
def test_any_headers_give_a_finite_lifetime_never_negative_and_never_raise(headers):
    lifetime = max_age_from(headers, DEFAULT)
    assert 0.0 <= lifetime < float("inf")


@given(SECONDS, st.sampled_from(["max-age", "MAX-AGE", "Max-Age"]),
       st.sampled_from(["{}", "public, {}", "{}, must-revalidate", " {} ", "s-maxage=5,{}"]))
def test_max_age_is_the_lifetime_whatever_else_the_header_says(seconds, name, shape):
    assert max_age_from({"Cache-Control": shape.format(f"{name}={seconds}")}, DEFAULT) == seconds


@given(SECONDS, st.integers(min_value=-10 ** 6, max_value=10 ** 6))
def test_max_age_wins_over_expires(seconds, expires_in):
    headers = {"Cache-Control": f"max-age={seconds}", "Date": http_date(HTTP_DATE_0),
               "Expires": http_date(HTTP_DATE_0 + expires_in)}
    assert max_age_from(headers, DEFAULT) == seconds


@given(SECONDS)
def test_s_maxage_is_for_shared_caches_and_this_one_is_private(seconds):
    assert max_age_from({"Cache-Control": f"s-maxage={seconds}"}, DEFAULT) == DEFAULT
    assert max_age_from({"Cache-Control": f"s-maxage={seconds}, max-age=7"}, DEFAULT) == 7


@given(st.sampled_from(["no-cache", "no-store", "No-Cache", " no-store"]), SECONDS)
def test_no_cache_and_no_store_mean_ask_the_server_every_time(directive, seconds):
    """Even beside a max-age: the server wants each use checked (a 304 costs little with the ETag)."""
    assert max_age_from({"Cache-Control": directive}, DEFAULT) == 0
    assert max_age_from({"Cache-Control": f"max-age={seconds}, {directive}"}, DEFAULT) == 0


@given(st.integers(min_value=-10 ** 8, max_value=10 ** 8))
def test_without_max_age_expires_minus_the_server_s_date_is_the_lifetime(expires_in):
    """Both times are the server's clock, so a skewed local clock changes nothing."""
    headers = {"Date": http_date(HTTP_DATE_0), "Expires": http_date(HTTP_DATE_0 + expires_in)}
    assert max_age_from(headers, DEFAULT) == max(expires_in, 0)


@pytest.mark.parametrize("expires", ["0", "-1", "yesterday", "Mon, 99 Jan 2020 00:00:00 GMT"])
def test_an_expires_that_is_no_date_means_already_stale(expires):
    assert max_age_from({"Date": http_date(HTTP_DATE_0), "Expires": expires}, DEFAULT) == 0


@pytest.mark.parametrize("headers", [
    {}, {"Cache-Control": ""}, {"Cache-Control": "public"}, {"Cache-Control": "max-age=soon"},
    {"Cache-Control": "max-age=-5"}, {"Cache-Control": "max-age=1.5"}, {"Cache-Control": ",,=,"},
    {"Cache-Control": "max-age=\u00b2"}, {"ETag": '"v1"'},
    {"Expires": http_date(HTTP_DATE_0 + 60)},  # no Date to measure it from
])
def test_headers_that_say_nothing_usable_give_the_default(headers):
    assert max_age_from(headers, DEFAULT) == DEFAULT


# -- whether a cached tile is used or asked for again --------------------------------------------

ENTRIES = st.builds(CacheEntry, body=st.just(b"tile"), fetched=TIMES, expires=TIMES, etag=st.just('"v1"'))


@given(ENTRIES, TIMES)
def test_without_max_age_a_tile_is_fresh_until_the_server_s_expiry(entry, now):
    assert entry.fresh(None, now) == (now < entry.expires)


@given(ENTRIES, AGES, AGES)
def test_the_user_s_max_age_overrides_the_server_s_expiry(entry, max_age_s, age_s):
    """--max-age counts from when the tile was fetched, whatever the server said."""
    assert entry.fresh(max_age_s, entry.fetched + age_s) == (age_s < max_age_s)


@given(ENTRIES, AGES | st.none(), TIMES, TIMES)
def test_once_stale_a_tile_stays_stale_as_time_passes(entry, max_age_s, earlier, later):
    earlier, later = sorted((earlier, later))
    if not entry.fresh(max_age_s, earlier):
        assert not entry.fresh(max_age_s, later)


@given(ENTRIES, AGES)
def test_max_age_zero_always_asks_again(entry, age_s):
    assert not entry.fresh(0.0, entry.fetched + age_s)


@given(st.dictionaries(st.sampled_from(["Cache-Control", "Expires", "Date"]), HEADER_TEXT),
       TIMES, AGES)
@example({"Cache-Control": "no-cache"}, 1000.0, 0.0)
@example({"Cache-Control": "max-age=60"}, 1000.0, 59.0)
@example({"Cache-Control": "max-age=60"}, 1000.0, 60.0)
def test_a_written_tile_is_fresh_for_exactly_its_lifetime_and_keeps_its_etag(headers, now, age_s):
    """What the engine decides from: the record's expiry, and the ETag a stale tile is asked with."""
    headers = {**headers, "ETag": '"v1"'}
    assume("no-store" not in headers.get("Cache-Control", "").lower())  # never written: the test below
    with tempfile.TemporaryDirectory() as folder, TileCache(Path(folder)) as cache:
        cache.write(Tile(4, 5, 3), b"tile", headers, now)
        cache.commit()
        entry = cache.read(Tile(4, 5, 3), max_bytes=100)
    assert entry.fresh(None, now + age_s) == (age_s < max_age_from(headers, DEFAULT_MAX_AGE_S))
    assert entry.etag == '"v1"'  # so a stale tile is asked for conditionally: unchanged costs a 304


@pytest.mark.parametrize("cache_control", ["no-store", "max-age=600, No-Store", "private, no-store"])
def test_a_response_marked_no_store_is_not_kept_and_takes_the_older_copy_with_it(tmp_path, cache_control):
    tile = Tile(4, 5, 3)
    with TileCache(tmp_path) as cache:
        cache.write(tile, b"old tile", {"Cache-Control": "max-age=600"}, 1000.0)
    with TileCache(tmp_path) as cache:
        assert cache.read(tile, max_bytes=100).body == b"old tile"
        cache.write(tile, b"new tile", {"Cache-Control": cache_control}, 2000.0)
        cache.commit()
        assert cache.read(tile, max_bytes=100) is None
        cache.write(Tile(6, 6, 3), b"tile", {"Cache-Control": cache_control}, 2000.0)  # never cached before
    with TileCache(tmp_path) as cache:
        assert cache.tiles() == []  # gone from the database too, not only hidden from this run
