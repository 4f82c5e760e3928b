"""Every choice the dialog offers: the keyword the CLI and the API use → the label people read.

One place for now, keyed by the CLI's keywords, so each vocabulary can move beside its
family's request unchanged. Functions, not constants: ``tr()`` must run once a translator
is installed, never at import.
"""
from __future__ import annotations

from typing import Dict

from qgis.PyQt.QtWidgets import QComboBox

from ..core.i18n import tr
from ..core.vocabulary import Option

def tile_decodings() -> Dict[str, str]:
    return {"none": tr("Imagery (RGBA)"), "terrarium": tr("Terrarium elevation → Float32 DEM"),
            "terrain-rgb": tr("Terrain-RGB elevation → Float32 DEM")}


def tile_formats() -> Dict[str, str]:
    return {"GTiff": tr("GeoTIFF mosaic"), "COG": tr("Cloud Optimized GeoTIFF (with overviews)"),
            "GPKG": tr("GeoPackage tiles (as served, every zoom)"), "MBTiles": tr("MBTiles (as served, every zoom)")}


def download_kinds() -> Dict[str, str]:
    return {"file": tr("A file (not loaded)"), "raster": tr("A raster layer"), "vector": tr("A vector layer")}


def fill(combo: QComboBox, choices: Dict[str, str]) -> QComboBox:
    """Show the labels, keep the keywords as the items' data (``combo.currentData()``)."""
    for keyword, label in choices.items():
        combo.addItem(label, keyword)
    return combo


def fill_option(combo: QComboBox, option: Option) -> QComboBox:
    """A vocabulary option's choices: its labels shown (translated), its keywords as the data."""
    return fill(combo, {choice.keyword: tr(choice.label) for choice in option.choices})
