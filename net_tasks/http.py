"""HTTP with requests: one session per task, an honest User-Agent, and cancel that reaches
any blocked read (while waiting for headers as much as mid-body).

Proxies: headless, requests honours the usual environment variables (``HTTPS_PROXY`` …);
TLS certificates are always verified.
"""
from __future__ import annotations

import socket
import weakref
from typing import Dict, Optional

import requests
from requests.adapters import HTTPAdapter

from ..core.control import Control
from ..core.errors import TaskFailed


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _tracking(connection_cls: type, adapter: "AbortableAdapter") -> type:
    """A urllib3 connection class that records each socket it opens with ``adapter``."""

    class TrackedConnection(connection_cls):
        def connect(self) -> None:
            super().connect()
            adapter.sockets.add(self.sock)
            if adapter.aborted:  # the cancel came while this socket was being opened
                _shut(self.sock)

    return TrackedConnection


class AbortableAdapter(HTTPAdapter):
    """An adapter whose ``abort()`` shuts every socket it opened, from any thread.

    A shut socket makes a read blocked in another thread return at once, which is how a
    cancel interrupts a request still waiting for a slow server.
    """

    def __init__(self, **kwargs) -> None:
        self.sockets: "weakref.WeakSet[socket.socket]" = weakref.WeakSet()
        self.aborted = False
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


class OffloadSession(requests.Session):
    """A session that names Offload (public tile servers block library defaults) and can abort."""

    def __init__(self, user_agent: str, pool_size: int = 4, proxies: Optional[Dict[str, str]] = None) -> None:
        super().__init__()
        self.headers["User-Agent"] = user_agent
        if proxies:  # QGIS's proxy settings; otherwise requests reads the environment
            self.proxies.update(proxies)
            self.trust_env = False
        self.adapter = AbortableAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0, pool_block=True)
        self.mount("http://", self.adapter)
        self.mount("https://", self.adapter)

    def abort(self) -> None:
        """Interrupt every request of this session, in whatever thread it blocks."""
        self.adapter.abort()


def describe_request_error(url: str, exc: requests.RequestException) -> str:
    """One line for a failed request, naming the URL."""
    if isinstance(exc, requests.Timeout):
        return f"{url} did not answer in time ({type(exc).__name__})"
    if isinstance(exc, requests.ConnectionError):
        reason = str(exc.args[0]) if exc.args else str(exc)
        if "Connection refused" in reason:
            reason = "connection refused"
        return f"could not download {url}: {' '.join(reason.split())[:200]}"
    return f"could not download {url}: {type(exc).__name__}: {exc}"


def raise_if_canceled_or(control: Control, url: str, exc: requests.RequestException) -> None:
    """Turn a request error into Canceled (when our abort caused it) or TaskFailed."""
    control.check_canceled()
    raise TaskFailed(describe_request_error(url, exc)) from exc
