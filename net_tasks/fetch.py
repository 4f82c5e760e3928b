"""One polite request at a time: what an answer means, when to retry, how fast to go.

No GDAL here. ``attempt`` makes a single request and classifies the answer; the caller's
scheduler decides when to retry (never by sleeping in a worker). ``Limiter`` is the
host-wide concurrency: halved on a 429, climbing back by one per window of successes.
"""
from __future__ import annotations

import email.utils
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timezone
from typing import Mapping, Optional

import urllib3

from .http import TRANSFER_ERRORS, BodyRefused, BodyTruncated, OffloadSession, RedirectRefused, body_chunks
from .request import DEFAULT_MAX_TILE_BYTES  # a tile body's bound, raw or inflated

RETRY_STATUSES = {429, 500, 502, 503, 504}
EMPTY_STATUSES = {204, 404}  # "no tile here" (oceans): filled with nodata
MAX_RETRY_AFTER_S = 30.0
MAX_BACKOFF_S = 8.0
DRAIN_BYTES = 64 * 1024  # an error page longer than this costs its connection


@dataclass
class Answer:
    """One request's outcome: ``ok``, ``empty`` (404/204), ``not_modified`` (304), ``retry`` or ``fail``.

    ``problem`` names what went wrong in words a user can act on (``HTTP 403``, ``no complete
    answer within 30 s (--timeout)``, ``a body of more than … bytes``).
    """

    kind: str
    body: Optional[bytes] = None
    headers: Mapping[str, str] = field(default_factory=dict)  # looked up case-insensitively
    problem: str = ""
    retry_after_s: Optional[float] = None
    throttled: bool = False  # a 429: the server asks the whole client to slow down


def attempt(session: OffloadSession, url: str, timeout_s: float, headers: Optional[dict] = None,
            max_bytes: int = DEFAULT_MAX_TILE_BYTES) -> Answer:
    """One GET, all of it (connect, headers, body) within ``timeout_s``, the body within ``max_bytes``.

    A 200 counts only when its declared length arrived (the caller checks it decodes). Only
    what may go better next time is a retry: timeouts, dropped connections, 429 and 5xx.
    """
    with session.deadline(timeout_s) as deadline:
        try:
            with session.stream_get(url, timeout_s, headers) as response:
                # urllib3's mapping: header names are case-insensitive (a server may send `etag`)
                status, answer_headers = response.status, response.headers
                if status != 200:
                    _drain(response)  # so the connection goes back to the pool
                    return _not_ok(status, answer_headers)
                body = b"".join(body_chunks(response, max_bytes, "--max-tile-bytes raises it"))
        except (BodyRefused, RedirectRefused) as exc:
            return Answer("fail", problem=str(exc))
        except (BodyTruncated, *TRANSFER_ERRORS) as exc:  # a shut socket may look like a short body
            if deadline.expired:
                return Answer("retry", problem=f"no complete answer within {timeout_s:g} s (--timeout)")
            return Answer("retry", problem=str(exc) if isinstance(exc, BodyTruncated) else _transfer_problem(exc))
    return Answer("ok", body, answer_headers)


def _drain(response: urllib3.HTTPResponse) -> None:
    try:
        for _ in body_chunks(response, DRAIN_BYTES, "an error page"):
            pass
    except (BodyRefused, BodyTruncated):
        pass  # the connection closes instead


def _not_ok(status: int, headers: Mapping[str, str]) -> Answer:
    if status in EMPTY_STATUSES:
        return Answer("empty", headers=headers)
    if status == 304:
        return Answer("not_modified", headers=headers)
    if status in RETRY_STATUSES:
        return Answer("retry", problem=f"HTTP {status}", throttled=status == 429,
                      retry_after_s=retry_after_s(headers.get("Retry-After")))
    return Answer("fail", problem=f"HTTP {status}")


def _transfer_problem(exc: BaseException) -> str:
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason  # what went wrong, wrapped by urllib3's (disabled) retries
    if _refused(exc) or "Connection refused" in str(exc):  # before the timeouts: urllib3's NewConnectionError is one of them
        return "connection refused"
    if isinstance(exc, (urllib3.exceptions.TimeoutError, socket.timeout)):
        return "no answer in time (--timeout)"
    return f"a broken connection ({type(exc).__name__})"


def _refused(exc: BaseException) -> bool:
    """Whether the connection was refused: a ``ConnectionRefusedError`` in the chain (its text is
    the system's: "Connection refused" on Linux and macOS, "[WinError 10061] …" on Windows)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ConnectionRefusedError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def retry_after_s(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # HTTP's digits: '²' is one to str.isdigit
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000" is UTC (RFC 5322), not this machine's zone
            parsed = parsed.replace(tzinfo=timezone.utc)
        seconds = parsed.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def backoff_s(attempt_number: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: up to 0.25·2^n seconds, capped."""
    exponent = min(attempt_number, 16)  # past the cap already; 2**1024 is no float
    return rng.uniform(0.0, min(MAX_BACKOFF_S, 0.25 * 2 ** exponent))


class Limiter:
    """How many requests may be in flight toward the host: AIMD, as TCP does.

    Starts at ``workers``; a 429 halves it (at least 1); every ``allowed`` successes add one,
    back up to ``workers``.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.allowed = workers
        self._successes = 0
        self._lock = threading.Lock()

    def throttled(self) -> None:
        with self._lock:
            self.allowed = max(1, self.allowed // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._lock:
            self._successes += 1
            if self._successes >= self.allowed and self.allowed < self.workers:
                self.allowed += 1
                self._successes = 0
