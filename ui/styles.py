"""Layer styles Offload applies to its outputs (main thread only)."""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsBilinearRasterResampler,
    QgsColorRampShader,
    QgsHillshadeRenderer,
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
    layer = QgsRasterLayer(str(dem), name, "gdal")
    if not layer.isValid():
        raise RuntimeError(f"QGIS cannot open {dem} as a raster")
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


def hillshade_layer(dem: Path, name: str = "hillshade") -> QgsRasterLayer:
    """The DEM as a hillshade, multiplied over the layers below it."""
    layer = QgsRasterLayer(str(dem), name, "gdal")
    renderer = QgsHillshadeRenderer(layer.dataProvider(), 1, 315.0, 45.0)
    layer.setRenderer(renderer)
    smooth_resampling(layer)
    layer.setBlendMode(QgsPainting.getCompositionMode(QgsPainting.BlendMultiply))
    return layer
