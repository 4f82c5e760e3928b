"""Hostile inputs to buffering (issue 14): no crash, nothing lost, nothing left, cancel answered."""
from __future__ import annotations

import subprocess
import sys

import pytest
from qgis.core import QgsVectorLayer

from offload.core.errors import InputError
from vector_data import make_layer


def offload_buffer(spec, output, env, *options):
    return subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--output", str(output),
                           *options], env=env, capture_output=True, text=True, timeout=120)


def messages(done) -> list:
    return [line for line in done.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line]


def left_in(folder) -> list:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("distance", ["nan", "inf", "-inf"])
def test_a_non_finite_distance_is_refused_by_the_cli(tmp_path, subprocess_env, distance):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    done = offload_buffer(spec, tmp_path / "out.gpkg", subprocess_env, f"--distance={distance}")
    assert done.returncode == 2, done.stderr
    assert messages(done) == [f"offload buffer: distance {distance} is not a finite number"]
    assert left_in(tmp_path) == ["in.gpkg"]


def test_a_non_finite_distance_is_refused_by_the_api_and_processing(offload_provider, tmp_path):
    import processing

    from offload import api

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    with pytest.raises(InputError, match="distance nan is not a finite number"):
        api.buffer(spec, tmp_path / "out.gpkg", distance=float("nan"))
    layer = QgsVectorLayer(spec, "in", "ogr")
    with pytest.raises(Exception, match="distance nan is not a finite number"):
        processing.run("offload:buffer", {"INPUT": layer, "DISTANCE": float("nan"),
                                          "OUTPUT": str(tmp_path / "out.gpkg")})
    assert left_in(tmp_path) == ["in.gpkg"]


@pytest.mark.parametrize("expression, feature, value", [
    ("sqrt(-1)", 1, "nan"),  # NaN for every feature: native:buffer crashes on the first
    ('CASE WHEN "n" = 6 THEN exp(1000) ELSE 1 END', 7, "inf"),  # one feature's distance is infinite
])
def test_a_non_finite_distance_per_feature_fails_naming_the_feature(tmp_path, subprocess_env, expression, feature,
                                                                     value):
    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    done = offload_buffer(spec, tmp_path / "out.gpkg", subprocess_env, "--distance-expression", expression)
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert f"feature {feature}: the distance expression gave {value}" in done.stderr
    assert left_in(tmp_path) == ["in.gpkg"]


def layer_counts(path) -> dict:
    """Each layer of a GeoPackage and its feature count."""
    from osgeo import ogr

    dataset = ogr.Open(str(path))
    return {dataset.GetLayer(i).GetName(): dataset.GetLayer(i).GetFeatureCount() for i in range(dataset.GetLayerCount())}


@pytest.fixture
def two_layers(tmp_path):
    """multi.gpkg holding roads (lines, 300) and parcels (polygons, 40)."""
    roads = make_layer(tmp_path / "multi.gpkg", "lines", count=300, name="roads")
    make_layer(tmp_path / "multi.gpkg", "polygons", count=40, name="parcels")
    return roads


def test_the_input_geopackage_is_never_written(tmp_path, subprocess_env, two_layers):
    done = offload_buffer(two_layers, tmp_path / "multi.gpkg", subprocess_env, "--overwrite")
    assert done.returncode == 2, done.stderr
    assert messages(done) == [f"offload buffer: output {str(tmp_path / 'multi.gpkg')!r} is the input's own file; "
                              "write to another file"]
    assert layer_counts(tmp_path / "multi.gpkg") == {"roads": 300, "parcels": 40}
    assert left_in(tmp_path) == ["multi.gpkg"]


def test_replacing_a_geopackage_with_other_layers_is_refused_naming_them(tmp_path, subprocess_env, two_layers):
    make_layer(tmp_path / "out.gpkg", "polygons", count=5, name="out")
    make_layer(tmp_path / "out.gpkg", "polygons", count=7, name="zones")
    done = offload_buffer(two_layers, tmp_path / "out.gpkg", subprocess_env, "--overwrite")
    assert done.returncode == 2, done.stderr
    assert "holds other layers (zones) that replacing it would delete" in done.stderr
    assert layer_counts(tmp_path / "out.gpkg") == {"out": 5, "zones": 7}
    alone = offload_buffer(two_layers, tmp_path / "alone.gpkg", subprocess_env)  # a file of its own layer: replaced
    assert alone.returncode == 0, alone.stderr
    again = offload_buffer(two_layers, tmp_path / "alone.gpkg", subprocess_env, "--overwrite", "--distance", "3")
    assert again.returncode == 0, again.stderr
    assert layer_counts(tmp_path / "alone.gpkg") == {"alone": 300}


def test_a_layer_is_written_then_replaced_inside_a_geopackage(tmp_path, subprocess_env, two_layers):
    from osgeo import ogr

    make_layer(tmp_path / "out.gpkg", "polygons", count=40, name="parcels")
    target = f"{tmp_path / 'out.gpkg'}|layername=zones"
    added = offload_buffer(two_layers, target, subprocess_env, "--distance", "2")
    assert added.returncode == 0, added.stderr
    assert layer_counts(tmp_path / "out.gpkg") == {"parcels": 40, "zones": 300}
    refused = offload_buffer(two_layers, target, subprocess_env, "--distance", "2")
    assert refused.returncode == 2 and "layer 'zones' exists in" in refused.stderr
    replaced = offload_buffer(two_layers, target, subprocess_env, "--distance", "2", "--where", '"n" < 100',
                              "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert layer_counts(tmp_path / "out.gpkg") == {"parcels": 40, "zones": 100}
    dataset = ogr.Open(str(tmp_path / "out.gpkg"))
    zones = dataset.GetLayerByName("zones")
    assert zones.TestCapability(ogr.OLCFastSpatialFilter)  # its spatial index was made again
    zones.SetSpatialFilterRect(0, 0, 30, 30)
    assert sorted(f.GetField("n") for f in zones) == [0, 1, 2, 50, 51, 52]
    assert left_in(tmp_path) == ["multi.gpkg", "out.gpkg"]


def test_processing_and_the_api_write_a_layer_inside_a_geopackage(offload_provider, tmp_path, project, two_layers):
    import processing

    from offload import api
    from qgis_helpers import wait_until

    make_layer(tmp_path / "out.gpkg", "polygons", count=40, name="parcels")
    layer = QgsVectorLayer(two_layers, "roads", "ogr")
    with pytest.raises(Exception, match=r"holds other layers \(parcels\)"):
        # By its source: the refused run's traceback outlives the test (kept by Processing), and a
        # layer it held would close its OGR handle after QGIS has shut down (a crash at exit).
        processing.run("offload:buffer", {"INPUT": two_layers, "OUTPUT": str(tmp_path / "out.gpkg")})
    toolbox = f"ogr:dbname='{tmp_path / 'out.gpkg'}' table=\"zones\" (geom)"  # the Toolbox's "Save to GeoPackage"
    result = processing.run("offload:buffer", {"INPUT": layer, "DISTANCE": 2, "OUTPUT": toolbox})
    assert result["OUTPUT"] == toolbox
    assert layer_counts(tmp_path / "out.gpkg") == {"parcels": 40, "zones": 300}
    handle = api.buffer(two_layers, f"{tmp_path / 'out.gpkg'}|layername=wide", distance=5)
    wait_until(lambda: handle.task.result is not None, 60, "the buffer to finish")
    assert handle.task.result is True
    assert layer_counts(tmp_path / "out.gpkg") == {"parcels": 40, "zones": 300, "wide": 300}
    (loaded,) = handle.task.loaded_layers()
    assert loaded.name() == "wide" and loaded.featureCount() == 300
    del layer  # this frame outlives the test (the refused run's traceback holds it): drop the OGR layer now


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (Linux), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_interrupts_a_long_geos_call(tmp_path, subprocess_env):
    import signal
    import time

    from vector_data import make_zigzag

    spec = make_zigzag(tmp_path / "zigzag.gpkg")
    run = subprocess.Popen([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "5",
                            "--output", str(tmp_path / "out.gpkg")], env=subprocess_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        peak = 0.0
        started = time.monotonic()
        while time.monotonic() - started < 5:  # start-up, reading, then well into GEOS's one call
            peak = max(peak, peak_rss_mb(run.pid))
            time.sleep(0.05)
        assert run.poll() is None, run.stderr.read()
        peak = max(peak, peak_rss_mb(run.pid))
        run.send_signal(signal.SIGINT)
        asked = time.monotonic()
        returncode = run.wait(timeout=20)
        answered = time.monotonic() - asked
    finally:
        run.kill()
        run.wait()
    assert returncode == 130, run.stderr.read()
    assert answered < 5  # a generous deadline: it answers in well under a second
    assert peak < 2000
    assert left_in(tmp_path) == ["zigzag.gpkg"]


def test_cancel_interrupts_a_long_geos_call_and_the_next_buffer_is_whole(qgis_processing, tmp_path):
    import time

    from offload.core.task import start
    from offload.vector_tasks.request import BufferRequest
    from offload.vector_tasks.buffer_task import BufferTask
    from qgis_helpers import run_to_end, wait_until
    from vector_data import assert_same, make_zigzag, native

    spec = make_zigzag(tmp_path / "zigzag.gpkg", 400_000)
    task = start(BufferTask(BufferRequest(spec, tmp_path / "out.gpkg", distance=5)))
    time.sleep(2.5)  # inside GEOS's one call by now
    assert task.result is None
    asked = time.monotonic()
    task.cancel()
    wait_until(lambda: task.result is not None, 20, "the canceled buffer to end")
    assert time.monotonic() - asked < 5 and task.canceled
    assert left_in(tmp_path) == ["zigzag.gpkg"]
    small = make_layer(tmp_path / "small.gpkg", "polygons", count=300)  # GEOS is not left interrupting anyone
    assert run_to_end(BufferTask(BufferRequest(small, tmp_path / "ours.gpkg", distance=3, segments=8)), 60) is True
    assert_same(QgsVectorLayer(str(tmp_path / "ours.gpkg"), "ours", "ogr"),
                native(qgis_processing, small, tmp_path, DISTANCE=3, SEGMENTS=8))


def test_processing_cancel_interrupts_a_long_geos_call(qgis_processing, tmp_path):
    import threading
    import time

    import processing
    from qgis.core import QgsApplication, QgsProcessingFeedback

    from offload.provider import OffloadProvider
    from vector_data import make_zigzag

    spec = make_zigzag(tmp_path / "zigzag.gpkg", 400_000)
    registry = QgsApplication.processingRegistry()
    added = registry.providerById("offload") is None
    if added:
        registry.addProvider(OffloadProvider())
    feedback = QgsProcessingFeedback()
    asked = []
    cancel = threading.Timer(2.5, lambda: (asked.append(time.monotonic()), feedback.cancel()))
    cancel.start()
    try:
        result = processing.run("offload:buffer", {"INPUT": QgsVectorLayer(spec, "zigzag", "ogr"), "DISTANCE": 5,
                                                   "OUTPUT": str(tmp_path / "out.gpkg")}, feedback=feedback)
    finally:
        cancel.cancel()
        if added:
            registry.removeProvider("offload")
    assert asked and time.monotonic() - asked[0] < 5
    assert result == {}
    assert left_in(tmp_path) == ["zigzag.gpkg"]


def test_a_geometry_whose_buffer_outgrows_the_memory_bound_fails_naming_it(tmp_path, subprocess_env):
    """Left to run (nobody cancels), the zig-zag's one GEOS call is stopped at the bound."""
    import time

    from vector_data import make_zigzag

    spec = make_zigzag(tmp_path / "zigzag.gpkg")
    run = subprocess.Popen([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "5",
                            "--max-memory-mb", "200", "--output", str(tmp_path / "out.gpkg")],
                           env=subprocess_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline:
        try:
            peak = max(peak, peak_rss_mb(run.pid))  # the child's own high-water mark
        except OSError:  # it has just ended
            break
        time.sleep(0.02)
    run.kill()
    _, stderr = run.communicate()
    assert run.returncode == 1, stderr
    assert "feature 1 needed more than 200 MB to buffer" in stderr and "--max-memory-mb" in stderr
    assert peak < 1000  # QGIS itself, plus the bound: not the GBs the call would take
    assert left_in(tmp_path) == ["zigzag.gpkg"]


def test_the_memory_bound_is_checked_before_any_work(tmp_path, two_layers):
    from offload import api

    with pytest.raises(InputError, match="max_memory_mb 0 is below the smallest allowed, 1"):
        api.buffer(two_layers, tmp_path / "out.gpkg", max_memory_mb=0)
    assert not (tmp_path / "out.gpkg").exists()




RUN_THEN_EXIT = """
import sys, threading
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from offload.core.runner import headless_app
headless_app(full=True)  # QGIS exits at the interpreter's exit, as the desktop does
from processing.core.Processing import Processing
Processing.initialize()
import processing
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer
from offload.provider import OffloadProvider

def run(spec, output, cancel_after_s, invalid):
    registry = QgsApplication.processingRegistry()
    registry.addProvider(OffloadProvider())
    feedback = QgsProcessingFeedback()
    cancel = threading.Timer(cancel_after_s, feedback.cancel)
    cancel.start()
    try:
        result = processing.run("offload:buffer", {"INPUT": QgsVectorLayer(spec, "in", "ogr"), "DISTANCE": 5,
                                                   "INVALID": invalid, "OUTPUT": output}, feedback=feedback)
        return "canceled" if result == {} else "finished"
    except QgsProcessingException:
        return "failed"
    finally:
        cancel.cancel()
        registry.removeProvider("offload")  # as the plugin's unload does

print(run(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])), flush=True)
"""


@pytest.mark.parametrize("ending", ["canceled", "failed", "finished"])
def test_a_run_that_ends_early_frees_the_user_s_layer_before_qgis_exits(tmp_path, subprocess_env, ending):
    """A cancel's or failure's traceback held the run's frames, and with them the layer given as
    input, in a cycle (Processing keeps a failure's to the end): collected at exit, after QGIS,
    deleting the layer crashed the process. So did a finished run that fixed a bow tie: the
    slices' engine raised NeedsFixing from a frame whose local held it, and that cycle held every
    frame up to the caller's (crashed in 2-4 of 5 runs)."""
    from vector_data import make_squares_with_bow_ties, make_zigzag

    if ending == "canceled":
        spec, cancel_after_s, invalid = make_zigzag(tmp_path / "in.gpkg", 400_000), 1.0, 2
    elif ending == "failed":  # a bow tie under invalid=fail
        spec, cancel_after_s, invalid = make_squares_with_bow_ties(tmp_path / "in.gpkg", 3000, [2500]), 600.0, 2
    else:  # fixed (the default), in a layer small enough that no collection runs before the exit
        spec, cancel_after_s, invalid = make_squares_with_bow_ties(tmp_path / "in.gpkg", 2, [1]), 600.0, 0
    for _ in range(3 if ending == "finished" else 1):
        done = subprocess.run([sys.executable, "-c", RUN_THEN_EXIT, spec, str(tmp_path / "out.gpkg"),
                               str(cancel_after_s), str(invalid)],
                              env=subprocess_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == ending
        assert left_in(tmp_path) == (["in.gpkg"] if ending != "finished" else ["in.gpkg", "out.gpkg"])
        (tmp_path / "out.gpkg").unlink(missing_ok=True)


@pytest.mark.parametrize("form", ["value", "expression"])
def test_an_output_given_as_a_property_is_checked_and_written_where_it_says(offload_provider, tmp_path, form):
    """Processing takes an output as a QgsProperty (a model's, a script's); the parameter check read
    its text, "<QgsProperty: …>", and refused a run QGIS accepts."""
    import processing
    from qgis.core import QgsProperty

    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    path = tmp_path / "zones.gpkg"
    output = QgsProperty.fromValue(str(path)) if form == "value" else QgsProperty.fromExpression(f"'{path}'")
    result = processing.run("offload:buffer", {"INPUT": spec, "DISTANCE": 1, "OUTPUT": output})
    assert result["OUTPUT"] == str(path) and left_in(tmp_path) == ["in.gpkg", "zones.gpkg"]


def test_a_sqlite_file_that_is_no_geopackage_is_never_replaced(tmp_path, subprocess_env):
    """Its tables were taken for nothing of the user's (no gpkg_contents), and --overwrite, or
    Processing, which always replaces its output, deleted them."""
    import sqlite3

    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    notes = tmp_path / "mine.gpkg"
    with sqlite3.connect(str(notes)) as db:
        db.execute("CREATE TABLE field_notes (id INTEGER PRIMARY KEY, note TEXT)")
        db.execute("INSERT INTO field_notes (note) VALUES ('the spring by the oak')")
    before = notes.read_bytes()
    done = offload_buffer(spec, notes, subprocess_env, "--distance", "1", "--overwrite")
    assert done.returncode == 2 and len(messages(done)) == 1, done.stderr
    assert "field_notes (not a layer)" in done.stderr
    inside = offload_buffer(spec, f"{notes}|layername=zones", subprocess_env, "--distance", "1")
    assert inside.returncode == 2 and messages(inside) == [  # refused before any work, not failed in it
        f"offload buffer: {str(notes)!r} is a SQLite file but no GeoPackage (it holds field_notes); a layer cannot be "
        "written inside it: write to another file"], inside.stderr
    assert notes.read_bytes() == before and left_in(tmp_path) == ["in.gpkg", "mine.gpkg"]


def test_a_user_s_file_a_shapefile_output_would_replace_is_refused(tmp_path, subprocess_env):
    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    (tmp_path / "zones.dbf").write_bytes(b"my standalone table")
    done = offload_buffer(spec, tmp_path / "zones.shp", subprocess_env, "--distance", "1")
    assert done.returncode == 2 and messages(done) == [
        f"offload buffer: output {str(tmp_path / 'zones.shp')!r} would replace zones.dbf beside it; "
        "pass overwrite to replace them"], done.stderr
    assert (tmp_path / "zones.dbf").read_bytes() == b"my standalone table"
    assert left_in(tmp_path) == ["in.gpkg", "zones.dbf"]


def test_outputs_whose_driver_writes_other_names_are_refused_before_any_work(
        offload_provider, tmp_path, subprocess_env, monkeypatch):
    import processing

    spec = make_layer(tmp_path / "in.gpkg", "points", count=3)
    for output in ("zones", "z.mif", "z.geojsonseq"):
        done = offload_buffer(spec, tmp_path / output, subprocess_env, "--distance", "1")
        assert done.returncode == 2 and len(messages(done)) == 1 and "name a file ending in .gpkg" in done.stderr
    monkeypatch.chdir(tmp_path)  # where a 'memory:' taken as a path would be written
    with pytest.raises(Exception, match="a memory layer is not a file") as refused:
        processing.run("offload:buffer", {"INPUT": spec, "DISTANCE": 1, "OUTPUT": "memory:"})
    assert "Traceback" not in str(refused.value)  # refused by the parameter check, in one line
    assert left_in(tmp_path) == ["in.gpkg"]
