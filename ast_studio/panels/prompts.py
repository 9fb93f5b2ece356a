"""Base and background prompts; instance and background texts highlighted in the base prompt as you type.

AST needs every instance's text and the background's text inside the base prompt. Both are
treated alike here: highlighted where they occur (instances in their colours, the background
in :data:`BACKGROUND_COLOUR`), flagged when missing, appended by "Append missing". Whether the
selected method needs them is the registry's fact (:mod:`.base_prompt_rule`): under a method
that does not (regional prompting, the plain model) nothing is flagged and the method's own
neutral note says how it uses the prompts; the panel follows the method selection live.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QDockWidget, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from .. import icons
from ..commands import SetPrompts
from ..document import Document
from . import typing_sessions as typing
from .base_prompt_rule import background_to_flag, instances_to_flag, method_label, prompts_note
from .instance_list import append_background_command, append_to_base_prompt_command

#: the background's colour in the base prompt (instances use their own)
BACKGROUND_COLOUR = "#8e9aa8"


def _occurrences(text: str, prompt: str, colour: str) -> list[tuple[int, int, str]]:
    lower, needle = text.lower(), prompt.strip().rstrip(".").lower()
    spans = []
    if needle:
        start = lower.find(needle)
        while start >= 0:
            spans.append((start, len(needle), colour))
            start = lower.find(needle, start + 1)
    return spans


def instance_spans(text: str, instances) -> list[tuple[int, int, str]]:
    """(start, length, colour) of every case-insensitive occurrence of each instance's prompt."""
    return [span for inst in instances for span in _occurrences(text, inst.prompt, inst.color)]


def background_spans(text: str, background_prompt: str) -> list[tuple[int, int, str]]:
    """(start, length, BACKGROUND_COLOUR) of every occurrence of the background prompt."""
    return _occurrences(text, background_prompt, BACKGROUND_COLOUR)


def readable(colour: QColor, min_lightness: float = 0.45) -> QColor:
    """The same hue, lightened until it shows on the dark editor (very dark instance colours)."""
    h, s, l, a = colour.getHslF()
    return QColor.fromHslF(h, s, max(l, min_lightness), a) if l < min_lightness else colour


class BasePromptHighlighter(QSyntaxHighlighter):
    def __init__(self, document: Document, text_document) -> None:
        super().__init__(text_document)
        self.layout_model = document.layout

    def highlightBlock(self, text: str) -> None:
        # the background first: an instance's text inside it shows in the instance's colour
        spans = background_spans(text, self.layout_model.background_prompt)
        for start, length, colour in spans + instance_spans(text, self.layout_model.instances):
            fmt = QTextCharFormat()
            back = readable(QColor(colour))
            back.setAlpha(110)
            fmt.setBackground(back)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            fmt.setUnderlineColor(readable(QColor(colour)))
            fmt.setForeground(QColor("#ffffff"))
            self.setFormat(start, length, fmt)


class PromptsPanel(QWidget):
    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.layout_model = document.layout
        self.base = QPlainTextEdit()
        self.base.setPlaceholderText("The whole scene in one sentence; each instance's prompt should appear in it, "
                                     "e.g. “a sunny beach with a yellow umbrella and a boy playing with a ball”")
        self.base.setTabChangesFocus(True)
        self.base.setMinimumHeight(64)
        self.base.setToolTip("The whole scene. Each instance's prompt and the background prompt must appear in it "
                             "(highlighted in their colours). Esc goes back to the canvas.")
        self.highlighter = BasePromptHighlighter(document, self.base.document())
        self.background = QPlainTextEdit()
        self.background.setPlaceholderText("What fills the rest of the canvas, e.g. “a sunny beach”")
        self.background.setTabChangesFocus(True)
        self.background.setToolTip("What fills the canvas where no instance is; its text must appear in the base "
                                   "prompt too")
        self.background.setMaximumHeight(52)
        self.background.setMinimumHeight(34)
        self.missing = QLabel()
        self.missing.setProperty("role", "warning")
        self.missing.setWordWrap(True)
        self.append_all = QPushButton(icons.icon("append"), "Append missing")
        self.append_all.setToolTip("Append the text of the background and of every flagged instance to the base "
                                   "prompt")
        self.note = QLabel()  # the method's note when it does not need the text in the base prompt
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #9aa0a8;")
        self.note.hide()
        missing_row = QHBoxLayout()
        missing_row.setContentsMargins(0, 0, 0, 0)
        missing_row.addWidget(self.missing, 1)
        missing_row.addWidget(self.note, 1)
        missing_row.addWidget(self.append_all)

        def heading(text: str) -> QLabel:
            label = QLabel(text)
            label.setProperty("role", "heading")
            return label

        box = QVBoxLayout(self)
        box.setContentsMargins(8, 4, 8, 8)
        box.setSpacing(3)
        box.addWidget(heading("Base prompt"))
        box.addWidget(self.base, 1)
        box.addLayout(missing_row)
        box.addWidget(heading("Background prompt"))
        box.addWidget(self.background)
        for w in (self.base, self.background):
            typing.watch(w, document.undo_stack)
        self.base.textChanged.connect(self._base_edited)
        self.background.textChanged.connect(self._background_edited)
        self.append_all.clicked.connect(self.append_missing)
        self.layout_model.events.connect(self._on_event)
        document.settings_changed.connect(self._on_settings_changed)
        self.refresh()

    def focus_target(self):
        return self.base

    def _base_edited(self) -> None:
        text = self.base.toPlainText()
        if text != self.layout_model.base_prompt:
            self.document.undo_stack.push(SetPrompts(self.document, base=text, typing_session=typing.current()))

    def _background_edited(self) -> None:
        text = self.background.toPlainText()
        if text != self.layout_model.background_prompt:
            self.document.undo_stack.push(SetPrompts(self.document, background=text,
                                                     typing_session=typing.current()))

    def append_missing(self) -> None:
        """Append the background's and every flagged instance's text to the base prompt (one undo step)."""
        layout = self.layout_model
        background = layout.background_missing_from_base_prompt()
        missing = [i for i in layout.instances_missing_from_base_prompt() if i.prompt.strip()]
        # (by hand it appends under any method: the button shows only where the method needs it)
        if not missing and not background:
            return
        stack = self.document.undo_stack
        stack.beginMacro("Append missing text to the base prompt")
        if background:
            stack.push(append_background_command(self.document))
        for inst in missing:
            if not layout.in_base_prompt(inst.prompt):  # the background's text may have brought it in
                stack.push(append_to_base_prompt_command(self.document, inst.id))
        stack.endMacro()

    def _on_event(self, event) -> None:
        if event.kind in ("prompts_changed", "reset"):
            self.refresh()
        elif event.kind in ("instance_added", "instance_removed", "instance_changed", "order_changed"):
            self.highlighter.rehighlight()
            self._refresh_missing()

    def _on_settings_changed(self, part: str) -> None:
        if part == "generation":  # the method may have changed
            self._refresh_missing()

    def refresh(self) -> None:
        typing.set_text_quietly(self.base, self.layout_model.base_prompt)
        typing.set_text_quietly(self.background, self.layout_model.background_prompt)
        self.highlighter.rehighlight()
        self._refresh_missing()

    def _refresh_missing(self) -> None:
        missing = instances_to_flag(self.document)
        background = background_to_flag(self.document)
        with_text = [i for i in missing if i.prompt.strip()]
        note = "" if missing or background else prompts_note(self.document)
        self.note.setText(note)
        self.note.setToolTip(f"{method_label(self.document)}: {note}" if note else "")
        self.note.setVisible(bool(note))
        names = (["Background"] if background else []) + [i.name for i in missing]
        if names:
            self.missing.setText("⚠ Not in the base prompt: " + ", ".join(names[:4]) + (" …" if len(names) > 4 else ""))
            self.missing.setToolTip("AST needs the background's and each instance's text inside the base prompt: "
                                    "“Append missing” adds them at its end.")
        self.missing.setVisible(bool(names))
        self.append_all.setVisible(bool(with_text) or background)


def prompts_dock(document: Document, parent=None) -> QDockWidget:
    dock = QDockWidget("Prompts", parent)
    dock.setObjectName("prompts-dock")
    dock.setWidget(PromptsPanel(document, dock))
    return dock
