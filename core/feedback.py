"""A ``Control`` over Processing's ``QgsProcessingFeedback``, so algorithms run the same engines.

Processing already runs an algorithm on a task; its feedback carries progress and cancel,
asked through the same ``Gate`` as the base task's. ``produce_atomically`` gives an
algorithm's output the base task's promise: published whole on success, nothing on cancel.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from qgis.core import QgsProcessingFeedback

from .control import Control, Gate
from .errors import Canceled, without_frames
from .outputs import DeclaredOutput, InPlaceWrite, prepare_output, published


@contextmanager
def feedback_control(feedback: Optional[QgsProcessingFeedback]) -> Iterator[Control]:
    """Yield a Control bound to ``feedback``; its cancel hooks are disconnected on exit."""
    if feedback is None:
        yield Control()
        return
    gate = Gate(feedback.isCanceled, lambda fraction: feedback.setProgress(100.0 * fraction))
    hooks: List[Callable[[], None]] = []

    def report(fraction: float, status: Optional[str] = None) -> None:
        gate.progress(fraction)

    def check_canceled() -> None:
        if gate.canceled():
            raise Canceled("canceled")

    def on_cancel(hook: Callable[[], None]) -> Callable[[], None]:
        feedback.canceled.connect(hook)
        hooks.append(hook)
        return lambda: _disconnect(feedback, hook, hooks)

    try:
        yield Control(report, check_canceled, on_cancel)
    finally:
        for hook in list(hooks):
            _disconnect(feedback, hook, hooks)


def _disconnect(feedback: QgsProcessingFeedback, hook: Callable[[], None], hooks: List) -> None:
    if hook in hooks:
        hooks.remove(hook)
        feedback.canceled.disconnect(hook)


def produce_atomically(path: Path, feedback: Optional[QgsProcessingFeedback],
                       produce: Callable[[Path, Control], None], in_place: Optional[InPlaceWrite] = None) -> bool:
    """Run ``produce(temp_path, control)`` for a Processing output; rename into place on success.

    Returns False when canceled (nothing was written); other errors propagate, leaving nothing.
    """
    output = DeclaredOutput(prepare_output(path, overwrite=True), overwrite=True, in_place=in_place)
    try:
        with published([output]), feedback_control(feedback) as control:
            produce(output.temp_path, control)
        return True
    except Canceled as canceled:
        without_frames(canceled)  # the run's layers go now, not after QGIS exits (errors.py)
        if feedback is not None:
            feedback.reportError("Canceled; nothing was written")
        return False
    except BaseException as failed:
        raise without_frames(failed)  # as a cancel's: Processing keeps a failure's traceback to the end
