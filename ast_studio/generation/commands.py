"""Undo commands of the generation panels: render settings, method parameters, LoRAs, history.

* :class:`SetRenderSettings` changes fields of the project's generation settings;
  consecutive edits of the same fields merge (spin-box arrows = one undo step).
* :class:`SetMethodParameters` changes a method's own parameters (the registry's typed ones),
  :class:`SetLoras` the project's LoRA list; both merge consecutive edits of one value the same way.
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
_ID_METHOD_PARAMETERS = 2202
_ID_LORAS = 2203
LABELS = {"steps": "steps", "guidance": "guidance", "seed": "seed", "seed_mode": "seed mode", "method": "method",
          "count": "images per render"}


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


class SetMethodParameters(QUndoCommand):
    """Set some of method ``name``'s parameters (``document.settings.set_method_parameters``).

    Values are checked by the method first (``MethodParameterError`` names a bad one)."""

    def __init__(self, document, name: str, changes: dict[str, Any], text: str | None = None) -> None:
        from ast_core.methods import method

        control = method(name)
        labels = {p.name: p.label for p in control.parameters}
        super().__init__(text or f"Change {control.label}: " + ", ".join(labels.get(k, k) for k in changes))
        self.document, self.name = document, name
        self.old = document.settings.method_parameters(name)
        self.new = control.check_parameters({**self.old, **changes})
        self.keys = frozenset(changes)

    def redo(self) -> None:
        self.document.settings.set_method_parameters(self.name, self.new)

    def undo(self) -> None:
        self.document.settings.set_method_parameters(self.name, self.old)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _ID_METHOD_PARAMETERS

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetMethodParameters) or (other.name, other.keys) != (self.name, self.keys):
            return False
        self.new = dict(other.new)
        if self.new == self.old:
            self.setObsolete(True)
        return True


class SetLoras(QUndoCommand):
    """Replace the project's LoRA list (``document.settings.set_loras``). Commands with the same
    ``merge_key`` (one LoRA's strength) merge, so a burst of spin-box arrows is one undo step."""

    def __init__(self, document, loras, text: str, merge_key: Any = None) -> None:
        super().__init__(text)
        self.document = document
        self.old = tuple(document.settings.loras)
        self.new = tuple(lora.validate() for lora in loras)
        self.merge_key = merge_key

    def redo(self) -> None:
        self.document.settings.set_loras(self.new)

    def undo(self) -> None:
        self.document.settings.set_loras(self.old)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _ID_LORAS

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetLoras) or self.merge_key is None or other.merge_key != self.merge_key:
            return False
        self.new = other.new
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
