"""Outputs through the command line when runs are killed or race: nothing lost, nothing left.

Each run here is a real ``python -m offload tiles`` process against a loopback tile server
slowed down enough to be caught mid-run.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offload.core.outputs import temp_owner
from offload.demo.tile_server import Faults, TileServer

BBOX = "6.90,45.95,7.25,46.20"  # 12 tiles at zoom 12


@pytest.fixture
def slow_server():
    with TileServer("imagery", Faults(latency_ms=400)) as server:
        yield server


@pytest.fixture
def very_slow_server():
    with TileServer("imagery", Faults(latency_ms=2000)) as server:
        yield server


@pytest.fixture
def fast_server():
    with TileServer("terrain") as server:
        yield server


def start_tiles(server: TileServer, output: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "offload", "tiles", "--url", server.template, f"--bbox={BBOX}", "--zoom", "12",
         "--workers", "1", "--output", str(output), "--cache", str(output.parent.parent / f"cache-{output.stem}-{id(server)}"),
         *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def temp_files(folder: Path):
    return sorted(p.name for p in folder.iterdir() if temp_owner(p.name) is not None)


def wait_for_temp(folder: Path, child: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not temp_files(folder):
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.02)


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_sigterm_and_sighup_cancel_and_clean_up(slow_server, out_dir, subprocess_env):
    for signum in (signal.SIGTERM, signal.SIGHUP):
        child = start_tiles(slow_server, out_dir / "img.tif", subprocess_env)
        wait_for_temp(out_dir, child)
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
        assert child.returncode == 130, stderr
        assert "canceled; nothing partial was left behind" in stderr
        assert list(out_dir.iterdir()) == []


def test_a_killed_runs_temp_files_are_swept_by_the_next_run_and_a_live_runs_are_not(
        slow_server, very_slow_server, fast_server, out_dir, subprocess_env):
    live = start_tiles(very_slow_server, out_dir / "other.tif", subprocess_env)
    try:
        wait_for_temp(out_dir, live)
        live_files = temp_files(out_dir)

        killed = start_tiles(slow_server, out_dir / "img.tif", subprocess_env)
        deadline = time.monotonic() + 30
        while temp_files(out_dir) == live_files:
            assert time.monotonic() < deadline and killed.poll() is None, "the second run never started writing"
            time.sleep(0.02)
        killed.kill()  # SIGKILL: nothing runs in the child, its temp file stays behind
        killed.communicate(timeout=30)
        leftovers = sorted(set(temp_files(out_dir)) - set(live_files))
        assert leftovers

        # The next run beside them sweeps the dead run's files and leaves the live run's alone.
        done = start_tiles(fast_server, out_dir / "img.tif", subprocess_env)
        _, stderr = done.communicate(timeout=60)
        assert done.returncode == 0, stderr
        assert live.poll() is None, "the live run ended too soon for this test"
        assert temp_files(out_dir) == live_files
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=30)
    assert sorted(p.name for p in out_dir.iterdir()) == ["img.tif"]


def test_two_runs_racing_to_one_new_output_keep_the_first_file_and_refuse_the_second(
        slow_server, fast_server, out_dir, subprocess_env):
    target = out_dir / "race.tif"
    slow = start_tiles(slow_server, target, subprocess_env)  # checks first, finishes last
    wait_for_temp(out_dir, slow)
    fast = start_tiles(fast_server, target, subprocess_env)
    _, fast_err = fast.communicate(timeout=60)
    assert fast.returncode == 0, fast_err
    published = target.read_bytes()
    _, slow_err = slow.communicate(timeout=60)
    assert slow.returncode == 1, slow_err
    assert "was created by another run" in slow_err
    assert target.read_bytes() == published
    assert sorted(p.name for p in out_dir.iterdir()) == ["race.tif"]


def test_a_buffer_written_to_gml_names_its_schema_by_the_final_name(tmp_path, subprocess_env):
    from osgeo import ogr

    from vector_data import make_layer

    spec = make_layer(tmp_path / "in.gpkg", "polygons", count=20)
    done = subprocess.run([sys.executable, "-m", "offload", "buffer", "--input", spec, "--distance", "2",
                           "--output", str(tmp_path / "zones.gml")], env=subprocess_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("zones", ".zones"))) == [
        "zones.gml", "zones.xsd"]
    assert 'schemaLocation="http://ogr.maptools.org/ zones.xsd' in (tmp_path / "zones.gml").read_text()[:2000]
    source = ogr.Open(str(tmp_path / "zones.gml"))
    assert source.GetLayer(0).GetFeatureCount() == 20
    source = None
    assert not (tmp_path / "zones.gfs").exists()  # OGR read the schema it was pointed at
