"""Output grids (``raster_tasks/grid.py``, pure): intersect and union extents as gdal_calc.py makes them."""
from __future__ import annotations

from offload.raster_tasks.grid import Grid, combined_bounds, grid_over


def test_intersect_and_union_grids_follow_gdal_calc():
    a = Grid((0.0, 10.0, 0.0, 1000.0, 0.0, -10.0), 50, 40)
    b = Grid((200.0, 10.0, 0.0, 900.0, 0.0, -10.0), 50, 40)
    inter = grid_over(combined_bounds([a.bounds, b.bounds], "intersect"), 10.0, 10.0, "")
    assert inter.geotransform == (200.0, 10.0, 0.0, 900.0, 0.0, -10.0) and (inter.width, inter.height) == (30, 30)
    union = grid_over(combined_bounds([a.bounds, b.bounds], "union"), 10.0, 10.0, "")
    assert union.geotransform == (0.0, 10.0, 0.0, 1000.0, 0.0, -10.0) and (union.width, union.height) == (70, 50)
    assert a.differences(b).startswith("geotransform") and a.differences(a) == ""
