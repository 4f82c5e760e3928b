"""Offload's exception tree: one-line messages for people, exit codes for the CLI.

Pure: stdlib only.
"""
from __future__ import annotations

import re
import traceback

# The command line's exit codes (DESIGN.md): done, failed while running, bad input, canceled.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELED = 0, 1, 2, 130
MAX_MESSAGE = 2000  # characters of a one-line message; a value read from a file may be megabytes
# Characters a terminal would act on (escape sequences, the bell) or that reorder the text shown
# (bidi controls): a message may quote a file's or a server's text, so they are shown as escapes.
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def shown(value: object) -> str:
    """``value`` as text on one line, as a person should see it: whitespace runs made one space,
    control characters as escapes (``\\x1b``), at most ``MAX_MESSAGE`` characters. Any value: a
    file's field may hold a number or bytes where text was expected."""
    text = _UNSHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), " ".join(str(value).split()))
    return text if len(text) <= MAX_MESSAGE else f"{text[:MAX_MESSAGE]}… ({len(text):,} characters)"


class OffloadError(Exception):
    """Root of Offload's errors; ``str(err)`` is a one-line, user-facing message."""

    exit_code = EXIT_FAILED

    def one_line(self) -> str:
        """The message on one line, whatever the exception text held (``shown``)."""
        return shown(self) or type(self).__name__


class InputError(OffloadError):
    """Bad input or usage, detected before any work; nothing was written."""

    exit_code = EXIT_USAGE


class TaskFailed(OffloadError):
    """The task failed while running; the message says why."""

    exit_code = EXIT_FAILED


class Canceled(OffloadError):
    """The task was canceled; nothing partial was left behind."""

    exit_code = EXIT_CANCELED


def one_line(exc: BaseException) -> str:
    """A one-line message for any exception, prefixed by its type unless it is ours."""
    if isinstance(exc, OffloadError):
        return exc.one_line()
    text = shown(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def without_frames(exc: BaseException) -> BaseException:
    """``exc`` with the frames of the run it ended let go, now, in this thread.

    Its traceback holds those frames, and their locals (the user's layers, a run's QGIS
    objects), in a cycle with the exception itself: left to the garbage collector, they are
    freed at some later moment, in any thread, or after QGIS has exited, where deleting a layer
    crashed the process. The one-line message and the type stay.
    """
    traceback.clear_frames(exc.__traceback__)
    return exc.with_traceback(None)
