"""The demo's commands: ``demo`` (the offline end-to-end run) and ``serve-tiles`` (the embedded
tile server the demo, the tests and the benchmarks use)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    _add_demo(commands)
    _add_serve_tiles(commands)


def _add_demo(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="run the offline end-to-end demo",
                                 description="Offload end to end on this machine, offline: a local tile "
                                             "server, tiles, slope and hillshade, buffered points, a project "
                                             "and a map.")
    parser.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for the results")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from .run import run_demo

    return run_demo(args)


def _add_serve_tiles(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve-tiles",
        help="serve synthetic terrain or imagery tiles on 127.0.0.1 (for demos and tests)",
        description="Serve deterministic tiles on 127.0.0.1 only; prints the URL template on its first line.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--source", default="terrain", help="terrain (Terrarium PNG), imagery, or a folder z/x/y.ext")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of tiles whose first answer is a 500")
    parser.add_argument("--rate-429", type=float, default=0.0, help="fraction answered 429 with Retry-After: 1 first")
    parser.add_argument("--truncate-rate", type=float, default=0.0, help="fraction whose first body is cut short")
    parser.add_argument("--slow-rate", type=float, default=0.0, help="fraction answered 500 ms late the first time")
    parser.add_argument("--seed", type=int, default=0, help="which tiles get the faults")
    parser.set_defaults(handler=_serve_tiles)


def _serve_tiles(args: argparse.Namespace) -> int:
    import sys
    import time

    from ..core.errors import InputError
    from .tile_server import Faults, TileServer

    for name in ("fail_rate", "rate_429", "truncate_rate", "slow_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise InputError(f"--{name.replace('_', '-')} {getattr(args, name)} is not a fraction within 0..1")
    faults = Faults(args.latency_ms, args.fail_rate, args.rate_429, args.truncate_rate, args.slow_rate, args.seed)
    try:
        server = TileServer(args.source, faults, port=args.port)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with server:
        print(server.template, flush=True)
        print(f"offload serve-tiles: {args.source} tiles on 127.0.0.1; Ctrl-C stops", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
