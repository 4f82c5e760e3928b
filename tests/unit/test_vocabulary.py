"""A vocabulary's options: checks that name the bad value, and the command-line flags made from them."""
from __future__ import annotations

import argparse

import pytest

from offload.core.errors import InputError
from offload.core.vocabulary import Choice, Option, add_argument

CAP = Option("end_cap", "End cap style", default="round", flag="--cap",
             choices=(Choice("round", "Round"), Choice("flat", "Flat"), Choice("square", "Square")))
WORKERS = Option("workers", "Concurrent connections", default=4, kind=int, minimum=1, maximum=64)
DISTANCE = Option("distance", "Distance", default=10.0, kind=float)


def parser_with(*options: Option) -> argparse.ArgumentParser:
    class Strict(argparse.ArgumentParser):
        def error(self, message):
            raise ValueError(message)

    parser = Strict()
    for option in options:
        add_argument(parser, option)
    return parser


def test_choices_map_keywords_labels_and_positions():
    assert CAP.keywords == ("round", "flat", "square") and CAP.labels == ("Round", "Flat", "Square")
    assert CAP.label_of("flat") == "Flat" and CAP.index_of("square") == 2
    with pytest.raises(InputError, match="end_cap 'butt' is not one of round, flat, square"):
        CAP.check("butt")


@pytest.mark.parametrize("value, message", [
    (0, "workers 0 is below the smallest allowed, 1"),
    (65, "workers 65 is above the largest allowed, 64"),
    (2.5, "workers 2.5 is not a whole number"),
    ("8", "workers '8' is not a number"),
    (True, "workers True is not a number"),
])
def test_numbers_are_checked_against_their_bounds(value, message):
    with pytest.raises(InputError, match=message):
        WORKERS.check(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_float_must_be_finite(value):
    with pytest.raises(InputError, match="is not a finite number"):
        DISTANCE.check(value)


def test_the_command_line_takes_keywords_defaults_and_bounds_from_the_option():
    parser = parser_with(CAP, WORKERS, DISTANCE)
    assert vars(parser.parse_args([])) == {"end_cap": "round", "workers": 4, "distance": 10.0}
    assert parser.parse_args(["--cap", "flat", "--workers", "64"]).workers == 64
    with pytest.raises(ValueError, match="invalid choice: 'butt'"):
        parser.parse_args(["--cap", "butt"])
    with pytest.raises(ValueError, match="workers 65 is above the largest allowed, 64"):
        parser.parse_args(["--workers", "65"])
    with pytest.raises(ValueError, match="workers 'many' is not a whole number"):
        parser.parse_args(["--workers", "many"])
    with pytest.raises(ValueError, match="is not a finite number"):
        parser.parse_args(["--distance", "nan"])


def test_help_lists_the_choices_or_bounds_and_the_default():
    assert CAP.describe() == "round: Round; flat: Flat; square: Square (default round)"
    assert "1..64" in WORKERS.describe() and "default 4" in WORKERS.describe()
