"""The dialog's combo boxes and spin boxes, made from a family's vocabulary (``fill_option``,
``fit_spin``), and the choices not yet declared beside their family's request (keyword the CLI
and the API use → the label people read).

Functions, not constants: ``tr()`` must run once a translator is installed, never at import.
"""
from __future__ import annotations

from typing import Dict

from qgis.PyQt.QtWidgets import QComboBox, QSpinBox

from ..core.i18n import tr
from ..core.vocabulary import Option

def buffer_end_caps() -> Dict[str, str]:
    return {"round": tr("Round"), "flat": tr("Flat"), "square": tr("Square")}


def buffer_joins() -> Dict[str, str]:
    return {"round": tr("Round"), "miter": tr("Miter"), "bevel": tr("Bevel")}


def buffer_units() -> Dict[str, str]:
    return {"layer": tr("The layer's units"), "meters": tr("Meters (also on a geographic layer)")}


def buffer_invalid() -> Dict[str, str]:
    return {"fix": tr("Fix them (make valid)"), "skip": tr("Skip them"), "fail": tr("Stop with an error")}


def fill(combo: QComboBox, choices: Dict[str, str]) -> QComboBox:
    """Show the labels, keep the keywords as the items' data (``combo.currentData()``)."""
    for keyword, label in choices.items():
        combo.addItem(label, keyword)
    return combo


def fill_option(combo: QComboBox, option: Option) -> QComboBox:
    """A vocabulary option's choices: its labels shown (translated), its keywords as the data."""
    return fill(combo, {choice.keyword: tr(choice.label) for choice in option.choices})


def fit_spin(spin: QSpinBox, option: Option) -> QSpinBox:
    """A whole-number option's bounds as the spin box's range (its widest where the option has
    none), its default as the value the box starts at and clears to."""
    widest = 2 ** 31 - 1  # a QSpinBox holds a 32-bit int
    low = int(option.minimum) if option.minimum is not None else -widest
    high = int(option.maximum) if option.maximum is not None else widest
    spin.setRange(low, high)
    if option.default is not None:
        spin.setValue(int(option.default))
        if hasattr(spin, "setClearValue"):  # QgsSpinBox: its clear button returns to the default
            spin.setClearValue(int(option.default))
    return spin
