"""What a raster calculation asks for: its vocabulary, the request every front end builds, and
its parsing.

The options are declared once here (keyword, label, bounds, default); the command line, the
Processing algorithm and the dialog are generated from them.

Pure: stdlib only (the plugin imports it at start-up, for the Processing parameters).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from ..core.errors import InputError
from ..core.vocabulary import Choice, Option, tr_noop

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Sources GDAL opens that are not files: /vsizip/…, GPKG:file:table, NETCDF:"file":var, vrt://…
# (a drive letter, C:\…, is one letter: a path).
GDAL_NAME_PATTERN = re.compile(r"/vsi|[A-Za-z][A-Za-z0-9_]+:|[A-Za-z][A-Za-z0-9+.-]*://")
# The largest output grid by default: 10 gigapixels (100,000², 40 GB as Float32). A typo in a
# resolution or an --extent union of far-apart inputs asks for far more; --max-pixels raises it.
DEFAULT_MAX_PIXELS = 10_000_000_000

FORMAT = Option("format", tr_noop("Format"), default="GTiff", choices=(
    Choice("GTiff", tr_noop("GeoTIFF (tiled)")),
    Choice("COG", tr_noop("Cloud Optimized GeoTIFF")),
))
OUTPUT_TYPE = Option("output_type", tr_noop("Output type"), flag="--type", choices=(
    Choice("", tr_noop("The widest type of the inputs the expression uses")),
    Choice("Byte", tr_noop("Byte (0…255)")),
    Choice("UInt16", tr_noop("UInt16 (0…65,535)")),
    Choice("Int16", tr_noop("Int16 (−32,768…32,767)")),
    Choice("UInt32", tr_noop("UInt32")),
    Choice("Int32", tr_noop("Int32")),
    Choice("Float32", tr_noop("Float32 (decimals)")),
    Choice("Float64", tr_noop("Float64 (double precision)")),
), help="output type")
EXTENT = Option("extent", tr_noop("Inputs on different grids"), others="an input's name", choices=(
    Choice("", tr_noop("Inputs share a grid (refuse different grids)")),
    Choice("intersect", tr_noop("Align on the area all inputs cover")),
    Choice("union", tr_noop("Align on the area any input covers")),
), help="align inputs on different grids")
RESOLUTION = Option("resolution", tr_noop("Resolution when aligning"), others="an input's name", choices=(
    Choice("finest", tr_noop("The finest of the inputs")),
    Choice("coarsest", tr_noop("The coarsest of the inputs")),
), help="with --extent, the output's pixel size (default: the finest)")
NODATA = Option("nodata", tr_noop("Output nodata"), kind=float, finite=False,
                help="output nodata value (default: per type, as gdal_calc.py); it must fit the output type "
                     "(Byte: a whole number 0 to 255), else the run is refused")
THREADS = Option("threads", tr_noop("Threads"), kind=int, minimum=1, maximum=256,
                 help="worker threads (default: all cores)")
MAX_PIXELS = Option("max_pixels", tr_noop("Largest output grid (pixels)"), kind=int, minimum=1,
                    default=DEFAULT_MAX_PIXELS, help="refuse an output grid of more than this many pixels")
OPTIONS = (FORMAT, OUTPUT_TYPE, EXTENT, RESOLUTION, NODATA, THREADS, MAX_PIXELS)

FORMATS = FORMAT.keywords
OUTPUT_TYPE_NAMES = tuple(keyword for keyword in OUTPUT_TYPE.keywords if keyword)


@dataclass(frozen=True)
class CalcInput:
    """An input raster bound to a name used in the expressions."""

    name: str
    path: str
    band: int = 1


@dataclass(frozen=True)
class CalcRequest:
    """What to compute, from which rasters, into which file."""

    expressions: Tuple[str, ...]
    inputs: Tuple[CalcInput, ...]
    output: Path
    extent: Optional[str] = None  # intersect | union | an input's name
    resolution: Optional[str] = None  # finest | coarsest | an input's name
    output_type: Optional[str] = None  # Float32, Int16 …; default: the widest type of the inputs used
    nodata: Optional[float] = None
    threads: Optional[int] = None
    format: str = "GTiff"
    creation_options: Tuple[str, ...] = ()
    overwrite: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS  # the largest output grid (width × height)
    check_free_space: bool = True  # refuse an output that may not fit the disk, uncompressed


def is_file_path(source: str) -> bool:
    """Whether ``source`` names a file, which must exist (GDAL's other names are checked by opening them)."""
    return not GDAL_NAME_PATTERN.match(source)


def parse_input(binding: str) -> CalcInput:
    """Parse ``NAME=PATH[@BAND]`` (the CLI's ``--input``)."""
    name, sep, rest = binding.partition("=")
    if not sep:
        raise InputError(f"input {binding!r} is not NAME=PATH[@BAND]")
    return bind_input(name.strip(), rest, binding)


def bind_input(name: str, source: str, as_given: str = "") -> CalcInput:
    """An input named ``name`` for the expressions, from ``PATH[@BAND]`` (the API's and the
    Processing's inputs). ``as_given`` is what the user typed, for the message."""
    as_given = as_given or f"{name}={source}"
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(f"input {as_given!r} is not NAME=PATH[@BAND]")
    path, band = source, 1
    match = re.fullmatch(r"(.*)@(\d+)", source)
    if match:
        path, band = match.group(1), int(match.group(2))
    if not path:
        raise InputError(f"input {as_given!r} has no path")
    return CalcInput(name, path, band)
