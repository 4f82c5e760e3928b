"""OffloadAlgorithm: the one Processing-algorithm contract every family's algorithm shares.

A family writes its parameters, ``build_request()`` and ``engine()``; this class validates in
``checkParameterValues`` with the same validator the CLI and the task use, and runs the same
engine synchronously in ``processAlgorithm`` (Processing already runs it on a task), with the
feedback as progress and cancel, writing the output atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Tuple

from qgis.core import QgsProcessingAlgorithm, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

from .errors import InputError

Validate = Callable[[Any], Any]  # request -> plan
Run = Callable[[Any, Path, Any], Any]  # (plan, temp path, control) -> anything


class OffloadAlgorithm(QgsProcessingAlgorithm):
    """Base of Offload's Processing algorithms; the output parameter is ``OUTPUT``."""

    OUTPUT = "OUTPUT"

    def icon(self):
        """Offload's icon in the Toolbox and the modeler (QGIS's generic one otherwise)."""
        from qgis.PyQt.QtGui import QIcon

        return QIcon(str(Path(__file__).resolve().parents[1] / "resources" / "icon.svg"))

    def build_request(self, parameters: Dict[str, Any], context: QgsProcessingContext, output: str) -> Any:
        """The family's request for these parameter values (``InputError`` for bad ones)."""
        raise NotImplementedError

    def engine(self) -> Tuple[Validate, Run]:
        """The family's validator and engine, imported when first used (not with QGIS)."""
        raise NotImplementedError

    def checkParameterValues(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Tuple[bool, str]:  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        validate, _ = self.engine()
        try:
            validate(self.build_request(parameters, context, "/dev/null/checked.tif"))
        except InputError as exc:
            return False, exc.one_line()
        return True, ""

    def processAlgorithm(self, parameters: Dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        from .feedback import produce_atomically

        validate, run = self.engine()
        destination = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        try:
            plan = validate(self.build_request(parameters, context, destination))
            produced = produce_atomically(Path(destination), feedback, lambda temp, control: run(plan, temp, control))
        except InputError as exc:
            raise QgsProcessingException(exc.one_line()) from None
        return {self.OUTPUT: destination} if produced else {}
