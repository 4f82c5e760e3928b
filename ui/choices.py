"""The dialog's combo boxes and spin boxes, made from a family's vocabulary: a combo shows the
labels (translated when shown, never at import) and keeps the keywords the CLI and the API use
as its items' data; a spin box takes an option's bounds and default.
"""
from __future__ import annotations

from typing import Dict

from qgis.PyQt.QtWidgets import QComboBox, QSpinBox

from ..core.i18n import tr
from ..core.vocabulary import Option


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
