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
        super().__init__(description or " → ".join(step.description() for step in steps), **task_options)
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
