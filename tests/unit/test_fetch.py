"""``net_tasks/fetch.py``'s politeness, by its properties: backoff, Retry-After, the Limiter."""
from __future__ import annotations

import email.utils
import os
import random
import sys
import threading
import time
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from offload.net_tasks.fetch import MAX_BACKOFF_S, MAX_RETRY_AFTER_S, Limiter, backoff_s, retry_after_s

NOW = 1_700_000_000.0  # a fixed "now": 2023-11-14
# What a header value can hold: http.client decodes header bytes as Latin-1.
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40)


def ceiling_s(attempt_number: int) -> float:
    """The longest backoff the docstring allows: 0.25·2^n seconds, capped."""
    return MAX_BACKOFF_S if attempt_number >= 10 else min(MAX_BACKOFF_S, 0.25 * 2 ** attempt_number)


class TopOfRange(random.Random):
    """An rng that always draws the top of the range: backoff_s then gives its ceiling."""

    def random(self) -> float:
        return 1.0


# -- backoff ---------------------------------------------------------------------------------

@given(st.integers(min_value=0, max_value=100_000), st.randoms(use_true_random=False))
def test_a_backoff_is_never_negative_nor_above_its_capped_ceiling(attempt_number, rng):
    assert 0.0 <= backoff_s(attempt_number, rng) <= ceiling_s(attempt_number) <= MAX_BACKOFF_S


@given(st.integers(min_value=0, max_value=100_000))
def test_the_ceiling_doubles_per_attempt_until_the_cap_then_stays(attempt_number):
    this, following = backoff_s(attempt_number, TopOfRange()), backoff_s(attempt_number + 1, TopOfRange())
    assert this == ceiling_s(attempt_number)
    assert following == min(MAX_BACKOFF_S, 2 * this)


def test_the_first_retry_waits_a_quarter_second_at_most_and_the_cap_is_reached():
    assert backoff_s(0, TopOfRange()) == 0.25
    assert backoff_s(20, TopOfRange()) == MAX_BACKOFF_S  # retries are bounded at 20


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=2 ** 32))
def test_full_jitter_spreads_waits_over_the_whole_range(attempt_number, seed):
    """Clients that failed together must not retry together: draws cover 0..ceiling."""
    rng = random.Random(seed)
    draws = [backoff_s(attempt_number, rng) for _ in range(300)]
    top = ceiling_s(attempt_number)
    assert min(draws) < 0.1 * top and max(draws) > 0.9 * top
    assert len(set(draws)) > 250  # not a handful of fixed steps


# -- Retry-After -----------------------------------------------------------------------------

@given(HEADER_TEXT | st.text(max_size=40) | st.none(),
       st.floats(min_value=0, max_value=4e9, allow_nan=False))
@example("\u00b2", NOW)  # Latin-1's superscript two: a digit to str.isdigit, not to float()
def test_any_retry_after_gives_none_or_a_wait_within_the_cap_and_never_raises(value, now):
    wait = retry_after_s(value, now)
    assert wait is None or 0.0 <= wait <= MAX_RETRY_AFTER_S


@given(st.integers(min_value=0, max_value=10 ** 400), st.sampled_from(["", " ", "\t"]))
def test_delay_seconds_are_taken_as_given_up_to_the_cap(seconds, padding):
    assert retry_after_s(f"{padding}{seconds}{padding}", NOW) == min(seconds, MAX_RETRY_AFTER_S)


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30)),
       st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_an_http_date_gives_the_seconds_until_it_never_negative_capped(when, now):
    when = when.replace(microsecond=0, tzinfo=timezone.utc)
    wait = retry_after_s(email.utils.format_datetime(when, usegmt=True), now)
    assert wait == pytest.approx(min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER_S))


def test_a_date_in_the_past_means_retry_now_and_one_far_ahead_waits_the_cap():
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0.0
    assert retry_after_s("Fri, 31 Dec 9999 23:59:59 GMT", NOW) == MAX_RETRY_AFTER_S
    assert retry_after_s("Tue, 14 Nov 2023 22:13:30 GMT", NOW) == pytest.approx(10.0)


@pytest.fixture(params=["UTC", "Asia/Tokyo", "America/New_York"])
def machine_zone(request):
    """The machine's local time zone, set for one test (the answer must not depend on it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@given(when=st.datetimes(min_value=datetime(100, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))  # 2 digits: 19xx/20xx
@example(when=datetime(9999, 12, 31, 23, 59, 59))  # a local zone east of UTC made this year 10000
@example(when=datetime(2023, 11, 14, 22, 13, 30))  # NOW + 10 s: read as local time, 0 or the cap
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the zone is the same for every example
def test_a_date_in_minus_0000_is_utc_whatever_the_machine_s_zone(machine_zone, when):
    """``-0000`` (RFC 5322's "UTC, zone unknown") must not be read as the machine's local time."""
    when = when.replace(microsecond=0)
    wait = retry_after_s(email.utils.format_datetime(when), NOW)  # a naive datetime is written -0000
    utc = when.replace(tzinfo=timezone.utc).timestamp()
    assert wait == pytest.approx(min(max(utc - NOW, 0.0), MAX_RETRY_AFTER_S))


@pytest.mark.parametrize("value", [
    None, "", "   ", "-5", "-0", "1.5", "1e3", "soon", "Mon, 99 Jan 2020 00:00:00 GMT",
    "Mon, 01 Jan 99999 00:00:00 GMT", "²", "³⁰", "١٢",  # digits to str.isdigit, not to HTTP
])
def test_what_is_neither_seconds_nor_a_date_means_no_advice(value):
    assert retry_after_s(value, NOW) is None


@given(st.integers(min_value=1, max_value=10 ** 6))
def test_a_negative_delay_is_no_advice_never_a_negative_wait(seconds):
    assert retry_after_s(f"-{seconds}", NOW) is None


# -- the Limiter -----------------------------------------------------------------------------

def successes_to_recover(allowed: int, workers: int) -> int:
    """AIMD's climb: from ``allowed``, one more connection per window of ``allowed`` successes."""
    return sum(range(allowed, workers))


class LimiterModel(RuleBasedStateMachine):
    """Any sequence of 429s and successes against a model of AIMD."""

    @initialize(workers=st.integers(min_value=1, max_value=64))
    def start(self, workers):
        self.limiter = Limiter(workers)
        self.workers = workers
        self.window = 0  # successes since the last change

    @rule()
    def throttled(self):
        before = self.limiter.allowed
        self.limiter.throttled()
        assert self.limiter.allowed == max(1, before // 2)
        self.window = 0  # a 429 starts the climb afresh

    @rule()
    def succeeded(self):
        before = self.limiter.allowed
        self.limiter.succeeded()
        self.window += 1
        if before < self.workers and self.window >= before:
            assert self.limiter.allowed == before + 1
            self.window = 0
        else:
            assert self.limiter.allowed == before

    @precondition(lambda self: self.limiter.allowed < self.workers)
    @rule()
    def recovers(self):
        for _ in range(successes_to_recover(self.limiter.allowed, self.workers) - self.window):
            self.limiter.succeeded()
        assert self.limiter.allowed == self.workers
        self.window = 0

    @invariant()
    def between_one_and_the_workers(self):
        assert 1 <= self.limiter.allowed <= self.workers


TestLimiterModel = LimiterModel.TestCase
TestLimiterModel.settings = settings(max_examples=200, stateful_step_count=60, deadline=None)


def test_a_429_at_full_speed_halves_and_one_connection_stays():
    limiter = Limiter(16)
    for expected in (8, 4, 2, 1, 1):
        limiter.throttled()
        assert limiter.allowed == expected


@pytest.fixture
def busy_switching():
    """Threads swap every microsecond, so a read-modify-write left unlocked is caught.

    (CPython 3.11 switches threads only at calls and loops, so the Limiter's bodies happen to be
    atomic today; with a ``time.sleep(0)`` inside them and the lock removed, both tests fail.)
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_threads_reporting_at_once_never_push_the_limit_out_of_bounds(busy_switching):
    for workers in (2, 3, 8):
        limiter, start = Limiter(workers), threading.Barrier(6)
        seen, problems = [], []

        def report(throttles: bool) -> None:
            start.wait()
            for step in range(3000):
                if throttles and step % 50 == 0:
                    limiter.throttled()
                else:
                    limiter.succeeded()
                allowed = limiter.allowed
                seen.append(allowed)
                if not 1 <= allowed <= workers:
                    problems.append(allowed)

        threads = [threading.Thread(target=report, args=(n < 2,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert not problems, f"allowed left 1..{workers}: {sorted(set(problems))}"
        assert min(seen) < workers  # the 429s did slow it down


def test_successes_from_many_threads_count_as_the_same_successes_in_turn(busy_switching):
    """No success is lost to a race: the climb ends where the same count in one thread ends."""
    workers, per_thread, threads_n = 64, 300, 6
    concurrent, sequential = Limiter(workers), Limiter(workers)
    for limiter in (concurrent, sequential):
        for _ in range(6):
            limiter.throttled()  # down to 1, so the climb is long
    start = threading.Barrier(threads_n)

    def succeed() -> None:
        start.wait()
        for _ in range(per_thread):
            concurrent.succeeded()

    threads = [threading.Thread(target=succeed) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for _ in range(per_thread * threads_n):
        sequential.succeeded()
    assert sequential.allowed < workers  # still climbing: every success counted shows
    assert concurrent.allowed == sequential.allowed
    assert successes_until_next(concurrent) == successes_until_next(sequential)


def successes_until_next(limiter: Limiter) -> int:
    before, count = limiter.allowed, 0
    while limiter.allowed == before:
        limiter.succeeded()
        count += 1
    return count
