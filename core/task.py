"""OffloadTask: the one QgsTask subclass every Offload task extends.

A family writes ``__init__`` (snapshot inputs, declare outputs, on the main thread) and
``work()`` (the worker thread). The base owns the rest of the QgsTask contract:

* nothing escapes ``run()``: errors are kept with their traceback and logged;
* ``check_canceled()`` and ``report()`` are cheap Python calls that reach into sip at
  most every ~20 ms, so a tight worker loop never starves the main thread of the GIL;
* outputs are written under temporary names and renamed only on success;
* ``finished()`` (main thread) loads outputs, notifies and calls the callbacks;
* every task is kept referenced until its ``finished()`` ran (QGIS forgets Python
  tasks that nothing references, and never runs them).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Callable, List, Optional, Set

from qgis.core import QgsApplication, QgsMapLayer, QgsProject, QgsTask

from . import outputs as _outputs
from .control import Control, gdal_callback
from .errors import Canceled, OffloadError, TaskFailed, one_line
from .gdal_errors import gdal_errors_raised
from .loading import load_output
from .log import CRITICAL, INFO, SUCCESS, Notifier, default_notifier, log
from .outputs import DeclaredOutput
from .progress import Throttle, clamp_fraction
from .snapshot import refuse_main_thread_object

Callback = Callable[["OffloadTask"], None]

# Tasks QGIS may still run. The only module-level mutable state we sanction: it is what
# keeps a task alive until its finished() has run (see QGIS-NOTES P1).
_RUNNING: Set["OffloadTask"] = set()
_MANAGER_HOOKED = False

SIP_POLL_INTERVAL_S = 0.02  # how often check_canceled() may ask sip (GIL starvation below ~5 ms)
PROGRESS_INTERVAL_S = 0.05  # at most 20 progress signals a second


def running_tasks() -> List["OffloadTask"]:
    """Offload tasks submitted and not yet finished."""
    return list(_RUNNING)


def start(task: "OffloadTask") -> "OffloadTask":
    """Submit a task to QGIS's task manager, keeping it alive until it has finished."""
    task._register()
    QgsApplication.taskManager().addTask(task)
    return task


def _adopt_added_task(task_id: int) -> None:
    """Register Offload tasks added with a plain ``addTask()`` call, too."""
    task = QgsApplication.taskManager().task(task_id)
    if isinstance(task, OffloadTask):
        task._register()


def _hook_task_manager() -> None:
    global _MANAGER_HOOKED
    if not _MANAGER_HOOKED:
        QgsApplication.taskManager().taskAdded.connect(_adopt_added_task)
        _MANAGER_HOOKED = True


def release_task_manager() -> None:
    """Cancel our running tasks and disconnect from the task manager (plugin unload).

    Canceled tasks stay referenced until their ``finished()`` ran, so they still clean up.
    """
    global _MANAGER_HOOKED
    for task in running_tasks():
        task.cancel()
    if _MANAGER_HOOKED:
        QgsApplication.taskManager().taskAdded.disconnect(_adopt_added_task)
        _MANAGER_HOOKED = False


class OffloadTask(QgsTask):
    """Base of every Offload task. Subclasses snapshot inputs in ``__init__`` and implement ``work()``."""

    def __init__(
        self,
        description: str,
        *,
        on_success: Optional[Callback] = None,
        on_failure: Optional[Callback] = None,
        notify: Optional[Notifier] = None,
        load_outputs: bool = True,
    ) -> None:
        # CancelWithoutPrompt: QGIS may quit while an Offload task runs; it cleans up on cancel.
        super().__init__(description, QgsTask.Flag.CanCancel | QgsTask.Flag.CancelWithoutPrompt)
        _hook_task_manager()
        self.outputs: List[DeclaredOutput] = []
        self.on_success = on_success
        self.on_failure = on_failure
        self.notify: Optional[Notifier] = notify  # None: the default (the plugin's message bar)
        self.load_outputs = load_outputs
        self.in_chain = False  # a Chain loads and notifies for its steps
        self.status_text = ""
        self.fraction = 0.0
        self.error: Optional[OffloadError] = None
        self.exception: Optional[BaseException] = None
        self.traceback = ""
        self.canceled = False
        self.result: Optional[bool] = None  # set by finished(): True, False, or None while pending
        self.loaded_layer_ids: List[str] = []
        self.made_layers: List[QgsMapLayer] = []  # by work(), on the worker thread: see hand_over()
        self._cancel_requested = False
        self._cancel_hooks: List[Callable[[], None]] = []
        self._sip_poll = Throttle(SIP_POLL_INTERVAL_S)
        self._progress_gate = Throttle(PROGRESS_INTERVAL_S)

    # -- construction (main thread) -------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        # Guard against holding a main-thread QObject, so run() cannot touch one.
        refuse_main_thread_object(value, name)
        super().__setattr__(name, value)

    def declare_output(
        self,
        path: Path,
        kind: str = "file",
        *,
        layer_name: str = "",
        overwrite: bool = False,
        style_path: Optional[Path] = None,
        group: str = "",
    ) -> DeclaredOutput:
        """Declare a file this task writes; ``work()`` writes to the returned ``temp_path``.

        :raises InputError: if the path cannot be written (before any work).
        """
        final = _outputs.prepare_output(Path(path), overwrite)
        if any(o.path == final for o in self.outputs):
            raise ValueError(f"output {str(final)!r} is declared twice")
        output = DeclaredOutput(final, kind, layer_name, style_path, group, overwrite)
        self.outputs.append(output)
        return output

    def _register(self) -> None:
        _RUNNING.add(self)

    # -- worker thread helpers ------------------------------------------------------

    def cancel(self) -> None:
        """Ask the task to stop (any thread). ``check_canceled()`` raises on its next call."""
        self._cancel_requested = True
        for hook in list(self._cancel_hooks):
            try:
                hook()
            except Exception:  # an abort that fails must not stop the cancel
                log(f"cancel hook of {self.description()} failed:\n{traceback.format_exc()}", CRITICAL)
        super().cancel()

    @property
    def cancel_requested(self) -> bool:
        """True once anyone asked this task to stop."""
        return self._cancel_requested

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call ``hook`` (on the canceling thread) when the task is canceled, e.g. to abort
        a blocking read. Returns a function that removes the hook again."""
        self._cancel_hooks.append(hook)
        if self._cancel_requested:
            hook()
        return lambda: self._cancel_hooks.remove(hook) if hook in self._cancel_hooks else None

    def check_canceled(self) -> None:
        """Raise ``Canceled`` if the task was asked to stop. Cheap enough for any loop."""
        if not self._cancel_requested and self._sip_poll.ready() and self.isCanceled():
            self._cancel_requested = True
        if self._cancel_requested:
            raise Canceled(f"{self.description()} was canceled")

    def report(self, fraction: float, status: Optional[str] = None) -> None:
        """Record progress (0..1) and a short status; QGIS hears of it at most 20 times a second."""
        self.fraction = clamp_fraction(fraction)
        if status is not None:
            self.status_text = status
        if self._progress_gate.ready():
            self.setProgress(self.fraction * 100.0)

    def gdal_progress(self, start: float = 0.0, span: float = 1.0) -> Callable[..., int]:
        """A GDAL progress callback that reports into [start, start+span] and aborts on cancel."""
        return gdal_callback(self.control().within(start, span))

    def hand_over(self, layer: QgsMapLayer) -> None:
        """Give a layer ``work()`` made (a memory layer) to the main thread; ``finished()``
        adds it to the project. Worker thread: only the thread a QObject lives in may move it."""
        layer.moveToThread(QgsApplication.instance().thread())
        self.made_layers.append(layer)

    def overall_fraction(self) -> float:
        """Progress of the whole task, 0..1 (a chain weighs its steps)."""
        return self.fraction

    def control(self) -> Control:
        """This task's progress, cancel check and cancel hooks, for an engine to use."""
        return Control(self.report, self.check_canceled, self.on_cancel)

    def work(self) -> None:
        """Do the task's work on the worker thread. Subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement work()")

    # -- the QgsTask contract -------------------------------------------------------

    def run(self) -> bool:  # worker thread
        try:
            self.check_canceled()
            with gdal_errors_raised():
                self.work()
            self.check_canceled()  # a cancel that came during the last write still counts
            _outputs.commit(self.outputs)
            self.fraction = 1.0
            self.setProgress(100.0)
            return True
        except Canceled:
            self.canceled = True
            return False
        except BaseException as exc:  # the boundary: nothing may escape run()
            self._keep_error(exc, traceback.format_exc())
            return False
        finally:
            _outputs.discard(self.outputs)

    def _keep_error(self, exc: BaseException, trace: str) -> None:
        self.exception = exc
        self.error = exc if isinstance(exc, OffloadError) else TaskFailed(one_line(exc))
        self.traceback = trace
        log(f"{self.description()} failed: {self.error.one_line()}\n{trace}", CRITICAL)

    def finished(self, ok: bool) -> None:  # main thread
        try:
            if self._cancel_requested and not ok:
                self.canceled = True
            if ok and not self.in_chain:
                self._present(self.final_outputs())
            ok = ok and self.error is None
            if ok:
                if not self.in_chain:
                    self._notify(f"{self.description()}: done", SUCCESS)
                self._call(self.on_success)
            else:
                self._report_failure()
                self._call(self.on_failure)
        except Exception as exc:  # finished() must not raise into Qt's event loop either
            self._keep_error(exc, traceback.format_exc())
            ok = False
        finally:
            self.result = ok
            _RUNNING.discard(self)

    def loaded_layers(self) -> List[QgsMapLayer]:
        """The layers ``finished()`` added to the project that are still in it."""
        project = QgsProject.instance()
        return [layer for layer in map(project.mapLayer, self.loaded_layer_ids) if layer is not None]

    def final_outputs(self) -> List[DeclaredOutput]:
        """The outputs ``finished()`` loads: this task's own."""
        return self.outputs

    def final_layers(self) -> List[QgsMapLayer]:
        """The layers ``work()`` made that ``finished()`` adds: this task's own."""
        return self.made_layers

    def _present(self, outputs: List[DeclaredOutput]) -> None:
        """Load the outputs into the current project (main thread only)."""
        if not self.load_outputs:
            return
        project = QgsProject.instance()
        try:
            for output in outputs:
                if output.kind != "file":
                    self.loaded_layer_ids.append(load_output(output, project).id())
            for layer in self.final_layers():
                project.addMapLayer(layer)
                self.loaded_layer_ids.append(layer.id())
        except OffloadError as exc:
            self.error = exc
            self._notify(exc.one_line(), CRITICAL)

    def _report_failure(self) -> None:
        if self.in_chain:
            return
        if self.error is not None:
            self._notify(f"{self.description()}: {self.error.one_line()}", CRITICAL)
        elif self.canceled:
            self._notify(f"{self.description()} was canceled", INFO)

    def _notify(self, message: str, level) -> None:
        (self.notify or default_notifier())(message, level)

    def _call(self, callback: Optional[Callback]) -> None:
        if callback is None:
            return
        try:
            callback(self)
        except Exception:  # a user's callback must not break finished()
            log(f"callback of {self.description()} failed:\n{traceback.format_exc()}", CRITICAL)
