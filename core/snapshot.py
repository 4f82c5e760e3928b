"""Main-thread capture of everything a task needs, as plain values.

``snapshot(value, name)`` turns a layer into its source, provider, CRS (WKT) and extent,
copies geometries and rectangles, and refuses any other ``QObject`` (a project, a canvas,
``iface``, a widget): those live on the main thread and must never reach a worker.
Call it on the main thread, in a task's ``__init__``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, is_dataclass
from pathlib import PurePath
from typing import Any, Optional, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsGeometry,
    QgsMapLayer,
    QgsRasterLayer,
    QgsRectangle,
    QgsTask,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QObject

Extent = Tuple[float, float, float, float]  # x_min, y_min, x_max, y_max

_PLAIN = (str, bytes, int, float, bool, complex, PurePath, enum.Enum, type(None))


@dataclass(frozen=True)
class RasterSource:
    """A raster layer as a worker may use it: GDAL opens ``path`` inside ``run()``."""

    path: str
    provider: str
    name: str
    crs_wkt: str
    extent: Extent
    width: int
    height: int
    band_count: int


@dataclass(frozen=True)
class VectorSource:
    """A vector layer as a worker may use it: OGR/QGIS open ``path`` inside ``run()``."""

    path: str
    provider: str
    name: str
    crs_wkt: str
    extent: Extent
    subset: str
    wkb_type: int
    field_names: Tuple[str, ...]
    feature_count: int


def _extent(rect: QgsRectangle) -> Extent:
    return (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())


def raster_source(layer: QgsRasterLayer) -> RasterSource:
    """Snapshot a raster layer (main thread only)."""
    provider = layer.dataProvider()
    return RasterSource(
        path=layer.source(),
        provider=layer.providerType(),
        name=layer.name(),
        crs_wkt=layer.crs().toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED),
        extent=_extent(layer.extent()),
        width=layer.width(),
        height=layer.height(),
        band_count=provider.bandCount() if provider else 0,
    )


def vector_source(layer: QgsVectorLayer) -> VectorSource:
    """Snapshot a vector layer's source (main thread only)."""
    return VectorSource(
        path=layer.source(),
        provider=layer.providerType(),
        name=layer.name(),
        crs_wkt=layer.crs().toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED),
        extent=_extent(layer.extent()),
        subset=layer.subsetString(),
        wkb_type=int(layer.wkbType()),
        field_names=tuple(layer.fields().names()),
        feature_count=int(layer.featureCount()),
    )


def snapshot(value: Any, name: str) -> Any:
    """Copy ``value`` into something a background thread may hold.

    :param name: the argument's name, used in the error message.
    :raises TypeError: for a main-thread ``QObject`` that has no snapshot form.
    """
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, QgsRasterLayer):
        return raster_source(value)
    if isinstance(value, QgsVectorLayer):
        return vector_source(value)
    if isinstance(value, QgsGeometry):
        return QgsGeometry(value)
    if isinstance(value, QgsRectangle):
        return QgsRectangle(value)
    if isinstance(value, QgsCoordinateReferenceSystem):
        return value.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)
    if isinstance(value, (list, tuple)):
        return tuple(snapshot(item, f"{name}[{index}]") for index, item in enumerate(value))
    if isinstance(value, dict):
        return {key: snapshot(item, f"{name}[{key!r}]") for key, item in value.items()}
    refuse_main_thread_object(value, name)
    return value


def refuse_main_thread_object(value: Any, name: str) -> None:
    """Raise ``TypeError`` if ``value`` is (or directly holds) a main-thread ``QObject``."""
    offender = _main_thread_object(value)
    if offender is None:
        return
    kind = type(offender).__name__
    hint = " (pass the layer itself, or its source path, to be snapshot)" if isinstance(offender, QgsMapLayer) else ""
    raise TypeError(
        f"argument {name!r} is a {kind}, a QObject that lives on the main thread and "
        f"cannot be handed to a background task{hint}"
    )


def _main_thread_object(value: Any) -> Optional[QObject]:
    if isinstance(value, QgsTask):  # tasks are built to cross threads (chains hold their steps)
        return None
    if isinstance(value, QObject):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((v for v in map(_main_thread_object, value) if v is not None), None)
    if isinstance(value, dict):
        return next((v for v in map(_main_thread_object, value.values()) if v is not None), None)
    if is_dataclass(value) and not isinstance(value, type):
        return next((v for v in map(_main_thread_object, vars(value).values()) if v is not None), None)
    return None
