"""Keeps the live :class:`ast_core.schedule.Schedule` the widgets edit in step with the document's.

The document owns the truth (``document.schedule``: a Schedule, or ``None`` for the configured
model's default preset). The binding shows it on the configured model's layers (mapped by
relative depth, as the engine does) and turns edits back into undo commands:

* ``binding.edit("Move keyframe", lambda s: s.set_curve(...))`` -- one undo step;
* during a mouse drag the widgets call :meth:`preview` (the live schedule changes, the
  heatmap follows) and :meth:`commit` on release, so a whole drag is one undo step.

The preview context gives the timesteps the curves and the heatmap are drawn for: the steps
that will actually run (the project's steps, or the configured model's default for "Model
default": :func:`ast_core.schedule.timesteps.steps_to_run`), that model's scheduler shift and
the canvas size -- the same numbers the engine's scheduler produces for the next render.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from ast_core.methods.ast import default_schedule, schedule_on_family
from ast_core.schedule import OFF, Schedule, preset_schedule
from ast_core.schedule.timesteps import run_timesteps, steps_to_run
from ast_studio.generation.model_settings import load_model_settings, notifier

from .commands import SetSchedule

log = logging.getLogger(__name__)


class ScheduleBinding(QObject):
    #: the live schedule changed (edit, preview, undo, load); argument: a ScheduleEvent or None
    changed = Signal(object)
    #: the preview context (steps, image size) changed
    context_changed = Signal()

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.family = load_model_settings().family
        self.schedule: Schedule = default_schedule(self.family)
        #: why the document's schedule could not be shown ("" when it could)
        self.problem = ""
        self._pending = False  # a preview (drag) is in progress
        self._before: Schedule | None = None
        self._before_live: dict = {}
        self._steps_setting = document.settings.generation.steps  # None: the model's default
        self.schedule.changed.connect(self._on_schedule_changed)
        document.part_changed.connect(self._on_part_changed)
        notifier().changed.connect(self._on_model_changed)
        document.layout.events.connect(self._on_layout_event)
        self._load_from_document()

    # ---------------------------------------------------------------- preview context
    @property
    def steps(self) -> int:
        """The steps the next render runs."""
        return steps_to_run(self._steps_setting, self.family)

    @property
    def steps_from_model(self) -> bool:
        """True when the steps are the model's default ("Model default" in the Generate panel)."""
        return self._steps_setting is None

    def timesteps(self) -> np.ndarray:
        """Timesteps of the next render: its steps, the configured model's scheduler, the canvas size."""
        layout = self.document.layout
        return run_timesteps(self._steps_setting, self.family, max(16, layout.width), max(16, layout.height))

    def coefficient_table(self, kind: str) -> np.ndarray:
        return self.schedule.coefficient_table(kind, self.timesteps())

    # ---------------------------------------------------------------- document -> model
    def _on_part_changed(self, name: str) -> None:
        if name == "schedule":
            self._load_from_document()
        elif name == "settings":
            steps = self.document.settings.generation.steps
            if steps != self._steps_setting:
                self._steps_setting = steps
                self.context_changed.emit()

    def _on_model_changed(self, model) -> None:
        if model.family != self.family:
            self.family = model.family
            self._load_from_document()  # its layers (and its default preset) may differ
            self.context_changed.emit()

    @property
    def default_preset(self) -> str:
        return self.family.default_preset

    def preset_names(self) -> list[str]:
        """The presets offered for the configured model: its architecture's, then "off"."""
        return [*self.family.architecture.presets(), OFF]

    def layer_runs(self) -> list[tuple[str, int, int]]:
        """``[(label, start, end)]`` of the schedule's layer kinds, named as the model names them."""
        labels = self.family.architecture.layer_kind_labels
        return [(labels.get(kind, kind), s, e) for kind, s, e in self.schedule.kind_boundaries()]

    def _on_layout_event(self, event) -> None:
        if event.kind in ("size_changed", "reset"):
            self.context_changed.emit()

    def _load_from_document(self) -> None:
        problem = ""
        # shown (and run: the engine maps it the same way) on the configured model's layers
        target = schedule_on_family(self.document.schedule, self.family)
        if self.document.schedule_problem:
            problem = (f"The project's schedule could not be read ({self.document.schedule_problem}); "
                       f"showing the preset \"{self.default_preset}\". The project keeps its schedule "
                       "until you edit here.")
        changed_problem = problem != self.problem
        self.problem = problem
        if target.to_dict() != self.schedule.to_dict():
            self.schedule.assign(target)  # emits -> self.changed
        elif changed_problem:
            self.changed.emit(None)

    def _on_schedule_changed(self, event) -> None:
        self.changed.emit(event)

    # ---------------------------------------------------------------- model -> document
    def is_default(self) -> bool:
        """True when the document stores no schedule (the default preset applies)."""
        return self.document.schedule is None

    def preview(self, change: Callable[[Schedule], Any]) -> None:
        """Change the live schedule without an undo step (a drag in progress)."""
        if not self._pending:
            self._pending = True
            self._before = self.document.schedule  # the command keeps its own copy
            self._before_live = self.schedule.to_dict()
        change(self.schedule)

    def commit(self, text: str, merge_key: tuple | None = None) -> bool:
        """Record the changes since the first :meth:`preview` as one undo step."""
        if not self._pending:
            return False
        before, before_live = self._before, self._before_live
        self._pending = False
        if self.schedule.to_dict() == before_live:
            return False
        self.document.undo_stack.push(SetSchedule(self.document, before, self.schedule, text, merge_key))
        return True

    def cancel(self) -> None:
        """Drop a drag in progress: the live schedule goes back to the document's."""
        if not self._pending:
            return
        self._pending = False
        self._load_from_document()

    def edit(self, text: str, change: Callable[[Schedule], Any],
             merge_key: tuple | None = None) -> bool:
        """Apply ``change`` to the schedule as one undo step. Invalid edits raise ValueError
        and leave the schedule as it was."""
        self.preview(lambda s: None)
        try:
            change(self.schedule)
        except ValueError:
            self.cancel()
            raise
        return self.commit(text, merge_key)

    def apply_preset(self, name: str) -> bool:
        """Replace everything by preset ``name`` on the schedule's layers (one undo step)."""
        target = preset_schedule(name, self.schedule.structure)
        return self.edit(f"Schedule preset: {name}", lambda s: s.assign(target))

    def differs_from_preset(self) -> bool:
        """True when the schedule was edited away from the preset it names."""
        name = self.schedule.preset
        try:
            reference = preset_schedule(name, self.schedule.structure)
        except ValueError:
            return True
        return reference.to_dict() != self.schedule.to_dict()
