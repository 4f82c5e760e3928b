"""Offload in the real QGIS desktop, under Xvfb, installed from the zip and as a folder."""
from __future__ import annotations

import json
import re
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qgis_helpers import write_raster

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots of the real desktop, kept for people to look at
QGIS = shutil.which("qgis")
pytestmark = pytest.mark.skipif(QGIS is None or shutil.which("xvfb-run") is None,
                                reason="needs the QGIS desktop and Xvfb (make setup installs both)")


def install_plugin(how: str, plugins: Path, tmp_path: Path) -> None:
    if how == "folder":
        (plugins / "offload").symlink_to(ROOT, target_is_directory=True)
        return
    subprocess.run([sys.executable, str(ROOT / "tools" / "package.py"), "--output", str(tmp_path)],
                   check=True, capture_output=True)
    (zip_path,) = tmp_path.glob("offload-*.zip")
    zipfile.ZipFile(zip_path).extractall(plugins)


@pytest.mark.parametrize("how", ["zip", "folder"])
def test_qgis_loads_offload_runs_a_task_and_quits_while_one_runs(tmp_path, how):
    profiles = tmp_path / "profiles"
    plugins = profiles / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    install_plugin(how, plugins, tmp_path)
    ini = profiles / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\noffload=true\n\n[qgis]\nshowTips=false\ncheckVersion=false\n")
    out = tmp_path / "probe.json"
    data = write_raster(tmp_path / "source.tif", np.arange(400, dtype=np.float32).reshape(20, 20))
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = dict(os.environ, OFFLOAD_PROBE_OUT=str(out), OFFLOAD_PROBE_DATA=str(data),
                   OFFLOAD_PROBE_HANGING_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/never")
        for test_only in ("QT_QPA_PLATFORM", "QGIS_CUSTOM_CONFIG_PATH", "QGIS_OPTIONS_PATH", "PYTHONPATH"):
            env.pop(test_only, None)  # a desktop QGIS must find Offload where a user's would
        for attempt in range(2):
            started = time.monotonic()
            qgis = subprocess.run(
                ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", QGIS, "--nologo", "--noversioncheck",
                 "--profiles-path", str(tmp_path), "--code", str(ROOT / "tests" / "desktop" / "probe.py")],
                env=env, capture_output=True, text=True, timeout=180)
            if out.exists() or "QGIS died on signal" not in qgis.stderr:
                break
            # QGIS 3.22 once crashed under xvfb before the probe's first step ran (1 run in 12, on a
            # loaded machine), so it is started once more; a crash of Offload's loading would repeat.
    elapsed_s = time.monotonic() - started
    findings = json.loads(out.read_text()) if out.exists() else {}
    assert findings, f"the probe wrote nothing; QGIS said:\n{qgis.stderr[-3000:]}"
    assert findings["python_errors"] == []
    assert findings["plugin_loaded"] and findings["in_toolbar"]
    assert findings["menus"] == {"plugins": ["offload_dialog"], "raster": ["offload_calc"],
                                 "vector": ["offload_buffer"], "web": ["offload_tiles", "offload_download"]}
    assert findings["dialog_task"] == "calc" and findings["calc_message"].startswith("Started: Calc A * 2")
    assert findings["tiles_message"].startswith("Started: Tiles z12")
    tiles_row = findings["rows_mid_task"][-1][1]
    assert re.match(r"^\d+ of \d+ tiles · [\d.,]+ tiles/s · about .+ left · \d+ s elapsed$", tiles_row), tiles_row
    assert findings["task_manager_description"].endswith(" — " + tiles_row)  # QGIS's task manager agrees
    assert "first_progress_s" in findings  # the row showed progress while the task ran (how soon: a figure, not a test)
    assert {"offload:calc", "offload:tiles"} <= set(findings["algorithms"])
    assert findings["wait_refused_in_desktop"] is True
    assert "doubled" in findings["layers"]
    assert [status.split(" ")[0] for status in findings["rows_at_end"]] == ["Done", "Canceled"]
    # What QGIS 3.22 adds of its own ("Task complete" / "Task failed") is recorded for the README.
    print("notices:", findings["notices_after_calc"], findings["notices_at_end"], findings["notices_after_6_s_task"])
    assert not any("fail" in text.lower() for _title, text in findings["notices_at_end"] if "canceled" in text)
    calc_title = findings["rows_mid_task"][0][0]
    (calc_notice,) = [text for _title, text in findings["notices_after_calc"]]
    assert re.fullmatch(re.escape(calc_title) + r": done in \d+ s: [\d,]+×[\d,]+ pixels, 1 band, .*", calc_notice)
    # QGIS 3.22 announces a task of 5 s or more itself, with the description Offload set: one notice.
    (long_task,) = findings["notices_after_6_s_task"]
    assert long_task[0] == "Task complete" and re.fullmatch(r"Download slow.png: done in \d+ s: .*, SHA-256 [0-9a-f]{64}", long_task[1])
    assert findings["running_at_quit"] >= 1
    assert qgis.returncode == 0, qgis.stderr[-3000:]
    assert elapsed_s < 120
    assert (tmp_path / "slow.png").exists()
    assert not (tmp_path / "never.bin").exists() and not (tmp_path / "slow-dem.tif").exists()
    assert not [p for p in tmp_path.iterdir() if ".offload-" in p.name]
    assert Path(findings["screenshot"]).stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(findings["screenshot"], ARTIFACTS / f"desktop-{how}.png")
    assert Path(findings["dialog_screenshot"]).stat().st_size > 10_000
    shutil.copy(findings["dialog_screenshot"], ARTIFACTS / f"dialog-mid-task-{how}.png")
