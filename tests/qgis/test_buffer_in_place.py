"""A layer written inside an existing GeoPackage goes into the user's file in place: edits others
make to that file meanwhile, and connections holding it open, keep working (review finding 1)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

from osgeo import gdal, ogr

from offload.core.task import start
from offload.vector_tasks.buffer_task import BufferTask
from offload.vector_tasks.request import BufferRequest
from qgis_helpers import wait_until
from vector_data import make_layer


def tables(path) -> dict:
    """Every table of the file, with its schema and rows: what a user would call its contents."""
    connection = sqlite3.connect(str(path))
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: (connection.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone(),
                       connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall())
                for name in names}
    finally:
        connection.close()


def layer_names(path) -> list:
    dataset = ogr.Open(str(path))
    return sorted(dataset.GetLayer(index).GetName() for index in range(dataset.GetLayerCount()))


def save_a_feature(path, layer_name: str, n: int) -> None:
    dataset = ogr.Open(str(path), 1)
    layer = dataset.GetLayerByName(layer_name)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("n", n)
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((9 9, 10 9, 10 10, 9 9))"))
    assert layer.CreateFeature(feature) == 0
    dataset = None


def test_an_edit_saved_to_another_layer_while_the_run_writes_is_kept(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=60_000)
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=40, name="parcels")
    run = subprocess.Popen([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "3",
                            "--segments", "40", "--output", f"{out}|layername=zones"],
                           env=subprocess_env, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in run.stderr:  # progress: the run is writing its layer
        seen.append(line)
        if "slices written" in line or "% " in line:
            break
    assert run.poll() is None, "the run ended before the edit: " + "".join(seen)
    save_a_feature(out, "parcels", 999)  # the user saves an edit, as QGIS does, while the run works
    rest = run.stderr.read()
    assert run.wait(120) == 0, rest
    dataset = ogr.Open(str(out))
    assert dataset.GetLayerByName("parcels").GetFeatureCount() == 41
    assert dataset.GetLayerByName("zones").GetFeatureCount() == 60_000
    assert layer_names(out) == ["parcels", "zones"]


def test_a_connection_open_in_wal_mode_keeps_writing_to_the_file(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=50)
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=3, name="parcels")
    gdal.SetConfigOption("OGR_SQLITE_JOURNAL", "WAL")  # as QGIS holds a GeoPackage it edits
    try:
        held = ogr.Open(str(out), 1)
    finally:
        gdal.SetConfigOption("OGR_SQLITE_JOURNAL", None)
    parcels = held.GetLayerByName("parcels")

    def save(fid: int, n: int) -> None:
        feature = parcels.GetFeature(fid)
        feature.SetField("n", n)
        assert parcels.SetFeature(feature) == 0
        held.FlushCache()

    save(1, 100)
    done = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "1",
                           "--output", f"{out}|layername=zones"], env=subprocess_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    save(2, 200)  # the user's next save, through the same connection
    fresh = sqlite3.connect(str(out))  # the file on disk, as another program opens it
    try:
        assert fresh.execute("SELECT fid, n FROM parcels WHERE fid IN (1, 2) ORDER BY fid").fetchall() == [
            (1, 100), (2, 200)]
        assert fresh.execute("SELECT count(*) FROM zones").fetchone() == (50,)
    finally:
        fresh.close()
    held = parcels = None


def test_a_replaced_layer_gets_its_name_its_index_and_the_others_stay(tmp_path):
    from qgis_helpers import run_to_end

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=500)
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=40, name="parcels")
    make_layer(out, "points", count=9, name="zones")
    before = tables(out)
    task = BufferTask(BufferRequest(spec, f"{out}|layername=zones", distance=2, overwrite=True))
    assert run_to_end(task, 120) is True
    after = tables(out)
    assert after["parcels"] == before["parcels"]
    assert set(after) == set(before)  # no temporary layer left
    connection = sqlite3.connect(str(out))
    try:
        assert connection.execute("SELECT rtreecheck('rtree_zones_geom')").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM rtree_zones_geom").fetchone() == (499,)  # one null geometry
        assert connection.execute("SELECT count(*) FROM gpkg_contents WHERE table_name = 'zones'").fetchone() == (1,)
    finally:
        connection.close()
    dataset = ogr.Open(str(out))  # kept: its layer dies with it
    zones = dataset.GetLayerByName("zones")
    assert zones.TestCapability(ogr.OLCFastSpatialFilter)
    zones.SetSpatialFilterRect(0, 0, 30, 30)
    assert sorted(feature.GetField("n") for feature in zones) == [0, 1, 2, 50, 51, 52, 100, 101, 102]


def test_a_killed_runs_temporary_layer_goes_at_the_next_run_into_the_file_and_a_live_ones_stays(tmp_path):
    from offload.core.outputs import owner_tag
    from qgis_helpers import run_to_end

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=50)
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=4, name="parcels")
    host = owner_tag().split("_")[0]
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()  # a process that has ended
    killed, live = f"offload_temp_{host}_{dead_pid}_0123abcd", f"offload_temp_{host}_1_0123abcd"  # PID 1 runs
    make_layer(out, "points", count=3, name=killed)
    make_layer(out, "points", count=3, name=live)
    task = BufferTask(BufferRequest(spec, f"{out}|layername=zones", distance=2))
    assert run_to_end(task, 120) is True
    assert layer_names(out) == sorted(["parcels", "zones", live])


def test_a_replaced_layer_that_a_view_reads_is_replaced_and_the_view_reads_the_new_one(tmp_path):
    from qgis_helpers import run_to_end

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=50)
    out = tmp_path / "out.gpkg"
    make_layer(out, "points", count=9, name="zones")
    connection = sqlite3.connect(str(out))
    connection.execute('CREATE VIEW zone_numbers AS SELECT fid, n FROM "zones"')
    connection.commit()
    connection.close()
    task = BufferTask(BufferRequest(spec, f"{out}|layername=zones", distance=2, overwrite=True))
    assert run_to_end(task, 120) is True, task.error and task.error.one_line()
    connection = sqlite3.connect(str(out))
    try:
        assert connection.execute("SELECT count(*) FROM zone_numbers").fetchone() == (50,)
    finally:
        connection.close()


def test_a_canceled_run_leaves_the_file_s_layers_as_they_were_and_no_temporary_layer(tmp_path, project):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=40_000)
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=40, name="parcels")
    make_layer(out, "points", count=9, name="zones")
    before = tables(out)
    task = start(BufferTask(BufferRequest(spec, f"{out}|layername=zones", distance=2, overwrite=True)))
    wait_until(lambda: task.result is not None or set(tables(out)) - set(before), 120, "the run to write its layer")
    task.cancel()
    wait_until(lambda: task.result is not None, 120, "the run to stop")
    assert task.result is False
    assert tables(out) == before


def test_a_failed_run_leaves_the_file_s_layers_as_they_were(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "multi.gpkg", "lines", count=300, name="roads")
    out = tmp_path / "out.gpkg"
    make_layer(out, "polygons", count=40, name="parcels")
    make_layer(out, "polygons", count=9, name="zones")
    before = tables(out)
    failed = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--output",
                             f"{out}|layername=zones", "--overwrite", "--distance-expression",
                             'CASE WHEN "n" = 250 THEN exp(1000) ELSE 1 END'],
                            env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "feature 251" in failed.stderr
    assert tables(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["multi.gpkg", "out.gpkg"]


def test_a_saved_qgis_project_in_the_geopackage_is_never_replaced(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=5)
    out = tmp_path / "proj.gpkg"
    make_layer(out, "polygons", count=3, name="proj")
    connection = sqlite3.connect(str(out))
    connection.execute("CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)")
    connection.execute("INSERT INTO qgis_projects VALUES ('my project', '{}', x'504b0304')")
    connection.commit()
    connection.close()
    before = tables(out)
    for target, options in ((out, ["--overwrite"]), (f"{out}|layername=qgis_projects", []),
                            (f"{out}|layername=qgis_projects", ["--overwrite"])):
        done = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "1",
                               "--output", str(target), *options], env=subprocess_env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2 and "qgis_projects" in done.stderr, done.stderr
        assert tables(out) == before
