"""Typing sessions: consecutive keystrokes in one field merge into one undo step.

A session number changes whenever a text field loses focus, so typing, clicking away and
typing again in the same field makes two undo steps.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence

_session = 0


def current() -> int:
    return _session


def new_session() -> int:
    global _session
    _session += 1
    return _session


class _TextFieldWatcher(QObject):
    """New session on focus-out; Ctrl+Z / Ctrl+Shift+Z go to the document's undo stack
    (a text field's own undo would fight the document's)."""

    def __init__(self, widget, undo_stack) -> None:
        super().__init__(widget)
        self.undo_stack = undo_stack

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.FocusOut:
            new_session()
        elif self.undo_stack is not None and kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            if event.matches(QKeySequence.StandardKey.Undo):
                action = self.undo_stack.undo
            elif event.matches(QKeySequence.StandardKey.Redo) or (
                    event.key() == Qt.Key.Key_Z and event.modifiers() == (
                        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)):
                action = self.undo_stack.redo
            else:
                return False
            event.accept()
            if kind == QEvent.Type.KeyPress:
                new_session()
                action()
            return True
        return False


def watch(widget, undo_stack=None) -> None:
    """New typing session when ``widget`` loses focus; its undo keys drive ``undo_stack``."""
    if hasattr(widget, "setUndoRedoEnabled"):
        widget.setUndoRedoEnabled(False)
    widget.installEventFilter(_TextFieldWatcher(widget, undo_stack))


def set_text_quietly(widget, text: str) -> None:
    """Show ``text`` in a QLineEdit/QPlainTextEdit without echoing it back as an edit."""
    current_text = widget.toPlainText() if hasattr(widget, "toPlainText") else widget.text()
    if current_text == text:
        return
    widget.blockSignals(True)
    try:
        if hasattr(widget, "setPlainText"):
            widget.setPlainText(text)
        else:
            widget.setText(text)
    finally:
        widget.blockSignals(False)
