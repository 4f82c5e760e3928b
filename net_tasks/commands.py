"""Command-line entries of the network family (``python -m offload download …``)."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

FORMAT_NAMES = ("GTiff", "COG", "GPKG", "MBTiles")  # = tile_download.FORMAT_NAMES (kept light for start-up)
DEFAULT_MAX_TILE_BYTES = 4 * 1024 * 1024  # = fetch.DEFAULT_MAX_TILE_BYTES (kept light for start-up)
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
    parser.add_argument("--max-bytes", type=int,
                        help="fail if the file is larger than this, counted once inflated "
                             "(default: no bound but the free disk)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds the server may take to answer, and to send each further KiB: a stalled or "
                             "dripping transfer fails, a slow steady one does not (default 30)")
    parser.add_argument("--user-agent", default="", help="HTTP User-Agent (default: Offload/VERSION)")
    parser.add_argument("--allow-file-urls", action="store_true", help="allow file: URLs")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_download)


def _download(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
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
        help="download the XYZ tiles over a bbox and mosaic them into a GeoTIFF",
        description="Download the tiles a bbox touches at one zoom, politely (few connections, retries, "
                    "Retry-After, a cache), and mosaic them into a georeferenced GeoTIFF in EPSG:3857.",
        epilog="Example: tiles --url 'https://tiles.example.org/{z}/{x}/{y}.png' --bbox 6.9,45.9,7.1,46.1 "
               "--zoom 12 --output area.tif",
    )
    parser.add_argument("--url", required=True, help="template with {z} {x} {y}, {-y} (TMS), {q} (quadkey), {s}")
    parser.add_argument("--bbox", required=True, type=_bbox, help="XMIN,YMIN,XMAX,YMAX (in --bbox-crs)")
    parser.add_argument("--bbox-crs", default="EPSG:4326", help="CRS of --bbox (default EPSG:4326)")
    parser.add_argument("--zoom", required=True, type=_zooms,
                        help="one level (14) or a range MIN-MAX (10-16): a package holds every level, a "
                             "GeoTIFF/COG is the finest with the coarser ones as overviews")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--format", choices=FORMAT_NAMES,
                        help="default from --output's suffix (.gpkg, .mbtiles; else GTiff). GTiff (mosaic), COG (mosaic with overviews), GPKG or MBTiles (the tiles as "
                             "served, every zoom; a rerun into an existing package adds only what it lacks)")
    parser.add_argument("--header", action="append", default=[], type=_header, metavar="'NAME: VALUE'",
                        help="an extra HTTP header on every tile request (repeatable), e.g. 'Referer: https://…'; "
                             "its value is never logged")
    parser.add_argument("--name", default="", help="a package's name (default: the output's file name)")
    parser.add_argument("--attribution", default="", help="a package's attribution, e.g. '© OpenStreetMap'")
    parser.add_argument("--cache", type=Path, help="tile cache folder (default: per user, per template)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--retries", type=int, default=4, help="retries per tile (default 4)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds one attempt at a tile may take, all of it: connect, headers, body (default 30)")
    parser.add_argument("--tile-size", type=int, default=256,
                        help="pixels on a tile's side: 256 (default) or 512, as the server serves them")
    parser.add_argument("--max-tile-bytes", type=int, default=DEFAULT_MAX_TILE_BYTES,
                        help="refuse a tile body larger than this, counted once inflated "
                             f"(default {DEFAULT_MAX_TILE_BYTES})")
    parser.add_argument("--decode", default="none", help="none, terrarium or terrain-rgb (elevation tiles → DEM)")
    parser.add_argument("--max-tiles", type=int, default=10_000, help="refuse more tiles than this (default 10000)")
    parser.add_argument("--user-agent", default="", help="HTTP User-Agent (default: Offload/VERSION)")
    parser.add_argument("--subdomains", default="", help="letters for {s}, e.g. abc")
    parser.add_argument("--clip", action="store_true", help="clip the mosaic to the bbox")
    parser.add_argument("--allow-missing", action="store_true", help="leave tiles that keep failing empty")
    parser.add_argument("--allow-file-urls", action="store_true", help="allow file: templates")
    parser.add_argument("--max-age", type=float, help="seconds a cached tile stays fresh (default: the server's)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(handler=_tiles)
    # argparse takes "-122.5,37.7,…" for an option (its test for negative numbers knows no
    # commas), so `--bbox -122.5,…` needed `--bbox=`. Teach it numbers separated by commas.
    parser._negative_number_matcher = NEGATIVE_NUMBERS


def _tiles(args: argparse.Namespace) -> int:
    from ..core.runner import run_task
    from .tasks import TileDownloadTask
    from .tile_download import TileRequest

    zoom_min, zoom = args.zoom
    suffix = Path(args.output).suffix.lower()
    output_format = args.format or {".gpkg": "GPKG", ".mbtiles": "MBTiles"}.get(suffix, "GTiff")
    request = TileRequest(
        template=args.url, bbox=args.bbox, zoom=zoom, zoom_min=zoom_min, format=output_format,
        headers=tuple(args.header), name=args.name, attribution=args.attribution, output=args.output, bbox_crs=args.bbox_crs,
        cache_dir=args.cache, workers=args.workers, retries=args.retries, timeout_s=args.timeout,
        decode=args.decode, max_tiles=args.max_tiles, user_agent=args.user_agent, subdomains=args.subdomains,
        clip=args.clip, allow_missing=args.allow_missing, allow_file_urls=args.allow_file_urls,
        max_age_s=args.max_age, overwrite=args.overwrite, max_tile_bytes=args.max_tile_bytes,
        tile_px=args.tile_size,
    )
    return run_task(lambda: TileDownloadTask(request), args)
