"""Where buffered features go: a new file, or a layer written or replaced inside a GeoPackage.

A GeoPackage is a database of layers: replacing the whole file to write one layer would
delete the others. So an output GeoPackage that holds layers other than the one written is
either named with a layer (``out.gpkg|layername=zones``, or Processing's
``ogr:dbname='out.gpkg' table="zones"``), and the layer is written or replaced inside it,
or refused with the names of the layers that would be lost. The input's own file is never
written. Inside a GeoPackage the layer is written in place, under a temporary layer name,
and renamed only when the run succeeded (``gpkg_in_place``): the file, which others may hold
open and write meanwhile, is never replaced.

Pure: stdlib only.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

from ..core.errors import InputError
from ..core.gpkg_tables import BOOKKEEPING_PREFIXES, gpkg_user_tables, is_bookkeeping, user_tables
from ..core.paths import same_file
from .gpkg_sql import read_only

# Formats written by extension, each checked to produce its file(s) under the temporary name and
# publish them: others write other names (.mif, .geojsonseq), need another geometry type (.gpx)
# or refuse the fields (.dxf); a name without an extension would get none.
FILE_FORMATS = (".gpkg", ".shp", ".geojson", ".gml", ".kml", ".fgb", ".sqlite", ".csv", ".tab", ".xlsx", ".ods")
_OGR_URI = re.compile(r"""^ogr:dbname='(?P<path>(?:[^']|'')*)'(?:\s+table="(?P<table>(?:[^"]|"")*)")?""")


@dataclass(frozen=True)
class Destination:
    """The file to produce and the layer in it; ``inside``: the file exists and keeps its other layers."""

    path: Path
    layer: str
    inside: bool = False


def split_destination(text: Union[str, Path]) -> Tuple[Path, Optional[str]]:
    """``PATH``, ``PATH|layername=NAME`` or ``ogr:dbname='PATH' table="NAME" (geom)`` → (path, name or None)."""
    text = str(text)
    match = _OGR_URI.match(text)
    if match:
        table = match.group("table")
        return Path(match.group("path").replace("''", "'")), table.replace('""', '"') if table is not None else None
    path, _, options = text.partition("|")
    layer = None
    for option in filter(None, options.split("|")):
        key, _, value = option.partition("=")
        if key.strip().lower() != "layername" or not value:
            raise InputError(f"output option {option!r} is not layername=NAME")
        layer = value
    return Path(path), layer


def gpkg_layers(path: Path) -> List[str]:
    """The layers (tables of features, attributes or tiles) a GeoPackage holds; [] if it is not one."""
    return gpkg_tables(path)[0]


def gpkg_tables(path: Path) -> Tuple[List[str], List[str]]:
    """A GeoPackage's layers (listed in ``gpkg_contents``) and its other user tables and views,
    which ``gpkg_contents`` does not list (QGIS's ``qgis_projects``, another program's own). In a
    SQLite file that is no GeoPackage, every table is such a table; ([], []) for a file SQLite
    cannot read."""
    try:
        with read_only(path) as connection:
            try:
                return gpkg_user_tables(connection)
            except sqlite3.Error:  # no gpkg_contents: replacing the file would lose every table
                return [], user_tables(connection)
    except sqlite3.Error:
        return [], []


def check_destination(text: Union[str, Path], input_path: Optional[Path], overwrite: bool) -> Destination:
    """Decide where the output goes, or refuse before any work.

    :raises InputError: for the input's own file, a named layer outside a GeoPackage, an
        existing layer without ``overwrite``, a table that is not a layer, or a GeoPackage
        whose other layers or tables would be lost.
    """
    path, layer = split_destination(text)
    if input_path is not None and path.exists() and same_file(path, input_path):
        raise InputError(f"output {str(path)!r} is the input's own file; write to another file")
    if path.suffix.lower() not in FILE_FORMATS:
        what = "a memory layer is not a file" if str(path).lower().startswith("memory:") else (
            f"{path.suffix!r} is not a format buffer writes" if path.suffix else "no file extension")
        raise InputError(f"output {str(path)!r}: {what}; name a file ending in {', '.join(FILE_FORMATS)}")
    is_gpkg = path.suffix.lower() == ".gpkg"
    if layer is not None and not is_gpkg:
        raise InputError(f"output {str(path)!r}: a layer name needs a GeoPackage (.gpkg)")
    existing, hidden = gpkg_tables(path) if is_gpkg and path.is_file() else ([], [])
    if layer is None:
        others = [name for name in existing if name != path.stem] + [f"{name} (not a layer)" for name in hidden]
        if others and overwrite:
            raise InputError(f"output {str(path)!r} holds other layers ({', '.join(others)}) that replacing it "
                             f"would delete; name the layer to write inside it: {path}|layername=NAME")
        return Destination(path, path.stem)
    if is_bookkeeping(layer):
        raise InputError(f"layer name {layer!r} is reserved: GeoPackage and SQLite name their own tables "
                         f"{', '.join(p + '…' for p in BOOKKEEPING_PREFIXES)}; name another layer")
    if hidden and not existing and not _is_geopackage(path):
        raise InputError(f"{str(path)!r} is a SQLite file but no GeoPackage (it holds {', '.join(hidden)}); a layer "
                         "cannot be written inside it: write to another file")
    if layer.lower() in {name.lower() for name in hidden}:
        raise InputError(f"{str(path)!r} holds a table {layer!r} that is not a layer (a QGIS project, another "
                         "program's data); it is never replaced: name another layer")
    same = [name for name in existing if name.lower() == layer.lower()]  # SQLite's names ignore case
    kind = _data_type(path, same[0]) if same else ""
    if same and kind not in ("features", "attributes"):
        raise InputError(f"{str(path)!r} holds {same[0]!r}, a layer of {kind or 'another kind'} "
                         "(a raster's tiles), which a buffer never replaces: name another layer")
    if same and (not overwrite or same != [layer]):
        raise InputError(f"layer {same[0]!r} exists in {str(path)!r}; "
                         + ("pass overwrite to replace it" if same == [layer] else "name it exactly to replace it"))
    return Destination(path, layer, inside=bool(existing or hidden))


def _is_geopackage(path: Path) -> bool:
    """Whether the SQLite file at ``path`` has GeoPackage's table of contents."""
    try:
        with read_only(path) as connection:
            return connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'").fetchone() is not None
    except sqlite3.Error:
        return False


def _data_type(path: Path, layer: str) -> str:
    """``gpkg_contents``' data type of ``layer`` (features, attributes, tiles…); "" if unknown."""
    try:
        with read_only(path) as connection:
            found = connection.execute("SELECT data_type FROM gpkg_contents WHERE table_name = ?", (layer,)).fetchone()
    except sqlite3.Error:
        return ""
    return str(found[0]) if found else ""


