"""Offload: heavy GIS work in the background on QgsTask, in QGIS and on the command line.

QGIS loads this folder as a plugin package and calls ``classFactory``. Nothing heavy is
imported here, so the plugin loads fast; tasks import their engines when they are built.
"""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """Create the plugin for QGIS."""
    from .plugin import OffloadPlugin

    return OffloadPlugin(iface)
