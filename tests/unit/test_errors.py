"""Offload's exception tree: exit codes and one-line messages."""
from __future__ import annotations

from offload.core.errors import Canceled, InputError, OffloadError, TaskFailed, one_line


def test_errors_carry_exit_codes_and_one_line_messages():
    assert (InputError.exit_code, TaskFailed.exit_code, Canceled.exit_code) == (2, 1, 130)
    assert InputError("zoom 30\n is not within 0..24").one_line() == "zoom 30 is not within 0..24"
    assert one_line(ValueError("bad\nvalue")) == "ValueError: bad value"
    assert one_line(KeyError()) == "KeyError"
    assert issubclass(Canceled, OffloadError)
