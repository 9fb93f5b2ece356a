"""Undo commands of the generation panels: render settings and history.

* :class:`SetRenderSettings` changes fields of the project's generation settings;
  consecutive edits of the same fields merge (spin-box arrows = one undo step).
* The AST controls are the schedule's simple view (``ast_studio.schedule.simple_view``): they
  push the schedule's :class:`~ast_studio.schedule.commands.SetSchedule` like its expert view.
* :class:`RemoveRender` deletes a history entry (undo puts it back); :class:`RestoreLayout`
  replaces the layout by a render's snapshot.

New renders join the history outside the undo stack (``document.set_renders``): undoing a
canvas edit must never delete a picture.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from ast_core.project import RenderSettings

_ID_RENDER_SETTINGS = 2201
LABELS = {"steps": "steps", "guidance": "guidance", "seed": "seed", "seed_mode": "seed mode", "method": "method"}


class SetRenderSettings(QUndoCommand):
    """Set some fields of the project's generation settings (``document.settings.generation``)."""

    def __init__(self, document, changes: dict[str, Any], text: str | None = None) -> None:
        super().__init__(text or "Change " + ", ".join(LABELS.get(k, k) for k in changes))
        self.document = document
        current = document.settings.generation.to_dict()
        unknown = [k for k in changes if k not in current]
        if unknown:
            raise ValueError(f"generation settings: unknown field(s) {unknown}")
        self.new = dict(changes)
        self.old = {k: current[k] for k in changes}

    def _apply(self, values: dict[str, Any]) -> None:
        settings = self.document.settings
        settings.set_generation(settings.generation.with_changes(**values))  # it announces the change

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _ID_RENDER_SETTINGS

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetRenderSettings) or set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        if self.new == self.old:
            self.setObsolete(True)
        return True


class RemoveRender(QUndoCommand):
    """Delete one render from the history (undo puts it back at the same place)."""

    def __init__(self, document, render_id: str) -> None:
        super().__init__("Delete render")
        self.document = document
        self.render_id = render_id
        ids = [r.id for r in document.renders]
        if render_id not in ids:
            raise ValueError(f"history: no render with id {render_id!r}")
        self.index = ids.index(render_id)
        self.render = document.renders[self.index]

    def redo(self) -> None:
        self.document.renders = [r for r in self.document.renders if r.id != self.render_id]
        self.document.part_changed.emit("renders")

    def undo(self) -> None:
        renders = list(self.document.renders)
        renders.insert(min(self.index, len(renders)), self.render)
        self.document.renders = renders
        self.document.part_changed.emit("renders")


class RestoreLayout(QUndoCommand):
    """Replace the whole layout by a snapshot (a render's layout); undo brings the old one back."""

    def __init__(self, document, layout, text: str = "Restore layout from render") -> None:
        super().__init__(text)
        self.document = document
        self.new = layout.copy()
        self.old = document.layout.copy()

    def redo(self) -> None:
        self.document.layout.replace_all(self.new.copy())

    def undo(self) -> None:
        self.document.layout.replace_all(self.old.copy())


def restore_settings_command(document, settings: RenderSettings) -> SetRenderSettings | None:
    current = document.settings.generation
    changes = {k: v for k, v in settings.to_dict().items() if current.to_dict()[k] != v}
    return SetRenderSettings(document, changes, "Restore render settings") if changes else None
