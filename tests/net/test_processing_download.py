"""`offload:download` through processing.run, against a loopback server."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hostile.py, beside this file
from hostile import ScriptedServer, whole  # noqa: E402

BODY = b"offload:download " * 60_000



def test_processing_download_writes_the_checked_file(offload_provider, tmp_path):
    import processing

    algorithm = offload_provider.algorithm("download")
    assert algorithm is not None and algorithm.shortHelpString() and not algorithm.icon().isNull()
    with ScriptedServer(whole(BODY)) as server:
        result = processing.run("offload:download", {
            "URL": server.url, "SHA256": hashlib.sha256(BODY).hexdigest(), "OUTPUT": str(tmp_path / "got.bin")})
        with pytest.raises(Exception, match="has SHA-256 .* not the expected 0000"):
            processing.run("offload:download", {"URL": server.url, "SHA256": "0" * 64,
                                                "OUTPUT": str(tmp_path / "wrong.bin")})
    assert Path(result["OUTPUT"]).read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["got.bin"], "nothing partial beside the output"


@pytest.mark.parametrize("url, message", [
    ("ftp://127.0.0.1/file.bin", "URL scheme 'ftp'"),
    ("http:///file.bin", "has no host"),
    ("http://127.0.0.1:notaport/x?token=abcdef", "is not a URL"),
])
def test_a_bad_url_is_refused_in_check_parameter_values(offload_provider, tmp_path, url, message):
    from qgis.core import QgsProcessingContext

    algorithm = offload_provider.algorithm("download").create()
    ok, why = algorithm.checkParameterValues({"URL": url, "OUTPUT": str(tmp_path / "o.bin")}, QgsProcessingContext())
    assert ok is False and message in why and "abcdef" not in why
    assert list(tmp_path.iterdir()) == []
