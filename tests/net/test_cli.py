"""``python -m offload``: exit codes 0/1/2/130, one-line errors, --debug, progress, Ctrl-C."""
from __future__ import annotations

import hashlib
import signal
from pathlib import Path
import subprocess
import sys
import time

import pytest

from offload.core.metadata import version

BODY = b"offload" * 50_000


def offload(*args, env, timeout=60):
    return subprocess.run([sys.executable, "-m", "offload", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def stderr_lines(result):
    return [line for line in result.stderr.splitlines() if "XDG_RUNTIME_DIR" not in line]


def test_version_and_help(subprocess_env):
    assert offload("--version", env=subprocess_env).stdout.strip() == f"offload {version()}"
    result = offload("--help", env=subprocess_env)
    assert result.returncode == 0 and "download" in result.stdout and "demo" in result.stdout


def test_usage_errors_exit_2_with_one_line(subprocess_env):
    result = offload(env=subprocess_env)
    assert result.returncode == 2
    assert stderr_lines(result) == ["python -m offload: error: the following arguments are required: COMMAND (see --help)"]
    result = offload("download", "--url", "http://127.0.0.1:9/x", env=subprocess_env)
    assert result.returncode == 2 and len(stderr_lines(result)) == 1 and "--output" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--url", "ftp://127.0.0.1/x"], "URL scheme 'ftp'"),
    (["--url", "http://127.0.0.1:9/x", "--sha256", "xyz"], "sha256 'xyz'"),
    (["--url", "http://127.0.0.1:9/x", "--max-bytes", "-5"], "max_bytes -5"),
])
def test_bad_input_exits_2_naming_the_value_and_writes_nothing(subprocess_env, tmp_path, args, message):
    result = offload("download", *args, "--output", str(tmp_path / "o.bin"), env=subprocess_env)
    assert result.returncode == 2, result.stderr
    (line,) = stderr_lines(result)
    # the task's refusal ("offload download: …") or argparse's ("python -m offload download: error: …")
    assert "offload download: " in line and message in line and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_missing_output_folder_exits_2(subprocess_env, tmp_path):
    result = offload("download", "--url", "http://127.0.0.1:9/x", "--output", str(tmp_path / "no" / "o.bin"),
                     env=subprocess_env)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_success_exits_0_with_plain_progress_lines(httpserver, subprocess_env, tmp_path):
    httpserver.expect_request("/f.bin").respond_with_data(BODY)
    result = offload("download", "--url", httpserver.url_for("/f.bin"), "--output", str(tmp_path / "f.bin"),
                     "--sha256", hashlib.sha256(BODY).hexdigest(), env=subprocess_env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "f.bin").read_bytes() == BODY
    lines = stderr_lines(result)
    assert lines[0].startswith("download: 0%") and lines[-1].startswith("download: 100%")


def test_a_failing_task_exits_1_with_one_line_and_debug_shows_the_traceback(httpserver, subprocess_env, tmp_path):
    httpserver.expect_request("/f.bin").respond_with_data(BODY)
    args = ["download", "--url", httpserver.url_for("/f.bin"), "--output", str(tmp_path / "f.bin"), "--sha256", "0" * 64]
    result = offload(*args, env=subprocess_env)
    assert result.returncode == 1
    assert [line for line in stderr_lines(result) if not line.startswith("download:")] == [
        f"offload: Download f.bin: {httpserver.url_for('/f.bin')} has SHA-256 {hashlib.sha256(BODY).hexdigest()}, "
        f"not the expected {'0' * 64}"]
    debug = offload("--debug", *args, env=subprocess_env)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_cancels_cleans_up_and_exits_130(stalling_server, subprocess_env, tmp_path):
    child = subprocess.Popen([sys.executable, "-m", "offload", "download", "--url", stalling_server.url,
                              "--output", str(tmp_path / "big.bin")],
                             env=subprocess_env, stderr=subprocess.PIPE, text=True)
    resume_dir = Path(subprocess_env["XDG_CACHE_HOME"]) / "offload" / "downloads"
    deadline = time.monotonic() + 20
    while stalling_server.requests_seen == 0 or not list(resume_dir.glob("*.part")):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.02)
    interrupted_at = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=10)
    assert child.returncode == 130, stderr
    assert time.monotonic() - interrupted_at < 10  # generous: answered, not hung
    assert "canceled; nothing partial was left behind" in stderr
    assert list(tmp_path.iterdir()) == []  # the bytes so far wait in the resume folder, not here


def test_serve_tiles_prints_its_template_first_and_tiles_downloads_from_it(subprocess_env, tmp_path):
    server = subprocess.Popen([sys.executable, "-m", "offload", "serve-tiles", "--source", "imagery"],
                              env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        template = server.stdout.readline().strip()
        assert template.startswith("http://127.0.0.1:") and template.endswith("/{z}/{x}/{y}.png")
        result = offload("tiles", "--url", template, "--bbox", "7.0,46.0,7.02,46.02", "--zoom", "11",
                         "--output", str(tmp_path / "img.tif"), "--cache", str(tmp_path / "cache"), env=subprocess_env)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "img.tif").exists()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


@pytest.mark.parametrize("args, message", [
    (["--bbox", "7,46,8"], "bbox '7,46,8' is not XMIN,YMIN,XMAX,YMAX"),
    (["--bbox", "6,45,8,47", "--zoom", "16", "--max-tiles", "50"], "needs 191625 tiles"),
    (["--bbox", "6,45,8,47", "--decode", "png"], "--decode: invalid choice: 'png'"),
])
def test_tiles_refusals_exit_2_with_one_line_before_any_request(subprocess_env, tmp_path, args, message):
    fixed = ["--url", "http://127.0.0.1:9/{z}/{x}/{y}.png", "--output", str(tmp_path / "o.tif")]
    if "--zoom" not in args:
        fixed += ["--zoom", "10"]
    result = offload("tiles", *fixed, *args, env=subprocess_env)
    assert result.returncode == 2 and len(stderr_lines(result)) == 1 and message in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
