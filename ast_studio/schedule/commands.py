"""Undo commands for the schedule: each stores the schedule dict before and after the edit.

The document keeps the project's schedule as a JSON dict (``document.schedule``; ``None``
means "the model family's default preset"). A command swaps that dict and announces
``part_changed("schedule")``; the panel's :class:`~ast_studio.schedule.binding.ScheduleBinding`
follows. Consecutive weight edits of one kind (spin-box arrows) merge into one undo step.
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

_ID_WEIGHT = 2101
_ID_SIZEREG = 2102


class SetSchedule(QUndoCommand):
    """Replace ``document.schedule`` (``before`` -> ``after``); one undo step."""

    def __init__(self, document, before: dict[str, Any] | None, after: dict[str, Any] | None,
                 text: str, merge_key: tuple | None = None) -> None:
        super().__init__(text)
        self.document = document
        self.before = copy.deepcopy(before)
        self.after = copy.deepcopy(after)
        self.merge_key = merge_key

    def _apply(self, value: dict[str, Any] | None) -> None:
        self.document.schedule = copy.deepcopy(value)
        self.document.part_changed.emit("schedule")

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        if self.merge_key is None:
            return -1
        return _ID_WEIGHT if self.merge_key[0] == "weight" else _ID_SIZEREG

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetSchedule) or other.merge_key != self.merge_key:
            return False
        self.after = copy.deepcopy(other.after)
        if self.after == self.before:
            self.setObsolete(True)
        return True
