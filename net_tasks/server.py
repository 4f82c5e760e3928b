"""The embedded HTTP server: 127.0.0.1 only, HTTP/1.1 keep-alive, TCP_NODELAY.

Used by the demo, the tests and the benchmarks, so nothing ever reaches another address.
Without TCP_NODELAY, Python's two-write responses meet Nagle's algorithm and add ~40 ms
to every answer on loopback.
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Tuple

LOOPBACK = "127.0.0.1"

Resource = Tuple[bytes, str]  # body, content type


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "LoopbackServer"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        resource = self.server.resources.get(self.path.split("?", 1)[0])
        if resource is None:
            self.send_error(404, "not found")
            return
        body, content_type = resource
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # quiet: the CLI owns the terminal
        return None


class LoopbackServer(ThreadingHTTPServer):
    """Serves in-memory resources on 127.0.0.1 from a daemon thread; use as a context manager."""

    daemon_threads = True

    def __init__(self, resources: Dict[str, Resource], port: int = 0) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.resources = dict(resources)
        self._thread = threading.Thread(target=self.serve_forever, name="offload-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.shutdown()
        self.server_close()
