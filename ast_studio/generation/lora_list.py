"""The project's LoRAs: a file and a strength each, in the Generate panel.

The list is the project's (``document.settings.loras``, saved in the project and recorded with
every render); every change is a :class:`~.commands.SetLoras` undo command (a burst of
strength-arrow clicks is one step). Strength 0 turns a LoRA off without removing it; negative
strengths invert it. "Add LoRA file…" reads only the file's header to refuse what is not a LoRA
at once; whether a LoRA fits the model is known when it is applied, and a render that cannot
apply one says so in the Generate panel's message area.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ast_core.models.options import MAX_LORA_SCALE, MAX_LORAS, LoraChoice

from .commands import SetLoras

FILE_FILTER = "LoRA weights (*.safetensors)"


def lora_problem(path: str) -> str:
    """Why ``path`` cannot be a LoRA, from its header ("" when it reads as one)."""
    from ast_core.models.checkpoint_files import CheckpointFileError, inspect_file

    try:
        facts = inspect_file(path)
    except CheckpointFileError as e:
        return str(e)
    if facts.kind != "lora":
        return f"{facts.path.name} is not a LoRA: it holds a {facts.describe()}"
    if facts.format != "safetensors":
        return f"{facts.path.name}: LoRAs are read from .safetensors files"
    return ""


class LoraList(QGroupBox):
    """The LoRA list of the project (see the module docstring)."""

    #: a line for the user (a refused file)
    message = Signal(str)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__("LoRAs", parent)
        self.document = document
        self.setToolTip("LoRA files applied to the model for this project's renders, each with a strength "
                        "(0 turns it off)")
        self.rows: list[tuple[QLabel, QDoubleSpinBox, QToolButton]] = []
        self._updating = False
        self.grid = QGridLayout()
        self.grid.setColumnStretch(0, 1)
        self.empty = QLabel("None: the model as it is.")
        self.empty.setStyleSheet("color: #9aa0a8;")
        self.add_button = QPushButton("Add LoRA file…")
        self.add_button.setToolTip("Add one or more LoRA files (.safetensors: kohya/sd-scripts, XLabs, ComfyUI or "
                                   "diffusers format)")
        self.add_button.clicked.connect(self._add_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addLayout(self.grid)
        column.addWidget(self.empty)
        column.addLayout(buttons)
        document.settings_changed.connect(self._on_settings_changed)
        document.replaced.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ model -> view
    def _on_settings_changed(self, part: str) -> None:
        if part == "loras":
            self.refresh()

    def refresh(self) -> None:
        loras = self.document.settings.loras
        if len(self.rows) != len(loras):
            self._build(len(loras))
        self._updating = True
        try:
            for (label, strength, _remove), lora in zip(self.rows, loras):
                missing = not Path(lora.path).expanduser().is_file()
                label.setText(("⚠ " if missing else "") + lora.name)
                label.setToolTip(lora.path + ("\nfile not found" if missing else ""))
                strength.setValue(lora.scale)
                strength.setToolTip(f"Strength of {lora.name}: 1 = as trained, 0 = off, negative inverts it")
        finally:
            self._updating = False
        self.empty.setVisible(not loras)
        self.add_button.setEnabled(len(loras) < MAX_LORAS)

    def _build(self, count: int) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows = []
        for i in range(count):
            label = QLabel()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            strength = QDoubleSpinBox()
            strength.setRange(-MAX_LORA_SCALE, MAX_LORA_SCALE)
            strength.setDecimals(2)
            strength.setSingleStep(0.05)
            strength.setKeyboardTracking(False)
            strength.setObjectName(f"lora-strength-{i}")
            strength.valueChanged.connect(lambda v, i=i: self.set_strength(i, v))
            remove = QToolButton()
            remove.setText("✕")
            remove.setAutoRaise(True)
            remove.setToolTip("Remove this LoRA from the project")
            remove.clicked.connect(lambda _c=False, i=i: self.remove(i))
            self.grid.addWidget(label, i, 0)
            self.grid.addWidget(strength, i, 1)
            self.grid.addWidget(remove, i, 2)
            self.rows.append((label, strength, remove))

    # ------------------------------------------------------------------ view -> model
    def add_files(self, paths) -> list[str]:
        """Add LoRA files at strength 1 (one undo step); returns the problems (one line each)."""
        loras = list(self.document.settings.loras)
        known = {str(Path(lora.path).expanduser().resolve()) for lora in loras}
        problems, added = [], []
        for path in paths:
            path = str(path)
            key = str(Path(path).expanduser().resolve())
            problem = lora_problem(path)
            if not problem and key in known:
                problem = f"{Path(path).name} is already in the list"
            if not problem and len(loras) >= MAX_LORAS:
                problem = f"at most {MAX_LORAS} LoRAs per project"
            if problem:
                problems.append(problem)
                continue
            known.add(key)
            loras.append(LoraChoice(path, 1.0))
            added.append(Path(path).name)
        if added:
            text = f"Add LoRA {added[0]}" if len(added) == 1 else f"Add {len(added)} LoRAs"
            self.document.undo_stack.push(SetLoras(self.document, loras, text))
        for problem in problems:
            self.message.emit(f"LoRA not added: {problem}")
        return problems

    def set_strength(self, index: int, value: float) -> None:
        if self._updating:
            return
        loras = list(self.document.settings.loras)
        if not 0 <= index < len(loras) or loras[index].scale == round(float(value), 4):
            return
        loras[index] = LoraChoice(loras[index].path, round(float(value), 4))
        self.document.undo_stack.push(SetLoras(self.document, loras, f"Set strength of {loras[index].name}",
                                               merge_key=("strength", loras[index].path)))

    def remove(self, index: int) -> None:
        loras = list(self.document.settings.loras)
        if 0 <= index < len(loras):
            gone = loras.pop(index)
            self.document.undo_stack.push(SetLoras(self.document, loras, f"Remove LoRA {gone.name}"))

    def _add_dialog(self) -> None:
        start = str(Path(self.document.settings.loras[-1].path).parent) if self.document.settings.loras else ""
        paths, _ = QFileDialog.getOpenFileNames(self, "Add LoRA files", start, FILE_FILTER)
        if paths:
            self.add_files(paths)
