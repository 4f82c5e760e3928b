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


WARM_UP_PROBE = r"""
import json, sys, threading
from offload.core.runner import headless_app
headless_app(full=True)
from qgis.core import QgsApplication
from offload.provider import OffloadProvider
from offload.raster_tasks import warm_up


class WhoImports:
    '''Notes the thread that first imports each engine module (finds nothing itself).'''
    threads = {}

    def find_spec(self, name, path=None, target=None):
        if name in warm_up.ENGINE_MODULES:
            self.threads.setdefault(name, threading.current_thread().name)
        return None


sys.meta_path.insert(0, WhoImports())
provider = OffloadProvider()
assert QgsApplication.processingRegistry().addProvider(provider)
# No event loop runs here, as in qgis_process or a script that calls processing.run.
for thread in threading.enumerate():
    if thread.name == "offload-warm-up":
        thread.join(60)
loaded = sorted(m for m in warm_up.ENGINE_MODULES if m in sys.modules)
print(json.dumps({"importers": WhoImports.threads, "loaded": loaded}))
"""


def test_the_raster_engine_is_imported_in_the_background_from_the_provider_load(subprocess_env):
    """A first calculation does not wait for numpy and the engine to import, even where no event
    loop runs (qgis_process, scripts), and the provider's load does not import them on its own
    thread either (raster_tasks/warm_up.py)."""
    import json
    import subprocess
    import sys

    from offload.raster_tasks.warm_up import ENGINE_MODULES

    child = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], env=subprocess_env, capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    modules = json.loads(child.stdout.strip().splitlines()[-1])
    assert modules == {"importers": {name: "offload-warm-up" for name in ENGINE_MODULES},
                       "loaded": sorted(ENGINE_MODULES)}
