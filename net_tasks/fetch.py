"""One polite request at a time: what an answer means, when to retry, how fast to go.

No GDAL here. ``attempt`` makes a single request and classifies the answer; the caller's
scheduler decides when to retry (never by sleeping in a worker). ``Limiter`` is the
host-wide concurrency: halved on a 429, climbing back by one per window of successes.
"""
from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import requests

RETRY_STATUSES = {429, 500, 502, 503, 504}
EMPTY_STATUSES = {204, 404}  # "no tile here" (oceans): filled with nodata
MAX_RETRY_AFTER_S = 30.0
MAX_BACKOFF_S = 8.0


@dataclass
class Answer:
    """One request's outcome: ``ok``, ``empty`` (404/204), ``not_modified`` (304), ``retry`` or ``fail``."""

    kind: str
    body: Optional[bytes] = None
    headers: dict = field(default_factory=dict)
    problem: str = ""
    retry_after_s: Optional[float] = None
    throttled: bool = False  # a 429: the server asks the whole client to slow down


def attempt(session: requests.Session, url: str, timeout_s: float, headers: Optional[dict] = None) -> Answer:
    """One GET. A 200 counts only when its declared length arrived (the caller checks it decodes)."""
    try:
        response = session.get(url, timeout=timeout_s, headers=headers)
        body = response.content
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
        return Answer("retry", problem=type(exc).__name__)
    status, length = response.status_code, response.headers.get("Content-Length")
    answer_headers = dict(response.headers)
    if status == 200:
        if length is not None and length.isdigit() and int(length) != len(body):
            return Answer("retry", problem=f"a truncated body ({len(body)} of {length} bytes)")
        return Answer("ok", body, answer_headers)
    if status in EMPTY_STATUSES:
        return Answer("empty", headers=answer_headers)
    if status == 304:
        return Answer("not_modified", headers=answer_headers)
    if status in RETRY_STATUSES:
        return Answer("retry", problem=f"HTTP {status}", throttled=status == 429,
                      retry_after_s=retry_after_s(response.headers.get("Retry-After")))
    return Answer("fail", problem=f"HTTP {status}")


def retry_after_s(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    seconds = parsed.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def backoff_s(attempt_number: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: up to 0.25·2^n seconds, capped."""
    return rng.uniform(0.0, min(MAX_BACKOFF_S, 0.25 * 2 ** attempt_number))


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
