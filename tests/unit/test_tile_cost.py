"""The tiles form's cost (pure): counts per zoom, the size estimate, refusals in the form's words,
and the zoom that matches a screen resolution."""
from __future__ import annotations

from offload.net_tasks.tiles import ORIGIN_M, lonlat_to_mercator
from offload.ui.tile_cost import describe, human_bytes, tile_cost, zoom_for_resolution


def mercator_bbox(lon_min, lat_min, lon_max, lat_max):
    x_min, y_min = lonlat_to_mercator(lon_min, lat_min)
    x_max, y_max = lonlat_to_mercator(lon_max, lat_max)
    return x_min, y_min, x_max, y_max


def test_one_zoom_and_a_range_are_counted_per_level_and_in_total():
    world = (-ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M)
    cost = tile_cost(world, 0, 2, max_tiles=100)
    assert cost.per_zoom == ((0, 1), (1, 4), (2, 16)) and cost.total == 21 and not cost.refused
    assert describe(cost) == "21 tiles (z0: 1, z1: 4, z2: 16)\nabout 420.0 KB to download (at ~20.0 KB a tile)"
    assert describe(tile_cost(world, 3, 3, 100)).startswith("64 tiles at zoom 3\n")


def test_the_policy_refuses_the_whole_range_and_max_tiles_names_the_field():
    bbox = mercator_bbox(6.0, 45.0, 9.0, 47.0)
    cost = tile_cost(bbox, 12, 13, max_tiles=100_000, bulk_forbidden_host="tile.openstreetmap.org")
    assert all(count < 5000 for _, count in cost.per_zoom) and cost.total > 5000
    assert cost.refusals == (f"tile.openstreetmap.org's tile usage policy forbids bulk downloads: {cost.total:,} tiles "
                             "is more than the 5,000 it allows, whatever the zoom range",)
    small = tile_cost(bbox, 12, 13, max_tiles=1000)
    assert small.refusals[0].startswith(f"{small.total:,} tiles is more than Max tiles (1,000)")
    assert "--" not in " ".join(cost.refusals + small.refusals)  # the form's words, not the command line's


def test_the_mosaic_limit_holds_for_geotiffs_only():
    bbox = mercator_bbox(6.0, 45.0, 9.0, 47.0)
    assert tile_cost(bbox, 13, 13, 10**7, output_format="GTiff", mosaic_max_tiles=1000).refused
    assert not tile_cost(bbox, 13, 13, 10**7, output_format="GPKG", mosaic_max_tiles=1000).refused


def test_the_zoom_for_a_screen_resolution():
    assert zoom_for_resolution(2 * ORIGIN_M / 256 / 2 ** 12) == 12
    assert zoom_for_resolution(38.2) == 12 and zoom_for_resolution(152.9) == 10
    assert zoom_for_resolution(0.001) == 24 and zoom_for_resolution(0.0, bounds=(3, 11)) == 3
    assert human_bytes(999) == "999 bytes" and human_bytes(21_500_000) == "21.5 MB"
