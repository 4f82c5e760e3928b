"""Command-line entry of the raster family (``python -m offload calc …``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..core.vocabulary import add_argument
from .request import EXTENT, FORMAT, MAX_PIXELS, NODATA, OUTPUT_TYPE, RESOLUTION, THREADS

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
    add_argument(parser, EXTENT, metavar="intersect|union|NAME")
    add_argument(parser, RESOLUTION, metavar="finest|coarsest|NAME")
    add_argument(parser, OUTPUT_TYPE)
    add_argument(parser, NODATA)
    add_argument(parser, THREADS, metavar="N")
    add_argument(parser, FORMAT)
    parser.add_argument("--co", action="append", default=[], metavar="KEY=VALUE", help="creation option; repeat")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    add_argument(parser, MAX_PIXELS, metavar="N")
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
