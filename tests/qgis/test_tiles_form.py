"""The tiles form with QGIS's own sources and the cost shown before anything runs (issue 13,
items 3 and 4): a Browser XYZ connection picked in the form reaches a loopback server with its
referer and its auth config's login, whose secret shows nowhere; the count per zoom follows
the extent and the zoom range; refusals read in the dialog's words; api.tiles takes a
connection name or an XYZ layer."""
from __future__ import annotations

import base64
import math
import os
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMessageLog,
    QgsRasterLayer,
    QgsRectangle,
    QgsSettings,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest

from offload import api
from offload.core.errors import InputError
from offload.core.task import running_tasks
from offload.ui.dialog import OffloadDialog
from offload.ui.forms.base import SETTINGS_ROOT
from offload.ui.task_list import TaskHistory
from qgis_helpers import AUTH_PASSWORD, RecordingTileServer, wait_until

AREA = QgsRectangle(6.95, 45.95, 7.0, 46.0)  # EPSG:4326: a handful of tiles at zoom 10-12
SECRET = AUTH_PASSWORD  # basic_auth_config's
REFERER = "https://maps.example.org/"


def slippy_count(bbox, zoom: int) -> int:
    """Tiles covering a lon/lat bbox at ``zoom``, by the OSM wiki's formula (not the engine's code)."""
    lon_min, lat_min, lon_max, lat_max = bbox
    n = 2 ** zoom

    def column(lon):
        return int((lon + 180.0) / 360.0 * n)

    def row(lat):
        return int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)

    return (column(lon_max) - column(lon_min) + 1) * (row(lat_min) - row(lat_max) + 1)


@pytest.fixture
def open_dialog(qgis_iface, project):
    """Opens the dialog on the tiles form (after the test wrote its connections)."""
    QgsSettings().remove(SETTINGS_ROOT)
    made = []

    def open_():
        history = TaskHistory()
        dialog = OffloadDialog(qgis_iface, history)
        dialog.show()
        dialog.show_task("tiles")
        made.append((dialog, history))
        return dialog

    yield open_
    for dialog, history in made:
        dialog.close()
        dialog.deleteLater()
        history.close()
    QgsSettings().remove(SETTINGS_ROOT)


def set_area(form, rectangle=AREA) -> None:
    form.crs.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    form.extent.setOutputExtentFromUser(rectangle, QgsCoordinateReferenceSystem("EPSG:4326"))


def run_and_wait(dialog) -> None:
    QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.tasks.topLevelItemCount() == 1, dialog.message.text()
    wait_until(lambda: not running_tasks(), 60, "the download to end")
    assert dialog.tasks.topLevelItem(0).text(2).startswith("Done in "), dialog.message.text()


def files_under(folder: Path):
    return [Path(root) / name for root, _, names in os.walk(folder) for name in names]


# -- the cost, before anything runs ----------------------------------------------------------

def test_the_form_shows_the_count_per_zoom_and_in_total_as_the_values_change(open_dialog):
    form = open_dialog().current_form()
    form.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png")
    set_area(form)
    form.zoom.setValue(12)
    form.zoom_min.setValue(form.zoom_min.minimum())  # one level
    bbox = (AREA.xMinimum(), AREA.yMinimum(), AREA.xMaximum(), AREA.yMaximum())
    assert form.cost.text().startswith(f"{slippy_count(bbox, 12):,} tiles at zoom 12\nabout ")
    form.zoom_min.setValue(10)
    counts = {z: slippy_count(bbox, z) for z in (10, 11, 12)}
    total = sum(counts.values())
    assert form.cost.text().splitlines()[0] == (
        f"{total:,} tiles (z10: {counts[10]:,}, z11: {counts[11]:,}, z12: {counts[12]:,})")
    assert form.cost.text().splitlines()[1] == f"about {total * 20:,.1f} KB to download (at ~20.0 KB a tile)"
    set_area(form, QgsRectangle(6.0, 45.0, 8.0, 47.0))  # a bigger area: the text follows the extent
    bigger = sum(slippy_count((6.0, 45.0, 8.0, 47.0), z) for z in (10, 11, 12))
    assert form.cost.text().startswith(f"{bigger:,} tiles (z10: ")
    assert "Run would refuse" not in form.cost.text()


def test_an_area_beyond_mercators_latitudes_is_a_one_line_refusal_in_the_count(open_dialog):
    """North of 85.0511° there are no Web Mercator tiles: the count says so (it was an OverflowError)."""
    form = open_dialog().current_form()
    form.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png")
    set_area(form, QgsRectangle(0.0, 86.0, 10.0, 90.0))
    form.zoom.setValue(3)
    form.show_cost()
    assert form.cost.text() == "bbox 0,86,10,90 lies wholly beyond latitude 85.0511°, where Web Mercator tiles end"
    set_area(form, QgsRectangle(0.0, 80.0, 10.0, 90.0))  # reaching past it: clamped, the top row
    form.show_cost()
    assert form.cost.text().startswith("1 tiles at zoom 3\n")


def test_refusals_read_in_the_dialogs_words_before_run_and_run_nothing(open_dialog, tmp_path):
    dialog = open_dialog()
    form = dialog.current_form()
    form.url.setText("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    set_area(form, QgsRectangle(6.0, 45.0, 9.0, 47.0))
    form.zoom.setValue(13)
    form.zoom_min.setValue(12)
    form.max_tiles.setValue(100_000)
    counts = [slippy_count((6.0, 45.0, 9.0, 47.0), z) for z in (12, 13)]
    total = sum(counts)
    assert max(counts) < 5000 < total < 100_000  # each zoom alone is within the policy; the range is not
    assert (f"Run would refuse this: tile.openstreetmap.org's tile usage policy forbids bulk downloads: "
            f"{total:,} tiles is more than the 5,000") in form.cost.text()
    form.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png")  # another server: only Max tiles may refuse
    assert "Run would refuse" not in form.cost.text()
    form.max_tiles.setValue(1000)
    assert f"Run would refuse this: {total:,} tiles is more than Max tiles (1,000)" in form.cost.text()
    form.output.setFilePath(str(tmp_path / "big.tif"))
    QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert "more than Max tiles (1,000)" in dialog.message.text() and "--max-tiles" not in dialog.message.text()
    assert running_tasks() == [] and dialog.tasks.topLevelItemCount() == 0 and list(tmp_path.iterdir()) == []


def test_the_zoom_offered_matches_the_canvas_scale_and_output_sits_near_the_top(open_dialog, qgis_iface):
    canvas = qgis_iface.mapCanvas()
    canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    size = canvas.mapSettings().outputSize()
    canvas.setExtent(QgsRectangle(0, 0, size.width() * 38.2, size.height() * 38.2))  # zoom 12's 38.2 m/px
    form = open_dialog().current_form()
    assert form.zoom.value() == 12
    canvas.setExtent(QgsRectangle(0, 0, size.width() * 152.9, size.height() * 152.9))
    assert open_dialog().current_form().zoom.value() == 10
    rows = form.rows
    labels = [rows.itemAt(row, rows.ItemRole.LabelRole).widget().text() for row in range(rows.rowCount())
              if rows.itemAt(row, rows.ItemRole.LabelRole) is not None]
    assert labels[:4] == ["Source", "URL template", "Output", "Format"]  # then the area and the zooms


# -- sources from QGIS ----------------------------------------------------------------------

def test_a_browser_connection_picked_in_the_form_sends_its_referer_within_its_zooms(
        open_dialog, browser_connections, project, tmp_path):
    with RecordingTileServer("imagery") as server:
        browser_connections("Loopback imagery", url=server.template, zmin=3, zmax=11, referer=REFERER)
        dialog = open_dialog()
        form = dialog.current_form()
        labels = [form.source.itemText(i) for i in range(form.source.count())]
        assert "XYZ connection: Loopback imagery" in labels
        form.pick_source("Loopback imagery")
        assert form.url.text() == server.template
        assert (form.zoom.minimum(), form.zoom.maximum()) == (3, 11)  # the connection's zoom levels
        form.zoom.setValue(15)
        assert form.zoom.value() == 11
        set_area(form)
        form.output.setFilePath(str(tmp_path / "area.tif"))
        run_and_wait(dialog)
    assert server.seen and all(headers.get("Referer") == REFERER for headers in server.seen)
    assert Counter(key.split("/")[0] for key in server.requests) == {"11": slippy_count(
        (AREA.xMinimum(), AREA.yMinimum(), AREA.xMaximum(), AREA.yMaximum()), 11)}
    assert (tmp_path / "area.tif").exists() and project.mapLayersByName("area")


def test_a_geopackage_of_a_zoom_range_from_a_connection_holds_every_level_as_served(
        open_dialog, browser_connections, project, tmp_path):
    bbox = (AREA.xMinimum(), AREA.yMinimum(), AREA.xMaximum(), AREA.yMaximum())
    with RecordingTileServer("imagery") as server:
        browser_connections("Loopback imagery", url=server.template, zmin=3, zmax=11, referer=REFERER)
        dialog = open_dialog()
        form = dialog.current_form()
        form.pick_source("Loopback imagery")
        set_area(form)
        form.output.setFilePath(str(tmp_path / "field.tif"))
        form.output_format.setCurrentIndex(form.output_format.findData("GPKG"))
        assert form.output.filePath() == str(tmp_path / "field.gpkg")  # the file the format makes
        assert not form.decode.isEnabled() and not form.clip.isEnabled()  # a package keeps tiles as served
        form.zoom.setValue(11)
        form.zoom_min.setValue(9)
        counts = {z: slippy_count(bbox, z) for z in (9, 10, 11)}
        assert form.cost.text().startswith(f"{sum(counts.values()):,} tiles (z9: {counts[9]:,}")
        run_and_wait(dialog)
    assert Counter(int(key.split("/")[0]) for key in server.requests) == counts
    assert all(headers.get("Referer") == REFERER for headers in server.seen)
    with sqlite3.connect(str(tmp_path / "field.gpkg")) as db:
        (table,) = db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'tiles'").fetchone()
        stored = dict(db.execute(f'SELECT zoom_level, count(*) FROM "{table}" GROUP BY zoom_level').fetchall())
    assert stored == counts
    log = dialog.log.text.toPlainText()
    assert "--zoom 9-11" in log and "--format GPKG" in log and f"--header 'Referer: {REFERER}'" in log


def test_project_xyz_layers_are_offered_and_the_source_is_remembered(open_dialog, project):
    layer = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/{z}/{x}/{y}.png&zmin=2&zmax=9", "Loopback layer", "wms")
    assert layer.isValid()
    project.addMapLayer(layer)
    dialog = open_dialog()
    form = dialog.current_form()
    assert "Project layer: Loopback layer" in [form.source.itemText(i) for i in range(form.source.count())]
    form.pick_source("Loopback layer")
    assert form.url.text() == "http://127.0.0.1:9/{z}/{x}/{y}.png"
    assert (form.zoom.minimum(), form.zoom.maximum()) == (2, 9)
    form.save_values()  # as Run does
    again = open_dialog().current_form()
    assert again.chosen_source().name == "Loopback layer" and again.zoom.maximum() == 9


def test_a_typed_url_over_a_picked_connection_drops_its_settings(open_dialog, browser_connections):
    browser_connections("Loopback imagery", url="http://127.0.0.1:9/{z}/{x}/{y}.png", zmin=3, zmax=11,
                        referer=REFERER)
    form = open_dialog().current_form()
    form.pick_source("Loopback imagery")
    QTest.keyClicks(form.url, "?style=dark")  # typed as a user types
    assert form.chosen_source() is None and form.source.currentIndex() == 0
    assert (form.zoom.minimum(), form.zoom.maximum()) == (0, 24)


def test_an_auth_configs_secret_reaches_the_server_and_never_the_log_cache_or_output(
        open_dialog, browser_connections, basic_auth_config, project, tmp_path):
    with RecordingTileServer("imagery") as server:
        browser_connections("Private imagery", url=server.template + f"?api_key={SECRET}x",
                            authcfg=basic_auth_config, referer=REFERER)
        dialog = open_dialog()
        messages = []  # everything written to QGIS's log panel meanwhile
        QgsApplication.messageLog().messageReceived.connect(lambda text, *_: messages.append(text))
        QgsMessageLog.logMessage("the run starts", "offload-test")
        form = dialog.current_form()
        form.pick_source("Private imagery")
        set_area(form)
        form.zoom.setValue(11)
        form.output.setFilePath(str(tmp_path / "private.tif"))
        run_and_wait(dialog)
    login = "Basic " + base64.b64encode(f"ann:{SECRET}".encode()).decode()
    assert server.seen and all(headers.get("Authorization") == login for headers in server.seen)
    log = dialog.log.text.toPlainText()
    assert "Command line:" in log and "api_key=<redacted>" in log
    assert SECRET not in log and login[6:] not in log
    assert messages and not any(SECRET in text or login[6:] in text for text in messages)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "offload"
    for path in files_under(cache) + [tmp_path / "private.tif"]:
        assert SECRET not in str(path)
        body = path.read_bytes()
        assert SECRET.encode() not in body and login.encode() not in body, path


# -- api.tiles with QGIS's sources ------------------------------------------------------------

def test_api_tiles_takes_a_connection_name_or_an_xyz_layer(browser_connections, project, tmp_path):
    bbox = (AREA.xMinimum(), AREA.yMinimum(), AREA.xMaximum(), AREA.yMaximum())
    with RecordingTileServer("imagery") as server:
        browser_connections("Loopback imagery", url=server.template, zmin=3, zmax=11, referer=REFERER)
        handle = api.tiles("Loopback imagery", bbox, 11, tmp_path / "by-name.tif")
        assert handle.wait(60) is True, handle.error
        assert server.seen and all(headers.get("Referer") == REFERER for headers in server.seen)
        server.seen.clear()
        layer = QgsRasterLayer(f"type=xyz&url={server.template}&zmin=0&zmax=10&referer=https://layer.example.org/",
                               "XYZ layer", "wms")
        assert layer.isValid()
        project.addMapLayer(layer)
        handle = api.tiles(layer, bbox, 10, tmp_path / "by-layer.tif")
        assert handle.wait(60) is True, handle.error
        assert server.seen and all(headers.get("Referer") == "https://layer.example.org/" for headers in server.seen)
    assert (tmp_path / "by-name.tif").exists() and (tmp_path / "by-layer.tif").exists()


def test_api_tiles_refuses_an_unknown_name_a_zoom_outside_the_connection_and_a_non_xyz_layer(
        browser_connections, project, tmp_path):
    browser_connections("Loopback imagery", url="http://127.0.0.1:9/{z}/{x}/{y}.png", zmin=3, zmax=11)
    bbox = (AREA.xMinimum(), AREA.yMinimum(), AREA.xMaximum(), AREA.yMaximum())
    with pytest.raises(InputError, match=r"XYZ connection 'Loopback imagry' is not one of"):
        api.tiles("Loopback imagry", bbox, 11, tmp_path / "o.tif")
    with pytest.raises(InputError, match=r"zoom 12 is outside 'Loopback imagery''s zoom levels 3-11"):
        api.tiles("Loopback imagery", bbox, 12, tmp_path / "o.tif")
    own_agent = QgsRasterLayer("type=xyz&url=http://127.0.0.1:9/{z}/{x}/{y}.png&http-header:User-Agent=x/1",
                               "Own agent", "wms")
    with pytest.raises(InputError, match=r"'Own agent' sets the User-Agent header, which Offload sets itself"):
        api.tiles(own_agent, bbox, 11, tmp_path / "o.tif")
    other = QgsRasterLayer(str(tmp_path / "missing.tif"), "not xyz", "gdal")
    with pytest.raises(InputError, match=r"layer 'not xyz' is not an XYZ tile layer"):
        api.tiles(other, bbox, 11, tmp_path / "o.tif")
    assert list(tmp_path.iterdir()) == []


def test_the_cache_size_field_bounds_the_tile_cache_and_is_remembered(open_dialog, tmp_path):
    from offload.net_tasks.tile_plan import default_cache_dir

    def on_disk(folder: Path) -> int:
        return sum(path.stat().st_size for path in files_under(folder))

    with RecordingTileServer("imagery") as server:
        dialog = open_dialog()
        form = dialog.current_form()
        form.url.setText(server.template)
        assert form.cache_mb.value() == 512  # the command line's default
        form.cache_mb.setValue(1)
        set_area(form)
        form.zoom.setValue(17)  # ~500 tiles of ~5 KB
        form.output.setFilePath(str(tmp_path / "first.tif"))
        run_and_wait(dialog)
        cache = default_cache_dir(server.template)
        assert on_disk(cache) > 1_000_000  # a run keeps every tile of its own, past the bound
        form.zoom.setValue(12)
        form.output.setFilePath(str(tmp_path / "second.tif"))
        QTest.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
        wait_until(lambda: not running_tasks(), 60, "the second download to end")
    assert dialog.tasks.topLevelItem(0).text(2).startswith("Done in "), dialog.message.text()
    assert 0 < on_disk(cache) <= 1_000_000  # the next run's end trimmed the first run's tiles
    log = dialog.log.text.toPlainText()
    assert re.search(r"--cache-size 1$", log, re.M) and "'CACHE_SIZE': 1," in log  # as a command and a call
    assert open_dialog().current_form().cache_mb.value() == 1  # remembered


@pytest.mark.parametrize("stored, shown", [("5000000", 1_000_000), ("0", 1), ("abc", 512), ("1e12", 512),
                                           ("inf", 512)])
def test_a_remembered_number_that_no_longer_fits_leaves_a_usable_form(open_dialog, stored, shown):
    """A settings file edited by hand: out of range is clamped; not a number, or past what a spin
    box holds (it raised OverflowError in Qt's slot, and the form was never built), is ignored."""
    QgsSettings().setValue(f"{SETTINGS_ROOT}/tiles/cache_mb", stored)
    assert open_dialog().current_form().cache_mb.value() == shown
