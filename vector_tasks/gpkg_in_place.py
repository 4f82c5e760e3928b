"""A layer written inside an existing GeoPackage, in place, without replacing the file.

A GeoPackage is a database other programs may hold open (QGIS keeps one it edits open in
WAL mode) and write meanwhile: replacing the file with an edited copy would lose their
writes, and those made later through a connection still open on the replaced file. So the
layer is written into the user's file itself, under a temporary layer name no one else
uses; on success one transaction drops the old layer (when replacing it) and renames the
temporary one (GDAL renames its R-tree, triggers and ``gpkg_*`` rows with it). On cancel
or failure the temporary layer is dropped: the other layers, and the old one, stay as they were.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Optional

from ..core.errors import TaskFailed
from ..core.outputs import owner_is_gone, owner_tag

TEMP_LAYER_PREFIX = "offload_temp_"
_TEMP_LAYER = re.compile(rf"^{TEMP_LAYER_PREFIX}([0-9a-f]{{4}}_[0-9]+)_[0-9a-f]{{8}}$")


def temporary_layer_name() -> str:
    """A layer name of this run's own, naming its owner like temporary files do."""
    return f"{TEMP_LAYER_PREFIX}{owner_tag()}_{uuid.uuid4().hex[:8]}"


class LayerInPlace:
    """The layer ``layer`` of the GeoPackage ``path``, written as ``temp_layer`` and published
    (``publish``) or dropped (``discard``) by the outputs' commit (``core/outputs.py``)."""

    def __init__(self, path: Path, layer: str, replace: bool) -> None:
        self.path, self.layer, self.replace = Path(path), layer, replace
        self.temp_layer = temporary_layer_name()
        self.published = False

    def publish(self) -> None:
        """Drop the old layer (if replacing it) and give the temporary one its name, in one transaction.

        :raises TaskFailed: when the layer appeared meanwhile and was not to be replaced (it is kept).
        """
        dataset = _open_for_update(self.path)
        if dataset.StartTransaction() != 0:
            raise TaskFailed(f"could not start a transaction in {self.path.name}")
        try:
            # SQLite >= 3.26 checks every view and trigger as a table is renamed: one naming the old
            # layer, dropped a moment before, would fail the rename; the legacy rule keeps them as they
            # are, and they read the new layer once it has the name
            dataset.ExecuteSQL("PRAGMA legacy_alter_table = ON")
            old = _layer_index(dataset, self.layer)
            if old is not None and not self.replace:
                raise TaskFailed(f"layer {self.layer!r} was created in {self.path.name} by another program "
                                 "while this run worked; it was kept")
            if old is not None and dataset.DeleteLayer(old) != 0:
                raise TaskFailed(f"could not replace layer {self.layer!r} in {self.path.name}")
            _drop_dead_runs_layers(dataset)
            written = dataset.GetLayerByName(self.temp_layer)
            if written is None or written.Rename(self.layer) != 0:
                raise TaskFailed(f"could not name the written layer {self.layer!r} in {self.path.name}")
            if dataset.CommitTransaction() != 0:
                raise TaskFailed(f"could not commit layer {self.layer!r} in {self.path.name}")
            self.published = True
        except BaseException:
            dataset.RollbackTransaction()
            raise
        finally:
            dataset = None  # closes the file

    def discard(self) -> None:
        """Drop the temporary layer if it is there (nothing else is touched)."""
        if self.published or not self.path.exists():
            return
        dataset = _open_for_update(self.path)
        index = _layer_index(dataset, self.temp_layer)
        if index is not None:
            dataset.DeleteLayer(index)
        dataset = None  # closes the file


def _open_for_update(path: Path):
    from osgeo import gdal

    dataset = gdal.OpenEx(str(path), gdal.OF_VECTOR | gdal.OF_UPDATE, allowed_drivers=["GPKG"])
    if dataset is None:
        raise TaskFailed(f"could not open {path.name} to write in it")
    return dataset


def _drop_dead_runs_layers(dataset) -> None:
    """Drop the temporary layers that runs on this host, since killed, left in the file: their
    owner's PID no longer runs (as their temporary files are swept beside an output)."""
    dead = []
    for index in range(dataset.GetLayerCount()):
        name = dataset.GetLayer(index).GetName()
        found = _TEMP_LAYER.match(name)
        if found is not None and owner_is_gone(found.group(1)):
            dead.append(name)
    for name in dead:
        index = _layer_index(dataset, name)
        if index is not None:
            dataset.DeleteLayer(index)


def _layer_index(dataset, name: str) -> Optional[int]:
    for index in range(dataset.GetLayerCount()):
        if dataset.GetLayer(index).GetName() == name:
            return index
    return None
