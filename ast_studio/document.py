"""The open document: a Layout plus the rest of the project, its file path and undo stack.

One ``Document`` lives as long as its main window. Opening or creating a project swaps its
content in place (``load``/``reset``), so views subscribed to ``document.layout.events``
and to the Qt signals below stay connected.

* ``layout`` -- the :class:`ast_core.document.Layout` (edited only through undo commands);
* ``settings`` / ``schedule`` / ``renders`` -- the project's other parts, kept as loaded;
  a panel that changes them calls :meth:`set_part` (or pushes a command that does);
* ``undo_stack`` -- every edit; ``is_modified`` is ``not undo_stack.isClean()`` or a
  change made outside the stack (a new render, a recovered document).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ast_core.document import Layout

APP_NAME = "AST Studio"
PARTS = ("settings", "schedule", "renders")


class Document(QObject):
    #: the file path changed (Path or None)
    path_changed = Signal(object)
    #: the modified flag changed
    modified_changed = Signal(bool)
    #: the selected instance changed (id or None)
    selection_changed = Signal(object)
    #: the whole content was replaced (new / open / recover)
    replaced = Signal()
    #: a project part other than the layout changed ("settings", "schedule", "renders")
    part_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.layout = Layout()
        self.settings: dict[str, Any] = {}
        self.schedule: dict[str, Any] | None = None
        self.renders: list = []
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
    def set_part(self, name: str, value: Any) -> None:
        """Replace ``settings``, ``schedule`` or ``renders`` (not undoable: marks modified)."""
        if name not in PARTS:
            raise ValueError(f"unknown project part {name!r}; expected one of {PARTS}")
        setattr(self, name, value)
        self.mark_modified()
        self.part_changed.emit(name)

    # ----------------------------------------------------------- whole content
    def reset(self, layout: Layout | None = None) -> None:
        """A new, untitled document (optionally starting from ``layout``)."""
        self._replace(layout or Layout(), {}, None, [], "", None)

    def load(self, project, path: Path | None, modified: bool = False) -> None:
        """Take over a loaded :class:`ast_core.project.Project` read from ``path``."""
        self._replace(project.layout, dict(project.settings or {}),
                      copy.deepcopy(project.schedule), list(project.renders or []),
                      getattr(project, "created", "") or "", path)
        if modified:
            self.mark_modified()

    def _replace(self, layout, settings, schedule, renders, created, path) -> None:
        self.select(None)
        self.undo_stack.clear()
        self.layout.replace_all(layout)
        self.settings, self.schedule, self.renders, self.created = settings, schedule, renders, created
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
            settings=copy.deepcopy(self.settings),
            schedule=copy.deepcopy(self.schedule),
            renders=list(self.renders),
            created=self.created,
        )
