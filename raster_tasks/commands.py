"""Command-line entry of the raster family (``python -m offload calc …``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from .request import DEFAULT_MAX_PIXELS

GDAL_CACHE_BYTES = 16 * 1024 * 1024  # enough for aligned windows; GDAL's default (5% of RAM) only grows RSS


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "calc",
        help="raster math over one or more rasters, block by block",
        description="Compute numpy-style expressions over rasters (as gdal_calc.py users write them), "
                    "window by window on all cores, into a tiled GeoTIFF or COG.",
        epilog="Example: calc --input A=nir.tif --input B=red.tif --expr '(A-B)/(A+B)' --output ndvi.tif",
    )
    parser.add_argument("--expr", action="append", required=True, metavar="EXPR",
                        help="expression; repeat for a multi-band output (one band each)")
    parser.add_argument("--input", action="append", required=True, metavar="NAME=PATH[@BAND]",
                        help="bind an input raster (band 1 by default) to a name; repeat")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--extent", help="align inputs on different grids: intersect, union or an input name")
    parser.add_argument("--resolution", help="with --extent: finest, coarsest or an input name (default finest)")
    parser.add_argument("--type", dest="output_type",
                        help="output type: Byte, UInt16, Int16, UInt32, Int32, Float32, Float64 (default: the widest "
                             "type of the inputs the expression uses, as gdal_calc.py of the inputs it is given)")
    parser.add_argument("--nodata", type=float,
                        help="output nodata value (default: per type, as gdal_calc.py); it must fit the output type "
                             "(Byte: a whole number 0 to 255), else the run is refused")
    parser.add_argument("--threads", type=int, help="worker threads (default: all cores)")
    parser.add_argument("--format", default="GTiff", help="GTiff (default) or COG")
    parser.add_argument("--co", action="append", default=[], metavar="KEY=VALUE", help="creation option; repeat")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help=f"refuse an output grid of more than N pixels (default {DEFAULT_MAX_PIXELS:,})")
    parser.add_argument("--no-space-check", dest="check_free_space", action="store_false",
                        help="do not refuse an output whose uncompressed size exceeds the free disk space")
    parser.set_defaults(handler=_calc)


def _calc(args: argparse.Namespace) -> int:
    from osgeo import gdal

    from ..core.runner import run_task
    from .request import CalcRequest, parse_input
    from .calc_task import RasterCalcTask

    gdal.SetCacheMax(GDAL_CACHE_BYTES)  # the CLI owns this process; inside QGIS the cache is QGIS's
    request = CalcRequest(
        expressions=tuple(args.expr),
        inputs=tuple(parse_input(binding) for binding in args.input),
        output=args.output,
        extent=args.extent,
        resolution=args.resolution,
        output_type=args.output_type,
        nodata=args.nodata,
        threads=args.threads,
        format=args.format,
        creation_options=tuple(args.co),
        overwrite=args.overwrite,
        max_pixels=args.max_pixels,
        check_free_space=args.check_free_space,
    )
    return run_task(lambda: RasterCalcTask(request), args)
