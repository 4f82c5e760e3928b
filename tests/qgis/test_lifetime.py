"""A task nobody references still runs to its end (QGIS-NOTES P1), checked in a child process
so that a crash fails this test instead of the whole run."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import gc, sys, threading, time
    from pathlib import Path
    from offload.core.runner import headless_app
    from offload.core.task import OffloadTask, start
    from qgis.PyQt.QtCore import QCoreApplication
    from qgis.core import QgsApplication

    app = headless_app()
    running = threading.Event()
    out = Path(sys.argv[1])

    class SlowWrite(OffloadTask):
        def __init__(self):
            super().__init__("slow write")
            self.output = self.declare_output(out)

        def work(self):
            running.set()
            for _ in range(30):
                self.check_canceled()
                gc.collect()
                time.sleep(0.01)
            self.output.temp_path.write_text("done")

    {submit}(SlowWrite())          # no reference kept anywhere
    gc.collect()
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        gc.collect()
        time.sleep(0.01)
    print("ran" if running.is_set() else "never ran", "written" if out.exists() else "missing")
    sys.exit(0 if out.exists() else 3)
    """
)


def run_child(submit: str, tmp_path, env) -> subprocess.CompletedProcess:
    script = SCRIPT.replace("{submit}", submit)
    return subprocess.run([sys.executable, "-c", script, str(tmp_path / "out.txt")],
                          env=env, capture_output=True, text=True, timeout=60)


def test_an_unreferenced_task_completes_after_gc(tmp_path, subprocess_env):
    child = run_child("start", tmp_path, subprocess_env)
    assert child.returncode == 0, child.stdout + child.stderr
    assert "ran written" in child.stdout
    assert (tmp_path / "out.txt").read_text() == "done"


def test_an_unreferenced_task_added_directly_completes_after_gc(tmp_path, subprocess_env):
    child = run_child("QgsApplication.taskManager().addTask", tmp_path, subprocess_env)
    assert child.returncode == 0, child.stdout + child.stderr
    assert (tmp_path / "out.txt").read_text() == "done"
