"""Inside QGIS, downloads go through the proxy set in QGIS's options; otherwise the environment decides."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from qgis.core import QgsSettings

from offload.net_tasks.proxies import qgis_proxies
from offload.net_tasks.request import FileRequest
from offload.demo.tile_server import LOOPBACK
from offload.net_tasks.download_task import FileDownloadTask
from qgis_helpers import run_to_end


class ForwardProxy(ThreadingHTTPServer):
    """A plain-HTTP forwarding proxy on 127.0.0.1 that counts what passes through it."""

    daemon_threads = True

    def __init__(self):
        self.forwarded = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(handler):  # noqa: N802, N805
                self.forwarded.append((handler.path, handler.headers.get("Proxy-Authorization", "")))
                answer = requests.get(handler.path, headers={"User-Agent": handler.headers["User-Agent"]},
                                      timeout=10, proxies={"http": None, "https": None})
                handler.send_response(answer.status_code)
                handler.send_header("Content-Length", str(len(answer.content)))
                handler.end_headers()
                handler.wfile.write(answer.content)

            def log_message(handler, *_args):  # noqa: N805
                return None

        super().__init__((LOOPBACK, 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def proxy_settings():
    settings = QgsSettings()
    keys = ("proxy/proxyEnabled", "proxy/proxyType", "proxy/proxyHost", "proxy/proxyPort", "proxy/proxyUser",
            "proxy/proxyPassword")
    yield settings
    for key in keys:
        settings.remove(key)


def test_no_proxy_in_qgis_means_the_environment_decides(proxy_settings):
    proxy_settings.setValue("proxy/proxyEnabled", False)
    assert qgis_proxies() is None
    proxy_settings.setValue("proxy/proxyEnabled", True)
    proxy_settings.setValue("proxy/proxyType", "DefaultProxy")
    assert qgis_proxies() is None


def test_credentials_are_quoted(proxy_settings):
    for key, value in {"proxy/proxyEnabled": True, "proxy/proxyType": "HttpProxy", "proxy/proxyHost": "127.0.0.1",
                       "proxy/proxyPort": "3128", "proxy/proxyUser": "me@corp", "proxy/proxyPassword": "p:w/d"}.items():
        proxy_settings.setValue(key, value)
    assert qgis_proxies() == {"http": "http://me%40corp:p%3Aw%2Fd@127.0.0.1:3128",
                              "https": "http://me%40corp:p%3Aw%2Fd@127.0.0.1:3128"}


def test_a_download_goes_through_qgis_proxy(proxy_settings, httpserver, tmp_path):
    httpserver.expect_request("/f.bin").respond_with_data(b"through the proxy")
    proxy = ForwardProxy()
    try:
        for key, value in {"proxy/proxyEnabled": True, "proxy/proxyType": "HttpProxy", "proxy/proxyHost": LOOPBACK,
                           "proxy/proxyPort": str(proxy.server_address[1])}.items():
            proxy_settings.setValue(key, value)
        # a request that says nothing of proxies gets QGIS's, read as plain values when it is checked
        task = FileDownloadTask(FileRequest(httpserver.url_for("/f.bin"), tmp_path / "f.bin"))
        assert run_to_end(task) is True
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert (tmp_path / "f.bin").read_bytes() == b"through the proxy"
    assert [path for path, _ in proxy.forwarded] == [httpserver.url_for("/f.bin")]


def test_tiles_go_through_qgis_proxy_and_the_command_lines_empty_choice_does_not(proxy_settings, tmp_path):
    from offload.demo.tile_server import TileServer
    from offload.net_tasks.request import TileRequest
    from offload.net_tasks.tile_task import TileDownloadTask

    proxy = ForwardProxy()
    try:
        for key, value in {"proxy/proxyEnabled": True, "proxy/proxyType": "HttpProxy", "proxy/proxyHost": LOOPBACK,
                           "proxy/proxyPort": str(proxy.server_address[1])}.items():
            proxy_settings.setValue(key, value)
        with TileServer("terrain") as server:
            bbox = (6.95, 45.95, 7.0, 46.0)
            through = TileDownloadTask(TileRequest(server.template, bbox, 10, tmp_path / "a.tif",
                                                   cache_dir=tmp_path / "cache-a"))
            assert run_to_end(through) is True
            passed = len(proxy.forwarded)
            direct = TileDownloadTask(TileRequest(server.template, bbox, 10, tmp_path / "b.tif",
                                                  cache_dir=tmp_path / "cache-b", proxies=()))
            assert run_to_end(direct) is True
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert passed == through.plan.total >= 1
    assert len(proxy.forwarded) == passed  # proxies=() (the command line's): the environment, not QGIS
