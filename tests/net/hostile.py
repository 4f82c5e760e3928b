"""Hostile servers on 127.0.0.1 and a way to measure a run's peak memory.

``HostileServer``: each column of a zoom-3 row gets one kind of attack. ``ScriptedServer``:
the n-th request gets the n-th scripted answer (a drip, half a body, a resumable file).
Bounded: every answer ends within ~20 s and holds at most a few hundred KB in memory here
(large bodies are generated as they are sent).
"""
from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict

import numpy as np

from offload.demo.tile_images import encode_png
from offload.demo.tile_server import LOOPBACK

# Runs the command as a child and prints its exit code and peak RSS (KiB) on the last line.
MEASURED = ("import resource, subprocess, sys\n"
            "rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measured_offload(*args, env, timeout=120):
    """(exit code, stderr, peak RSS in MB) of `python -m offload ARGS`, run as a child of a child
    so the peak is this run's alone; on timeout the whole process group is killed."""
    process = subprocess.Popen([sys.executable, "-c", MEASURED, sys.executable, "-m", "offload", *args],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the run too, not only the measuring parent
        process.communicate()
        raise
    rc, peak_kib = stdout.split()[-2:]
    return int(rc), stderr, int(peak_kib) / 1024


# Zoom 3, row y=3 (latitudes 0..41°): x = 0..7, one attack per column.
ROW_BBOX = (-179.9, 1.0, 179.9, 40.0)
ATTACKS = ("bomb", "gzip-bomb", "drip", "huge", "wrong-size", "html", "forbidden", "good")
BOMB_PX = 10_000  # declared 10000² (grey): 100 MB decoded, ~100 KB on the wire
GZIP_INFLATED = 300 * 1024 * 1024
HUGE_BYTES = 50 * 1024 * 1024
DRIP_BYTES, DRIP_EVERY_S = 40, 0.5


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(px: int = BOMB_PX) -> bytes:
    """A valid grey PNG of px × px black pixels: tiny compressed, huge decoded."""
    compressor, row = zlib.compressobj(9), b"\0" * (px + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(px)) + compressor.flush()
    header = struct.pack(">IIBBBBB", px, px, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def gzip_bomb(size: int = GZIP_INFLATED) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    return b"".join(compressor.compress(block) for _ in range(size // len(block))) + compressor.flush()


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: Counter = Counter()
        self.bodies: Dict[str, bytes] = {
            "bomb": png_bomb(),
            "gzip-bomb": gzip_bomb(),
            "wrong-size": encode_png(np.full((3, 512, 512), 90, np.uint8)),
            "good": encode_png(np.full((3, 256, 256), 120, np.uint8)),
            "html": b"<html><body>Sign in to see this map</body></html>",
        }
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.strip("/").split("?")[0].split("/")
                attack = ATTACKS[int(parts[1])] if len(parts) == 3 and parts[0] == "3" and parts[2] == "3.png" else ""
                server.requests[attack or self.path] += 1
                if not attack:
                    self.send_error(404)
                    return
                getattr(self, "answer_" + attack.replace("-", "_"), self.answer_body)(attack)

            def send(self, status: int, length: int, content_type: str = "image/png", **headers) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()

            def answer_body(self, attack: str) -> None:
                body = server.bodies[attack]
                self.send(200, len(body), "text/html" if attack == "html" else "image/png")
                self.wfile.write(body)

            def answer_gzip_bomb(self, attack: str) -> None:
                body = server.bodies[attack]
                self.send(200, len(body), Content_Encoding="gzip")
                self.wfile.write(body)

            def answer_forbidden(self, _attack: str) -> None:
                self.send(403, 9, "text/plain")
                self.wfile.write(b"forbidden")

            def answer_huge(self, _attack: str) -> None:
                self.send(200, HUGE_BYTES)
                block = b"\0" * (1024 * 1024)
                try:
                    for _ in range(HUGE_BYTES // len(block)):
                        self.wfile.write(block)
                except OSError:
                    self.close_connection = True  # the client gave up, as it should

            def answer_drip(self, _attack: str) -> None:
                self.send(200, DRIP_BYTES)
                try:
                    for _ in range(DRIP_BYTES):
                        if server.stop.wait(DRIP_EVERY_S):
                            break
                        self.wfile.write(b"\0")
                        self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

            def log_message(self, *_args) -> None:
                return None

        super().__init__((LOOPBACK, 0), Handler)
        self.template = f"http://{LOOPBACK}:{self.server_address[1]}/{{z}}/{{x}}/{{y}}.png"

    def handle_error(self, request, client_address) -> None:
        return None  # clients hanging up on an attack is the point

    def __enter__(self) -> "HostileServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()


class ScriptedServer(ThreadingHTTPServer):
    """Answers the n-th request with ``script[n]`` (the last one repeats): a callable
    ``(handler, server)``. ``release`` frees answers that wait; every wait ends within 20 s."""

    daemon_threads = True

    def __init__(self, *script) -> None:
        self.script, self.seen = script, 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                with server.lock:
                    index, server.seen = server.seen, server.seen + 1
                try:
                    server.script[min(index, len(server.script) - 1)](self, server)
                except OSError:
                    self.close_connection = True

            def log_message(self, *_args) -> None:
                return None

        super().__init__((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server_address[1]}/file.bin"

    def handle_error(self, request, client_address) -> None:
        return None

    def __enter__(self) -> "ScriptedServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


def whole(body: bytes, **headers):
    def answer(handler, _server) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def half_then_wait(body: bytes):
    """Half the body, then the rest once the server's ``release`` is set."""
    def answer(handler, server) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", '"half"')
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        server.release.wait(20)
        handler.wfile.write(body[len(body) // 2:])
    return answer


def drip(total: int = 200, every_s: float = 0.5):
    def answer(handler, server) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        for _ in range(total):
            if server.release.wait(every_s):
                break
            handler.wfile.write(b"\0")
            handler.wfile.flush()
        handler.close_connection = True
    return answer


def zeros_with_ranges(total: int, cut_at: int):
    """``total`` zero bytes with an ETag; the first answer hangs up after ``cut_at``; a Range
    with a matching If-Range gets the rest (206). Generated as sent: nothing held here."""
    block = b"\0" * (1024 * 1024)

    def send_zeros(handler, count: int) -> None:
        while count > 0:
            handler.wfile.write(block[:min(count, len(block))])
            count -= len(block)

    def answer(handler, server) -> None:
        asked = handler.headers.get("Range", "")
        if asked and handler.headers.get("If-Range") == '"zeros"':
            start = int(asked.split("=")[1].rstrip("-"))
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
            handler.send_header("Content-Length", str(total - start))
            handler.send_header("ETag", '"zeros"')
            handler.end_headers()
            send_zeros(handler, total - start)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.send_header("ETag", '"zeros"')
        handler.end_headers()
        send_zeros(handler, cut_at if server.seen == 1 else total)
        handler.close_connection = True
    return answer
