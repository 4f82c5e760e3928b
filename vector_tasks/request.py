"""What a buffer asks for: its vocabulary and the request every front end builds.

The options are declared once here (keyword, label, bounds, default), with native:buffer's
meaning and defaults; the command line, the Processing algorithm and the dialog are generated
from them. The keywords' QGIS values (``QgsGeometry.CapRound`` …) are the engine's
(``buffer.py``): this module needs no QGIS.

Pure: stdlib only (the plugin imports it at start-up, for the Processing parameters).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Optional, Union

from ..core.errors import InputError
from ..core.vocabulary import Choice, Option, tr_noop

# Choices in native:buffer's order: Processing's enums are positions, so a script written for
# native:buffer's END_CAP_STYLE/JOIN_STYLE means the same with offload:buffer.
END_CAP = Option("end_cap", tr_noop("End cap style"), flag="--cap", default="round", choices=(
    Choice("round", tr_noop("Round")),
    Choice("flat", tr_noop("Flat")),
    Choice("square", tr_noop("Square")),
), help="end cap style of lines")
JOIN = Option("join", tr_noop("Join style"), default="round", choices=(
    Choice("round", tr_noop("Round")),
    Choice("miter", tr_noop("Miter")),
    Choice("bevel", tr_noop("Bevel")),
), help="join style of corners")
UNITS = Option("units", tr_noop("Distance units"), default="layer", choices=(
    Choice("layer", tr_noop("The layer's units")),
    Choice("meters", tr_noop("Meters (also on a geographic layer)")),
), help="what the distance is measured in")
INVALID = Option("invalid", tr_noop("Invalid geometries"), default="fix", choices=(
    Choice("fix", tr_noop("Fix them (make valid)")),
    Choice("skip", tr_noop("Skip them")),
    Choice("fail", tr_noop("Stop with an error")),
), help="what to do with invalid geometries")
# A distance beyond a billion units is a typo in any CRS (the Earth is 4·10⁷ m around); the bound
# also keeps the dialog's spin box a sensible width.
DISTANCE = Option("distance", tr_noop("Distance"), kind=float, default=10.0, minimum=-1e9, maximum=1e9,
                  help="buffer distance (negative: inward); with a distance field or expression, "
                       "the distance where they are null")
SEGMENTS = Option("segments", tr_noop("Segments"), kind=int, default=5, minimum=1, maximum=1000,
                  help="segments per quarter circle")
MITER_LIMIT = Option("miter_limit", tr_noop("Miter limit"), kind=float, default=2.0, minimum=0.01, maximum=1000,
                     help="with miter joins, how far a corner may reach, in distances")
MAX_MEMORY_MB = Option("max_memory_mb", tr_noop("Largest growth while buffering one geometry (MB)"), kind=int,
                       default=4096, minimum=1, unit="MB",
                       help="stop a geometry whose buffer makes the run grow by more than this")
OPTIONS = (DISTANCE, SEGMENTS, END_CAP, JOIN, MITER_LIMIT, UNITS, INVALID, MAX_MEMORY_MB)


@dataclass(frozen=True)
class BufferRequest:
    """native:buffer's parameters, with its defaults.

    ``input`` is a ``PATH[|layername=NAME]``, or a live ``QgsVectorLayer`` (typed loosely: this
    module needs no QGIS). A layer is read as it is when the request is validated, on the main
    thread: unsaved edits and the selection included.
    """

    input: Union[str, PurePath, Any]
    output: Optional[Union[str, Path]]  # PATH[|layername=NAME] (a layer inside a GeoPackage); None: a memory layer
    distance: Optional[float] = DISTANCE.default  # with a field or an expression: where they are null
    distance_field: Optional[str] = None
    distance_expression: Optional[str] = None  # a QGIS expression, evaluated per feature
    segments: int = SEGMENTS.default
    end_cap: str = END_CAP.default
    join: str = JOIN.default
    miter_limit: float = MITER_LIMIT.default
    dissolve: bool = False
    units: str = UNITS.default  # layer | meters (buffer geographic layers in metres)
    invalid: str = INVALID.default  # fix (makeValid) | skip | fail
    where: Optional[str] = None
    selected_only: bool = False  # only the layer's selected features (a layer given as input)
    overwrite: bool = False
    max_memory_mb: int = MAX_MEMORY_MB.default  # a run may grow by this much while GEOS buffers


def input_spec(source: Any) -> str:
    """The ``PATH[|layername=NAME]`` of a request's input: as given, or a layer's ``source()``."""
    if isinstance(source, (str, PurePath)):
        return str(source)
    if callable(getattr(source, "source", None)):
        return source.source()
    raise InputError(f"input {source!r} is neither a path nor a layer")
