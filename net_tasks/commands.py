"""Command-line entries of the network family (``python -m offload download …``)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "download",
        help="download one file (streamed, size- and checksum-checked, atomic)",
        description="Download one file over HTTP(S); the output appears only when complete and checked.",
    )
    parser.add_argument("--url", required=True, help="http(s) URL (file: with --allow-file-urls)")
    parser.add_argument("--output", required=True, type=Path, help="where to write the file")
    parser.add_argument("--sha256", help="expected SHA-256 of the file (hex); a mismatch fails")
    parser.add_argument("--max-bytes", type=int, help="fail if the file is larger than this")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (default 30)")
    parser.add_argument("--user-agent", default="", help="HTTP User-Agent (default: Offload/VERSION)")
    parser.add_argument("--allow-file-urls", action="store_true", help="allow file: URLs")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_download)


def _download(args: argparse.Namespace) -> int:
    from ..cli import run_task
    from .download import FileRequest
    from .tasks import FileDownloadTask

    request = FileRequest(
        url=args.url,
        output=args.output,
        sha256=args.sha256,
        max_bytes=args.max_bytes,
        timeout_s=args.timeout,
        user_agent=args.user_agent,
        allow_file_urls=args.allow_file_urls,
        overwrite=args.overwrite,
    )
    return run_task(lambda: FileDownloadTask(request), args)
