"""Canvas size presets and the custom-size dialog (multiples of 16)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox

from ast_core.document.layout import MAX_SIZE, MIN_SIZE, SIZE_STEP

PRESETS = (
    ("Square 1024 × 1024", 1024, 1024),
    ("Landscape 1344 × 768", 1344, 768),
    ("Portrait 768 × 1344", 768, 1344),
)


class CanvasSizeDialog(QDialog):
    def __init__(self, width: int, height: int, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Canvas size")
        form = QFormLayout(self)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, width), (self.height_box, height)):
            box.setRange(MIN_SIZE, MAX_SIZE)
            box.setSingleStep(SIZE_STEP)
            box.setSuffix(" px")
            box.setValue(value)
            box.editingFinished.connect(lambda b=box: b.setValue(round_to_step(b.value())))
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        note = QLabel(f"Sizes are rounded to multiples of {SIZE_STEP}. Instances keep their place;\n"
                      f"parts outside the new canvas are kept but not generated.")
        note.setStyleSheet("color: #9aa0a8;")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def size(self) -> tuple[int, int]:
        return round_to_step(self.width_box.value()), round_to_step(self.height_box.value())


def round_to_step(value: int) -> int:
    """The nearest multiple of 16 (halves round up), within the allowed sizes."""
    return max(MIN_SIZE, min(MAX_SIZE, (int(value) + SIZE_STEP // 2) // SIZE_STEP * SIZE_STEP))
