"""Offload's exception tree: exit codes and one-line messages."""
from __future__ import annotations

from offload.core.errors import Canceled, InputError, OffloadError, TaskFailed, one_line, shown


def test_errors_carry_exit_codes_and_one_line_messages():
    assert (InputError.exit_code, TaskFailed.exit_code, Canceled.exit_code) == (2, 1, 130)
    assert InputError("zoom 30\n is not within 0..24").one_line() == "zoom 30 is not within 0..24"
    assert one_line(ValueError("bad\nvalue")) == "ValueError: bad value"
    assert one_line(KeyError()) == "KeyError"
    assert issubclass(Canceled, OffloadError)


def test_a_message_quoting_a_file_s_text_shows_no_control_character_and_stays_bounded():
    """A value read from a file (a package's metadata, a layer's name) may hold a terminal's escapes."""
    message = InputError("its tiles come from x\x1b]0;pwned\x07\x1b[31mRED\u202eabc\n" + "y" * 5000).one_line()
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message
    assert message.startswith("its tiles come from x\\x1b]0;pwned\\x07\\x1b[31mRED\\u202eabc y")
    assert len(message) < 2100 and message.endswith(" characters)")
    assert one_line(ValueError("\x1b[2J")) == "ValueError: \\x1b[2J"
    assert shown(7) == "7" and shown(b"png") == "b'png'"  # a file's field where text was expected
    assert shown("a\u200fb\u061c") == "a\\u200fb\\u061c"  # invisible direction marks
