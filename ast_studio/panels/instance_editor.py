"""The selected instance's fields: name, colour, prompt, attribute words, strength, base-prompt check.

Strength is one slider per instance (this editor shows the selected one's): a multiplier on
the instance's own AST coefficients, 1.0 being the method exactly and 0 its control off
(:mod:`ast_core.attention.tables`). One slider drag, or arrow keys while it has the focus, is
one undo step.
"""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog, QDockWidget, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
    QPushButton, QSizePolicy, QSlider, QStackedWidget, QVBoxLayout, QWidget,
)

from ast_core.document import STRENGTH_RANGE

from .. import icons
from ..commands import UpdateInstance
from ..document import Document
from . import typing_sessions as typing
from .base_prompt_rule import instances_to_flag
from .instance_list import append_to_base_prompt_command
from .attribute_split import automatic_attribute_words


def parse_words(text: str) -> list[str] | None:
    """"white, fluffy" / "white fluffy" -> ["white", "fluffy"]; blank -> None (automatic)."""
    words = [w for w in re.split(r"[,\s]+", text.strip()) if w]
    return words or None


class ColourButton(QPushButton):
    def set_colour(self, colour: str) -> None:
        self.setText(colour)
        text = "#111" if QColor(colour).lightnessF() > 0.55 else "#fff"
        self.setStyleSheet(f"QPushButton {{ background: {colour}; color: {text}; border: 1px solid #555;"
                           f" border-radius: 4px; padding: 3px 8px; font-family: monospace; }}")


STRENGTH_TIP = ("How strongly AST keeps this instance to its region and its words. 1.00 is the method as "
                "published; lower lets the model draw it more freely, 0 turns its control off (it stays in the "
                "prompt); up to 2 holds it harder. AST only: regional prompting ignores it.")


class StrengthControl(QWidget):
    """A slider (0-200 %) and a number box for one instance's strength."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lo, hi = STRENGTH_RANGE
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(lo * 100), round(hi * 100))
        self.slider.setSingleStep(5)
        self.slider.setPageStep(25)
        self.slider.setToolTip(STRENGTH_TIP)
        self.box = QDoubleSpinBox()
        self.box.setRange(lo, hi)
        self.box.setDecimals(2)
        self.box.setSingleStep(0.05)
        self.box.setKeyboardTracking(False)
        self.box.setFixedWidth(66)
        self.box.setToolTip("This instance's strength as a number (1.00 = the method as published, 0 = off)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.box)
        self.slider.valueChanged.connect(lambda v: self.box.setValue(v / 100))
        self.box.valueChanged.connect(lambda v: self.slider.setValue(round(v * 100)))

    def set_value(self, value: float) -> None:
        for w in (self.slider, self.box):
            w.blockSignals(True)
        self.box.setValue(value)
        self.slider.setValue(round(value * 100))
        for w in (self.slider, self.box):
            w.blockSignals(False)


class InstanceEditor(QWidget):
    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.layout_model = document.layout
        self.stack = QStackedWidget()
        empty = QLabel("Select an instance in the list or on the canvas\n(V, then click) to edit it.\n\n"
                       "Drawing with nothing selected\ncreates a new instance.")
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty.setWordWrap(True)
        empty.setStyleSheet("color: #7d838b;")
        self.stack.addWidget(empty)

        form_host = QWidget()
        form = QFormLayout(form_host)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.name = QLineEdit()
        self.name.setPlaceholderText("instance name")
        self.name.setToolTip("The instance's name (shown on the canvas and in the lists; not sent to the model)")
        self.colour = ColourButton()
        self.colour.setToolTip("Change the instance's colour")
        self.colour.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("what this region shows, e.g. “a yellow umbrella”")
        self.prompt.setTabChangesFocus(True)
        self.prompt.setMinimumHeight(54)
        self.prompt.setMaximumHeight(84)
        self.prompt.setToolTip("What this region shows; the same text must appear in the base prompt. "
                               "Esc goes back to the canvas.")
        self.strength = StrengthControl()
        self.words = QLineEdit()
        self.words.setToolTip("Words of the prompt that describe attributes (e.g. “yellow”).\n"
                              "Leave empty for the automatic split.")
        self.missing = QLabel()
        self.missing.setProperty("role", "warning")
        self.missing.setWordWrap(True)
        self.append = QPushButton(icons.icon("append"), "Append")
        self.append.setToolTip("Append this instance's prompt to the end of the base prompt")
        missing_row = QHBoxLayout()
        missing_row.addWidget(self.missing, 1)
        missing_row.addWidget(self.append)
        self.missing_box = QWidget()
        self.missing_box.setLayout(missing_row)
        missing_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name)
        form.addRow("Colour", self.colour)
        form.addRow("Prompt", self.prompt)
        form.addRow("Attributes", self.words)
        strength_label = QLabel("Strength")
        strength_label.setToolTip(STRENGTH_TIP)
        strength_label.setBuddy(self.strength.slider)
        form.addRow(strength_label, self.strength)
        form.addRow(self.missing_box)
        self.stack.addWidget(form_host)
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 8, 8, 8)
        box.addWidget(self.stack)
        box.addStretch(1)

        for w in (self.name, self.prompt, self.words, self.strength.slider, self.strength.box):
            typing.watch(w, document.undo_stack)
        self.strength.slider.sliderPressed.connect(typing.new_session)  # one drag = one undo step
        self.strength.slider.sliderReleased.connect(typing.new_session)
        self.strength.box.valueChanged.connect(self._strength_changed)
        self.name.textEdited.connect(lambda text: self._edit("name", text.strip() or self._current().name))
        self.prompt.textChanged.connect(lambda: self._edit("prompt", self.prompt.toPlainText()))
        self.words.editingFinished.connect(self._words_done)
        self.colour.clicked.connect(self.pick_colour)
        self.append.clicked.connect(self.append_to_base)
        document.selection_changed.connect(lambda _id: self.refresh())
        self.layout_model.events.connect(self._on_event)
        document.settings_changed.connect(self._on_settings_changed)
        self.refresh()

    def _current(self):
        return self.document.selected()

    def _edit(self, field: str, value) -> None:
        inst = self._current()
        if inst is None or getattr(inst, field) == value:
            return
        self.document.undo_stack.push(UpdateInstance(self.document, inst.id, {field: value},
                                                     typing_session=typing.current()))

    def _strength_changed(self, value: float) -> None:
        inst = self._current()
        if inst is None or abs(inst.strength - value) < 1e-9:
            return
        self.document.undo_stack.push(UpdateInstance(self.document, inst.id, {"strength": round(float(value), 4)},
                                                     typing_session=typing.current(),
                                                     text=f"Strength of {inst.name}"))

    def focus_target(self):
        return self.name if self._current() is not None else None

    def _words_done(self) -> None:
        inst = self._current()
        if inst is None:
            return
        words = parse_words(self.words.text())
        if words != inst.attribute_words:
            self.document.undo_stack.push(UpdateInstance(self.document, inst.id, {"attribute_words": words}))

    def pick_colour(self) -> None:
        inst = self._current()
        if inst is None:
            return
        colour = QColorDialog.getColor(QColor(inst.color), self, f"Colour of {inst.name}")
        if colour.isValid():
            self._edit("color", colour.name())

    def append_to_base(self) -> None:
        inst = self._current()
        if inst is not None and inst.prompt.strip():
            self.document.undo_stack.push(append_to_base_prompt_command(self.document, inst.id))

    def _on_settings_changed(self, part: str) -> None:
        if part == "generation":  # the method may have changed
            self.refresh()

    def _on_event(self, event) -> None:
        if event.kind in ("instance_changed", "prompts_changed", "reset") or (
            event.kind == "instance_removed" and event.instance_id == self.document.selected_id
        ):
            self.refresh()

    def refresh(self) -> None:
        inst = self._current()
        self.stack.setCurrentIndex(0 if inst is None else 1)
        if inst is None:
            return
        if not self.name.hasFocus():
            typing.set_text_quietly(self.name, inst.name)
        typing.set_text_quietly(self.prompt, inst.prompt)
        self.colour.set_colour(inst.color)
        self.strength.set_value(inst.strength)
        if not self.words.hasFocus():
            typing.set_text_quietly(self.words, ", ".join(inst.attribute_words or []))
        auto = automatic_attribute_words(inst.prompt)
        self.words.setPlaceholderText(f"automatic: {', '.join(auto) if auto else 'none'}" if auto is not None
                                      else "(automatic)")
        missing = inst in instances_to_flag(self.document) or not inst.prompt.strip()
        self.missing_box.setVisible(missing)
        if missing:
            self.missing.setText("Not in the base prompt yet." if inst.prompt.strip()
                                 else "Give this instance a prompt.")
            self.append.setEnabled(bool(inst.prompt.strip()))
            self.append.setVisible(bool(inst.prompt.strip()))
        for w in (self.name, self.prompt, self.words, self.colour, self.strength):
            w.setEnabled(True)


def instance_editor_dock(document: Document, parent=None) -> QDockWidget:
    dock = QDockWidget("Instance", parent)
    dock.setObjectName("instance-editor-dock")
    dock.setWidget(InstanceEditor(document, dock))
    return dock
