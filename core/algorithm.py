"""OffloadAlgorithm: the one Processing-algorithm contract every family's algorithm shares.

A family writes its parameters, ``build_request()`` and ``engine()``; this class validates in
``checkParameterValues`` with the same validator the CLI and the task use, and runs the same
engine synchronously in ``processAlgorithm`` (Processing already runs it on a task), with the
feedback as progress and cancel, writing the output atomically.

A failure Offload knows (``InputError``, ``TaskFailed``) reaches Processing's log in one line,
as the CLI says it, when Processing runs the algorithm on a task of its own (the Toolbox). When
Python called ``processing.run`` on this thread, it is raised as itself instead, with its short
traceback: QGIS's sip handler for a ``QgsProcessingException`` fetches it and never releases it,
and in Python 3.11 the raising frame links its callers' frames (``f_back``), so every layer on
``processing.run``'s stack would outlive QGIS's exit, where deleting one crashed the process.
Any other exception QGIS logs with its traceback, and releases.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProperty,
)

from .errors import InputError, OffloadError, TaskFailed, without_frames
from .i18n import tr
from .vocabulary import Option

Validate = Callable[[Any], Any]  # request -> plan
Run = Callable[[Any, Path, Any], Any]  # (plan, temp path, control) -> anything
CHECKED_OUTPUT = "/dev/null/checked.tif"  # checkParameterValues does not know the output yet


class OffloadAlgorithm(QgsProcessingAlgorithm):
    """Base of Offload's Processing algorithms; the output parameter is ``OUTPUT``."""

    OUTPUT = "OUTPUT"
    _checked: Optional[Tuple[Any, Any]] = None  # (request, plan) of the last checkParameterValues
    # A family that sets this reuses that plan for the run, and makes every check its validator
    # makes of the output (the check did not know the output yet) in recheck(), or in its own
    # run (the buffer's process()).
    reuses_checked_plan = False

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

    def carry_check(self, copy: "OffloadAlgorithm") -> "OffloadAlgorithm":
        """``copy`` (made by ``createInstance``) with the plan this instance's
        ``checkParameterValues`` made: Processing checks on one instance and runs a copy, and
        the run then need not open and describe every input a second time. The plan is handed
        over, once: a later copy (a batch dialog's, a script's second run) checks afresh, and
        never runs on a snapshot of a layer that has changed since."""
        copy._checked, self._checked = self._checked, None
        return copy

    def recheck(self, plan: Any, request: Any) -> None:
        """Checks a reused plan still needs against the real output (``InputError``); none here."""

    def checkParameterValues(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Tuple[bool, str]:  # noqa: N802
        self._checked = None  # a failed check leaves no earlier plan behind
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        validate, _ = self.engine()
        try:
            request = self.build_request(parameters, context, CHECKED_OUTPUT)
            self._checked = (request, validate(request))
            typed = self.typed_output(parameters, context)
            if typed:
                self.check_output(typed, *self._checked, parameters, context)
        except InputError as exc:
            return False, exc.one_line()
        return True, ""

    def typed_output(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        """The output the user gave ("" for none or a temporary output): a path, or a property's
        value (static, or its expression evaluated), as ``parameterAsOutputLayer`` reads it."""
        value = parameters.get(self.OUTPUT)
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            value = value.sink
        if isinstance(value, QgsProperty):
            value, _ = value.valueAsString(context.expressionContext(), "")
        return "" if value in (None, "", QgsProcessing.TEMPORARY_OUTPUT) else str(value)

    def check_output(self, output: str, request: Any, plan: Any, parameters: Dict[str, Any],
                     context: QgsProcessingContext) -> None:
        """The checks of an ``output`` the user typed that the validator could not make without it
        (``InputError``); none here. Made in the parameter check, they are one line wherever
        Processing was called from (see the module's docstring); the run makes them again."""

    def _plan(self, request: Any, validate: Validate) -> Any:
        """The checked plan when the run asks for what was checked (but its output), else a new
        one. A run takes the checked plan: no instance holds it after (a buffer's plan holds its
        layer's snapshot)."""
        if self.reuses_checked_plan and self._checked is not None and dataclasses.is_dataclass(request):
            checked_request, plan = self._checked
            if dataclasses.replace(request, output=checked_request.output) == checked_request:
                self._checked = None
                self.recheck(plan, request)
                return plan
        return validate(request)

    def processAlgorithm(self, parameters: Dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        outcome = self._outcome(parameters, context, feedback)
        if not isinstance(outcome, _Failed):
            return outcome
        # Raised outside any except (no __context__), from a frame that keeps nothing but the
        # failure: sip keeps what this raises to the end (see the module's docstring).
        error, message = outcome.error, outcome.error.one_line()
        from_python = sys._getframe().f_back is not None  # the console, a script, the Batch dialog
        if from_python and feedback is not None:
            feedback.reportError(message)  # the one line first in the log, then Offload's own error
        self._checked = None
        del self, parameters, context, feedback, outcome
        if not from_python:  # Processing's own task: its log gets the one line
            del error  # (its __context__ holds the run's frames)
            raise QgsProcessingException(message)
        try:
            raise error  # which QGIS releases
        finally:  # else this frame and the error's traceback hold each other, and through f_back
            del error  # every frame of processing.run's caller, until a collection (after QGIS's exit?)

    def _outcome(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                 feedback: QgsProcessingFeedback) -> Any:
        """``process()``'s results, or the failure it raised that Offload knows."""
        try:
            return self.process(parameters, context, feedback)
        except (InputError, TaskFailed) as exc:
            failed = _Failed(without_frames(exc))
        return failed

    def process(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        """The run: its results, or ``{}`` when canceled (nothing was written).

        :raises InputError, TaskFailed: reported as the module's docstring says.
        """
        from .feedback import produce_atomically

        validate, run = self.engine()
        destination = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        plan = self._plan(self.build_request(parameters, context, destination), validate)
        produced = produce_atomically(Path(destination), feedback, lambda temp, control: run(plan, temp, control))
        return {self.OUTPUT: destination} if produced else {}


@dataclasses.dataclass(frozen=True)
class _Failed:
    error: OffloadError  # its frames already let go


def enum_parameter(name: str, option: Option):
    """Processing's drop-down for a vocabulary option: its labels, in order, and its default."""
    from qgis.core import QgsProcessingParameterEnum

    default = option.index_of(option.default) if option.default else 0
    return QgsProcessingParameterEnum(name, tr(option.label), [tr(label) for label in option.labels],
                                      defaultValue=default)


def number_parameter(name: str, option: Option, optional: bool = False):
    """Processing's number box for a vocabulary option: its kind, bounds and default."""
    from qgis.core import QgsProcessingParameterNumber

    fits_int32 = all(abs(v) < 2 ** 31 for v in (option.default, option.minimum, option.maximum) if v is not None)
    # Processing's integers are 32-bit: a larger whole number (10 gigapixels) travels as a double.
    integer = option.kind is int and fits_int32
    kind = QgsProcessingParameterNumber.Integer if integer else QgsProcessingParameterNumber.Double
    bounds = {}
    if option.minimum is not None:
        bounds["minValue"] = option.minimum
    if option.maximum is not None:
        bounds["maxValue"] = option.maximum
    return QgsProcessingParameterNumber(name, tr(option.label), kind, defaultValue=option.default,
                                        optional=optional, **bounds)
