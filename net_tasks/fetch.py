"""Fetching tiles politely: retries with backoff and jitter, Retry-After, one host-wide pace.

Pure logic plus ``requests``; no GDAL. A response counts only when complete: status 200,
the declared length received, and a body that decodes as an image (checked by the caller).
"""
from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import requests

from ..core.control import Control
from ..core.errors import TaskFailed

RETRY_STATUSES = {429, 500, 502, 503, 504}
EMPTY_STATUSES = {204, 404}  # "no tile here" (oceans): filled with nodata
MAX_RETRY_AFTER_S = 30.0
MAX_BACKOFF_S = 8.0


@dataclass
class Answer:
    """What a tile request gave: a body, nothing here (404/204), or not modified (304)."""

    body: Optional[bytes]
    status: int
    attempts: int
    headers: dict = field(default_factory=dict)


class HostPace:
    """A host-wide gate: after a 429 every worker waits out Retry-After, and concurrency
    drops to one and climbs back by one as answers succeed (additive increase)."""

    def __init__(self, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = workers
        self.allowed = workers
        self.in_flight = 0
        self.not_before = 0.0
        self._clock = clock
        self._condition = threading.Condition()

    def acquire(self, control: Control) -> None:
        with self._condition:
            while True:
                control.check_canceled()
                wait_s = self.not_before - self._clock()
                if wait_s <= 0 and self.in_flight < self.allowed:
                    self.in_flight += 1
                    return
                self._condition.wait(timeout=min(max(wait_s, 0.0), 0.05) or 0.05)

    def release(self, throttled_for_s: Optional[float] = None) -> None:
        with self._condition:
            self.in_flight -= 1
            if throttled_for_s is not None:
                self.not_before = max(self.not_before, self._clock() + throttled_for_s)
                self.allowed = 1
            elif self.allowed < self.workers:
                self.allowed += 1
            self._condition.notify_all()


def retry_after_s(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
    if parsed is None:
        return None
    seconds = parsed.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def backoff_s(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: up to 0.25·2^attempt seconds, capped."""
    return rng.uniform(0.0, min(MAX_BACKOFF_S, 0.25 * 2 ** attempt))


def fetch(session: requests.Session, url: str, retries: int, timeout_s: float, pace: HostPace,
          control: Control, check_body: Callable[[bytes], bool], headers: Optional[dict] = None,
          rng: Optional[random.Random] = None) -> Answer:
    """GET ``url`` until a complete answer or ``retries`` retries are used up.

    :raises TaskFailed: naming the URL and the last problem.
    """
    rng = rng or random.Random()
    problem = ""
    for attempt in range(retries + 1):
        pace.acquire(control)
        throttle = None
        try:
            response = session.get(url, timeout=timeout_s, headers=headers)
            body = response.content
            length = response.headers.get("Content-Length")
            if response.status_code == 200 and (length is None or int(length) == len(body)) and check_body(body):
                return Answer(body, 200, attempt + 1, dict(response.headers))
            if response.status_code in EMPTY_STATUSES or response.status_code == 304:
                return Answer(None, response.status_code, attempt + 1, dict(response.headers))
            if response.status_code == 200:
                problem = f"an incomplete or undecodable body ({len(body)} bytes)"
            elif response.status_code in RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                if response.status_code == 429:
                    throttle = retry_after_s(response.headers.get("Retry-After")) or backoff_s(attempt + 1, rng)
            else:
                raise TaskFailed(f"{url} answered HTTP {response.status_code}")
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            control.check_canceled()
            problem = type(exc).__name__
        finally:
            pace.release(throttle)
        if attempt < retries and throttle is None:
            _sleep(backoff_s(attempt, rng), control)  # this worker waits; others keep going
    raise TaskFailed(f"{url}: {problem} after {retries + 1} attempts")


def _sleep(seconds: float, control: Control) -> None:
    deadline = time.monotonic() + seconds
    while True:
        control.check_canceled()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))
