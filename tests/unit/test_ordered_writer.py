"""The ordered writer: order kept, memory bounded, failures raised to the producer, abandon drops."""
from __future__ import annotations

import threading

import pytest

from offload.core.ordered_writer import OrderedWriter


def test_items_are_written_in_the_order_they_were_put():
    written = []
    with OrderedWriter(written.append, capacity=2) as writer:
        for number in range(500):
            writer.put(number)
    assert written == list(range(500))


def test_the_queue_is_bounded_so_a_fast_producer_waits_for_the_writer():
    release, most_queued = threading.Event(), []
    writer = OrderedWriter(lambda _item: release.wait(5), capacity=3)
    producer = threading.Thread(target=lambda: [writer.put(n) for n in range(10)])
    producer.start()
    producer.join(0.3)
    most_queued.append(writer._queue.qsize())
    assert producer.is_alive()  # blocked on the full queue, not holding all ten items
    release.set()
    producer.join(5)
    writer.close()
    assert most_queued[0] <= 3


def test_the_writers_failure_reaches_the_producer_and_nothing_more_is_written():
    written = []

    def write(item):
        if item == 3:
            raise OSError("disk full")
        written.append(item)

    writer = OrderedWriter(write, capacity=1)
    with pytest.raises(OSError, match="disk full"):
        for number in range(100):
            writer.put(number)
        writer.close()
    writer.abandon()
    assert written == [0, 1, 2]


def test_abandon_drops_what_is_queued_and_waits_for_the_write_under_way():
    started, release, written = threading.Event(), threading.Event(), []

    def write(item):
        started.set()
        release.wait(5)
        written.append(item)

    writer = OrderedWriter(write, capacity=5)
    for number in range(5):
        writer.put(number)
    started.wait(5)
    abandoning = threading.Thread(target=writer.abandon)
    abandoning.start()
    while not writer._dropping:  # abandon() has begun; only then may the first write end
        abandoning.join(0.01)
    release.set()
    abandoning.join(5)
    assert written == [0]


def test_leaving_the_block_with_an_exception_abandons_the_rest():
    with pytest.raises(RuntimeError, match="canceled"):
        with OrderedWriter(lambda item: None, capacity=2) as writer:
            writer.put(1)
            raise RuntimeError("canceled")
    assert writer._dropping and not writer._thread.is_alive()


def test_a_capacity_below_one_is_refused():
    with pytest.raises(ValueError, match="capacity 0"):
        OrderedWriter(lambda item: None, capacity=0)
