"""The Processing provider (provider.py): every algorithm it offers has help, Offload's icon and
a destination parameter. Each algorithm's own behaviour is tested beside its family
(test_calc_algorithm.py, test_buffer.py, tests/net/test_tiles.py, test_processing_download.py)."""
from __future__ import annotations

from qgis.core import QgsApplication, QgsProcessingDestinationParameter


def test_every_algorithm_has_help_an_icon_and_a_typed_output(offload_provider):
    algorithms = {algorithm.id(): algorithm for algorithm in offload_provider.algorithms()}
    assert {"offload:calc", "offload:tiles", "offload:download", "offload:buffer"} <= set(algorithms)
    generic = QgsApplication.getThemeIcon("/processingAlgorithm.svg").cacheKey()
    for algorithm in algorithms.values():
        assert len(algorithm.shortHelpString()) > 80, algorithm.id()
        assert not algorithm.icon().isNull() and algorithm.icon().cacheKey() != generic
        assert any(isinstance(p, QgsProcessingDestinationParameter) for p in algorithm.parameterDefinitions())
