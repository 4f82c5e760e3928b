"""Command-line entries of the network family (``python -m offload download …``)."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..core.vocabulary import add_argument
from .request import (
    BBOX_CRS, CACHE_MB, DECODE, DOWNLOAD_TIMEOUT, FORMAT, MAX_AGE, MAX_BYTES, MAX_TILE_BYTES, MAX_TILES, RETRIES,
    TILE_SIZE, TIMEOUT, WORKERS, ZOOM, format_for_output,
)

NEGATIVE_NUMBERS = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+(,[-+]?[\d.eE+-]*)+$")


def add_commands(commands: argparse._SubParsersAction) -> None:
    _add_tiles(commands)
    parser = commands.add_parser(
        "download",
        help="download one file (streamed, size- and checksum-checked, atomic)",
        description="Download one file over HTTP(S); the output appears only when complete and checked.",
    )
    parser.add_argument("--url", required=True, help="http(s) URL (file: with --allow-file-urls)")
    parser.add_argument("--output", required=True, type=Path, help="where to write the file")
    parser.add_argument("--sha256", help="expected SHA-256 of the file (hex); a mismatch fails")
    add_argument(parser, MAX_BYTES, metavar="BYTES")
    add_argument(parser, DOWNLOAD_TIMEOUT, metavar="SECONDS")
    parser.add_argument("--user-agent", default="", help="HTTP User-Agent (default: Offload/VERSION)")
    parser.add_argument("--allow-file-urls", action="store_true", help="allow file: URLs")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_download)


def _download(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
    from .request import FileRequest
    from .download_task import FileDownloadTask

    request = FileRequest(
        url=args.url,
        output=args.output,
        sha256=args.sha256,
        max_bytes=args.max_bytes,
        timeout_s=args.timeout_s,
        user_agent=args.user_agent,
        allow_file_urls=args.allow_file_urls,
        overwrite=args.overwrite,
        proxies=(),  # the command line's proxy is the environment's (HTTPS_PROXY …), never QGIS's settings
    )
    return run_task(lambda: FileDownloadTask(request), args)


def _bbox(text: str):
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"bbox {text!r} is not XMIN,YMIN,XMAX,YMAX")
    return values


def _zooms(text: str):
    """'14' → (None, 14); '10-16' → (10, 16)."""
    low, dash, high = text.strip().partition("-")
    try:
        return (int(low), int(high)) if dash else (None, int(low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"zoom {text!r} is not a level (14) or a range MIN-MAX (10-16)") from None


def _header(text: str):
    """'Name: value' → (name, value); the value is never echoed."""
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError("a --header is not 'Name: value'")
    return name.strip(), value.strip()


def _add_tiles(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "tiles",
        help="download the XYZ tiles over a bbox into a GeoTIFF/COG mosaic or a GeoPackage/MBTiles package",
        description="Download the tiles a bbox touches over a zoom range, politely (few connections, retries, "
                    "Retry-After, a cache), into a georeferenced mosaic in EPSG:3857 (GeoTIFF, COG) or a "
                    "package of the tiles as served (GeoPackage, MBTiles).",
        epilog="Example: tiles --url 'https://tiles.example.org/{z}/{x}/{y}.png' --bbox 6.9,45.9,7.1,46.1 "
               "--zoom 12 --output area.tif",
    )
    parser.add_argument("--url", required=True, help="template with {z} {x} {y}, {-y} (TMS), {q} (quadkey), {s}")
    parser.add_argument("--bbox", required=True, type=_bbox, help="XMIN,YMIN,XMAX,YMAX (in --bbox-crs)")
    add_argument(parser, BBOX_CRS)
    add_argument(parser, ZOOM, required=True, type=_zooms, default=None, metavar="Z|MIN-MAX",
                 help=f"{ZOOM.help} ({ZOOM.minimum}..{ZOOM.maximum})")  # required: no default to show
    parser.add_argument("--output", required=True, type=Path)
    add_argument(parser, FORMAT, default=None)  # None: the output's suffix says
    parser.add_argument("--header", action="append", default=[], type=_header, metavar="'NAME: VALUE'",
                        help="an extra HTTP header on every tile request (repeatable), e.g. 'Referer: https://…'; "
                             "its value is never logged")
    parser.add_argument("--name", default="", help="a package's name (default: the output's file name)")
    parser.add_argument("--attribution", default="", help="a package's attribution, e.g. '© OpenStreetMap'")
    parser.add_argument("--cache", type=Path, help="tile cache folder (default: per user, per template)")
    add_argument(parser, CACHE_MB)
    add_argument(parser, WORKERS, metavar="N")
    add_argument(parser, RETRIES, metavar="N")
    add_argument(parser, TIMEOUT, metavar="SECONDS")
    add_argument(parser, TILE_SIZE)
    add_argument(parser, MAX_TILE_BYTES, metavar="BYTES")
    add_argument(parser, DECODE)
    add_argument(parser, MAX_TILES, metavar="N")
    parser.add_argument("--user-agent", default="", help="HTTP User-Agent (default: Offload/VERSION)")
    parser.add_argument("--subdomains", default="", help="letters for {s}, e.g. abc")
    parser.add_argument("--clip", action="store_true", help="clip the mosaic to the bbox")
    parser.add_argument("--allow-missing", action="store_true", help="leave tiles that keep failing empty")
    parser.add_argument("--allow-file-urls", action="store_true", help="allow file: templates")
    add_argument(parser, MAX_AGE, metavar="SECONDS")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_tiles)
    # argparse takes "-122.5,37.7,…" for an option (its test for negative numbers knows no
    # commas), so `--bbox -122.5,…` needed `--bbox=`. Teach it numbers separated by commas.
    parser._negative_number_matcher = NEGATIVE_NUMBERS


def _tiles(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
    from .request import TileRequest
    from .tile_task import TileDownloadTask

    zoom_min, zoom = args.zoom
    output_format = args.format or format_for_output(args.output)
    request = TileRequest(
        template=args.url, bbox=args.bbox, zoom=zoom, zoom_min=zoom_min, format=output_format,
        headers=tuple(args.header), name=args.name, attribution=args.attribution, output=args.output, bbox_crs=args.bbox_crs,
        cache_dir=args.cache, cache_mb=args.cache_mb, workers=args.workers, retries=args.retries, timeout_s=args.timeout_s,
        decode=args.decode, max_tiles=args.max_tiles, user_agent=args.user_agent, subdomains=args.subdomains,
        clip=args.clip, allow_missing=args.allow_missing, allow_file_urls=args.allow_file_urls,
        max_age_s=args.max_age_s, overwrite=args.overwrite, max_tile_bytes=args.max_tile_bytes,
        tile_px=int(args.tile_px), proxies=(),  # the environment's proxy, never QGIS's settings
    )
    return run_task(lambda: TileDownloadTask(request), args)
