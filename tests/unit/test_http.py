"""The bounded body reader of ``net_tasks/http.py``: inflated, counted, checked against its length."""
from __future__ import annotations

import gzip
import io

import pytest

from offload.net_tasks.http import BodyRefused, BodyTruncated, body_chunks


class FakeResponse:
    """What body_chunks reads (urllib3's response): headers, and stream()."""

    def __init__(self, body: bytes, **headers) -> None:
        self.headers = headers
        self._body = io.BytesIO(body)

    def stream(self, amount: int, decode_content: bool):
        assert decode_content is False  # inflating is ours, counted
        return iter(lambda: self._body.read(amount), b"")


def test_a_gzip_bomb_stops_at_the_bound_having_held_one_piece():
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    pieces = []
    with pytest.raises(BodyRefused, match="more than 1000000 bytes once inflated \\(--flag raises it\\)"):
        for piece in body_chunks(FakeResponse(bomb, **{"Content-Encoding": "gzip"}), 1_000_000, "--flag raises it"):
            pieces.append(len(piece))
    assert max(pieces) <= 64 * 1024 and sum(pieces) <= 1_000_000


def test_bodies_are_inflated_counted_and_checked_against_their_length():
    text = b"tile " * 10_000
    assert b"".join(body_chunks(FakeResponse(gzip.compress(text), **{"Content-Encoding": "gzip"}), None, "")) == text
    assert b"".join(body_chunks(FakeResponse(text, **{"Content-Length": str(len(text))}), len(text), "")) == text
    with pytest.raises(BodyTruncated, match="10 of 99 bytes"):
        list(body_chunks(FakeResponse(b"x" * 10, **{"Content-Length": "99"}), None, ""))
    with pytest.raises(BodyRefused, match="Content-Encoding 'br'"):
        list(body_chunks(FakeResponse(b"x", **{"Content-Encoding": "br"}), None, ""))


def test_the_environment_proxies_are_read_once_per_host_and_still_honoured(monkeypatch):
    """requests reads the environment on every request (~0.15 ms of a tile's CPU); a session reads it once per host."""
    import requests.sessions

    from offload.net_tasks.http import OffloadSession

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "bypassed.example")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    reads = []
    environ_proxies = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies",
                        lambda url, no_proxy=None: reads.append(url) or environ_proxies(url, no_proxy))
    session = OffloadSession("test")
    for tile in range(3):
        settings = session.merge_environment_settings(f"http://tiles.example/14/{tile}/0.png", {}, True, None, None)
        assert settings["proxies"]["http"] == "http://127.0.0.1:9" and settings["stream"] is True
    assert session.merge_environment_settings("http://bypassed.example/0.png", {}, False, None, None)["proxies"] \
        .get("http") is None
    assert len(reads) == 2  # once per host
