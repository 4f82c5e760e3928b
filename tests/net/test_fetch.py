"""``net_tasks/fetch.py``'s ``attempt`` against a loopback server: what an answer's headers say
is read whatever the case of their names (HTTP's names are case-insensitive; many servers and
proxies send them in lower case)."""
from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from offload.net_tasks.fetch import attempt
from offload.net_tasks.http import MAX_COOKIES, OffloadSession

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


def recording(seen: list, answer):
    """``answer``, having noted the request's path and Authorization header in ``seen``."""
    def handle(handler, server) -> None:
        seen.append((handler.path, handler.headers.get("Authorization")))
        answer(handler, server)
    return handle


def redirect_to(location: str):
    def answer(handler, _server) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return answer


def fetched(url: str, headers=None):
    session = OffloadSession("offload-test")
    try:
        return attempt(session, url, timeout_s=20, headers=headers)
    finally:
        session.close()


def test_a_redirect_is_followed_and_credentials_stay_with_their_origin():
    body = b"\x89PNG moved"
    here, there = [], []
    with ScriptedServer(recording(there, whole(body))) as elsewhere, \
            ScriptedServer(recording(here, redirect_to("/moved.png")),
                           recording(here, redirect_to(elsewhere.url))) as server:
        answer = fetched(server.url, {"Authorization": "Bearer secret"})
    assert (answer.kind, answer.body) == ("ok", body)
    assert here == [("/file.bin", "Bearer secret"), ("/moved.png", "Bearer secret")]  # the same origin keeps them
    assert there == [("/file.bin", None)]  # another origin (here a port) never sees them


def test_a_redirect_to_another_origin_takes_no_header_the_caller_added_but_the_referer():
    # An auth config (APIHeader, EsriToken) or a connection may put a key in any header.
    sent = {"X-Api-Key": "secret", "Referer": "https://example.org/", "Authorization": "Bearer secret"}
    here, there = [], []

    def noting(seen, answer):
        def handle(handler, server) -> None:
            seen.append({name: handler.headers.get(name) for name in sent})
            answer(handler, server)
        return handle

    with ScriptedServer(noting(there, whole(b"\x89PNG moved"))) as elsewhere, \
            ScriptedServer(noting(here, redirect_to(elsewhere.url))) as server:
        assert fetched(server.url, sent).kind == "ok"
    assert here == [sent]
    assert there == [{"X-Api-Key": None, "Referer": "https://example.org/", "Authorization": None}]


def test_credentials_in_the_url_are_sent_as_basic_authentication_as_requests_does():
    seen = []
    with ScriptedServer(recording(seen, whole(b"\x89PNG"))) as server:
        url = server.url.replace("http://", "http://user:p%40ss@")
        assert fetched(url).kind == "ok"
    assert seen == [("/file.bin", "Basic " + base64.b64encode(b"user:p@ss").decode())]


def test_a_malformed_redirect_fails_its_tile_not_the_run():
    with ScriptedServer(redirect_to("http://127.0.0.1:99999/x")) as server:
        answer = fetched(server.url)
    assert (answer.kind, answer.problem) == ("fail", "a redirect to a malformed URL")


def test_a_utf8_redirect_is_read_as_utf8():
    seen = []
    location = "/t\u00e9st.png".encode("utf-8").decode("latin-1")  # the bytes a server sends, as http.server writes them
    with ScriptedServer(recording(seen, redirect_to(location)), recording(seen, whole(b"\x89PNG"))) as server:
        assert fetched(server.url).kind == "ok"
    assert [path for path, _ in seen] == ["/file.bin", "/t%C3%A9st.png"]


def test_a_redirect_elsewhere_than_http_or_without_end_fails_without_naming_the_url():
    with ScriptedServer(redirect_to("ftp://user:secret@127.0.0.1/x")) as server:
        answer = fetched(server.url)
    assert (answer.kind, answer.problem) == ("fail", "a redirect to a ftp: URL")
    seen = []
    with ScriptedServer(recording(seen, redirect_to("/again"))) as server:
        answer = fetched(server.url)
    assert (answer.kind, answer.problem) == ("fail", "more than 10 redirects") and len(seen) == 11


def cookie_gate(seen: list, body: bytes):
    """A server that wants its cookie: without it, a 302 back to the same URL that sets it."""
    def answer(handler, _server) -> None:
        cookie = handler.headers.get("Cookie")
        seen.append((handler.path, cookie))
        if "gate=open" in (cookie or "").split("; "):
            whole(body)(handler, _server)
            return
        handler.send_response(302)
        handler.send_header("Set-Cookie", "gate=open; Path=/")
        handler.send_header("Location", handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return answer


def test_a_cookie_a_server_sets_is_sent_back_on_its_redirect_and_on_later_tiles_unless_the_caller_gives_one():
    body, seen = b"\x89PNG behind a cookie", []
    with ScriptedServer(cookie_gate(seen, body)) as server:
        session = OffloadSession("offload-test")
        try:
            first = attempt(session, server.url, timeout_s=20)
            later = attempt(session, server.url.replace("file.bin", "other.png"), timeout_s=20)
            own = attempt(session, server.url, timeout_s=20, headers={"Cookie": "gate=open; mine=1"})
        finally:
            session.close()
    assert (first.kind, first.body, later.kind, later.body, own.kind) == ("ok", body, "ok", body, "ok")
    assert seen == [("/file.bin", None), ("/file.bin", "gate=open"), ("/other.png", "gate=open"),
                    ("/file.bin", "gate=open; mine=1")]  # a Cookie header the caller gives is sent as it is


def new_cookie_each_time(seen: list):
    """A server that sets a cookie of a new name on every answer."""
    def answer(handler, server) -> None:
        seen.append(handler.headers.get("Cookie") or "")
        handler.send_response(200)
        handler.send_header("Set-Cookie", f"c{len(seen)}=x; Path=/")
        handler.send_header("Content-Length", "4")
        handler.end_headers()
        handler.wfile.write(b"\x89PNG")
    return answer


def test_a_server_setting_cookies_without_end_is_followed_only_so_far():
    seen = []
    with ScriptedServer(new_cookie_each_time(seen)) as server:
        session = OffloadSession("offload-test")
        try:
            for _ in range(MAX_COOKIES + 10):
                assert attempt(session, server.url, timeout_s=20).kind == "ok"
        finally:
            session.close()
    assert len(seen[-1].split("; ")) == MAX_COOKIES  # the jar stopped growing; every request still answered

@pytest.fixture
def tls_server(tmp_path):
    """A ScriptedServer over TLS with a self-signed certificate for 127.0.0.1; yields (server, its certificate)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test certificate")
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(certificate), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate), str(key))
    with ScriptedServer(whole(b"\x89PNG over TLS")) as server:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield server, certificate


def test_tls_certificates_are_verified_against_the_ca_bundle_requests_would_use(tls_server, monkeypatch):
    server, certificate = tls_server
    url = server.url.replace("http://", "https://")
    untrusted = fetched(url)
    assert untrusted.kind == "retry" and untrusted.body is None  # a self-signed certificate is refused
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))  # as requests reads it
    assert (fetched(url).kind, fetched(url).body) == ("ok", b"\x89PNG over TLS")


@pytest.mark.parametrize("system_text", ["[Errno 111] Connection refused",
                                         "[WinError 10061] No connection could be made because the target machine "
                                         "actively refused it"])
def test_a_refused_connection_is_named_so_whatever_the_system_s_words(system_text):
    """urllib3's NewConnectionError is a ConnectTimeoutError: only its cause says it was refused."""
    import urllib3

    from offload.net_tasks.fetch import _transfer_problem

    try:
        try:
            raise ConnectionRefusedError(system_text)
        except ConnectionRefusedError as refused:  # as urllib3 raises it, with the socket's error as context
            raise urllib3.exceptions.NewConnectionError(None, f"Failed to establish a new connection: {refused}")
    except urllib3.exceptions.NewConnectionError as failed:
        wrapped = urllib3.exceptions.MaxRetryError(None, "/1/2/3.png", failed)
    assert _transfer_problem(wrapped) == "connection refused"
