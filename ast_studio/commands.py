"""Undo commands: every edit of the document is one of these, acting on the Layout model.

Commands never touch graphics items: views follow the model through ``layout.events``.
Typing in a text field pushes :class:`UpdateInstance` / :class:`SetPrompts` with a
``typing_session``; consecutive commands of the same session and field merge into one
undo step (a field losing focus starts a new session).
"""
from __future__ import annotations

from typing import Iterable

from PySide6.QtGui import QUndoCommand

from ast_core.document import Instance, next_colour
from ast_core.document import geometry as geo

from .document import Document

_ID_UPDATE = 1001
_ID_PROMPTS = 1002
_ID_NUDGE = 1003


class DocumentCommand(QUndoCommand):
    def __init__(self, document: Document, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.layout = document.layout


class AddInstance(DocumentCommand):
    """Insert an instance (default: on top) and select it."""

    def __init__(self, document: Document, instance: Instance, index: int | None = None,
                 text: str | None = None, select: bool = True) -> None:
        super().__init__(document, text or f"Add {instance.name}")
        self.instance = instance
        self.index = len(document.layout.instances) if index is None else index
        self.previous_selection = document.selected_id
        self.select_it = select

    def redo(self) -> None:
        self.layout.add_instance(self.instance, index=self.index)
        if self.select_it:
            self.document.select(self.instance.id)

    def undo(self) -> None:
        self.instance, _ = self.layout.remove_instance(self.instance.id)
        prev = self.previous_selection
        if prev is not None and any(i.id == prev for i in self.layout.instances):
            self.document.select(prev)


class RemoveInstances(DocumentCommand):
    def __init__(self, document: Document, instance_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(instance_ids))
        names = [document.layout.instance(i).name for i in ids]
        super().__init__(document, f"Remove {names[0]}" if len(names) == 1 else f"Remove {len(names)} instances")
        self.ids = ids
        self.removed: list[tuple[int, Instance]] = []

    def redo(self) -> None:
        self.removed = []
        for iid in self.ids:
            inst, index = self.layout.remove_instance(iid)
            self.removed.append((index, inst))

    def undo(self) -> None:
        for index, inst in reversed(self.removed):
            self.layout.add_instance(inst, index=index)
        if len(self.removed) == 1:
            self.document.select(self.removed[0][1].id)


def duplicate_instance(document: Document, instance_id: str) -> AddInstance:
    """A command adding a copy of ``instance_id`` just above it, in the next free colour."""
    layout = document.layout
    source = layout.instance(instance_id)
    names = {i.name for i in layout.instances}
    name, n = f"{source.name} copy", 2
    while name in names:
        name, n = f"{source.name} copy {n}", n + 1
    from ast_core.document.instance import new_id

    twin = source.copy(id=new_id(), name=name, color=next_colour(layout.used_colours()), locked=False)
    return AddInstance(document, twin, index=layout.index_of(instance_id) + 1, text=f"Duplicate {source.name}")


class SetGeometry(DocumentCommand):
    """New geometry for one or more instances (one brush stroke, polygon, erase or move)."""

    def __init__(self, document: Document, changes: dict, text: str) -> None:
        super().__init__(document, text)
        self.new = dict(changes)
        self.old = {iid: document.layout.instance(iid).geometry for iid in self.new}

    def redo(self) -> None:
        for iid, g in self.new.items():
            self.layout.set_geometry(iid, g)

    def undo(self) -> None:
        for iid, g in self.old.items():
            self.layout.set_geometry(iid, g)


class NudgeInstance(SetGeometry):
    """Arrow-key moves: consecutive nudges of the same instance merge into one undo step."""

    def id(self) -> int:
        return _ID_NUDGE

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, NudgeInstance) or set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        return True


class UpdateInstance(DocumentCommand):
    """Change plain fields (name, prompt, color, visible, locked, attribute_words)."""

    def __init__(self, document: Document, instance_id: str, fields: dict,
                 typing_session: int | None = None, text: str | None = None) -> None:
        inst = document.layout.instance(instance_id)
        label = text or f"Change {', '.join(k.replace('_', ' ') for k in fields)} of {inst.name}"
        super().__init__(document, label)
        self.instance_id = instance_id
        self.new = dict(fields)
        self.old = {k: _copy_value(getattr(inst, k)) for k in fields}
        self.session = typing_session

    def id(self) -> int:
        return _ID_UPDATE if self.session is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (isinstance(other, UpdateInstance) and other.session == self.session
                and other.instance_id == self.instance_id and set(other.new) == set(self.new)):
            return False
        self.new = dict(other.new)
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.layout.update_instance(self.instance_id, **{k: _copy_value(v) for k, v in self.new.items()})

    def undo(self) -> None:
        self.layout.update_instance(self.instance_id, **{k: _copy_value(v) for k, v in self.old.items()})


class MoveInstance(DocumentCommand):
    """Change an instance's z-order (index in ``layout.instances``; last = top)."""

    def __init__(self, document: Document, instance_id: str, new_index: int) -> None:
        inst = document.layout.instance(instance_id)
        super().__init__(document, f"Reorder {inst.name}")
        self.instance_id = instance_id
        self.new_index = max(0, min(new_index, len(document.layout.instances) - 1))
        self.old_index = document.layout.index_of(instance_id)

    def redo(self) -> None:
        self.layout.move_instance(self.instance_id, self.new_index)

    def undo(self) -> None:
        self.layout.move_instance(self.instance_id, self.old_index)


class SetPrompts(DocumentCommand):
    """Change the base and/or background prompt; typing in one field merges into one step."""

    def __init__(self, document: Document, base: str | None = None, background: str | None = None,
                 typing_session: int | None = None) -> None:
        which = "base prompt" if background is None else "background prompt" if base is None else "prompts"
        super().__init__(document, f"Edit {which}")
        layout = document.layout
        self.new = (base, background)
        self.old = (layout.base_prompt if base is not None else None,
                    layout.background_prompt if background is not None else None)
        self.session = typing_session

    def id(self) -> int:
        return _ID_PROMPTS if self.session is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        same_fields = [v is None for v in self.new] == [v is None for v in getattr(other, "new", (0, 0))]
        if not (isinstance(other, SetPrompts) and other.session == self.session and same_fields):
            return False
        self.new = other.new
        if self.new == self.old:
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        self.layout.set_prompts(*self.new)

    def undo(self) -> None:
        self.layout.set_prompts(*self.old)


class SetCanvasSize(DocumentCommand):
    """A new canvas size; with ``scale_instances`` every instance is scaled to keep its place in the picture."""

    def __init__(self, document: Document, width: int, height: int, scale_instances: bool = False) -> None:
        super().__init__(document, f"Canvas size {width}×{height}" + (", instances scaled" if scale_instances else ""))
        self.new = (width, height)
        self.old = (document.layout.width, document.layout.height)
        self.old_geometry = {}
        self.new_geometry = {}
        if scale_instances:
            sx, sy = width / self.old[0], height / self.old[1]
            for inst in document.layout.instances:
                if not inst.is_empty:
                    self.old_geometry[inst.id] = inst.geometry
                    self.new_geometry[inst.id] = geo.scale(inst.geometry, sx, sy)

    def redo(self) -> None:
        self.layout.set_size(*self.new)
        for iid, g in self.new_geometry.items():
            self.layout.set_geometry(iid, g)

    def undo(self) -> None:
        for iid, g in self.old_geometry.items():
            self.layout.set_geometry(iid, g)
        self.layout.set_size(*self.old)


def _copy_value(v):
    return list(v) if isinstance(v, list) else v
