"""Loopback HTTP servers for network tests: nothing here ever reaches another address."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from offload.demo.tile_server import LOOPBACK


class ShortBodyServer(ThreadingHTTPServer):
    """Promises ``total_bytes``, sends ``first_bytes``, then stalls (at most 20 s) or hangs up."""

    daemon_threads = True

    def __init__(self, first_bytes: int = 300_000, total_bytes: int = 50_000_000, hang_up: bool = False):
        self.first_bytes, self.total_bytes = first_bytes, total_bytes
        self.release = threading.Event()
        self.requests_seen = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(handler):  # noqa: N802, N805
                self.requests_seen += 1
                handler.send_response(200)
                handler.send_header("Content-Length", str(self.total_bytes))
                handler.end_headers()
                handler.wfile.write(b"\0" * self.first_bytes)
                handler.wfile.flush()
                if hang_up:
                    handler.close_connection = True
                    return
                self.release.wait(20)

            def log_message(handler, *_args):  # noqa: N805
                return None

        super().__init__((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server_address[1]}/big.bin"


def _serve(server: ShortBodyServer):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def stalling_server():
    yield from _serve(ShortBodyServer())


@pytest.fixture
def truncating_server():
    yield from _serve(ShortBodyServer(first_bytes=1000, total_bytes=5000, hang_up=True))


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class SilentServer:
    """Accepts connections on 127.0.0.1 and reads requests, but never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.url = f"http://{LOOPBACK}:{self.listener.getsockname()[1]}/never"
        self.requests_read = 0
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            while True:
                connection, _ = self.listener.accept()
                self.connections.append(connection)
                if connection.recv(65536):
                    self.requests_read += 1
        except OSError:
            return  # closed at teardown

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.listener.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


class RangeServer(ThreadingHTTPServer):
    """Serves ``body`` with an ETag; the first answer breaks off halfway. Honours Range with
    If-Range, as a server that supports resuming does."""

    daemon_threads = True

    def __init__(self, body: bytes, etag: str = '"v1"'):
        self.body, self.etag, self.ranges_asked = body, etag, []
        self.answers = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(handler):  # noqa: N802, N805
                self.answers += 1
                asked = handler.headers.get("Range")
                if asked and handler.headers.get("If-Range") == self.etag:
                    start = int(asked.split("=")[1].rstrip("-"))
                    self.ranges_asked.append(start)
                    rest = self.body[start:]
                    handler.send_response(206)
                    handler.send_header("Content-Range", f"bytes {start}-{len(self.body) - 1}/{len(self.body)}")
                    handler.send_header("Content-Length", str(len(rest)))
                    handler.send_header("ETag", self.etag)
                    handler.end_headers()
                    handler.wfile.write(rest)
                    return
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(self.body)))
                handler.send_header("ETag", self.etag)
                handler.end_headers()
                if self.answers == 1:  # break off halfway, as a dropped connection does
                    handler.wfile.write(self.body[: len(self.body) // 2])
                    handler.close_connection = True
                    return
                handler.wfile.write(self.body)

            def log_message(handler, *_args):  # noqa: N805
                return None

        super().__init__((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server_address[1]}/data.bin"


@pytest.fixture
def range_server():
    server = RangeServer(bytes(range(256)) * 8000)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
