"""Undo commands for the schedule: each keeps a copy of the schedule before and after the edit.

The document holds the project's :class:`~ast_core.schedule.Schedule` (``document.schedule``;
``None`` means "the model family's default preset"). A command sets it through
``document.set_schedule``, which announces ``part_changed("schedule")``; the panel's
:class:`~ast_studio.schedule.binding.ScheduleBinding` follows. Undo also brings back a stored
schedule this version could not read (the command keeps it). Consecutive edits with the same
``merge_key`` (spin-box arrows on one weight, arrow-key nudges of one keyframe) merge into one
undo step.
"""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from ast_core.schedule import Schedule

#: undo-command ids by merge-key family (QUndoStack only tries to merge equal ids)
_MERGE_IDS = {"weight": 2101, "quick": 2102, "nudge": 2103}
_ID_OTHER = 2199


def _copy(schedule: Schedule | None) -> Schedule | None:
    return None if schedule is None else schedule.copy()


class SetSchedule(QUndoCommand):
    """Replace ``document.schedule`` (``before`` -> ``after``); one undo step."""

    def __init__(self, document, before: Schedule | None, after: Schedule | None,
                 text: str, merge_key: tuple | None = None) -> None:
        super().__init__(text)
        self.document = document
        self.before = _copy(before)
        self.after = _copy(after)
        self._unread = (copy.deepcopy(document.unread_schedule), document.schedule_problem)
        self.merge_key = merge_key

    def redo(self) -> None:
        self.document.set_schedule(self.after)

    def undo(self) -> None:
        unread, problem = self._unread
        if self.before is None and unread is not None:
            self.document.set_schedule(None)
            self.document.unread_schedule, self.document.schedule_problem = copy.deepcopy(unread), problem
            self.document.part_changed.emit("schedule")
        else:
            self.document.set_schedule(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        if self.merge_key is None:
            return -1
        return _MERGE_IDS.get(self.merge_key[0], _ID_OTHER)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetSchedule) or other.merge_key != self.merge_key:
            return False
        self.after = _copy(other.after)
        if self.after == self.before:
            self.setObsolete(True)
        return True
