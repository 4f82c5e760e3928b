"""OffloadTask: the one QgsTask subclass every Offload task extends.

A family writes ``__init__`` (its engine's plan and the outputs it declares, on the main
thread) and ``work()`` (the worker thread: ``self.details = run_x(plan, destination,
control)``). In a chain, ``after=`` names the earlier steps: ``plan_when_ready()`` makes the
plan at once, or once those steps have written the inputs it reads. The base owns the rest
of the QgsTask contract:

* nothing escapes ``run()``: errors are kept with their traceback and logged;
* ``check_canceled()`` and ``report()`` are cheap Python calls that reach into sip at
  most every ~20 ms, so a tight worker loop never starves the main thread of the GIL;
* people read one progress text (counts, rate, time left, elapsed), the same on the
  dialog's rows and as the description in QGIS's task manager; it is composed and set on
  the main thread only (``QgsTask.setDescription`` is a plain unguarded write in QGIS);
* outputs are written under temporary names and renamed only on success;
* ``finished()`` (main thread) loads outputs, notifies and calls the callbacks;
* every task is kept referenced until its ``finished()`` ran (QGIS forgets Python
  tasks that nothing references, and never runs them).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Sequence, Set, Tuple

from qgis.core import QgsApplication, QgsMapLayer, QgsProject, QgsTask
from qgis.PyQt.QtCore import QTimer, pyqtSignal

from . import outputs as _outputs
from .control import Control, Gate, gdal_callback
from .errors import Canceled, OffloadError, TaskFailed, one_line, without_frames
from .gdal_errors import gdal_errors_raised
from .i18n import tr
from .loading import load_output
from .log import CRITICAL, INFO, SUCCESS, Notifier, default_notifier, log
from .outputs import DeclaredOutput, InPlaceWrite, written_by_earlier_steps
from .progress import ProgressMeter, clamp_fraction, format_duration, format_rate
from .snapshot import refuse_main_thread_object

Callback = Callable[["OffloadTask"], None]

# Tasks QGIS may still run. The only module-level mutable state we sanction: it is what
# keeps a task alive until its finished() has run (see QGIS-NOTES P1).
_RUNNING: Set["OffloadTask"] = set()
_MANAGER_HOOKED = False
_HEARTBEAT: List[QTimer] = []  # one main-thread timer: elapsed time moves even when an engine is silent

HEARTBEAT_MS = 500  # the first progress text shows within a second, whatever the job


def running_tasks() -> List["OffloadTask"]:
    """Offload tasks submitted and not yet finished."""
    return list(_RUNNING)


def _beat() -> None:
    for task in list(_RUNNING):
        task.refresh_progress()
    if not _RUNNING and _HEARTBEAT:
        _HEARTBEAT[0].stop()


def _keep_beating() -> None:
    if not _HEARTBEAT:
        timer = QTimer()
        timer.setInterval(HEARTBEAT_MS)
        timer.timeout.connect(_beat)
        _HEARTBEAT.append(timer)
    if not _HEARTBEAT[0].isActive():
        _HEARTBEAT[0].start()


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
    if _HEARTBEAT:
        _HEARTBEAT[0].stop()


# Where QGIS lets a task stay quiet (3.26+), it does: Offload's notice is the one people get.
# QGIS 3.22 has no such flag: the desktop adds its own "Task complete" / "Task failed" notice
# for a task that ran 5 s or more, showing the task's description, which finished() sets to
# Offload's one-line outcome before QGIS reads it. Offload then leaves a success to QGIS's
# notice (one notice, in Offload's words) and still reports a failure or a cancel itself.
_QUIET = getattr(QgsTask.Flag, "Silent", None)
QGIS_NOTICE_AFTER_MS = 5000  # QGIS's own threshold (qgis/QGIS#7559)


def _qgis_gives_its_own_notice(task: "OffloadTask") -> bool:
    """True when the QGIS desktop will announce this task's end itself (3.22, long tasks)."""
    if _QUIET is not None or task.elapsedTime() < QGIS_NOTICE_AFTER_MS:
        return False
    from qgis.PyQt.QtWidgets import QApplication

    return any(widget.objectName() == "QgisApp" for widget in QApplication.topLevelWidgets())


def _flags():
    flags = QgsTask.Flag.CanCancel | QgsTask.Flag.CancelWithoutPrompt
    return flags | _QUIET if _QUIET is not None else flags


class OffloadTask(QgsTask):
    """Base of every Offload task. Subclasses snapshot inputs in ``__init__`` and implement ``work()``."""

    # The progress text changed (main thread): while running, and once more with the outcome.
    progressTextChanged = pyqtSignal(str)

    def __init__(
        self,
        description: str,
        *,
        on_success: Optional[Callback] = None,
        on_failure: Optional[Callback] = None,
        notify: Optional[Notifier] = None,
        load_outputs: bool = True,
        after: Sequence["OffloadTask"] = (),
    ) -> None:
        # CancelWithoutPrompt: QGIS may quit while an Offload task runs; it cleans up on cancel.
        super().__init__(description, _flags())
        _hook_task_manager()
        self.title = description  # what the task is; description() also carries its progress
        self.outputs: List[DeclaredOutput] = []
        self.on_success = on_success
        self.on_failure = on_failure
        self.notify: Optional[Notifier] = notify  # None: the default (the plugin's message bar)
        self.load_outputs = load_outputs
        self.in_chain = False  # a Chain loads and notifies for its steps
        self.after = tuple(after)  # earlier steps of a chain, whose declared outputs this task may read
        self.plan: Any = None  # the engine's plan: made at once, or by work() once earlier steps wrote its inputs
        self.details: Any = None  # the engine's result (counts, bytes, seconds…), set by work()
        self._plan_later: Optional[Callable[[], Any]] = None
        self.status_text = ""
        self.fraction = 0.0
        self.error: Optional[OffloadError] = None
        self.exception: Optional[BaseException] = None
        self.traceback = ""
        self.canceled = False
        self.result: Optional[bool] = None  # set by finished(): True, False, or None while pending
        self.outcome = ""  # "done", "canceled" or "failed", set by finished()
        self.duration_s: Optional[float] = None  # from start to finished()
        self.loaded_layer_ids: List[str] = []
        self.made_layers: List[QgsMapLayer] = []  # by work(), on the worker thread: see hand_over()
        self._cancel_requested = False
        self._cancel_hooks: List[Callable[[], None]] = []
        self._gate = Gate(self.isCanceled, self._show_progress)
        self._meter = ProgressMeter()
        self._shown_text = ""
        # Both are emitted on the worker thread and queued to this main-thread object.
        self.begun.connect(self._on_begun)
        self.progressChanged.connect(self._on_progress_changed)

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
        in_place: Optional[InPlaceWrite] = None,
    ) -> DeclaredOutput:
        """Declare a file this task writes; ``work()`` writes to the returned ``temp_path``.

        :raises InputError: if the path cannot be written (before any work).
        """
        final = _outputs.prepare_output(Path(path), overwrite)
        if any(o.path == final for o in self.outputs):
            raise ValueError(f"output {str(final)!r} is declared twice")
        output = DeclaredOutput(final, kind, layer_name, style_path, group, overwrite, in_place=in_place)
        self.outputs.append(output)
        return output

    def plan_when_ready(self, validate: Callable[[], Any], inputs: Iterable[Tuple[str, str]],
                        check_now: Optional[Callable[[], Any]] = None) -> Any:
        """The engine's plan (``validate()``), made now; or, when an earlier step of the chain
        (``after``) is still to write one of ``inputs``, made by ``ready_plan()`` once it has.
        Then ``check_now()`` runs the checks that need no input, so a mistake is still refused
        before anything runs.

        :raises InputError: for an input that does not exist and no earlier step declares.
        """
        if written_by_earlier_steps(inputs, [o for step in self.after for o in step.outputs]):
            if check_now is not None:
                check_now()
            self._plan_later = validate
        else:
            self.plan = validate()
        return self.plan

    def ready_plan(self) -> Any:
        """The plan, made now if ``plan_when_ready()`` had to wait for earlier steps (worker thread)."""
        if self.plan is None and self._plan_later is not None:
            self.plan = self._plan_later()
        return self.plan

    def _register(self) -> None:
        _RUNNING.add(self)
        _keep_beating()

    # -- worker thread helpers ------------------------------------------------------

    def cancel(self) -> None:
        """Ask the task to stop (any thread). ``check_canceled()`` raises on its next call."""
        self._cancel_requested = True
        for hook in list(self._cancel_hooks):
            try:
                hook()
            except Exception:  # an abort that fails must not stop the cancel
                log(f"cancel hook of {self.title} failed:\n{traceback.format_exc()}", CRITICAL)
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
        if not self._cancel_requested and self._gate.canceled():
            self._cancel_requested = True
        if self._cancel_requested:
            raise Canceled(f"{self.title} was canceled")

    def report(self, fraction: float, status: Optional[str] = None) -> None:
        """Record progress (0..1) and a short status; QGIS hears of it at most 20 times a second."""
        self.fraction = clamp_fraction(fraction)
        if status is not None:
            self.status_text = status
        self._gate.progress(self.fraction)

    def _show_progress(self, fraction: float) -> None:
        self._meter.sample(fraction, self.status_text)
        self.setProgress(fraction * 100.0)

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

    def current_status(self) -> str:
        """The engine's own status now (a chain names its step)."""
        return self.status_text

    def counted_status(self) -> str:
        """The status the meter reads counts from (a chain: its running step's)."""
        return self.status_text

    def has_begun(self) -> bool:
        """True once ``run()`` began (a chain: once its first step began)."""
        return self._meter.started

    def progress_text(self) -> str:
        """What people read: 'Queued', then counts · rate · time left · elapsed, then the outcome."""
        if self.outcome:
            return self.outcome_text()
        if not self.has_begun():
            return tr("Queued")
        reading = self._meter.reading(self.overall_fraction(), self.counted_status())
        parts = [self.current_status() or tr("Starting")]
        if reading.rate is not None and reading.count is not None:
            parts.append(tr("{rate} {unit}/s", rate=format_rate(reading.rate), unit=reading.count.unit))
        if reading.left_s is not None:
            parts.append(tr("about {time} left", time=format_duration(reading.left_s)))
        parts.append(tr("{time} elapsed", time=format_duration(reading.elapsed_s)))
        return " · ".join(parts)

    def outcome_text(self) -> str:
        """'Done in 4 s', 'Canceled after 3 s', 'Failed after 2 s' ('' while running)."""
        time = format_duration(self.duration_s or 0.0)
        if self.outcome == "done":
            return tr("Done in {time}", time=time)
        if self.outcome == "canceled":
            return tr("Canceled after {time}", time=time)
        if self.outcome == "failed":
            return tr("Failed after {time}", time=time)
        return ""

    def refresh_progress(self) -> None:
        """Compose the progress text and show it as the task's description (main thread only)."""
        text = self.progress_text()
        if text == self._shown_text:
            return
        self._shown_text = text
        if self.result is None:
            self.setDescription(tr("{task} — {progress}", task=self.title, progress=text))
        self.progressTextChanged.emit(text)

    def _on_begun(self) -> None:
        self._meter.start()  # run() starts it too; whichever comes first
        self.refresh_progress()

    def _on_progress_changed(self, _progress: float) -> None:
        if self.result is None:
            self.refresh_progress()

    def control(self) -> Control:
        """This task's progress, cancel check and cancel hooks, for an engine to use."""
        return Control(self.report, self.check_canceled, self.on_cancel)

    def work(self) -> None:
        """Do the task's work on the worker thread. Subclasses implement this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement work()")

    # -- the QgsTask contract -------------------------------------------------------

    def run(self) -> bool:  # worker thread
        self._meter.start()
        try:
            self.check_canceled()
            with _outputs.published(self.outputs):
                with gdal_errors_raised():
                    self.work()
                self.check_canceled()  # a cancel that came during the last write still counts
            self.fraction = 1.0
            self.setProgress(100.0)
            return True
        except Canceled as canceled:
            without_frames(canceled)  # the run's layers go now, in this thread (errors.py)
            self.canceled = True
            return False
        except BaseException as exc:  # the boundary: nothing may escape run()
            self._keep_error(exc, traceback.format_exc())
            return False

    def _keep_error(self, exc: BaseException, trace: str) -> None:
        self.exception = without_frames(exc)  # kept with the task: not the run's frames (errors.py)
        self.error = exc if isinstance(exc, OffloadError) else TaskFailed(one_line(exc))
        self.traceback = trace
        log(f"{self.title} failed: {self.error.one_line()}\n{trace}", CRITICAL)

    def finished(self, ok: bool) -> None:  # main thread
        try:
            self._meter.stop()
            self.duration_s = self._meter.elapsed_s()
            if self._cancel_requested and not ok:
                self.canceled = True
            if ok and not self.in_chain:
                self._present(self.final_outputs())
            ok = ok and self.error is None
            self.outcome = "done" if ok else ("canceled" if self.canceled and self.error is None else "failed")
            # QGIS 3.22 reads the description for its own notice right after finished(): say it our way.
            self.setDescription(self.outcome_line())
            if ok:
                if not self.in_chain and not _qgis_gives_its_own_notice(self):
                    self._notify(self.outcome_line(), SUCCESS)
                self._call(self.on_success)
            else:
                self._report_failure()
                self._call(self.on_failure)
        except Exception as exc:  # finished() must not raise into Qt's event loop either
            self._keep_error(exc, traceback.format_exc())
            ok = False
            self.outcome = "failed"
        finally:
            self.result = ok
            _RUNNING.discard(self)
            self._shown_text = self.progress_text()
            self.progressTextChanged.emit(self._shown_text)

    def outcome_line(self) -> str:
        """One line for people: the task, its outcome and duration, and the error if it failed."""
        time = format_duration(self.duration_s or 0.0)
        if self.outcome == "done":
            summary = self.details.summary() if hasattr(self.details, "summary") else ""
            if summary:
                return tr("{task}: done in {time}: {summary}", task=self.title, time=time, summary=summary)
            return tr("{task}: done in {time}", task=self.title, time=time)
        if self.outcome == "canceled":
            return tr("{task}: canceled after {time}; nothing partial was left", task=self.title, time=time)
        if self.outcome == "failed":
            error = self.error.one_line() if self.error is not None else tr("no reason given")
            return tr("{task}: failed after {time}: {error}", task=self.title, time=time, error=error)
        return tr("{task}: running", task=self.title)

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
        except OffloadError as exc:  # finished() reports it, once
            self.error = exc

    def _report_failure(self) -> None:
        if self.in_chain:
            return
        if self.error is not None:  # the error is the news (the CLI prints this line on stderr)
            self._notify(tr("{task}: {error}", task=self.title, error=self.error.one_line()), CRITICAL)
        elif self.canceled:
            self._notify(self.outcome_line(), INFO)

    def _notify(self, message: str, level) -> None:
        (self.notify or default_notifier())(message, level)

    def _call(self, callback: Optional[Callback]) -> None:
        if callback is None:
            return
        try:
            callback(self)
        except Exception:  # a user's callback must not break finished()
            log(f"callback of {self.title} failed:\n{traceback.format_exc()}", CRITICAL)
