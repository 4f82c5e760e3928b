"""Layer styles Offload applies to its outputs (main thread only)."""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsContrastEnhancement,
    QgsSingleBandGrayRenderer,
    QgsBilinearRasterResampler,
    QgsColorRampShader,
    QgsPainting,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
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
