"""Tile math (``net_tasks/tiles.py``, pure), with properties checked by hypothesis."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.core.errors import InputError
from offload.net_tasks.templates import parse_template
from offload.net_tasks.tiles import (
    MAX_LAT, ORIGIN_M, Tile, lonlat_to_mercator, quadkey, range_bounds, tile_bounds, tile_range, tms_row,
)


def test_known_tiles():
    # Zürich at zoom 10 is tile 536/358 (OSM wiki formula)
    x, y = lonlat_to_mercator(8.5417, 47.3769)
    r = tile_range((x - 1, y - 1, x + 1, y + 1), 10)
    assert (r.x_min, r.y_min, r.x_max, r.y_max) == (536, 358, 536, 358)
    assert tile_range((-ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M), 0).count == 1
    assert tile_range((-ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M), 3).count == 64


def test_latitudes_are_clamped_to_mercator():
    assert lonlat_to_mercator(0, 90)[1] == pytest.approx(ORIGIN_M)
    assert lonlat_to_mercator(180, -89.9)[0] == pytest.approx(ORIGIN_M)
    assert MAX_LAT == pytest.approx(85.0511287798)


def test_a_bbox_on_tile_edges_touches_only_the_tiles_inside():
    bounds = range_bounds(tile_range(tile_bounds(Tile(5, 9, 4)), 4))
    assert bounds == pytest.approx(tile_bounds(Tile(5, 9, 4)))
    assert tile_range(tile_bounds(Tile(5, 9, 4)), 4).count == 1
    assert tile_range(tile_bounds(Tile(5, 9, 4)), 5).count == 4


@given(x=st.integers(0, 2 ** 12 - 1), y=st.integers(0, 2 ** 12 - 1), z=st.integers(12, 12))
def test_a_tile_s_own_bounds_give_back_the_tile(x, y, z):
    r = tile_range(tile_bounds(Tile(x, y, z)), z)
    assert (r.x_min, r.y_min, r.x_max, r.y_max) == (x, y, x, y)


@given(lon=st.floats(-179.9, 179.9), lat=st.floats(-85, 85), zoom=st.integers(0, 18))
def test_a_point_lies_in_the_tile_it_maps_to(lon, lat, zoom):
    x, y = lonlat_to_mercator(lon, lat)
    r = tile_range((x - 1e-3, y - 1e-3, x + 1e-3, y + 1e-3), zoom)
    x_min, y_min, x_max, y_max = tile_bounds(Tile(r.x_min, r.y_min, zoom))
    assert x_min - 1 <= x <= x_max + 1 and y_min - 1 <= y <= y_max + 1


def test_quadkeys_and_tms_rows():
    assert quadkey(Tile(3, 5, 3)) == "213"  # Bing Maps tile system example
    assert quadkey(Tile(0, 0, 0)) == ""
    assert tms_row(Tile(0, 0, 1)) == 1 and tms_row(Tile(7, 2, 3)) == 5


@pytest.mark.parametrize("bounds, zoom, message", [
    ((0, 0, 1, 1), 25, "zoom 25 is not within 0..24"),
    ((5, 5, 5, 9), 3, "is empty"),
])
def test_tile_range_refusals(bounds, zoom, message):
    with pytest.raises(InputError, match=message):
        tile_range(bounds, zoom)


@pytest.mark.parametrize("x_min, x_max", [(170.0, 190.0), (-190.0, -170.0), (530.0, 550.0)])
def test_a_bbox_across_the_antimeridian_touches_only_its_columns(x_min, x_max):
    from offload.net_tasks.tile_plan import to_mercator

    tiles = tile_range(to_mercator((x_min, -10.0, x_max, 10.0), "EPSG:4326"), 3)
    assert (tiles.x_min, tiles.x_max, tiles.count) == (7, 8, 4)
    assert sorted({tile.wrapped().x for tile in tiles.tiles()}) == [0, 7]
    assert parse_template("http://h/{z}/{x}/{y}.png").url(Tile(8, 3, 3)) == "http://h/3/0/3.png"


def test_a_billion_tile_range_is_counted_not_listed():
    tiles = tile_range((-ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M), 24)
    assert tiles.count == 4 ** 24
    assert next(iter(tiles.tiles())) == Tile(0, 0, 24)
