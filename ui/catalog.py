"""Every task the dialog offers, as plain values: the plugin builds its menus from this list
at start-up without importing any form or engine (QGIS starts faster)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class TaskEntry:
    key: str  # the form's id: menu actions are "offload_<key>", settings live under it
    title: str
    group: str  # Raster | Network | Vector: the dialog's drop-down groups
    menu: str  # where QGIS users look for it: raster | web | vector
    form: str  # "module:Class" under offload.ui.forms


TASKS: Tuple[TaskEntry, ...] = (
    TaskEntry("calc", "Raster calculator", "Raster", "raster", "calc_form:CalcForm"),
    TaskEntry("tiles", "Download tiles (XYZ)", "Network", "web", "tiles_form:TilesForm"),
    TaskEntry("download", "Download a file", "Network", "web", "download_form:DownloadForm"),
    TaskEntry("buffer", "Buffer", "Vector", "vector", "buffer_form:BufferForm"),
)
GROUPS = ("Raster", "Network", "Vector")


def entry(key: str) -> TaskEntry:
    """The entry named ``key``. :raises KeyError: for an unknown key."""
    for task in TASKS:
        if task.key == key:
            return task
    raise KeyError(f"no Offload task {key!r}")
