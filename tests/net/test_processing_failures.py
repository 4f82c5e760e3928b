"""A tiles run that fails inside Processing reaches the user as Processing's own error, in one
line naming the cause (a refused connection as such), not as a Python traceback; nothing is left
at the output."""
from __future__ import annotations

import socket

import pytest
from qgis.core import QgsProcessingException


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failed_tiles_run_is_one_line_in_processing(offload_provider, tmp_path):
    import processing

    output = tmp_path / "mosaic.tif"
    template = f"http://127.0.0.1:{closed_port()}/{{z}}/{{x}}/{{y}}.png"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run("offload:tiles", {"URL": template, "EXTENT": "6.96,7.02,45.96,46.0 [EPSG:4326]", "ZOOM": 12,
                                         "CACHE": str(tmp_path / "cache"), "OUTPUT": str(output)})
    message = str(raised.value)
    assert "\n" not in message.strip() and "Traceback" not in message
    assert message.startswith("1 of 1 tile(s) failed; connection refused") and "12/2127/1457" in message
    assert not output.exists() and [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []
