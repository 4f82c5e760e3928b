"""Translation at the edge: ``tr()`` with named placeholders, template first, format after."""
from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

CONTEXT = "Offload"


def tr(text: str, **fields: object) -> str:
    """Translate text in the 'Offload' context, then fill its named {fields}."""
    return QCoreApplication.translate(CONTEXT, text).format(**fields)


def tr_noop(text: str) -> str:
    """Mark a constant for translation without translating it yet (``make translations``
    collects it; ``tr(value)`` translates it where it is shown)."""
    return text
