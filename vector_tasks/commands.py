"""Command-line entry of the vector family (``python -m offload buffer …``)."""
from __future__ import annotations

import argparse

from ..core.vocabulary import add_argument
from . import request as vocabulary


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "buffer",
        help="buffer a layer's features in the background (the results of native:buffer)",
        description="Buffer features with native:buffer's parameters and defaults, in the background.",
        epilog="Example: buffer --input roads.gpkg|layername=roads --distance 25 --output roads-25m.gpkg",
    )
    parser.add_argument("--input", required=True, help="PATH[|layername=NAME]")
    # The engine checks the distance, as it does for the API: one message for a NaN everywhere.
    add_argument(parser, vocabulary.DISTANCE, type=float, metavar="D")
    distance = parser.add_mutually_exclusive_group()
    distance.add_argument("--distance-field", help="a numeric field holding each feature's distance")
    distance.add_argument("--distance-expression", help="a QGIS expression giving each feature's distance")
    parser.add_argument("--output", required=True,
                        help="PATH (GeoPackage, or any OGR format by extension), or GPKG|layername=NAME: a layer "
                             "written (or, with --overwrite, replaced) inside a GeoPackage, whose other layers stay")
    add_argument(parser, vocabulary.SEGMENTS, metavar="N")
    add_argument(parser, vocabulary.END_CAP)
    add_argument(parser, vocabulary.JOIN)
    add_argument(parser, vocabulary.MITER_LIMIT, metavar="RATIO")
    add_argument(parser, vocabulary.MAX_MEMORY_MB, metavar="MB")
    parser.add_argument("--dissolve", action="store_true", help="union all buffers into one feature")
    add_argument(parser, vocabulary.UNITS)
    add_argument(parser, vocabulary.INVALID)
    parser.add_argument("--where", help="a QGIS expression selecting the features")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_buffer)


def _buffer(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
    from .buffer_task import BufferTask

    request = vocabulary.BufferRequest(
        input=args.input, output=args.output, distance_field=args.distance_field,
        distance_expression=args.distance_expression, dissolve=args.dissolve, where=args.where,
        overwrite=args.overwrite, **{option.name: getattr(args, option.name) for option in vocabulary.OPTIONS},
    )
    return run_task(lambda: BufferTask(request), args, full_qgis=True)
