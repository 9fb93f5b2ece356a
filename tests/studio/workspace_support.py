"""The whole studio window (every panel, as ``ast-studio`` builds it) for the workspace tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget

from editing_support import discard_changes

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "beach.astproj"


def full_studio_window(qtbot, tmp_path, size=(1366, 768), project: Path | None = EXAMPLE):
    """The main window with every panel at ``size``, shown, with ``project`` open (None: empty)."""
    from ast_studio import settings, theme
    from ast_studio.app import create_window

    theme.apply(QApplication.instance())
    settings.mark_has_run()
    window = create_window([str(project)] if project is not None else [], recovery_folder=tmp_path / "recovery")
    qtbot.addWidget(window, before_close_func=discard_changes)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    return window


def visible_on_screen(widget: QWidget) -> bool:
    """The widget is shown and wholly inside its window (not scrolled or cut away)."""
    if not widget.isVisible():
        return False
    top = widget.window()
    rect = QRect(widget.mapTo(top, widget.rect().topLeft()), widget.size())
    return top.rect().contains(rect)


def picture_file(path: Path, size=(200, 120), colour=(30, 140, 220), fmt="PNG") -> Path:
    rng = np.random.default_rng(1)
    pixels = np.zeros((size[1], size[0], 3), np.uint8) + np.array(colour, np.uint8)
    pixels[:, : size[0] // 2] = rng.integers(0, 255, (size[1], size[0] // 2, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
    return path


def close_shutdown(window) -> None:
    generation = getattr(window, "generation", None)
    if generation is not None:
        generation.shutdown()
    discard_changes(window)
