"""A family's vocabulary: every option once, with its keyword, its label, its bounds and default.

A family declares its options beside its request (``raster_tasks/request.py`` …). Every front
end is generated from that declaration: the command line's flags (``add_argument`` here),
Processing's parameters (``core/algorithm.py``) and the dialog's combo boxes (``ui/choices.py``).
Keywords are what the command line and the API take; labels are what people see (the dialog and
Processing pass them through ``tr()``; ``tr_noop`` marks them for ``make translations``). A choice
whose keyword is ``""`` is the option left out (the request's ``None``: "the inputs' widest type").
Adding a choice or moving a bound is a one-line change.

Pure: stdlib only.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

from .errors import InputError


def tr_noop(text: str) -> str:
    """Mark a label for translation without translating it (front ends ``tr()`` it when shown)."""
    return text


@dataclass(frozen=True)
class Choice:
    """One value of a closed set: ``keyword`` for scripts, ``label`` for people."""

    keyword: str
    label: str


@dataclass(frozen=True)
class Option:
    """One parameter of a request.

    ``name`` is the request's field and the API's keyword; the command line's flag is
    ``--name-with-dashes`` unless ``flag`` says otherwise. A closed set has ``choices``; a
    number has ``kind`` int or float and may have ``minimum``/``maximum`` (inclusive).
    """

    name: str
    label: str
    help: str = ""
    default: Any = None
    kind: type = str
    choices: Tuple[Choice, ...] = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    unit: str = ""
    flag: str = ""
    others: str = ""  # what else the command line and the API take beside the choices ("an input's name")
    finite: bool = True  # False: NaN and ±inf are values too (a nodata value may be NaN)

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def keywords(self) -> Tuple[str, ...]:
        return tuple(choice.keyword for choice in self.choices)

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(choice.label for choice in self.choices)

    def label_of(self, keyword: str) -> str:
        """The label of a choice's keyword."""
        return self.choices[self.index_of(keyword)].label

    def index_of(self, keyword: str) -> int:
        """The position of a keyword among the choices (Processing's enums are positions)."""
        try:
            return self.keywords.index(keyword)
        except ValueError:
            raise InputError(self._not_a_choice(keyword)) from None

    def keyword_of(self, index: int) -> Optional[str]:
        """The keyword at a position (Processing's enum), ``None`` for the left-out choice."""
        return self.keywords[index] or None

    def check(self, value: Any) -> Any:
        """``value`` if this option allows it; else ``InputError`` naming the value and the rule."""
        if value is None:
            return value
        if self.choices and self.others:
            return value  # the family checks the others (e.g. an input's name) where it knows them
        if self.choices:
            if value not in self.keywords:
                raise InputError(self._not_a_choice(value))
            return value
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{self.name} {value!r} is not a number")
            if self.finite and isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"{self.name} {value!r} is not a finite number")
            if self.kind is int and value != int(value):
                raise InputError(f"{self.name} {value!r} is not a whole number")
            if self.minimum is not None and value < self.minimum:
                raise InputError(f"{self.name} {value:g} is below the smallest allowed, {self.minimum:g}")
            if self.maximum is not None and value > self.maximum:
                raise InputError(f"{self.name} {value:g} is above the largest allowed, {self.maximum:g}")
        return value

    def describe(self) -> str:
        """The help text with the choices or bounds and the default, for ``--help`` and tooltips."""
        parts = [self.help] if self.help else []
        if self.choices:
            named = [c for c in self.choices if c.keyword]
            parts.append("; ".join(f"{c.keyword}: {c.label}" for c in named)
                         + (f"; or {self.others}" if self.others else ""))
        elif self.minimum is not None or self.maximum is not None:
            low = "" if self.minimum is None else f"{self.minimum:g}"
            high = "" if self.maximum is None else f"{self.maximum:g}"
            parts.append(f"{low}..{high}{' ' + self.unit if self.unit else ''}")
        left_out = [c.label for c in self.choices if not c.keyword]
        if left_out:
            parts.append(f"default: {left_out[0][0].lower()}{left_out[0][1:]}")
        elif self.default is not None and self.default != "":
            parts.append(f"default {self.default}")
        return ", ".join(parts[:1]) + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")

    def _not_a_choice(self, value: Any) -> str:
        return f"{self.name} {value!r} is not one of {', '.join(k for k in self.keywords if k)}"


def add_argument(parser: argparse.ArgumentParser, option: Option, **overrides: Any) -> None:
    """Add ``option`` to an argparse parser: its flag, type, choices, default and help.

    A bad value is a usage error (exit 2) naming the value and the rule.
    """
    settings = dict(dest=option.name, default=option.default or None, help=option.describe())
    named = [keyword for keyword in option.keywords if keyword]
    if option.choices and not option.others:
        settings["choices"] = named
        settings["metavar"] = "{" + ",".join(named) + "}"
    elif option.choices:
        settings["metavar"] = "|".join(named) + "|…"
    elif option.kind is bool:
        settings["action"] = "store_true"
    else:
        settings["type"] = _parse_with(option)
    settings.update(overrides)
    parser.add_argument(option.cli_flag, **settings)


def _parse_with(option: Option) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = option.kind(text)
        except ValueError:
            what = "whole number" if option.kind is int else "number"
            raise argparse.ArgumentTypeError(f"{option.name} {text!r} is not a {what}") from None
        try:
            return option.check(value)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = option.kind.__name__  # argparse names the type in its messages
    return parse
