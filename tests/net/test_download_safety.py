"""`download` through its front doors (offload.api, the CLI) against loopback servers that
misbehave: runs that must not share resume state, secrets that must not leak, a drip that
--timeout must end, bodies that must stay within their bound."""
from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path


from offload import api
from offload.core.runner import wait_for
from qgis_helpers import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hostile.py, beside this file
from hostile import ScriptedServer, drip, half_then_wait, measured_offload, whole, zeros_with_ranges  # noqa: E402

OLD, NEW = b"old content " * 40_000, b"new content " * 40_000
SECRET = "s3cr3t-T0KEN-42"


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_two_runs_of_one_url_to_two_outputs_never_share_bytes(tmp_path):
    with ScriptedServer(half_then_wait(OLD), whole(NEW)) as server:  # the file changes between the runs
        first = api.download(server.url, tmp_path / "first.bin", sha256=sha(OLD))
        wait_until(lambda: first.task.progress() > 0, 10, "the first half of the first run")
        second = api.download(server.url, tmp_path / "second.bin", sha256=sha(NEW))
        assert wait_for(second.task, 30) is True, second.error
        server.release.set()
        assert wait_for(first.task, 30) is True, first.error
    assert (tmp_path / "first.bin").read_bytes() == OLD and (tmp_path / "second.bin").read_bytes() == NEW


def test_a_second_run_to_the_same_output_refuses_while_the_first_holds_the_resume_state(tmp_path):
    with ScriptedServer(half_then_wait(OLD), whole(NEW)) as server:
        first = api.download(server.url, tmp_path / "out.bin", sha256=sha(OLD))
        wait_until(lambda: first.task.progress() > 0, 10, "the first half of the first run")
        second = api.download(server.url, tmp_path / "out.bin", overwrite=True)
        assert wait_for(second.task, 30) is False
        assert "another download to" in second.error and "is running" in second.error
        server.release.set()
        assert wait_for(first.task, 30) is True, first.error
    assert (tmp_path / "out.bin").read_bytes() == OLD


def test_a_token_never_shows_in_errors_logs_or_the_resume_folder(tmp_path, subprocess_env):
    body = bytes(range(256)) * 4000
    url_template = "{url}?token=" + SECRET + "&v=2"

    def cut_short(handler, _server) -> None:  # half the promised body, then hang up
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", '"e1"')
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.close_connection = True

    with ScriptedServer(cut_short) as server:
        url = url_template.format(url=server.url)
        failed = api.download(url, tmp_path / "out.bin")
        assert wait_for(failed.task, 30) is False
        assert "ended after" in failed.error and SECRET not in failed.error
        assert SECRET not in (failed.task.traceback or "")
        resume_files = list(Path(subprocess_env["XDG_CACHE_HOME"]).rglob("*"))
        assert resume_files and not [p for p in resume_files if SECRET in p.name or
                                     (p.is_file() and SECRET.encode() in p.read_bytes())]
        cli = subprocess.run([sys.executable, "-m", "offload", "--debug", "download", "--url",
                              url.replace("file.bin", "x"), "--output", str(tmp_path / "cli.bin")],
                             env=subprocess_env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 1 and "token=***" in cli.stderr and SECRET not in cli.stderr


def test_a_refused_connection_names_the_url_without_its_token(tmp_path, closed_port):
    handle = api.download(f"http://user:{SECRET}@127.0.0.1:{closed_port}/x?key={SECRET}", tmp_path / "o.bin")
    assert wait_for(handle.task, 30) is False
    assert handle.error == f"could not download http://user:***@127.0.0.1:{closed_port}/x?key=***: connection refused"
    assert SECRET not in handle.task.traceback


def test_a_drip_fails_once_timeout_passes_without_a_kib(tmp_path):
    with ScriptedServer(drip(total=200, every_s=0.5)) as server:  # 100 s to send 200 bytes
        handle = api.download(server.url, tmp_path / "drip.bin", timeout_s=2)
        assert wait_for(handle.task, 30) is False
    assert "stalled: less than 1024 bytes came in 2 s (--timeout)" in handle.error
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_bomb_stops_at_max_bytes_once_inflated(tmp_path):
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    with ScriptedServer(whole(bomb, Content_Encoding="gzip")) as server:
        handle = api.download(server.url, tmp_path / "bomb.bin", max_bytes=1_000_000)
        assert wait_for(handle.task, 30) is False
    assert "sent a body of more than 1000000 bytes once inflated (max_bytes raises it)" in handle.error
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_transfer_is_written_inflated_and_checked(tmp_path):
    with ScriptedServer(whole(gzip.compress(NEW), Content_Encoding="gzip")) as server:
        handle = api.download(server.url, tmp_path / "plain.bin", sha256=sha(NEW))
        assert wait_for(handle.task, 30) is True, handle.error
    assert (tmp_path / "plain.bin").read_bytes() == NEW


def test_a_resumed_download_streams_what_it_had_and_never_reads_it_whole(tmp_path, subprocess_env):
    total, cut_at = 160 * 1024 * 1024, 120 * 1024 * 1024
    expected = hashlib.sha256()
    for _ in range(total // (1024 * 1024)):
        expected.update(b"\0" * (1024 * 1024))
    args = ("download", "--output", str(tmp_path / "zeros.bin"), "--sha256", expected.hexdigest())
    with ScriptedServer(zeros_with_ranges(total, cut_at)) as server:
        rc, stderr, first_peak_mb = measured_offload(*args, "--url", server.url, env=subprocess_env)
        assert rc == 1 and f"ended after {cut_at} of {total} bytes" in stderr
        rc, stderr, resumed_peak_mb = measured_offload(*args, "--url", server.url, env=subprocess_env)
        assert rc == 0, stderr
    assert (tmp_path / "zeros.bin").stat().st_size == total
    assert resumed_peak_mb < first_peak_mb + 40, f"{resumed_peak_mb:.0f} MB resuming, {first_peak_mb:.0f} MB first"
