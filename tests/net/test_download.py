"""Plain file downloads through the task: checked, atomic, cancel that reaches a blocked read."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from offload.core.errors import InputError
from offload.net_tasks.download import validate_file_request
from offload.net_tasks.request import FileRequest
from offload.net_tasks.download_task import FileDownloadTask
from offload.core.task import start
from qgis_helpers import cancel_and_time, leftovers, run_to_end, wait_until

BODY = bytes(range(256)) * 4000  # ~1 MB


def serve(httpserver, body=BODY, status=200, headers=None):
    httpserver.expect_request("/file.bin").respond_with_data(body, status=status, headers=headers or {})
    return httpserver.url_for("/file.bin")


def test_download_writes_the_file_checks_its_sha256_and_names_offload(httpserver, tmp_path):
    url = serve(httpserver)
    task = FileDownloadTask(FileRequest(url, tmp_path / "f.bin", sha256=hashlib.sha256(BODY).hexdigest().upper()))
    assert run_to_end(task) is True
    assert (tmp_path / "f.bin").read_bytes() == BODY
    assert (task.details.sha256, task.details.bytes, task.details.resumed_bytes) == (hashlib.sha256(BODY).hexdigest(),
                                                                                     len(BODY), 0)
    assert task.details.summary().endswith(f"SHA-256 {hashlib.sha256(BODY).hexdigest()}")
    (request, _response), = httpserver.log
    assert request.headers["User-Agent"].startswith("Offload/")
    assert "no-cache" not in request.headers.get("Cache-Control", "")


@pytest.mark.parametrize("status", [404, 500])
def test_an_http_error_fails_naming_the_status_and_writes_nothing(httpserver, tmp_path, status):
    url = serve(httpserver, b"nope", status=status)
    task = FileDownloadTask(FileRequest(url, tmp_path / "f.bin"))
    assert run_to_end(task) is False
    assert f"answered HTTP {status}" in task.error.one_line()
    assert list(tmp_path.iterdir()) == []


def test_a_checksum_mismatch_fails_and_writes_nothing(httpserver, tmp_path):
    url = serve(httpserver)
    task = FileDownloadTask(FileRequest(url, tmp_path / "f.bin", sha256="0" * 64))
    assert run_to_end(task) is False
    assert "not the expected 0000" in task.error.one_line()
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_body_fails(truncating_server, tmp_path):
    task = FileDownloadTask(FileRequest(truncating_server.url, tmp_path / "f.bin", timeout_s=5))
    assert run_to_end(task) is False
    assert task.error.one_line().endswith("ended after 1000 of 5000 bytes")
    assert list(tmp_path.iterdir()) == []


def test_max_bytes_is_enforced_from_the_header(httpserver, tmp_path):
    url = serve(httpserver)
    task = FileDownloadTask(FileRequest(url, tmp_path / "f.bin", max_bytes=1000))
    assert run_to_end(task) is False
    assert f"is {len(BODY)} bytes, more than max_bytes 1000" in task.error.one_line()


def test_a_refused_connection_fails_with_one_line(tmp_path, closed_port):
    task = FileDownloadTask(FileRequest(f"http://127.0.0.1:{closed_port}/x", tmp_path / "f.bin"))
    assert run_to_end(task) is False
    assert task.error.one_line() == f"could not download http://127.0.0.1:{closed_port}/x: connection refused"


def test_cancel_reaches_a_read_blocked_on_a_stalled_server(stalling_server, tmp_path):
    task = start(FileDownloadTask(FileRequest(stalling_server.url, tmp_path / "big.bin", timeout_s=30)))
    wait_until(lambda: task.fraction > 0, 10, "the first bytes")
    cancel_and_time(task)  # answered (within its generous deadline) as a cancel, not a failure
    assert list(tmp_path.iterdir()) == []


def test_cancel_reaches_a_request_still_waiting_for_headers(silent_server, tmp_path):
    task = start(FileDownloadTask(FileRequest(silent_server.url, tmp_path / "never.bin", timeout_s=60)))
    wait_until(lambda: silent_server.requests_read == 1, 10, "the request to reach the server")
    cancel_and_time(task)  # answered (within its generous deadline) as a cancel, not a failure
    assert list(tmp_path.iterdir()) == []


def test_file_urls_need_permission(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(BODY)
    with pytest.raises(InputError, match="scheme 'file'.*allow_file_urls"):
        FileDownloadTask(FileRequest(source.as_uri(), tmp_path / "out.bin"))
    task = FileDownloadTask(FileRequest(source.as_uri(), tmp_path / "out.bin", allow_file_urls=True))
    assert run_to_end(task) is True
    assert (tmp_path / "out.bin").read_bytes() == BODY


@pytest.mark.parametrize("request_fields, message", [
    ({"url": "ftp://example.org/x"}, "URL scheme 'ftp'"),
    ({"url": "http:///x"}, "has no host"),
    ({"sha256": "abc"}, "sha256 'abc' is not 64 hexadecimal digits"),
    ({"max_bytes": 0}, "max_bytes 0 is below the smallest allowed, 1"),
    ({"timeout_s": -1}, "timeout_s -1 is below the smallest allowed, 0.1"),
])
def test_bad_requests_are_refused_naming_the_value(tmp_path, request_fields, message):
    fields = {"url": "http://127.0.0.1:9/x", "output": tmp_path / "o.bin", **request_fields}
    with pytest.raises(InputError, match=message):
        validate_file_request(FileRequest(**fields))


def test_an_existing_output_is_kept_unless_overwrite(httpserver, tmp_path):
    (tmp_path / "f.bin").write_bytes(b"mine")
    url = serve(httpserver)
    with pytest.raises(InputError, match="exists; pass overwrite"):
        FileDownloadTask(FileRequest(url, tmp_path / "f.bin"))
    assert run_to_end(FileDownloadTask(FileRequest(url, tmp_path / "f.bin", overwrite=True))) is True
    assert (tmp_path / "f.bin").read_bytes() == BODY and leftovers(tmp_path) == []
    assert Path(tmp_path / "f.bin").stat().st_size == len(BODY)


def test_an_interrupted_download_resumes_with_a_range_request(range_server, tmp_path):
    body = range_server.body
    first = FileDownloadTask(FileRequest(range_server.url, tmp_path / "data.bin", timeout_s=5,
                                         sha256=hashlib.sha256(body).hexdigest()))
    assert run_to_end(first) is False
    assert f"ended after {len(body) // 2} of {len(body)} bytes" in first.error.one_line()
    assert list(tmp_path.iterdir()) == [], "nothing partial next to the output"
    second = FileDownloadTask(FileRequest(range_server.url, tmp_path / "data.bin",
                                          sha256=hashlib.sha256(body).hexdigest()))
    assert run_to_end(second) is True
    assert range_server.ranges_asked == [len(body) // 2], "only the missing half was asked for"
    assert (tmp_path / "data.bin").read_bytes() == body
    assert (second.details.bytes, second.details.resumed_bytes) == (len(body), len(body) // 2)
    assert "resumed after" in second.details.summary()
    left = [p.suffix for p in second.plan.resume_dir.iterdir()]
    assert left == [".lock"], "the partial is gone once complete (an empty lock file stays)"


def test_a_changed_file_on_the_server_starts_over(range_server, tmp_path):
    request = FileRequest(range_server.url, tmp_path / "data.bin", timeout_s=5)
    assert run_to_end(FileDownloadTask(request)) is False
    range_server.etag = '"v2"'  # the file changed: If-Range no longer matches
    range_server.body = b"new content" * 1000
    assert run_to_end(FileDownloadTask(request)) is True
    assert range_server.ranges_asked == [] and (tmp_path / "data.bin").read_bytes() == range_server.body
