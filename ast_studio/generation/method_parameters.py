"""The selected method's own parameters, edited with controls built from the method registry.

Each :class:`ast_core.methods.Parameter` becomes a control of its kind: ``int`` a spin box,
``float`` a decimal spin box (its ``step``), ``bool`` a check box, ``choice`` a combo box;
the label and tooltip come from ``label`` and ``help``, the range from ``minimum``/``maximum``.
Nothing here knows a particular method. A method whose parameters are its step-layer schedule
(``uses_schedule``) says that the AST controls and the Schedule page edit them; a method without parameters says so.

Every edit is a :class:`~.commands.SetMethodParameters` undo command (spin-box arrow bursts
merge into one step); the box follows the project's method and values (undo, open, restore).
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ast_core.methods import MethodParameterError, Parameter, method

from .commands import SetMethodParameters

#: the largest number a spin box offers when a parameter has no maximum
OPEN_MAXIMUM = 1_000_000


def _decimals(step: float) -> int:
    """Decimals that show every multiple of ``step`` (0.05 -> 2, 0.5 -> 1, 1 -> 0)."""
    return max(0, min(6, math.ceil(-math.log10(step) - 1e-9))) if 0 < step < 1 else 0


def editor_for(parameter: Parameter) -> QWidget:
    """A control for one parameter (value not set)."""
    if parameter.kind == "bool":
        box = QCheckBox()
    elif parameter.kind == "choice":
        box = QComboBox()
        for choice in parameter.choices:
            box.addItem(str(choice), choice)
    elif parameter.kind == "int":
        box = QSpinBox()
        box.setRange(int(parameter.minimum if parameter.minimum is not None else -OPEN_MAXIMUM),
                     int(parameter.maximum if parameter.maximum is not None else OPEN_MAXIMUM))
        box.setSingleStep(int(parameter.step or 1))
        box.setKeyboardTracking(False)
    else:
        box = QDoubleSpinBox()
        step = parameter.step or 0.1
        box.setDecimals(max(2, _decimals(step)))
        box.setRange(parameter.minimum if parameter.minimum is not None else -OPEN_MAXIMUM,
                     parameter.maximum if parameter.maximum is not None else OPEN_MAXIMUM)
        box.setSingleStep(step)
        box.setKeyboardTracking(False)
    box.setToolTip(parameter.help)
    box.setObjectName(f"parameter-{parameter.name}")
    return box


def editor_value(parameter: Parameter, box: QWidget):
    if parameter.kind == "bool":
        return box.isChecked()
    if parameter.kind == "choice":
        return box.currentData()
    if parameter.kind == "int":
        return int(box.value())
    return round(float(box.value()), 6)


def show_value(parameter: Parameter, box: QWidget, value) -> None:
    if parameter.kind == "bool":
        box.setChecked(bool(value))
    elif parameter.kind == "choice":
        box.setCurrentIndex(max(0, box.findData(value)))
    else:
        box.setValue(value)


class MethodParametersBox(QGroupBox):
    """The parameters of the project's selected method (see the module docstring)."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.method_name = ""
        self.editors: dict[str, QWidget] = {}
        self._updating = False
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #9aa0a8;")
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("Set every parameter of this method back to its default (one undo step)")
        self.defaults_button.clicked.connect(self.reset_to_defaults)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        column = QVBoxLayout(self)
        column.addLayout(self.form)
        column.addWidget(self.note)
        column.addWidget(self.defaults_button, 0, Qt.AlignmentFlag.AlignRight)
        document.settings_changed.connect(self._on_settings_changed)
        document.replaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ model -> view
    def _on_settings_changed(self, part: str) -> None:
        if part in ("generation", "method_parameters"):
            self.refresh()

    def refresh(self) -> None:
        name = self.document.settings.generation.method
        if name != self.method_name:
            self._build(name)
        self._updating = True
        try:
            values = self.document.settings.method_parameters(name)
            for p in method(name).parameters:
                show_value(p, self.editors[p.name], values[p.name])
            self.defaults_button.setEnabled(values != method(name).default_parameters())
        finally:
            self._updating = False

    def _build(self, name: str) -> None:
        control = method(name)
        self.method_name = name
        while self.form.rowCount():
            self.form.removeRow(0)  # deletes the row's label and control
        self.editors = {}
        self.setTitle(f"{control.label}: parameters")
        self.setToolTip(control.description)
        for p in control.parameters:
            box = editor_for(p)
            self.editors[p.name] = box
            label = QLabel(p.label)
            label.setToolTip(p.help)
            label.setBuddy(box)
            self.form.addRow(label, box)
            self._connect(p, box)
        if control.uses_schedule:
            note = ("This method's parameters are its step-layer schedule: the AST controls below are its "
                    "simple view, the Schedule page (Alt+2) its expert view.")
        elif not control.parameters:
            note = "This method has no parameters."
        else:
            note = ""
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.defaults_button.setVisible(bool(control.parameters))

    def _connect(self, p: Parameter, box: QWidget) -> None:
        if p.kind == "bool":
            box.toggled.connect(lambda _v, p=p, box=box: self._edited(p, box))
        elif p.kind == "choice":
            box.currentIndexChanged.connect(lambda _i, p=p, box=box: self._edited(p, box))
        else:
            box.valueChanged.connect(lambda _v, p=p, box=box: self._edited(p, box))

    # ------------------------------------------------------------------ view -> model
    def _edited(self, p: Parameter, box: QWidget) -> None:
        if self._updating:
            return
        value = editor_value(p, box)
        if self.document.settings.method_parameters(self.method_name).get(p.name) == value:
            return
        try:
            cmd = SetMethodParameters(self.document, self.method_name, {p.name: value})
        except MethodParameterError:  # the controls keep to the ranges: nothing to take
            self.refresh()
            return
        self.document.undo_stack.push(cmd)

    def reset_to_defaults(self) -> None:
        name = self.method_name
        defaults = method(name).default_parameters()
        if self.document.settings.method_parameters(name) != defaults:
            self.document.undo_stack.push(SetMethodParameters(self.document, name, defaults,
                                                              f"Reset {method(name).label} parameters"))

    def value_of(self, name: str):
        """What the control of parameter ``name`` shows (tests, screenshots)."""
        p = next(p for p in method(self.method_name).parameters if p.name == name)
        return editor_value(p, self.editors[name])

