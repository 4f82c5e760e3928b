"""HTTP with requests: one session per task, an honest User-Agent, aborts that reach a blocked read.

Proxies: headless, requests honours the usual environment variables (``HTTPS_PROXY`` …);
TLS certificates are always verified.
"""
from __future__ import annotations

import socket
from typing import Callable

import requests
from requests.adapters import HTTPAdapter

from ..core.control import Control
from ..core.errors import TaskFailed


def make_session(user_agent: str, pool_size: int = 4) -> requests.Session:
    """A session that names Offload (public tile servers block library defaults)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0, pool_block=True)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def abort_response(response: requests.Response) -> Callable[[], None]:
    """A hook that shuts the response's socket, so a read blocked in another thread returns now."""

    def abort() -> None:
        connection = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    return abort


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


