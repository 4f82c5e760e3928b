"""HTTP with requests: one session per task, an honest User-Agent, cancel that reaches any
blocked read (while waiting for headers as much as mid-body), deadlines that do the same,
bodies read in bounded chunks, and URLs that never show their secrets (``redact.py``).

Tiles take ``OffloadSession.stream_get``: the session's own urllib3 pools (so its connection
limit, abort and deadlines hold) without requests' per-request machinery (preparing, cookies,
hooks, the response object) and with each host's route (proxy, pool, CA bundle) found once: a
request takes 0.25 ms of CPU, against 0.53 ms through ``requests.Session.get``. It follows
redirects as requests does, except that when the origin changes every header the caller added
goes but the Referer (an auth config's or a connection's headers may hold keys, not only
``Authorization``). Cookies a server sets are kept for the run, in memory, and sent back as
requests' session does (a server may set one and redirect to the same tile, or want it on every
later tile); the Cookie header costs nothing until a server sets one.

Proxies: headless, requests honours the usual environment variables (``HTTPS_PROXY`` …);
TLS certificates are always verified.
"""
from __future__ import annotations

import base64
import socket
import threading
import time
import weakref
import zlib
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Dict, Iterator, List, NamedTuple, Optional
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar, get_cookie_header
from requests.structures import CaseInsensitiveDict
from requests.utils import (DEFAULT_CA_BUNDLE_PATH, extract_zipped_paths, get_auth_from_url, get_netrc_auth,
                            prepend_scheme_if_needed, select_proxy, urldefragauth)

from ..core.control import Control
from ..core.errors import TaskFailed
from .redact import redact_text, redact_url

READ_BYTES = 64 * 1024  # one read from the socket; one inflated piece is never larger
WATCH_INTERVAL_S = 0.1  # how late a deadline may be acted on
MAX_REDIRECTS = 10
MAX_COOKIES = 50  # cookies kept for a run (browsers keep ~50 a domain): past them, new ones are not kept
KEPT_ACROSS_ORIGINS = ("Referer",)  # the caller's headers a redirect to another origin still gets
POOLS_KEPT = 8  # hosts whose idle connections stay open: a template's {s} subdomains, its redirects
# What a broken transfer raises, read through requests or straight from urllib3.
TRANSFER_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


def _shut(sock: Optional[socket.socket]) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


# -- deadlines ---------------------------------------------------------------------------------

class Deadline:
    """A point in time after which the connections a request used are shut.

    A socket timeout bounds each read, not the whole answer: a server dripping one byte
    every few seconds never trips it. Shutting the socket at the deadline does.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.connections: List = []

    def extend(self) -> None:
        """Push the deadline ``seconds`` from now (a download that is still making progress)."""
        self.at = time.monotonic() + self.seconds


class _Watchdog:
    """One thread per session that shuts the connections of requests past their deadline.

    It looks a few times a second rather than being woken for each request: adding and
    removing a deadline then costs a set operation, with no lock for 16 workers to contend on.
    """

    def __init__(self) -> None:
        self._deadlines: "set[Deadline]" = set()
        self._closed = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def add(self, deadline: Deadline) -> None:
        self._deadlines.add(deadline)  # atomic under the GIL
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="offload-deadlines", daemon=True)
            self._thread.start()

    def remove(self, deadline: Deadline) -> None:
        self._deadlines.discard(deadline)

    def close(self) -> None:
        self._closed.set()

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_INTERVAL_S):
            now = time.monotonic()
            for deadline in [d for d in list(self._deadlines) if d.at <= now]:
                deadline.expired = True
                self._deadlines.discard(deadline)
                for connection in list(deadline.connections):
                    _shut(getattr(connection, "sock", None))


# -- the session ---------------------------------------------------------------------------------

def _tracking(connection_cls: type, adapter: "AbortableAdapter") -> type:
    """A urllib3 connection class that records each socket it opens with ``adapter``, and
    each connection a request uses with that request's deadline."""

    class TrackedConnection(connection_cls):
        def connect(self) -> None:
            super().connect()
            adapter.sockets.add(self.sock)
            if adapter.aborted:  # the cancel came while this socket was being opened
                _shut(self.sock)

        def request(self, *args, **kwargs):
            deadline = getattr(adapter.local, "deadline", None)  # set in the requesting thread
            if deadline is not None:
                deadline.connections.append(self)
            return super().request(*args, **kwargs)

    return TrackedConnection


class AbortableAdapter(HTTPAdapter):
    """An adapter whose ``abort()`` shuts every socket it opened, from any thread.

    A shut socket makes a read blocked in another thread return at once, which is how a
    cancel interrupts a request still waiting for a slow server.
    """

    def __init__(self, **kwargs) -> None:
        self.sockets: "weakref.WeakSet[socket.socket]" = weakref.WeakSet()
        self.aborted = False
        self.local = threading.local()
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._track(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        self._track(manager)
        return manager

    def _track(self, manager) -> None:
        manager.pool_classes_by_scheme = {
            scheme: type(f"Abortable{pool.__name__}", (pool,), {"ConnectionCls": _tracking(pool.ConnectionCls, self)})
            for scheme, pool in manager.pool_classes_by_scheme.items()
        }

    def abort(self) -> None:
        self.aborted = True
        for sock in list(self.sockets):
            _shut(sock)


class _Route(NamedTuple):
    """Where a scheme and host's requests go, as requests' adapter would decide it."""

    scheme: str
    host: str
    port: Optional[int]
    proxies: Dict[str, str]
    proxy: Optional[str]  # the one for this host, if any
    verify: object  # False or a CA bundle's path
    authorization: Optional[str]  # a Basic header from the URL's user:password@, else ~/.netrc


class OffloadSession(requests.Session):
    """A session that names Offload (public tile servers block library defaults), can abort,
    and gives each request a deadline."""

    def __init__(self, user_agent: str, pool_size: int = 4, proxies: Optional[Dict[str, str]] = None) -> None:
        super().__init__()
        self.headers["User-Agent"] = user_agent
        self.headers["Accept-Encoding"] = "gzip, deflate"  # what inflate_chunks() reads
        if proxies:  # QGIS's proxy settings; otherwise requests reads the environment
            self.proxies.update(proxies)
            self.trust_env = False
        self.adapter = AbortableAdapter(pool_connections=POOLS_KEPT, pool_maxsize=pool_size, max_retries=0, pool_block=True)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)
        self._watchdog = _Watchdog()
        self._environment: Dict[tuple, dict] = {}
        self._routes: Dict[tuple, _Route] = {}
        self._verified: "weakref.WeakSet" = weakref.WeakSet()  # pools whose certificate checks are set
        self._cookies_set = False  # whether a server set a cookie: until then no request looks in the jar

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # noqa: D102 (requests' own)
        """As requests does, but the environment (proxies, NO_PROXY, CA bundle) is read once per
        scheme and host: requests reads it on every request, ~0.15 ms of a tile's CPU."""
        if not self.trust_env or proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (*urlsplit(url)[:2], stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = self._environment[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        return dict(settings)

    def abort(self) -> None:
        """Interrupt every request of this session, in whatever thread it blocks."""
        self.adapter.abort()

    @contextmanager
    def stream_get(self, url: str, timeout_s: float, headers: Optional[dict] = None) -> Iterator:
        """GET ``url`` through the session's urllib3 pools: the answer (a ``urllib3.HTTPResponse``
        whose body is not read yet), after up to ``MAX_REDIRECTS`` redirects to http(s) URLs.

        :raises RedirectRefused: for a redirect elsewhere, or too many.
        """
        timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        sent = CaseInsensitiveDict(self.headers)
        sent.update(headers or {})
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get_once(url, self._with_cookies(url, sent), timeout)
            if "Set-Cookie" in response.headers:
                self._keep_cookies(url, sent, response)
            location = response.get_redirect_location()
            if not location:
                break
            _discard(response)
            previous, url = url, _redirect_target(url, location)
            if self.should_strip_auth(previous, url):  # requests' rule for a new origin, to every added header
                sent = CaseInsensitiveDict(self.headers)
                sent.update({name: value for name, value in (headers or {}).items()
                             if name.title() in KEPT_ACROSS_ORIGINS})
        else:
            raise RedirectRefused(f"more than {MAX_REDIRECTS} redirects")
        try:
            yield response
        finally:
            response.close()  # a body not read to its end closes its connection, as requests does
            response.release_conn()

    def _keep_cookies(self, url: str, sent: CaseInsensitiveDict, response: urllib3.HTTPResponse) -> None:
        """Keep what a response's Set-Cookie headers set; a server that sets new names without
        end is not followed past ``MAX_COOKIES`` (every request would carry them all, and each
        lookup in the jar would take longer)."""
        if len(self.cookies) < MAX_COOKIES:
            extract_cookies_to_jar(self.cookies, SimpleNamespace(url=url, headers=sent), response)
            self._cookies_set = True

    def _with_cookies(self, url: str, headers: CaseInsensitiveDict) -> CaseInsensitiveDict:
        """``headers`` and the cookies the session's jar holds for ``url`` (its domain, path and
        scheme, as requests chooses them); a Cookie header the caller gave is sent as it is."""
        if not self._cookies_set or "Cookie" in headers:
            return headers
        cookie = get_cookie_header(self.cookies, SimpleNamespace(url=url, headers=headers))
        if cookie is None:
            return headers
        with_cookie = CaseInsensitiveDict(headers)
        with_cookie["Cookie"] = cookie
        return with_cookie

    def _get_once(self, url: str, headers: CaseInsensitiveDict, timeout) -> urllib3.HTTPResponse:
        parts = urlsplit(url)
        route = self._route(url, parts)
        if route.proxy is None:  # as requests' adapter finds the pool, without parsing the URL again
            pool = self.adapter.poolmanager.connection_from_host(route.host, route.port, route.scheme)
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        else:  # as requests' adapter does (get_connection, deprecated since requests 2.32.2)
            pool = self.adapter.proxy_manager_for(route.proxy).connection_from_host(route.host, route.port, route.scheme)
            if url.startswith("http:") and not route.proxy.lower().startswith("socks"):
                target = urldefragauth(url)  # a proxy asked for a plain http URL takes it whole
            else:
                target = urllib3.util.parse_url(url).request_uri
        if route.scheme == "https" and pool not in self._verified:
            self.adapter.cert_verify(pool, url, route.verify, None)
            self._verified.add(pool)
        sent = dict(headers.items())
        if route.authorization and "Authorization" not in headers:
            sent["Authorization"] = route.authorization
        return pool.urlopen("GET", target, headers=sent, redirect=False, assert_same_host=False,
                            preload_content=False, decode_content=False, retries=self.adapter.max_retries,
                            timeout=timeout)

    def _route(self, url: str, parts) -> "_Route":
        """Where requests would send ``url`` (proxy, certificate verification, credentials in the
        URL or ~/.netrc): read once per scheme and host, as the environment and ~/.netrc do not
        change during a run."""
        route = self._routes.get(parts[:2])
        if route is None:
            settings = self.merge_environment_settings(url, {}, True, None, None)
            credentials = get_auth_from_url(url)  # requests sends a URL's user:password@ as Basic
            if not any(credentials):
                credentials = get_netrc_auth(url) if self.trust_env else None
            authorization = (None if not credentials else
                             "Basic " + base64.b64encode(":".join(credentials).encode("latin-1")).decode("ascii"))
            # Named, not True: requests 2.32.0-2.32.4 leave a pool's CA bundle unset for True, and
            # urllib3 then trusts the system store instead of the bundle requests uses elsewhere.
            verify = extract_zipped_paths(DEFAULT_CA_BUNDLE_PATH) if settings["verify"] is True else settings["verify"]
            proxy = select_proxy(url, settings["proxies"])
            where = urllib3.util.parse_url(url)
            route = self._routes[parts[:2]] = _Route(
                where.scheme, where.host, where.port, settings["proxies"],
                prepend_scheme_if_needed(proxy, "http") if proxy else None, verify, authorization)
        return route

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Requests made in this thread inside the block are cut off ``seconds`` from now
        (or from the last ``extend()``): connect, headers and body alike."""
        deadline = Deadline(seconds)
        self.adapter.local.deadline = deadline
        self._watchdog.add(deadline)
        try:
            yield deadline
        finally:
            self.adapter.local.deadline = None
            self._watchdog.remove(deadline)

    def close(self) -> None:
        self._watchdog.close()
        super().close()


def _discard(response: urllib3.HTTPResponse) -> None:
    """Read a redirect's short body so its connection goes back to the pool; a long one closes it."""
    try:
        for _ in body_chunks(response, READ_BYTES, "a redirect"):
            pass
    except (BodyRefused, BodyTruncated):
        response.close()
    response.release_conn()


def _redirect_target(url: str, location: str) -> str:
    """The absolute URL a redirect's ``Location`` names, as requests reads it (the header arrives
    as latin-1; servers send UTF-8).

    :raises RedirectRefused: for a scheme other than http(s), or a URL that cannot be parsed.
    """
    try:
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    try:
        target = urljoin(url, location)
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        scheme = parts.scheme
    except ValueError:
        raise RedirectRefused("a redirect to a malformed URL") from None
    if scheme not in ("http", "https"):
        raise RedirectRefused(f"a redirect to a {scheme or 'relative'}: URL")
    return target


class RedirectRefused(Exception):
    """A redirect Offload does not follow: to a scheme other than http(s), or one too many."""


# -- bodies ----------------------------------------------------------------------------------------

class BodyRefused(Exception):
    """A body Offload will not take: too large (raw or inflated), or in an unknown encoding."""


class BodyTruncated(Exception):
    """A body that ended before its Content-Length."""


def body_chunks(response: urllib3.HTTPResponse, max_bytes: Optional[int], raise_hint: str) -> Iterator[bytes]:
    """The body of a streamed ``response`` (urllib3's: a requests response's ``raw``), inflated, in
    pieces of at most ``READ_BYTES``.

    Bytes are counted as they are read, after inflating: a gzip bomb stops at ``max_bytes``
    having held one piece. ``raise_hint`` says how to raise the bound (e.g. a flag).

    :raises BodyRefused: past ``max_bytes``, or for a Content-Encoding other than gzip/deflate.
    :raises BodyTruncated: when fewer bytes came than the Content-Length promised.
    """
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header
    elif encoding in ("", "identity"):
        inflater = None
    else:
        raise BodyRefused(f"a body in Content-Encoding {encoding!r}, which Offload did not ask for")
    length = response.headers.get("Content-Length", "")
    if inflater is None and max_bytes is not None and length.isdigit() and int(length) > max_bytes:
        raise BodyRefused(f"a body of more than {max_bytes} bytes ({raise_hint})")  # said up front: not read
    raw_bytes = body_bytes = 0

    def counted(piece: bytes) -> bytes:
        nonlocal body_bytes
        body_bytes += len(piece)
        if max_bytes is not None and body_bytes > max_bytes:
            inflated = " once inflated" if inflater is not None else ""
            raise BodyRefused(f"a body of more than {max_bytes} bytes{inflated} ({raise_hint})")
        return piece

    for raw in response.stream(READ_BYTES, decode_content=False):
        raw_bytes += len(raw)
        if inflater is None:
            yield counted(raw)
            continue
        try:
            piece = inflater.decompress(raw, READ_BYTES)
            while piece:
                yield counted(piece)
                piece = inflater.decompress(inflater.unconsumed_tail, READ_BYTES) if inflater.unconsumed_tail else b""
        except zlib.error:
            raise BodyRefused(f"a body that does not inflate as {encoding}") from None
    if inflater is not None:
        yield counted(inflater.flush())
    if length.isdigit() and int(length) != raw_bytes:
        raise BodyTruncated(f"a truncated body ({raw_bytes} of {length} bytes)")


def describe_request_error(url: str, exc: BaseException) -> str:
    """One line for a failed request, naming the URL (its secrets hidden)."""
    shown = redact_url(url)
    if isinstance(exc, requests.Timeout):
        return f"{shown} did not answer in time ({type(exc).__name__})"
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc.args[0]) if exc.args else str(exc)
        if "Connection refused" in reason:
            reason = "connection refused"
        return f"could not download {shown}: {redact_text(' '.join(reason.split()), url)[:200]}"
    return f"could not download {shown}: {type(exc).__name__}: {redact_text(str(exc), url)}"


def raise_if_canceled_or(control: Control, url: str, exc: BaseException) -> None:
    """Turn a request error into Canceled (when our abort caused it) or TaskFailed.

    ``from None``: the chained exception would carry the URL, secrets and all, into tracebacks.
    """
    control.check_canceled()
    raise TaskFailed(describe_request_error(url, exc)) from None
