"""What a raster calculation asks for: the request every front end builds, and its parsing.

Pure: stdlib only (the plugin imports it at start-up, for the Processing parameters).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from ..core.errors import InputError

FORMATS = ("GTiff", "COG")
OUTPUT_TYPE_NAMES = ("Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64")
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The largest output grid by default: 10 gigapixels (100,000², 40 GB as Float32). A typo in a
# resolution or an --extent union of far-apart inputs asks for far more; --max-pixels raises it.
DEFAULT_MAX_PIXELS = 10_000_000_000


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


def parse_input(binding: str) -> CalcInput:
    """Parse ``NAME=PATH[@BAND]`` (the CLI's ``--input``)."""
    name, sep, rest = binding.partition("=")
    if not sep or not NAME_PATTERN.fullmatch(name.strip()):
        raise InputError(f"input {binding!r} is not NAME=PATH[@BAND]")
    path, band = rest, 1
    match = re.fullmatch(r"(.*)@(\d+)", rest)
    if match:
        path, band = match.group(1), int(match.group(2))
    if not path:
        raise InputError(f"input {binding!r} has no path")
    return CalcInput(name.strip(), path, band)
