"""What a task may keep of the main thread's objects, and the guard that refuses the rest.

A task is built on the main thread and runs on a worker: it may hold plain values (paths,
numbers, a layer's source string, frozen dataclasses of such), and QGIS's thread-safe copies
(a ``QgsVectorLayerFeatureSource``, a ``QgsGeometry``), but never a ``QObject`` that lives on the
main thread (a layer, the project, a canvas, ``iface``). ``OffloadTask`` runs the guard on
every attribute it is given. Call these on the main thread.
"""
from __future__ import annotations

from dataclasses import is_dataclass
from pathlib import PurePath
from typing import Any, Optional

from qgis.core import QgsMapLayer, QgsTask
from qgis.PyQt.QtCore import QObject

from .errors import InputError


def layer_source(value: Any, name: str) -> str:
    """A path as given, or a layer's source (what GDAL/OGR open inside ``run()``).

    :raises InputError: for anything else, naming the argument.
    """
    if isinstance(value, (str, PurePath)):
        return str(value)
    if isinstance(value, QgsMapLayer):
        return value.source()
    raise InputError(f"{name} {value!r} is neither a path nor a layer")


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
