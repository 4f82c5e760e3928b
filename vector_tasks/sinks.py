"""Where buffered features are written: a file (any OGR format by extension, or a layer added
in place to an existing GeoPackage) or a memory layer.

A sink is filled by one thread at a time (the engine's writer), in the order features come,
and closed by the engine: ``close()`` when every feature was added, ``close(complete=False)``
when the run was canceled or failed (the base task then removes the file).
"""
from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Sequence, Union

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransformContext,
    QgsFeature,
    QgsFields,
    QgsMemoryProviderUtils,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsVectorLayerUtils,
    QgsWkbTypes,
)

from ..core.control import Control
from ..core.errors import TaskFailed
from .gpkg_sql import primary_key, quoted

if TYPE_CHECKING:
    from .gpkg_rtree import Boxes


class FileSink:
    """Features into a new file (GeoPackage, or any OGR format by extension), or into a new
    layer added in place to an existing GeoPackage (``base``, the destination itself: its
    other layers are not touched; ``gpkg_in_place`` names it and publishes it).

    Where GDAL is older than 3.8, a GeoPackage is written without its spatial index, which is
    bulk-loaded at close (``gpkg_rtree``): three times faster than GDAL 3.6 inserting one box
    at a time. GDAL 3.8 and later bulk-load it themselves. ``index_at_close``: a GeoPackage
    gets its index at close whatever GDAL does, for features that come in whole layers
    (``add_layer``), where GDAL would index one feature at a time.
    """

    def __init__(self, fields: QgsFields, crs: QgsCoordinateReferenceSystem, destination: Path, layer_name: str,
                 base: Optional[Path] = None, control: Control = Control(), index_at_close: bool = False) -> None:
        options = QgsVectorFileWriter.SaveVectorOptions()
        if base is not None:  # a layer of a name of its own (gpkg_in_place): nothing else is overwritten
            destination = base
            options.actionOnExistingFile = QgsVectorFileWriter.CreateOrOverwriteLayer
        options.driverName = QgsVectorFileWriter.driverForExtension(destination.suffix.lstrip(".")) or "GPKG"
        options.layerName = layer_name  # not the temporary file's name
        self.driver = options.driverName
        self.index_later = options.driverName == "GPKG" and (index_at_close or not gdal_packs_rtree())
        # The boxes of the layers added (add_layer), read as they come: less to do at close.
        self.boxes: Optional[List["Boxes"]] = [] if self.index_later and not gdal_packs_rtree() else None
        self.last_fid = -2 ** 63
        if self.index_later:
            options.layerOptions = [o for o in QgsVectorFileWriter.defaultLayerOptions("GPKG")
                                    if not o.startswith("SPATIAL_INDEX=")] + ["SPATIAL_INDEX=NO"]
        self.destination, self.layer_name = destination, layer_name
        self.writer = QgsVectorFileWriter.create(str(destination), fields, QgsWkbTypes.MultiPolygon, crs,
                                                 QgsCoordinateTransformContext(), options)
        if self.writer.hasError() != QgsVectorFileWriter.NoError:
            message, self.writer = self.writer.errorMessage(), None  # closed now, not when a collection finds it
            raise TaskFailed(f"could not create {destination.name}: {message}")

    def add(self, features: List[QgsFeature]) -> None:
        if not self.writer.addFeatures(features):
            raise TaskFailed(f"could not write features: {self.writer.errorMessage()}")

    def end_writer(self) -> None:
        """Close the writer, keeping the table as written so far: later features come by ``add_layer``."""
        self.writer = None  # deleting the writer closes the file

    def add_layer(self, layer: QgsVectorLayer, fid_field: Optional[str] = None) -> None:
        """Append a whole layer's features, in its order, in one call: the loop stays in C++,
        where sip releases the GIL (after ``end_writer``).

        ``fid_field``: the layer's field that holds each feature's fid in the output (the
        source's). Appending, GDAL numbers the rows anew, where QGIS's writer creating a table
        (native:buffer's) takes the fids from that field: the rows are then given them back.
        """
        fids = None
        if fid_field is not None:
            fids, ok = QgsVectorLayerUtils.getValues(layer, fid_field)  # in the layer's order; the loop in C++
            if not ok:
                raise TaskFailed(f"could not read the field {fid_field!r} of the features to write")
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName, options.layerName = self.driver, self.layer_name
        options.actionOnExistingFile = QgsVectorFileWriter.AppendToLayerNoNewFields
        error, message, *_ = QgsVectorFileWriter.writeAsVectorFormatV3(
            layer, str(self.destination), QgsCoordinateTransformContext(), options)
        if error != QgsVectorFileWriter.NoError:
            raise TaskFailed(f"could not write features: {message}")
        if fids:
            try:
                _renumber_last_rows(self.destination, self.layer_name, fids)
            except sqlite3.Error as exc:  # a file another program holds locked, say
                raise TaskFailed(f"could not keep the features' fids in {self.layer_name!r}: {exc}") from None
        self.rows_appended()

    def rows_appended(self, boxes: Optional["Boxes"] = None) -> None:
        """Rows were appended to the table (committed, by ``add_layer`` or straight in SQLite, in
        fid order): their boxes (given, or read now) are kept for the index built at close."""
        if self.boxes is not None:
            from . import gpkg_rtree  # numpy with it: imported where it is used, not by every run's set-up

            found = boxes if boxes is not None else gpkg_rtree.read_boxes(self.destination, self.layer_name,
                                                                          self.last_fid)
            self.boxes = None if found is None else self.boxes + [found]  # None: all read at close
            if found is not None and len(found[0]):
                self.last_fid = int(found[0].max())

    def indexed(self) -> Optional[int]:
        """How many geometries the boxes read so far hold (null and empty ones have none);
        None when they are read at close."""
        return None if self.boxes is None else sum(len(ids) for ids, _ in self.boxes)

    def close(self, complete: bool = True) -> None:
        """Close the file; give a complete GeoPackage its spatial index."""
        if self.destination is None:
            return
        self.writer = None  # deleting the writer closes the file
        if complete and self.index_later:
            from . import gpkg_rtree  # numpy with it: only where an index is built

            if gdal_packs_rtree() or not gpkg_rtree.add_spatial_index(
                    self.destination, self.layer_name, _joined(self.boxes) if self.boxes else None):
                _gdal_spatial_index(self.destination, self.layer_name)
        self.destination = None


def _joined(parts: List["Boxes"]) -> "Boxes":
    import numpy as np

    return np.concatenate([ids for ids, _ in parts]), np.concatenate([boxes for _, boxes in parts])


def gdal_packs_rtree() -> bool:
    """GDAL 3.8 and later bulk-load a GeoPackage's R-tree in memory themselves: ours
    (``gpkg_rtree``) is only for older GDAL, checked at run time (QGIS may bring either)."""
    from osgeo import gdal

    return int(gdal.VersionInfo("VERSION_NUM")) >= 3080000


def _gdal_spatial_index(path: Path, table: str) -> None:
    """GDAL's own (slower) way to index a GeoPackage table."""
    from osgeo import ogr

    dataset = ogr.Open(str(path), 1)
    if dataset is None:
        raise TaskFailed(f"could not reopen {path.name} to index it")
    layer = dataset.GetLayerByName(table) or dataset.GetLayer(0)
    name, geometry = (text.replace("'", "''") for text in (layer.GetName(), layer.GetGeometryColumn()))
    dataset.ExecuteSQL(f"SELECT CreateSpatialIndex('{name}', '{geometry}')")
    dataset = None  # closes the file


class MemorySink:
    """Features into a new memory layer, made on this (worker) thread; hand it to the main
    thread once filled."""

    def __init__(self, fields: QgsFields, crs: QgsCoordinateReferenceSystem, name: str) -> None:
        self.layer = QgsMemoryProviderUtils.createMemoryLayer(name, fields, QgsWkbTypes.MultiPolygon, crs)

    def add(self, features: List[QgsFeature]) -> None:
        ok, _ = self.layer.dataProvider().addFeatures(features)
        if not ok:
            raise TaskFailed(f"could not add features to the memory layer: {self.layer.dataProvider().lastError()}")

    def close(self, complete: bool = True) -> None:
        self.layer.updateExtents()


Sink = Union[FileSink, MemorySink]


def _renumber_last_rows(path: Path, table: str, fids: Sequence[int]) -> None:
    """Give the last ``len(fids)`` rows of ``table`` (by fid: the rows an append just numbered
    after all others) the ``fids``, in order; they must increase, above every other row's.

    Rows move one at a time, in an order where each fid is free when taken: first those moving
    down, lowest first, then those moving up, highest first (both sequences increase). Rows
    already where they belong (a source without gaps) do not move.
    """
    with closing(sqlite3.connect(str(path), isolation_level=None)) as connection:
        key, name = f'"{quoted(primary_key(connection, table)[0])}"', f'"{quoted(table)}"'
        appended = [row[0] for row in connection.execute(
            f"SELECT {key} FROM {name} ORDER BY {key} DESC LIMIT ?", (len(fids) + 1,))][::-1]
        below = appended.pop(0) if len(appended) > len(fids) else None  # the row before them, if any
        wanted = list(fids)
        if (len(appended) != len(wanted) or not all(isinstance(fid, int) for fid in wanted)
                or any(a >= b for a, b in zip(wanted, wanted[1:])) or (below is not None and wanted[0] <= below)):
            raise TaskFailed(f"could not keep the features' fids in {table!r}: {len(appended)} rows appended "
                             f"for {len(wanted)} fids")
        down = [(new, old) for old, new in zip(appended, wanted) if new < old]
        up = [(new, old) for old, new in zip(appended, wanted) if new > old][::-1]
        if not down and not up:
            return
        connection.execute("BEGIN")
        try:
            connection.executemany(f"UPDATE {name} SET {key} = ? WHERE {key} = ?", down + up)
            # As if the rows had come with their fids: the next one appended follows the largest.
            if connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
                connection.execute(f"UPDATE sqlite_sequence SET seq = (SELECT max({key}) FROM {name}) "
                                   "WHERE name = ?", (table,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
