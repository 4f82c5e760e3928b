"""Offline tile packages (GeoPackage, MBTiles) against tiles served on 127.0.0.1: the bytes
as served, GDAL's and QGIS's reading (zoom levels as overviews), sparse packages, resume,
refusals, and a writer killed mid-write."""
from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import requests
from osgeo import gdal
from osgeo_utils.samples import validate_gpkg
from qgis.core import QgsRasterLayer, QgsRectangle

from offload.core.errors import InputError, TaskFailed
from offload.demo.synthetic import terrain_grid
from offload.demo.tile_images import imagery_rgb, tile_heights
from offload.demo.tile_server import TileServer
from offload.net_tasks.redact import redact_url
from offload.net_tasks.tile_package import (
    PackageMeta, check_existing_output, image_size, open_package, plan_meta, tile_format, tile_problem,
)
from offload.net_tasks.tiles import Tile, pixel_size_m, tile_bounds

TOP = Tile(532, 362, 10)  # one zoom-10 tile in the Alps; zooms 10..12 under it: 1 + 4 + 16 tiles
ZOOMS = (10, 11, 12)
EXTENSIONS = {"GPKG": "gpkg", "MBTiles": "mbtiles"}
KINDS_AND_FORMATS = [(kind, fmt) for kind in ("GPKG", "MBTiles") for fmt in ("png", "jpg", "webp")]


def pyramid(zooms=ZOOMS):
    """Every tile under TOP at ``zooms``."""
    for z in zooms:
        factor = 2 ** (z - TOP.z)
        for y in range(TOP.y * factor, (TOP.y + 1) * factor):
            for x in range(TOP.x * factor, (TOP.x + 1) * factor):
                yield Tile(x, y, z)


def meta(**fields) -> PackageMeta:
    values = dict(name="Alps imagery", bounds_m=tile_bounds(TOP), zoom_min=10, zoom_max=12,
                  attribution="© Offload test tiles & co")
    values.update(fields)
    return PackageMeta(**values)


def encode(rgb: np.ndarray, driver: str, options=()) -> bytes:
    """An image file made by GDAL's real encoder (PNG, JPEG, WEBP) of (bands, rows, cols) uint8."""
    name = f"/vsimem/test-tile-{random.random()}"
    memory = gdal.GetDriverByName("MEM").Create("", rgb.shape[2], rgb.shape[1], rgb.shape[0], gdal.GDT_Byte)
    memory.WriteRaster(0, 0, rgb.shape[2], rgb.shape[1], rgb.tobytes())
    gdal.GetDriverByName(driver).CreateCopy(name, memory, options=list(options))
    try:
        return bytes(gdal.VSIGetMemFileBuffer_unsafe(name))
    finally:
        gdal.Unlink(name)


def decode(data: bytes) -> np.ndarray:
    """(3, rows, cols) RGB of an image file, decoded by GDAL (as QGIS and GDAL's drivers do)."""
    name = f"/vsimem/test-decode-{random.random()}"
    gdal.FileFromMemBuffer(name, data)
    try:
        return gdal.Open(name).ReadAsArray()[:3]
    finally:
        gdal.Unlink(name)


@pytest.fixture(scope="module")
def tile_folders(tmp_path_factory) -> Dict[str, Path]:
    """JPEG and WebP tiles of the imagery, made by real encoders, as a folder the server serves."""
    folders = {}
    for fmt, driver, options in (("jpg", "JPEG", ["QUALITY=80"]), ("webp", "WEBP", ["QUALITY=80"])):
        folder = tmp_path_factory.mktemp(fmt)
        for tile in pyramid():
            path = folder / str(tile.z) / str(tile.x) / f"{tile.y}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode(imagery_rgb(tile_heights(tile)), driver, options))
        folders[fmt] = folder
    return folders


@pytest.fixture
def served(request, tile_folders):
    """(server, template) serving ``request.param`` tiles: png from the imagery, jpg/webp from a folder."""
    fmt = request.param
    with TileServer("imagery" if fmt == "png" else str(tile_folders[fmt])) as server:
        yield server, f"{server.base_url}/{{z}}/{{x}}/{{y}}.{fmt}"


def fetch_all(template: str, tiles) -> Dict[Tile, bytes]:
    with requests.Session() as session:
        bodies = {}
        for tile in tiles:
            answer = session.get(template.format(z=tile.z, x=tile.x, y=tile.y), timeout=10)
            answer.raise_for_status()
            bodies[tile] = answer.content
        return bodies


def write_package(path: Path, kind: str, bodies: Dict[Tile, bytes], **meta_fields) -> None:
    with open_package(path, kind, meta(**meta_fields)) as package:
        for tile, body in bodies.items():
            package.put(tile, body)


def raw_rows(path: Path, kind: str) -> Dict[Tile, bytes]:
    """The package's tiles read with plain SQL (XYZ keys), not through the writer."""
    with sqlite3.connect(str(path)) as db:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    if kind == "MBTiles":  # TMS rows, counted from the bottom
        return {Tile(x, 2 ** z - 1 - row, z): bytes(data) for z, x, row, data in rows}
    return {Tile(x, row, z): bytes(data) for z, x, row, data in rows}


def mosaic(bodies: Dict[Tile, bytes], z: int) -> np.ndarray:
    """The decoded tiles of zoom ``z`` under TOP, side by side: (3, rows, cols)."""
    tiles = [t for t in pyramid((z,))]
    xs, ys = sorted({t.x for t in tiles}), sorted({t.y for t in tiles})
    return np.concatenate([np.concatenate([decode(bodies[Tile(x, y, z)]) for x in xs], axis=2) for y in ys], axis=1)


# -- the bytes as served, and the metadata -----------------------------------------------------

@pytest.mark.parametrize("kind,served", KINDS_AND_FORMATS, indirect=["served"])
def test_every_tile_is_stored_byte_for_byte_as_served(kind, served, tmp_path):
    server, template = served
    bodies = fetch_all(template, pyramid())
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies)
    stored = raw_rows(path, kind)
    assert set(stored) == set(pyramid())
    assert all(stored[tile] == bodies[tile] for tile in stored), "a tile's bytes changed on the way in"
    again = fetch_all(template, pyramid())  # what the server sends, independently of this writer
    assert all(stored[tile] == again[tile] for tile in stored)
    fmt = tile_format(bodies[TOP])
    assert fmt == template.rsplit(".", 1)[1]
    with sqlite3.connect(str(path)) as db:
        if kind == "GPKG":
            checker = validate_gpkg.GPKGChecker(filename=str(path), abort_at_first_error=False)
            checker.check()
            assert checker.errors == []
            assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
            assert db.execute("SELECT identifier, min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents").fetchone() \
                == ("Alps imagery", *tile_bounds(TOP), 3857)
            assert [r[0] for r in db.execute("SELECT zoom_level FROM gpkg_tile_matrix ORDER BY 1")] == list(ZOOMS)
            webp = db.execute("SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_webp'").fetchone()[0]
            assert webp == (1 if fmt == "webp" else 0)
        else:
            values = dict(db.execute("SELECT name, value FROM metadata"))
            assert {k: values[k] for k in ("name", "format", "minzoom", "maxzoom", "attribution", "type")} == {
                "name": "Alps imagery", "format": fmt, "minzoom": "10", "maxzoom": "12",
                "attribution": "© Offload test tiles & co", "type": "baselayer"}
            west, south, east, north = (float(v) for v in values["bounds"].split(","))
            assert (west, east) == (pytest.approx(7.03125), pytest.approx(7.3828125))
            assert south < float(values["center"].split(",")[1]) < north


# -- GDAL and QGIS read one raster whose zoom levels are its overviews --------------------------

@pytest.mark.parametrize("kind,served", KINDS_AND_FORMATS, indirect=["served"])
def test_gdal_opens_one_raster_with_the_coarser_zooms_as_overviews(kind, served, tmp_path):
    bodies = fetch_all(served[1], pyramid())
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies)
    dataset = gdal.Open(str(path))
    assert (dataset.RasterXSize, dataset.RasterYSize) == (1024, 1024)  # 4 × 4 tiles of zoom 12
    assert dataset.GetGeoTransform()[0] == pytest.approx(tile_bounds(TOP)[0])
    band = dataset.GetRasterBand(1)
    assert band.GetOverviewCount() == 2
    assert [(band.GetOverview(i).XSize, band.GetOverview(i).YSize) for i in range(2)] == [(512, 512), (256, 256)]
    np.testing.assert_array_equal(dataset.ReadAsArray()[:3], mosaic(bodies, 12))
    for level, zoom in ((0, 11), (1, 10)):  # each overview is the stored tiles of its zoom, not a resampling
        overview = np.stack([dataset.GetRasterBand(b).GetOverview(level).ReadAsArray() for b in (1, 2, 3)])
        np.testing.assert_array_equal(overview, mosaic(bodies, zoom))
    assert dataset.GetMetadataItem("ATTRIBUTION" if kind == "GPKG" else "attribution") == "© Offload test tiles & co"


def qgis_block(layer: QgsRasterLayer, bounds, size: int) -> np.ndarray:
    """RGB pixels QGIS's provider reads over ``bounds`` at ``size`` × ``size``."""
    provider = layer.dataProvider()
    bands = []
    for band in (1, 2, 3):
        block = provider.block(band, QgsRectangle(*bounds), size, size)
        bands.append(np.frombuffer(bytes(block.data()), np.uint8).reshape(size, size))
    return np.stack(bands)


@pytest.mark.parametrize("kind,served", [("GPKG", "png"), ("GPKG", "jpg"), ("MBTiles", "png"), ("MBTiles", "webp")],
                         indirect=["served"])
def test_qgis_loads_the_package_and_reads_pixels_at_two_scales(kind, served, tmp_path, monkeypatch):
    # GDAL 3.6's MBTiles driver saves an overview's statistics (QGIS computes them on load) as
    # " - zoom_level=N.aux.xml" in the working folder. Offload's own loading stores them on the package
    # first (test_package_statistics.py); this loads the bare package as a user would: keep that out of
    # the checkout.
    monkeypatch.chdir(tmp_path)
    bodies = fetch_all(served[1], pyramid())
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies)
    layer = QgsRasterLayer(str(path), "package", "gdal")
    assert layer.isValid() and layer.crs().authid() == "EPSG:3857"
    assert layer.width() == 1024 and layer.dataProvider().hasPyramids()
    fine = Tile(TOP.x * 4 + 1, TOP.y * 4 + 2, 12)
    np.testing.assert_array_equal(qgis_block(layer, tile_bounds(fine), 256), decode(bodies[fine]))  # full resolution
    np.testing.assert_array_equal(qgis_block(layer, tile_bounds(TOP), 256), decode(bodies[TOP]))  # zoom 10's tile


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_hidpi_tiles_of_512_pixels_make_a_pyramid_gdal_reads(kind, tmp_path):
    """A connection with tilePixelRatio 2 serves 512-pixel tiles: the tile matrix says so."""
    bodies = {}
    for tile in pyramid((10, 11)):
        x_min, _, _, y_max = tile_bounds(tile)
        bodies[tile] = encode(imagery_rgb(terrain_grid(x_min, y_max, pixel_size_m(tile.z, 512), 512, 512)), "PNG")
    path = tmp_path / f"hidpi.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies, zoom_max=11, tile_px=512)
    dataset = gdal.Open(str(path))
    assert (dataset.RasterXSize, dataset.GetGeoTransform()[1]) == (1024, pytest.approx(pixel_size_m(11, 512)))
    assert dataset.GetRasterBand(1).GetOverview(0).XSize == 512
    np.testing.assert_array_equal(dataset.ReadAsArray(512, 0, 512, 512)[:3],
                                  decode(bodies[Tile(TOP.x * 2 + 1, TOP.y * 2, 11)]))


# -- sparse, resume, refusals -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_tiles_not_given_are_absent_not_blank(kind, tmp_path):
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, pyramid())
    missing = {Tile(TOP.x * 4, TOP.y * 4, 12), Tile(TOP.x * 4 + 3, TOP.y * 4 + 1, 12), Tile(TOP.x * 2 + 1, TOP.y * 2, 11)}
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    write_package(path, kind, {t: b for t, b in bodies.items() if t not in missing})
    assert set(raw_rows(path, kind)) == set(pyramid()) - missing
    dataset = gdal.Open(str(path))
    alpha = dataset.GetRasterBand(4).ReadAsArray()
    assert (alpha[:256, :256] == 0).all() and (alpha[256:512, 768:] == 0).all(), "a missing tile reads as transparent"
    assert (alpha[256:, :768] == 255).all()
    with open_package(path, kind, meta()) as package:
        assert package.holds() == set(pyramid()) - missing


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_reopening_reports_what_is_held_so_a_rerun_adds_only_the_rest(kind, tmp_path):
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, pyramid((10, 11, 12, 13)))
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    first = dict(list(bodies.items())[:9])
    with open_package(path, kind, meta()) as package:
        assert package.holds() == set()
        for tile in first:
            package.put(tile, bodies[tile])
    unsent = next(tile for tile in bodies if tile not in first)
    dropped = open_package(path, kind, meta())
    dropped.put(unsent, bodies[unsent])
    dropped.discard()  # what was put since the last commit is gone
    with open_package(path, kind, meta(zoom_max=13)) as package:  # a rerun that also asks for zoom 13
        held = package.holds()
        assert held == set(first)
        for tile, body in bodies.items():
            if tile not in held:
                package.put(tile, body)
    assert raw_rows(path, kind) == bodies
    dataset = gdal.Open(str(path))
    assert dataset.RasterXSize == 2048  # zoom 13 is now the full resolution
    assert dataset.GetRasterBand(1).GetOverviewCount() == 3


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_a_package_that_disagrees_is_refused_in_one_line(kind, tmp_path):
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, [TOP])
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies)
    with pytest.raises(InputError, match=r"holds png tiles, not jpg") as refused:
        open_package(path, kind, meta(tile_format="jpg"))
    assert "\n" not in str(refused.value)
    other = "MBTiles" if kind == "GPKG" else "GPKG"
    with pytest.raises(InputError, match="cannot take these tiles"):
        open_package(path, other, meta())
    if kind == "MBTiles":  # a format of bytes, as another tool may write: one line, no crash
        with sqlite3.connect(str(path)) as db:
            db.execute("UPDATE metadata SET value = X'706E67' WHERE name = 'format'")
        with pytest.raises(InputError, match=r"it holds b'png' tiles, not images"):
            open_package(path, kind, meta())
        with sqlite3.connect(str(path)) as db:
            db.execute("UPDATE metadata SET value = 'png' WHERE name = 'format'")
    not_sqlite = tmp_path / f"notes.{EXTENSIONS[kind]}"
    not_sqlite.write_text("field notes, not tiles")
    with pytest.raises(InputError, match="not a SQLite file"):
        open_package(not_sqlite, kind, meta())
    assert not_sqlite.read_text() == "field notes, not tiles"
    with open_package(path, kind, meta()) as package:
        with pytest.raises(TaskFailed, match="not a PNG, JPEG or WebP"):
            package.put(Tile(TOP.x * 2, TOP.y * 2, 11), b"<html>rate limited</html>")
        with pytest.raises(TaskFailed, match="is jpg, but the package holds png"):
            package.put(Tile(TOP.x * 2, TOP.y * 2, 11), encode(imagery_rgb(tile_heights(TOP)), "JPEG"))
        with pytest.raises(TaskFailed, match=r"tile 11/\d+/\d+ is a truncated png image"):
            package.put(Tile(TOP.x * 2, TOP.y * 2, 11), bodies[TOP][:-100])
        with pytest.raises(TaskFailed, match="is 512x512 pixels, but the package's tiles are 256x256"):
            package.put(Tile(TOP.x * 2, TOP.y * 2, 11), encode(np.zeros((3, 512, 512), np.uint8), "PNG"))
        with pytest.raises(TaskFailed, match="outside the package's zoom levels"):
            package.put(Tile(0, 0, 3), bodies[TOP])
    with pytest.raises(InputError, match="zoom range 12-10"):
        open_package(tmp_path / "new.gpkg", kind, meta(zoom_min=12, zoom_max=10))
    with pytest.raises(InputError, match="is not a SQLite file"):
        open_package(tmp_path, kind, meta())
    with pytest.raises(InputError, match="folder .*nowhere of package new.gpkg does not exist"):
        open_package(tmp_path / "nowhere" / "new.gpkg", kind, meta())
    assert not (tmp_path / "new.gpkg").exists()


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_a_package_says_its_source_and_takes_no_other_source_s_tiles(kind, tmp_path):
    """A new key is the same source (its value is hidden, never stored); another template is not."""
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, [TOP])
    path = tmp_path / f"out.{EXTENSIONS[kind]}"
    ours = "https://tiles.example.com/{z}/{x}/{y}.png?key=secret-one"
    write_package(path, kind, bodies, source=redact_url(ours))
    assert b"secret-one" not in path.read_bytes()
    if kind == "GPKG":  # GDAL's metadata: gdalinfo and QGIS show it
        assert gdal.Open(str(path)).GetMetadataItem("OFFLOAD_SOURCE") == "https://tiles.example.com/{z}/{x}/{y}.png?key=***"
    with open_package(path, kind, meta(source=redact_url(ours.replace("one", "two")))) as package:
        assert package.holds() == {TOP}
    # The same server named another way: http or https, a shard of its host ({s}, a.), a default port
    for same in ("http://{s}.tiles.example.com/{z}/{x}/{y}.png?key=x", "https://a.Tiles.example.com:443/{z}/{x}/{y}.png?key=y"):
        with open_package(path, kind, meta(source=redact_url(same))) as package:
            assert package.holds() == {TOP}
    satellite = meta(source="https://satellite.example.com/{z}/{x}/{y}.jpg")
    said = r"its tiles come from https://tiles\.example\.com/\{z\}/\{x\}/\{y\}\.png\?key=\*\*\*, not https://satellite"
    with pytest.raises(InputError, match=said) as refused:
        open_package(path, kind, satellite)
    assert "\n" not in str(refused.value)
    with pytest.raises(InputError, match=said):
        check_existing_output(path, kind, satellite, overwrite=False)
    assert raw_rows(path, kind) == bodies
    shard = meta(source="https://a.example.com/{z}/{x}/{y}.png")  # not a shard of tiles.example.com: its own host
    with pytest.raises(InputError, match="not https://a.example.com/"):
        open_package(path, kind, shard)
    unknown = tmp_path / f"elsewhere.{EXTENSIONS[kind]}"  # made by a tool that does not say: any source adds to it
    write_package(unknown, kind, bodies)
    with open_package(unknown, kind, satellite) as package:
        assert package.holds() == {TOP}


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_a_key_in_the_source_s_path_is_never_stored_or_shown(kind, tmp_path):
    """A key in the path is hidden as one in the query is; a package an older version wrote with
    the key still in its path is the same source, and its refusal does not show that key."""
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, [TOP])
    keyed = "https://tiles.example.com/a1b2c3d4e5f6a7b8c9d0/{z}/{x}/{y}.png"
    path = tmp_path / f"new.{EXTENSIONS[kind]}"
    write_package(path, kind, bodies, source=redact_url(keyed))
    assert b"a1b2c3d4e5f6a7b8c9d0" not in path.read_bytes()
    older = tmp_path / f"older.{EXTENSIONS[kind]}"
    write_package(older, kind, bodies, source=keyed)  # as stored before keys in paths were hidden
    with open_package(older, kind, meta(source=redact_url(keyed.replace("a1b2", "f9e8")))) as package:
        assert package.holds() == {TOP}
    with pytest.raises(InputError, match=r"come from https://tiles\.example\.com/\*\*\*/") as refused:
        open_package(older, kind, meta(source="https://satellite.example.com/{z}/{x}/{y}.jpg"))
    assert "a1b2c3d4e5f6a7b8c9d0" not in str(refused.value)


def planned_meta(template: str, tmp_path: Path, kind: str) -> PackageMeta:
    """What a run of ``template`` says of its package: the engine's plan, as a run makes it (no request sent)."""
    from offload.net_tasks.request import TileRequest
    from offload.net_tasks.tile_plan import validate_tile_request

    x_min, y_min, x_max, y_max = tile_bounds(TOP)
    plan = validate_tile_request(TileRequest(template, (x_min + 1, y_min + 1, x_max - 1, y_max - 1), 10,
                                             tmp_path / f"planned.{EXTENSIONS[kind]}", bbox_crs="EPSG:3857",
                                             cache_dir=tmp_path / "cache", format=kind))
    return plan_meta(plan)


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_sources_that_differ_only_where_the_shown_source_hides_are_told_apart(kind, tmp_path):
    """Two images' ids in the path both show as ***: a digest of the whole path (never the path
    itself) keeps the second image's tiles out of the first one's package; a new query key is
    still the same source."""
    with TileServer("imagery") as server:
        bodies = fetch_all(server.template, [TOP])
    first = "https://tiles.example.org/5a9f90c42553e6000ce5ad6c/{z}/{x}/{y}.png?key=one"
    second = first.replace("ad6c", "ad6d")
    ours = planned_meta(first, tmp_path, kind)
    assert ours.source == planned_meta(second, tmp_path, kind).source == "https://tiles.example.org/***/{z}/{x}/{y}.png?key=***"
    path = tmp_path / f"image.{EXTENSIONS[kind]}"
    with open_package(path, kind, ours) as package:
        for tile, body in bodies.items():
            package.put(tile, body)
    assert b"5a9f90c42553e6000ce5ad6c" not in path.read_bytes() and b"one" not in path.read_bytes()
    with pytest.raises(InputError, match=r"come from https://tiles\.example\.org/\*\*\*/.*differs from this run's "
                                         r"where it is hidden"):
        open_package(path, kind, planned_meta(second, tmp_path, kind))
    with open_package(path, kind, planned_meta(first.replace("one", "two"), tmp_path, kind)) as package:
        assert package.holds() == {TOP}
    assert raw_rows(path, kind) == bodies
    if kind == "MBTiles":  # anybody's file: a forged digest is another source, never a crash
        with sqlite3.connect(str(path)) as db:
            db.execute("UPDATE metadata SET value = 'pbkdf2-sha256:é' WHERE name = 'offload_source_id'")
        with pytest.raises(InputError, match="differs from this run's where it is hidden"):
            open_package(path, kind, ours)


@pytest.mark.parametrize("driver,options,bands", [
    ("PNG", [], 3), ("PNG", [], 4), ("JPEG", [], 3), ("JPEG", ["PROGRESSIVE=ON"], 3),
    ("WEBP", ["QUALITY=80"], 3), ("WEBP", ["LOSSLESS=YES"], 3), ("WEBP", ["QUALITY=80"], 4)])
def test_size_and_completeness_are_read_from_the_header_and_end_of_real_encoders(driver, options, bands):
    pixels = np.random.default_rng(5).integers(0, 255, (bands, 200, 300), dtype=np.uint8)
    body = encode(pixels, driver, options)
    assert image_size(body) == (300, 200)
    assert image_size(body[:20]) is None  # cut short: unknown, never a wrong size
    assert tile_problem(body, 300) == "is 300x200 pixels, but the package's tiles are 300x300"
    square = encode(pixels[:, :, :200], driver, options)
    assert tile_problem(square, 200) is None
    for cut in (len(square) // 2, len(square) - 1):  # a body that broke off, early or late
        assert tile_problem(square[:cut], 200) == f"is a truncated {tile_format(square)} image ({cut} bytes)"


# -- a writer killed mid-write ----------------------------------------------------------------

WRITER = r"""
import random, sys
from pathlib import Path
from offload.net_tasks.tile_package import PackageMeta, open_package
from offload.net_tasks.tiles import Tile, tile_bounds

def body(tile):  # ~25 KB, different for every tile, framed as a PNG (magic number first, IEND last)
    rng = random.Random(f"{tile.z}/{tile.x}/{tile.y}")
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randrange(20000, 30000)) + b"\0\0\0\0IEND\xaeB`\x82"

path, kind = Path(sys.argv[1]), sys.argv[2]
meta = PackageMeta("killed", tile_bounds(Tile(0, 0, 0)), 0, 14)
package = open_package(path, kind, meta)
for index in range(4 ** 7):
    tile = Tile(index % 128, index // 128, 14)
    package.put(tile, body(tile))
    if index % 64 == 0:
        print(index, flush=True)
"""


def expected_body(tile: Tile) -> bytes:
    rng = random.Random(f"{tile.z}/{tile.x}/{tile.y}")
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randrange(20000, 30000)) + b"\0\0\0\0IEND\xaeB`\x82"


@pytest.mark.parametrize("kind", ["GPKG", "MBTiles"])
def test_a_writer_killed_mid_write_leaves_only_whole_tiles(kind, tmp_path, subprocess_env):
    path = tmp_path / f"killed.{EXTENSIONS[kind]}"
    held_before, hot_journals = 0, []
    for round_number, after_lines in enumerate((6, 11, 17)):  # kill at three moments; each run resumes the last
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), kind], stdout=subprocess.PIPE,
                                 env=subprocess_env)
        try:
            for _ in range(after_lines):
                assert child.stdout.readline(), "the writer died before it was killed"
            time.sleep(0.01 * round_number)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(30)
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        journal = path.with_name(path.name + "-journal")
        hot_journals.append(journal.exists() and journal.stat().st_size > 0)  # killed inside a transaction
        with sqlite3.connect(str(path)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = raw_rows(path, kind)
        assert len(stored) >= held_before and len(stored) > 0
        assert all(body == expected_body(tile) for tile, body in stored.items()), "a held tile is not as sent"
        held_before = len(stored)
        with open_package(path, kind, PackageMeta("killed", tile_bounds(Tile(0, 0, 0)), 0, 14)) as package:
            assert package.holds() == set(stored)
    assert any(hot_journals), "no kill landed inside a transaction: the test proved nothing"
