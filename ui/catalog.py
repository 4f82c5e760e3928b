"""Every task the dialog offers, as plain values: the plugin builds its menus from this list
at start-up without importing any form or engine (QGIS starts faster)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from ..core.i18n import tr_noop


@dataclass(frozen=True)
class TaskEntry:
    key: str  # the form's id: menu actions are "offload_<key>", settings live under it
    title: str
    group: str  # Raster | Network | Vector: the dialog's drop-down groups
    menu: str  # where QGIS users look for it: raster | web | vector
    form: str  # "module:Class" under offload.ui.forms
    summary: str  # one or two sentences shown above the form
    help: Tuple[str, ...] = ()  # the README's "## " sections the Help button shows


TASKS: Tuple[TaskEntry, ...] = (
    TaskEntry("calc", tr_noop("Raster calculator"), "Raster", "raster", "calc_form:CalcForm",
              tr_noop("numpy expressions over named rasters, as gdal_calc.py users write them, plus slope(), "
                      "aspect(), hillshade() and focal_mean/min/max(); block by block on all cores, never the "
                      "whole raster in memory."),
              ("Raster math", "The dialog")),
    TaskEntry("tiles", tr_noop("Download tiles (XYZ)"), "Network", "web", "tiles_form:TilesForm",
              tr_noop("The XYZ tiles over an area, from a URL or one of QGIS's XYZ sources: a GeoTIFF mosaic (RGBA "
                      "imagery, or a Float32 DEM from Terrarium or Terrain-RGB tiles), or a GeoPackage or MBTiles "
                      "of the tiles as served; cached, retried politely, resumed after a cancel."),
              ("Tiled downloads", "The dialog")),
    TaskEntry("download", tr_noop("Download a file"), "Network", "web", "download_form:DownloadForm",
              tr_noop("One file over HTTP(S), streamed, checked and resumed after an interruption; loaded as a layer "
                      "if you say it is one."), ("Tiled downloads", "The dialog")),
    TaskEntry("buffer", tr_noop("Buffer"), "Vector", "vector", "buffer_form:BufferForm",
              tr_noop("native:buffer's results, off the main thread: fixed or per-feature distances, metres on "
                      "geographic layers, invalid geometries fixed; into a file or a memory layer."),
              ("Buffering", "The dialog")),
)
GROUPS = (tr_noop("Raster"), tr_noop("Network"), tr_noop("Vector"))


def entry(key: str) -> TaskEntry:
    """The entry named ``key``. :raises KeyError: for an unknown key."""
    for task in TASKS:
        if task.key == key:
            return task
    raise KeyError(f"no Offload task {key!r}")
