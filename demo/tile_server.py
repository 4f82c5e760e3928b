"""The embedded HTTP server: 127.0.0.1 only, HTTP/1.1 keep-alive, TCP_NODELAY.

Used by the demo, the tests and the benchmarks, so nothing ever reaches another address.
Without TCP_NODELAY, Python's two-write responses meet Nagle's algorithm and add ~40 ms
to every answer on loopback. ``TileServer`` serves synthetic terrain (Terrarium) and
imagery tiles, or a folder of tiles, with injectable latency and faults.
"""
from __future__ import annotations

import random
import re
import socket
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

LOOPBACK = "127.0.0.1"

Resource = Tuple[bytes, str]  # body, content type
TILE_PATH = re.compile(r"^/(\d{1,2})/(\d{1,8})/(\d{1,8})\.(png|jpg|jpeg|webp)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "LoopbackServer"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connection_opened()

    def finish(self) -> None:
        super().finish()
        self.server.connection_closed()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.answer(self)

    def log_message(self, *_args) -> None:  # quiet: the CLI owns the terminal
        return None

    def send_body(self, status: int, body: bytes, content_type: str, headers: Optional[Dict[str, str]] = None,
                  sent_bytes: Optional[int] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body if sent_bytes is None else body[:sent_bytes])
        if sent_bytes is not None:
            self.close_connection = True


class LoopbackServer(ThreadingHTTPServer):
    """Serves in-memory resources on 127.0.0.1 from a daemon thread; use as a context manager."""

    daemon_threads = True
    request_queue_size = 128  # the library's 5 drops a client's 16 simultaneous connections (retried 1 s later)

    def __init__(self, resources: Optional[Dict[str, Resource]] = None, port: int = 0) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.resources = dict(resources or {})
        self.connections_opened = 0
        self.open_connections = 0
        self.max_open_connections = 0
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="offload-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def connection_opened(self) -> None:
        with self._count_lock:
            self.connections_opened += 1
            self.open_connections += 1
            self.max_open_connections = max(self.max_open_connections, self.open_connections)

    def connection_closed(self) -> None:
        with self._count_lock:
            self.open_connections -= 1

    def answer(self, handler: _Handler) -> None:
        resource = self.resources.get(handler.path.split("?", 1)[0])
        if resource is None:
            handler.send_error(404, "not found")
            return
        handler.send_body(200, *resource)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.shutdown()
        self.server_close()


@dataclass(frozen=True)
class Faults:
    """Faults injected on a tile's first attempt (fractions of tiles), and latency for all."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0  # HTTP 500
    rate_429: float = 0.0  # HTTP 429 with Retry-After: 1
    truncate_rate: float = 0.0  # body cut short of its Content-Length
    slow_rate: float = 0.0  # answered 500 ms late
    seed: int = 0


class TileServer(LoopbackServer):
    """Tiles at ``/{z}/{x}/{y}.png`` from ``source``: ``terrain``, ``imagery`` or a folder."""

    def __init__(self, source: str = "terrain", faults: Faults = Faults(), port: int = 0,
                 max_zoom: int = 18, cache_tiles: int = 4096) -> None:
        super().__init__(port=port)
        self.source, self.faults, self.max_zoom = source, faults, max_zoom
        self.requests = Counter()  # per tile path: how many times asked
        self.user_agents = Counter()
        self._render = self._renderer(source)
        self._cache: "OrderedDict[str, bytes]" = OrderedDict()
        self._cache_size = cache_tiles
        self._lock = threading.Lock()

    @property
    def template(self) -> str:
        return f"{self.base_url}/{{z}}/{{x}}/{{y}}.png"

    def _renderer(self, source: str) -> Callable[[int, int, int], Optional[bytes]]:
        if source in ("terrain", "imagery"):
            from .tile_images import encode_png, imagery_rgb, terrarium_rgb, tile_heights
            from ..net_tasks.tiles import Tile

            colour = terrarium_rgb if source == "terrain" else imagery_rgb
            return lambda z, x, y: encode_png(colour(tile_heights(Tile(x, y, z))))
        folder = Path(source)
        if not folder.is_dir():
            raise ValueError(f"tile source {source!r} is not terrain, imagery or a folder")

        def from_folder(z: int, x: int, y: int) -> Optional[bytes]:
            matches = list((folder / str(z) / str(x)).glob(f"{y}.*"))
            return matches[0].read_bytes() if matches else None

        return from_folder

    def _tile(self, z: int, x: int, y: int) -> Optional[bytes]:
        key = f"{z}/{x}/{y}"
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        body = self._render(z, x, y)
        with self._lock:
            self._cache[key] = body
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return body

    def answer(self, handler: _Handler) -> None:
        match = TILE_PATH.match(handler.path.split("?", 1)[0])
        if not match:
            handler.send_error(404, "not a tile path")
            return
        z, x, y = (int(v) for v in match.groups()[:3])
        key = f"{z}/{x}/{y}"
        with self._lock:
            self.requests[key] += 1
            attempt = self.requests[key]
            self.user_agents[handler.headers.get("User-Agent", "")] += 1
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000.0)
        if z > self.max_zoom or x >= 2 ** z or y >= 2 ** z:
            handler.send_error(404, "no such tile")
            return
        fault = self._fault(key) if attempt == 1 else ""
        if fault == "slow":
            time.sleep(0.5)
        if fault == "500":
            handler.send_body(500, b"injected failure", "text/plain")
            return
        if fault == "429":
            handler.send_body(429, b"slow down", "text/plain", {"Retry-After": "1"})
            return
        body = self._tile(z, x, y)
        if body is None:
            handler.send_error(404, "no tile here")
            return
        headers = {"Cache-Control": "max-age=604800", "ETag": f'"{z}-{x}-{y}"'}
        if handler.headers.get("If-None-Match") == headers["ETag"]:
            handler.send_body(304, b"", "image/png", headers)
            return
        handler.send_body(200, body, "image/png", headers, sent_bytes=len(body) // 2 if fault == "truncate" else None)

    def _fault(self, key: str) -> str:
        """The fault, if any, a tile gets on its first attempt (deterministic for a seed)."""
        draw = random.Random(f"{self.faults.seed}:{key}").random()
        for name, rate in (("500", self.faults.fail_rate), ("429", self.faults.rate_429),
                           ("truncate", self.faults.truncate_rate), ("slow", self.faults.slow_rate)):
            if draw < rate:
                return name
            draw -= rate
        return ""
