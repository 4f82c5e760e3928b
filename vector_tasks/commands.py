"""Command-line entry of the vector family (``python -m offload buffer …``)."""
from __future__ import annotations

import argparse

from .geos_interrupt import DEFAULT_MAX_MEMORY_MB


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "buffer",
        help="buffer a layer's features in the background (the results of native:buffer)",
        description="Buffer features with native:buffer's parameters and defaults, in the background.",
        epilog="Example: buffer --input roads.gpkg|layername=roads --distance 25 --output roads-25m.gpkg",
    )
    parser.add_argument("--input", required=True, help="PATH[|layername=NAME]")
    parser.add_argument("--distance", type=float,
                        help="buffer distance in layer units (default 10); with a field or an expression, "
                             "the distance where they are null")
    distance = parser.add_mutually_exclusive_group()
    distance.add_argument("--distance-field", help="a numeric field holding each feature's distance")
    distance.add_argument("--distance-expression", help="a QGIS expression giving each feature's distance")
    parser.add_argument("--output", required=True,
                        help="PATH (GeoPackage, or any OGR format by extension), or GPKG|layername=NAME: a layer "
                             "written (or, with --overwrite, replaced) inside a GeoPackage, whose other layers stay")
    parser.add_argument("--segments", type=int, default=5, help="segments per quarter circle (default 5)")
    parser.add_argument("--cap", default="round", help="round, flat or square (default round)")
    parser.add_argument("--join", default="round", help="round, miter or bevel (default round)")
    parser.add_argument("--miter-limit", type=float, default=2.0)
    parser.add_argument("--max-memory-mb", type=int, default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                        help="stop a geometry whose buffer makes the run grow by more than this "
                             f"(default {DEFAULT_MAX_MEMORY_MB})")
    parser.add_argument("--dissolve", action="store_true", help="union all buffers into one feature")
    parser.add_argument("--units", default="layer", help="layer, or meters (for geographic layers)")
    parser.add_argument("--invalid", default="fix", help="invalid geometries: fix (makeValid), skip or fail")
    parser.add_argument("--where", help="a QGIS expression selecting the features")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_buffer)


def _buffer(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
    from .buffer import BufferRequest
    from .buffer_task import BufferTask

    request = BufferRequest(
        input=args.input, output=args.output, distance=args.distance, distance_field=args.distance_field,
        distance_expression=args.distance_expression,
        segments=args.segments, end_cap=args.cap, join=args.join, miter_limit=args.miter_limit,
        max_memory_mb=args.max_memory_mb,
        dissolve=args.dissolve, units=args.units, invalid=args.invalid, where=args.where, overwrite=args.overwrite,
    )
    return run_task(lambda: BufferTask(request), args, full_qgis=True)
