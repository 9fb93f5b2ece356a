"""The open document: a Layout plus the rest of the project, its file path and undo stack.

One ``Document`` lives as long as its main window. Opening or creating a project swaps its
content in place (``load``/``reset``), so views subscribed to ``document.layout.events``
and to the Qt signals below stay connected.

* ``layout`` -- the :class:`ast_core.document.Layout` (edited only through undo commands);
* ``settings`` -- the live :class:`ast_core.project.ProjectSettings` (generation settings,
  LoRAs, method parameters): commands call its setters, it announces its own changes and the
  document passes them on as ``settings_changed(part)`` ("generation", "loras",
  "method_parameters") and ``part_changed("settings")``;
* ``schedule`` -- the project's :class:`ast_core.schedule.Schedule`, or None for the model
  family's default (:meth:`set_schedule`; a stored schedule this version cannot read stays in
  ``unread_schedule`` with ``schedule_problem`` until a new one replaces it);
* ``renders`` -- the render history (:meth:`set_renders`);
* ``background`` -- the canvas background picture (:class:`ast_core.project.CanvasBackground`)
  or None (:meth:`set_background`, called by undo commands);
* ``undo_stack`` -- every edit; ``is_modified`` is ``not undo_stack.isClean()`` or a
  change made outside the stack (a new render, a recovered document).
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ast_core.document import Layout
from ast_core.project import ProjectSettings
from ast_core.schedule import Schedule

log = logging.getLogger(__name__)

APP_NAME = "AST Studio"
PARTS = ("settings", "schedule", "renders", "background")


class Document(QObject):
    #: the file path changed (Path or None)
    path_changed = Signal(object)
    #: the modified flag changed
    modified_changed = Signal(bool)
    #: the selected instance changed (id or None)
    selection_changed = Signal(object)
    #: the whole content was replaced (new / open / recover)
    replaced = Signal()
    #: a project part other than the layout changed ("settings", "schedule", "renders", "background")
    part_changed = Signal(str)
    #: which part of the settings changed ("generation", "loras", "method_parameters"); then part_changed
    settings_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.layout = Layout()
        self.settings = ProjectSettings()
        self.settings.changed.connect(self._on_settings_changed)
        self.schedule: Schedule | None = None
        self.unread_schedule: dict[str, Any] | None = None
        self.schedule_problem = ""
        self.renders: list = []
        self.background = None
        self.created = ""
        self.path: Path | None = None
        self.untitled_name = "Untitled"
        self.selected_id: str | None = None
        self._dirty_outside_stack = False
        self._was_modified = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.layout.events.connect(self._on_layout_event)

    # ------------------------------------------------------------------ state
    @property
    def is_modified(self) -> bool:
        return self._dirty_outside_stack or not self.undo_stack.isClean()

    def display_name(self) -> str:
        return self.path.name if self.path else self.untitled_name

    def window_title(self) -> str:
        return f"{self.display_name()}{'*' if self.is_modified else ''} — {APP_NAME}"

    def set_untitled_name(self, name: str) -> None:
        """The name shown for a document without a file (an example copy, an import)."""
        self.untitled_name = name
        self.path_changed.emit(self.path)

    def mark_modified(self) -> None:
        """Flag a change that is not on the undo stack (e.g. a render added to the history)."""
        self._dirty_outside_stack = True
        self._announce_modified()

    def mark_saved(self, path: Path) -> None:
        self._dirty_outside_stack = False
        self.undo_stack.setClean()
        self._set_path(path)
        self._announce_modified()

    def _on_clean_changed(self, clean: bool) -> None:
        # Use the signal's value: the stack emits this from its own destructor too,
        # when asking it again would touch a deleted C++ object.
        self._announce_modified(self._dirty_outside_stack or not clean)

    def _announce_modified(self, now: bool | None = None) -> None:
        if now is None:
            now = self.is_modified
        if now != self._was_modified:
            self._was_modified = now
            self.modified_changed.emit(now)

    def _set_path(self, path: Path | None) -> None:
        path = Path(path) if path is not None else None
        if path != self.path:
            self.path = path
            self.path_changed.emit(path)

    def _on_settings_changed(self, part: str) -> None:
        self.settings_changed.emit(part)
        self.part_changed.emit("settings")

    # -------------------------------------------------------------- selection
    def select(self, instance_id: str | None) -> None:
        if instance_id is not None:
            self.layout.instance(instance_id)  # raises LayoutError for an unknown id
        if instance_id != self.selected_id:
            self.selected_id = instance_id
            self.selection_changed.emit(instance_id)

    def selected(self):
        """The selected Instance, or None."""
        if self.selected_id is None:
            return None
        try:
            return self.layout.instance(self.selected_id)
        except ValueError:
            return None

    def _on_layout_event(self, event) -> None:
        if event.kind == "instance_removed" and event.instance_id == self.selected_id:
            self.select(None)
        elif event.kind == "reset" and self.selected_id is not None:
            if all(i.id != self.selected_id for i in self.layout.instances):
                self.select(None)

    # ---------------------------------------------------------- other parts
    def set_schedule(self, schedule: Schedule | None) -> None:
        """The project's schedule (a copy is kept; None = the model family's default).

        Undo commands call this (``ast_studio.schedule.commands.SetSchedule``); it replaces a
        stored schedule that could not be read."""
        if schedule is not None and not isinstance(schedule, Schedule):
            raise ValueError(f"schedule: expected a Schedule or None, got {schedule!r}")
        self.schedule = None if schedule is None else schedule.copy()
        self.unread_schedule, self.schedule_problem = None, ""
        self.part_changed.emit("schedule")

    def set_background(self, background) -> None:
        """The canvas background picture (a CanvasBackground, or None for none); undo commands call this."""
        from ast_core.project import CanvasBackground

        if background is not None and not isinstance(background, CanvasBackground):
            raise ValueError(f"background: expected a CanvasBackground or None, got {background!r}")
        if background != self.background:
            self.background = background
            self.part_changed.emit("background")

    def set_renders(self, renders: list) -> None:
        """Replace the render history (not undoable: marks modified)."""
        self.renders = list(renders)
        self.mark_modified()
        self.part_changed.emit("renders")

    # ----------------------------------------------------------- whole content
    def reset(self, layout: Layout | None = None) -> None:
        """A new, untitled document (optionally starting from ``layout``)."""
        from ast_core.project import Project

        self._replace(Project(layout or Layout()), None)

    def load(self, project, path: Path | None, modified: bool = False) -> None:
        """Take over a loaded :class:`ast_core.project.Project` read from ``path``."""
        for warning in project.settings.warnings:
            log.warning("%s: settings: %s", path or "project", warning)
        self._replace(project, path)
        if modified:
            self.mark_modified()

    def _replace(self, project, path) -> None:
        self.select(None)
        self.undo_stack.clear()
        self.layout.replace_all(project.layout)
        self.settings.assign(project.settings)
        self.schedule = None if project.schedule is None else project.schedule.copy()
        self.unread_schedule = copy.deepcopy(project.unread_schedule)
        self.schedule_problem = project.schedule_problem
        self.renders, self.created = list(project.renders or []), getattr(project, "created", "") or ""
        self.background = getattr(project, "background", None)
        self.untitled_name = "Untitled"
        self._dirty_outside_stack = False
        self.undo_stack.setClean()
        self._set_path(path)
        self._announce_modified()
        self.path_changed.emit(self.path)
        self.replaced.emit()
        for part in PARTS:
            self.part_changed.emit(part)

    def to_project(self):
        """The document as an :class:`ast_core.project.Project` (a copy, safe to save off-thread)."""
        from ast_core.project import Project

        return Project(
            layout=self.layout.copy(),
            settings=self.settings.copy(),
            schedule=None if self.schedule is None else self.schedule.copy(),
            renders=list(self.renders),
            created=self.created,
            unread_schedule=copy.deepcopy(self.unread_schedule),
            schedule_problem=self.schedule_problem,
            background=self.background,
        )
