"""One writing thread behind a short queue: items are written in the order they were put.

Engines that produce on one thread and write on another (buffered features into a file, tiles
into a mosaic) share this: the producer never waits for the disk unless the queue is full, so
memory stays flat; the writer's first failure is raised to the producer at its next ``put()``
or at ``close()``; after a failure or ``abandon()`` nothing more is written.

Pure: stdlib only.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Generic, List, Optional, TypeVar

Item = TypeVar("Item")
_END = object()


class OrderedWriter(Generic[Item]):
    """Call ``write(item)`` on a thread of its own, for each item ``put()``, in order.

    Use as a context manager: leaving normally waits for every write (``close()``); leaving
    with an exception drops what is still queued (``abandon()``).
    """

    def __init__(self, write: Callable[[Item], None], capacity: int, name: str = "offload-writer") -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity} is below 1")
        self._write = write
        self._queue: "queue.Queue[Any]" = queue.Queue(maxsize=capacity)
        self._failures: List[BaseException] = []
        self._dropping = False
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def put(self, item: Item) -> None:
        """Queue ``item`` (waits while the queue is full); raises the writer's failure, if any."""
        self.raise_failure()
        self._queue.put(item)

    def raise_failure(self) -> None:
        """Raise what the writing thread met, if anything."""
        if self._failures:
            raise self._failures[0]

    def close(self) -> None:
        """Wait until every queued item is written; raise the writer's failure, if any."""
        self._stop()
        failures, self._failures = self._failures, []  # see abandon()
        if failures:
            raise failures[0]

    def abandon(self) -> None:
        """Drop what is still queued and wait for the write under way (canceled or failed)."""
        self._dropping = True
        self._stop()
        # Forget the failure (the producer has it): its traceback holds the writing thread's
        # frame, which holds this writer: a cycle that would keep whatever the write touched
        # alive until the garbage collector runs, on whatever thread.
        self._failures = []

    def __enter__(self) -> "OrderedWriter[Item]":
        return self

    def __exit__(self, exc_type: Optional[type], _exc: Any, _tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self._failures or self._dropping:
                continue  # keep taking items, so a producer waiting on a full queue is released
            try:
                self._write(item)
            except BaseException as exc:  # handed to the producer by its next put() or close()
                self._failures.append(exc)
