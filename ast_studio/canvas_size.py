"""Canvas size presets, the custom-size dialog (multiples of 16) and the question whether the
instances scale with the canvas.

The dialog never changes what was typed: a side outside 64..4096 is refused with a message
naming it (OK is disabled), a side that is not a multiple of 16 is accepted and the message
says which size it becomes.
"""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QMessageBox, QSpinBox

from ast_core.document.layout import MAX_SIZE, MIN_SIZE, SIZE_STEP

PRESETS = (
    ("Square 1024 × 1024", 1024, 1024),
    ("Landscape 1344 × 768", 1344, 768),
    ("Portrait 768 × 1344", 768, 1344),
)
TYPING_LIMIT = 99_999  # the boxes take any number this long, so nothing typed is cut short


class CanvasSizeDialog(QDialog):
    def __init__(self, width: int, height: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Canvas size")
        form = QFormLayout(self)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, width), (self.height_box, height)):
            box.setRange(1, TYPING_LIMIT)
            box.setSingleStep(SIZE_STEP)
            box.setSuffix(" px")
            box.setValue(value)
            box.valueChanged.connect(self._check)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        note = QLabel(f"Sides are multiples of {SIZE_STEP} between {MIN_SIZE} and {MAX_SIZE} px. If the canvas has "
                      f"instances, you choose next\nwhether they scale with it or keep their pixel positions.")
        note.setStyleSheet("color: #9aa0a8;")
        form.addRow(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._check()

    def problems(self) -> tuple[list[str], list[str]]:
        """(errors, notes): sides that cannot be used, and sides that will be rounded."""
        errors, notes = [], []
        for label, box in (("Width", self.width_box), ("Height", self.height_box)):
            v = box.value()
            if v > MAX_SIZE:
                errors.append(f"{label} {v} px is larger than {MAX_SIZE} px, the largest canvas side.")
            elif v < MIN_SIZE:
                errors.append(f"{label} {v} px is smaller than {MIN_SIZE} px, the smallest canvas side.")
            elif v % SIZE_STEP:
                notes.append(f"{label} {v} px becomes {round_to_step(v)} px (sides are multiples of {SIZE_STEP}).")
        return errors, notes

    def _check(self, *_args) -> None:
        errors, notes = self.problems()
        self.problem.setText("\n".join(errors + notes))
        self.problem.setStyleSheet("color: #f2c744;" if errors else "color: #9aa0a8;")
        self.problem.setVisible(bool(errors or notes))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not errors)

    def accept(self) -> None:
        if not self.problems()[0]:
            super().accept()

    def size(self) -> tuple[int, int]:
        return round_to_step(self.width_box.value()), round_to_step(self.height_box.value())


def round_to_step(value: int) -> int:
    """The nearest multiple of 16 (halves round up), within the allowed sizes."""
    return max(MIN_SIZE, min(MAX_SIZE, (int(value) + SIZE_STEP // 2) // SIZE_STEP * SIZE_STEP))


def ask_to_scale(parent, count: int, old: tuple[int, int], new: tuple[int, int]) -> bool | None:
    """Ask whether ``count`` instances scale from canvas ``old`` to ``new``: True (scale), False (keep
    their pixel positions) or None (cancel the resize)."""
    answer = QMessageBox.question(
        parent, "Scale the instances?",
        f"The canvas changes from {old[0]} × {old[1]} to {new[0]} × {new[1]}.\n\n"
        f"Scale the {count} instance{'s' if count != 1 else ''} with it (Yes), so each keeps its place in the "
        f"picture, or keep their pixel positions (No; parts outside the new canvas are kept but not generated)?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Yes,
    )
    if answer == QMessageBox.StandardButton.Cancel:
        return None
    return answer == QMessageBox.StandardButton.Yes
