"""The simple view of the schedule, in an artist's words (the Generate panel's "AST controls").

Each control is one value of the project's schedule, shown once, under one name; the
Schedule page (the expert view) shows the very same values under the method's names:

==========================  ======================================  ========================
simple view                 what it does                             expert view
==========================  ======================================  ========================
Placement                   each region is drawn from its own        I2T weight (image -> text)
                            prompt's words: what goes where
Attributes                  each instance keeps its own words        T2T weight (text <-> text)
                            (colours, materials) instead of
                            sharing them with the others
Background separation       each region's pixels, the background's   I2I weight (image <-> image)
                            included, attend to their own region:
                            objects stay apart from the
                            background and from each other
Acts on the first N steps   how long the control lasts               modulated steps of every
                                                                     power curve
Fade                        how fast it fades within those steps     decay of every power curve
==========================  ======================================  ========================

The layer bands (which maps act on which layers: instance words early, background in the
middle, attributes late) stay the expert view's. Every change is one undo step on the
document's stack (a slider drag, or arrow keys while a control has the focus).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from ast_core.methods.ast import schedule_on_family
from ast_core.schedule import KINDS, PowerCurve, Schedule

from ..panels import typing_sessions as typing
from .binding import ScheduleBinding

#: (weight kind, the simple view's name, what it does): the one place the names are given
SIMPLE_WEIGHTS = (
    ("i2t", "Placement", "How strongly each region is drawn from its own prompt: what goes where "
                         "(image → text, I2T in the Schedule page)"),
    ("t2t", "Attributes", "How strongly each instance keeps its own words, such as colours and materials, "
                          "instead of sharing them with the other instances (text ↔ text, T2T)"),
    ("i2i", "Background separation", "How strongly each region, the background included, keeps to itself: "
                                     "objects stay apart from the background and from each other "
                                     "(image ↔ image, I2I)"),
)
SIMPLE_NAMES = {kind: name for kind, name, _tip in SIMPLE_WEIGHTS}
WEIGHT_MAX = 50.0
SLIDER_MAX = 10.0  # the slider's end; the number box goes further
SLIDER_STEPS = 200  # 0.05 per slider step


def current_schedule(document) -> Schedule:
    """The project's schedule on the configured model (its preset when the project has none)."""
    from ast_studio.generation.model_settings import load_model_settings

    return schedule_on_family(document.schedule, load_model_settings().family)


def simple_values(schedule: Schedule, steps: int | None = None) -> dict[str, Any]:
    """What the simple view shows: the three weights, and the decay and modulated step count of
    the power curves (``None`` when every curve is a custom keyframe curve). With ``steps`` the
    count is the one that runs in a render of that many steps (a preset's 16 steps run as 4 on
    a 4-step model; a share of the steps, as some presets give it, becomes a count)."""
    out: dict[str, Any] = {f"w_{k}": schedule.weight(k) for k in KINDS}
    power = [schedule.curve(k) for k in ("i2t", "t2t", "i2i") if isinstance(schedule.curve(k), PowerCurve)]
    out["decay"] = power[0].decay if power else None
    if not power:
        out["modulated_steps"] = None
    else:
        out["modulated_steps"] = power[0].modulated_count(steps) if steps else power[0].modulated_steps
    return out


def schedule_change(document, field: str, value, session: int | None = None) -> QUndoCommand | None:
    """An undo command setting one simple control on the project schedule (None if no change).

    ``field`` is ``w_t2t``/``w_i2t``/``w_i2i`` (a weight), ``decay`` or ``modulated_steps``
    (applied to every kind whose curve is a power curve; custom keyframe curves are left alone).
    Consecutive changes of one field in one ``session`` (a slider drag) merge into one undo step.
    """
    from .commands import SetSchedule

    before = document.schedule
    schedule = current_schedule(document)
    if field.startswith("w_") and field[2:] in KINDS:
        kind = field[2:]
        schedule.set_weight(kind, float(value))
        text, key = f"Set {SIMPLE_NAMES.get(kind, kind)} ({kind.upper()} weight)", ("weight", kind)
    elif field in ("decay", "modulated_steps"):
        for kind in KINDS:
            curve = schedule.curve(kind)
            if isinstance(curve, PowerCurve):
                # a count typed here replaces a "share of the steps" rule (schnell, SD3.5 presets)
                changes = {"decay": float(value)} if field == "decay" else \
                    {"modulated_steps": int(value), "modulated_fraction": None}
                schedule.set_curve(kind, dataclasses.replace(curve, **changes))
        text, key = ("Set AST fade" if field == "decay" else "Set AST modulated steps"), ("quick", field)
    else:
        raise ValueError(f"unknown AST control {field!r}")
    if schedule == current_schedule(document):
        return None
    return SetSchedule(document, before, schedule, text, merge_key=key if session is None else key + (session,))


class WeightControl(QWidget):
    """A slider (0-10) and a number box (0-50) for one weight; one undo step per drag."""

    changed = Signal(float)

    def __init__(self, name: str, tip: str, undo_stack=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(20)
        self.slider.setToolTip(f"{name}: {tip}")
        self.box = QDoubleSpinBox()
        self.box.setRange(0.0, WEIGHT_MAX)
        self.box.setDecimals(2)
        self.box.setSingleStep(0.25)
        self.box.setKeyboardTracking(False)
        self.box.setToolTip(f"{name} as a number (0 = off; the slider goes to {SLIDER_MAX:g}, this box to "
                            f"{WEIGHT_MAX:g})")
        self.box.setFixedWidth(64)
        for w in (self.slider, self.box):
            typing.watch(w, undo_stack)  # leaving the control ends its undo step; Ctrl+Z is the document's
        self.slider.sliderPressed.connect(typing.new_session)
        self.slider.sliderReleased.connect(typing.new_session)
        self.slider.valueChanged.connect(lambda v: self._emit(v * SLIDER_MAX / SLIDER_STEPS))
        self.box.valueChanged.connect(lambda v: self._emit(round(float(v), 3)))
        self._quiet = False
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.box)

    def _emit(self, value: float) -> None:
        if not self._quiet:
            self.changed.emit(round(value, 3))

    def set_value(self, value: float) -> None:
        self._quiet = True
        try:
            self.box.setValue(value)
            self.slider.setValue(round(min(value, SLIDER_MAX) * SLIDER_STEPS / SLIDER_MAX))
        finally:
            self._quiet = False

    def value(self) -> float:
        return self.box.value()


class SimpleScheduleView(QWidget):
    """Placement, Attributes, Background separation, how long and how fast: the schedule in an
    artist's words (see the module docstring)."""

    #: the user asked for the expert view (the Schedule page)
    expert_requested = Signal()

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.binding = ScheduleBinding(document, self)
        self._updating = False
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.weights: dict[str, WeightControl] = {}
        row = 0
        for kind, name, tip in SIMPLE_WEIGHTS:
            label = QLabel(name)
            label.setToolTip(tip)
            control = WeightControl(name, tip, document.undo_stack)
            control.changed.connect(lambda v, k=kind: self._edit(f"w_{k}", v))
            label.setBuddy(control.slider)
            grid.addWidget(label, row, 0, 1, 2)
            grid.addWidget(control, row + 1, 0, 1, 2)
            self.weights[kind] = control
            row += 2
        self.steps = QSpinBox()
        self.steps.setRange(0, 200)
        self.steps.setKeyboardTracking(False)
        self.steps.setToolTip("The control acts on the first steps of the render only; later steps refine the "
                              "picture freely (modulated steps of every curve; 0 = off)")
        self.steps_of = QLabel("")
        self.steps_of.setStyleSheet("color: #9aa0a8;")
        self.decay = QDoubleSpinBox()
        self.decay.setRange(0.0, 20.0)
        self.decay.setDecimals(1)
        self.decay.setSingleStep(0.5)
        self.decay.setKeyboardTracking(False)
        self.decay.setToolTip("How fast the control fades within those steps: 0 keeps it even, higher values fade it "
                              "sooner (strength × (t/1000)^fade)")
        for box in (self.steps, self.decay):
            typing.watch(box, document.undo_stack)
        steps_row = QHBoxLayout()
        steps_row.addWidget(QLabel("Acts on the first"))
        steps_row.addWidget(self.steps)
        steps_row.addWidget(self.steps_of, 1)
        fade_row = QHBoxLayout()
        fade_row.addWidget(QLabel("Fade"))
        fade_row.addWidget(self.decay)
        fade_row.addStretch(1)
        self.note = QLabel("")
        self.note.setProperty("role", "warning")
        self.note.setWordWrap(True)
        self.note.hide()
        self.defaults = QPushButton("Defaults")
        self.defaults.setToolTip("Every value back to the configured model's preset (the AST paper's schedule); "
                                 "one undo step")
        self.defaults.clicked.connect(self.use_defaults)
        self.expert = QPushButton("Expert view…")
        self.expert.setToolTip("The same values in the Schedule page: step curves, layer bands and the heatmap "
                               "of every coefficient (Alt+2)")
        self.expert.clicked.connect(self.expert_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.defaults)
        buttons.addWidget(self.expert)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addLayout(grid)
        box.addLayout(steps_row)
        box.addLayout(fade_row)
        box.addWidget(self.note)
        box.addLayout(buttons)
        self.steps.valueChanged.connect(lambda v: self._edit("modulated_steps", int(v)))
        self.decay.valueChanged.connect(lambda v: self._edit("decay", round(float(v), 3)))
        self.binding.changed.connect(lambda _e: self.refresh())
        self.binding.context_changed.connect(self.refresh)
        self.refresh()

    def focus_target(self) -> QWidget:
        return self.weights["i2t"].slider

    # ------------------------------------------------------------------ model -> view
    def refresh(self) -> None:
        self._updating = True
        try:
            steps = self.binding.steps
            try:
                values, problem = simple_values(self.binding.schedule, steps), ""
            except ValueError as e:
                values, problem = None, f"The project's schedule cannot be read ({e})."
            for kind, control in self.weights.items():
                control.setEnabled(values is not None)
                if values is not None:
                    control.set_value(values[f"w_{kind}"])
            curves = values is not None and values["decay"] is not None
            for box in (self.steps, self.decay):
                box.setEnabled(curves)
            self.steps.setMaximum(max(1, steps))  # the steps of the next render (Generate ▸ Steps)
            if curves:
                self.steps.setValue(values["modulated_steps"])
                self.decay.setValue(values["decay"])
            self.steps_of.setText(f"of {steps} steps")
            if not problem and values is not None and not curves:
                problem = "Every step curve is a custom one: change how long and how fast in the Schedule page."
            self.note.setText(problem or self.binding.problem)
            self.note.setVisible(bool(problem or self.binding.problem))
        finally:
            self._updating = False

    # ------------------------------------------------------------------ view -> model
    def _edit(self, field: str, value) -> None:
        if self._updating:
            return
        try:
            cmd = schedule_change(self.document, field, value, typing.current())
        except ValueError as e:
            self.note.setText(f"Cannot change the schedule: {e}")
            self.note.show()
            self.refresh()
            return
        if cmd is not None:
            self.document.undo_stack.push(cmd)

    def use_defaults(self) -> bool:
        return self.binding.apply_preset(self.binding.default_preset)
