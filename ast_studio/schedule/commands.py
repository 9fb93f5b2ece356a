"""Undo commands for the schedule: each stores the schedule dict before and after the edit.

The document keeps the project's schedule as a JSON dict (``document.schedule``; ``None``
means "the model family's default preset"). A command swaps that dict and announces
``part_changed("schedule")``; the panel's :class:`~ast_studio.schedule.binding.ScheduleBinding`
follows. Consecutive edits with the same ``merge_key`` (spin-box arrows on one weight, arrow-key
nudges of one keyframe) merge into one undo step.
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

#: undo-command ids by merge-key family (QUndoStack only tries to merge equal ids)
_MERGE_IDS = {"weight": 2101, "quick": 2102, "nudge": 2103}
_ID_OTHER = 2199

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
        return _MERGE_IDS.get(self.merge_key[0], _ID_OTHER)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetSchedule) or other.merge_key != self.merge_key:
            return False
        self.after = copy.deepcopy(other.after)
        if self.after == self.before:
            self.setObsolete(True)
        return True
