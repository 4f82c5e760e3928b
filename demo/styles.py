"""Layer styles of the demo's project: terrain, slope, hillshade, points and zones (main thread only)."""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsContrastEnhancement,
    QgsSingleBandGrayRenderer,
    QgsBilinearRasterResampler,
    QgsColorRampShader,
    QgsFillSymbol,
    QgsMarkerSymbol,
    QgsPainting,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsVectorLayer,
)


def smooth_resampling(layer: QgsRasterLayer) -> None:
    """Bilinear when zoomed in, averaging when zoomed out: no aliasing stripes."""
    resampler = layer.resampleFilter()
    resampler.setZoomedInResampler(QgsBilinearRasterResampler())
    resampler.setZoomedOutResampler(QgsBilinearRasterResampler())


def terrain_layer(dem: Path, name: str = "terrain") -> QgsRasterLayer:
    """The DEM coloured by height with QGIS's 'Spectral'-like terrain ramp, stretched to its range."""
    layer = _raster(dem, name)
    stats = layer.dataProvider().bandStatistics(1)
    ramp = QgsStyle.defaultStyle().colorRamp("Spectral")
    ramp.invert()
    shader_function = QgsColorRampShader(stats.minimumValue, stats.maximumValue, ramp)
    shader_function.classifyColorRamp(12)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_function)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader))
    smooth_resampling(layer)
    return layer


def shade_layer(shade: Path, name: str = "hillshade") -> QgsRasterLayer:
    """A hillshade raster (bytes, 1..255), multiplied over the layers below it."""
    layer = _raster(shade, name)
    renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), 1)
    enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(1))
    enhancement.setMinimumValue(1)
    enhancement.setMaximumValue(255)
    enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)
    layer.setBlendMode(QgsPainting.getCompositionMode(QgsPainting.BlendMultiply))
    smooth_resampling(layer)
    return layer


def slope_layer(slope: Path, name: str = "slope") -> QgsRasterLayer:
    """Slope in degrees, from flat (light) to steep (dark red)."""
    layer = _raster(slope, name)
    ramp = QgsStyle.defaultStyle().colorRamp("Reds")
    shader_function = QgsColorRampShader(0.0, 60.0, ramp)
    shader_function.classifyColorRamp(7)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_function)
    layer.setRenderer(QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader))
    return layer


def _raster(path: Path, name: str) -> QgsRasterLayer:
    layer = QgsRasterLayer(str(path), name, "gdal")
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open {path} as a raster")
    return layer


def zones_layer(path: Path, name: str = "sample zones") -> QgsVectorLayer:
    """Buffered zones: a translucent fill with a firm outline, so the terrain shows through."""
    layer = _vector(path, name)
    symbol = QgsFillSymbol.createSimple({"color": "255,214,0,70", "outline_color": "120,80,0,230",
                                         "outline_width": "0.4"})
    layer.renderer().setSymbol(symbol)
    return layer


def points_layer(path: Path, name: str = "sample points") -> QgsVectorLayer:
    """Sample points: small dark markers with a white halo."""
    layer = _vector(path, name)
    symbol = QgsMarkerSymbol.createSimple({"name": "circle", "color": "40,40,40,255", "size": "1.8",
                                           "outline_color": "255,255,255,255", "outline_width": "0.3"})
    layer.renderer().setSymbol(symbol)
    return layer


def _vector(path: Path, name: str) -> QgsVectorLayer:
    layer = QgsVectorLayer(str(path), name, "ogr")
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open {path} as a vector layer")
    return layer
