"""``python -m offload``: the same task classes, headless, with exit codes for scripts.

0 done, 1 the task failed, 2 bad input or usage (nothing written), 130 canceled (Ctrl-C).
Errors are one line on stderr; ``--debug`` adds the traceback.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from typing import List, Optional

from .core.errors import EXIT_CANCELED, EXIT_FAILED, EXIT_USAGE, InputError, OffloadError, one_line
from .core.metadata import version



class OneLineParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m offload", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"offload {version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    from .demo import commands as demo_commands
    from .net_tasks import commands as net_commands
    from .raster_tasks import commands as raster_commands
    from .vector_tasks import commands as vector_commands

    raster_commands.add_commands(commands)
    net_commands.add_commands(commands)
    vector_commands.add_commands(commands)
    demo_commands.add_commands(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        return fail(args, exc, EXIT_USAGE)
    except OffloadError as exc:
        return fail(args, exc, exc.exit_code)
    except KeyboardInterrupt:
        print("offload: canceled", file=sys.stderr)
        return EXIT_CANCELED
    except Exception as exc:  # the CLI's boundary: one line, traceback on --debug
        return fail(args, exc, EXIT_FAILED)


def fail(args: argparse.Namespace, exc: BaseException, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(f"offload {args.command}: {one_line(exc)}", file=sys.stderr)
    return code
