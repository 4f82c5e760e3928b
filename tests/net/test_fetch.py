"""``net_tasks/fetch.py``'s ``attempt`` against a loopback server: what an answer's headers say
is read whatever the case of their names (HTTP's names are case-insensitive; many servers and
proxies send them in lower case)."""
from __future__ import annotations

import sys
from pathlib import Path

from offload.net_tasks.fetch import attempt
from offload.net_tasks.http import OffloadSession

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hostile.py, beside this file
from hostile import ScriptedServer, whole  # noqa: E402


def throttled_lower_case(handler, _server) -> None:
    handler.send_response(429)
    handler.send_header("retry-after", "3")
    handler.send_header("content-length", "0")
    handler.end_headers()


def test_an_answer_s_headers_are_found_whatever_the_case_of_their_names():
    body = b"\x89PNG not really"
    with ScriptedServer(whole(body, cache_control="max-age=60", etag='"v1"', content_type="image/png")) as server:
        session = OffloadSession("offload-test")
        try:
            answer = attempt(session, server.url, timeout_s=20)
        finally:
            session.close()
    assert (answer.kind, answer.body) == ("ok", body)
    assert answer.headers.get("Cache-Control") == "max-age=60"  # the cache's freshness
    assert answer.headers.get("ETag") == '"v1"'  # the cache's conditional request
    assert answer.headers.get("Content-Type") == "image/png"  # the tile's check


def test_a_lower_case_retry_after_is_honoured():
    with ScriptedServer(throttled_lower_case) as server:
        session = OffloadSession("offload-test")
        try:
            answer = attempt(session, server.url, timeout_s=20)
        finally:
            session.close()
    assert (answer.kind, answer.throttled, answer.retry_after_s) == ("retry", True, 3.0)
