"""Typing sessions: consecutive keystrokes in one field merge into one undo step.

A session number changes whenever a text field loses focus, so typing, clicking away and
typing again in the same field makes two undo steps.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject

_session = 0


def current() -> int:
    return _session


def new_session() -> int:
    global _session
    _session += 1
    return _session


class _FocusWatcher(QObject):
    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            new_session()
        return False


_watcher: _FocusWatcher | None = None


def watch(widget) -> None:
    """Start a new session whenever ``widget`` loses focus."""
    global _watcher
    if _watcher is None:
        _watcher = _FocusWatcher()
    widget.installEventFilter(_watcher)


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
