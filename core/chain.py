"""Chains: steps whose declared outputs feed the next step, run as dependent subtasks.

A ``Chain`` is itself an ``OffloadTask`` whose subtasks are the steps, each depending on
the one before, and the chain depending on all of them. QGIS then gives exactly what a
chain needs: one entry (and one progress bar) in the task manager, canceling any step
cancels the chain and every step after it, and the chain's own ``finished()`` runs once,
after the last step, where only the final step's outputs are loaded.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from qgis.core import QgsMapLayer, QgsTask

from .i18n import tr
from .outputs import DeclaredOutput, remove_dataset
from .progress import weighted_fraction
from .task import OffloadTask


class Chain(OffloadTask):
    """Run ``steps`` one after the other; load only the last step's outputs."""

    def __init__(
        self,
        steps: Sequence[OffloadTask],
        description: Optional[str] = None,
        *,
        keep_intermediates: bool = True,
        weights: Optional[Sequence[float]] = None,
        **task_options,
    ) -> None:
        if not steps:
            raise ValueError("a chain needs at least one step")
        weights = tuple(weights) if weights is not None else (1.0,) * len(steps)
        weighted_fraction([0.0] * len(steps), weights)  # refuses a bad weight list now
        super().__init__(description or " → ".join(step.title for step in steps), **task_options)
        self.steps = tuple(steps)
        self.keep_intermediates = keep_intermediates
        self.weights = weights
        previous: Optional[OffloadTask] = None
        for step in self.steps:
            step.in_chain = True
            dependencies = [previous] if previous is not None else []
            self.addSubTask(step, dependencies, QgsTask.SubTaskDependency.ParentDependsOnSubTask)
            previous = step

    def _register(self) -> None:
        super()._register()
        for step in self.steps:  # steps may finish after the chain: keep them alive too
            step._register()

    def overall_fraction(self) -> float:
        """The steps' progress, each counting as much as its weight (e.g. a slow download)."""
        return weighted_fraction([step.fraction for step in self.steps], self.weights)

    def current_step(self) -> Optional[OffloadTask]:
        """The step running now (the last one begun and not finished)."""
        begun = [step for step in self.steps if step.has_begun()]
        return begun[-1] if begun else None

    def has_begun(self) -> bool:
        return self.steps[0].has_begun()

    def current_status(self) -> str:
        step = self.current_step()
        if step is None:
            return ""
        return tr("step {number} of {count}: {status}", number=self.steps.index(step) + 1, count=len(self.steps),
                  status=step.status_text or tr("starting"))

    def counted_status(self) -> str:
        step = self.current_step()
        return step.status_text if step is not None else ""

    def refresh_progress(self) -> None:
        """The chain's own run() comes last: its meter follows the steps instead."""
        step = self.current_step()
        if step is not None and self.result is None:
            self._meter.sample(self.overall_fraction(), step.status_text)
        super().refresh_progress()

    def work(self) -> None:
        """Nothing left to do: the chain runs after every step has completed."""

    def finished(self, ok: bool) -> None:  # main thread
        if not ok:
            failed = next((step for step in self.steps if step.error is not None), None)
            if failed is not None and self.error is None:
                self.error, self.exception, self.traceback = failed.error, failed.exception, failed.traceback
        if not self.keep_intermediates:
            for step in self.steps[:-1]:
                for output in step.outputs:
                    remove_dataset(output.path)
        super().finished(ok)

    def final_outputs(self) -> List[DeclaredOutput]:
        """Only the last step's outputs are loaded."""
        return self.steps[-1].outputs

    def final_layers(self) -> List[QgsMapLayer]:
        """Only the last step's layers are added."""
        return self.steps[-1].made_layers
