"""Shared helpers for the editing-side studio tests: a shown main window and real mouse gestures."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from ast_studio.main_window import MainWindow


def open_window(qtbot, tmp_path, size=(1280, 820), **options) -> MainWindow:
    """A shown main window; closing it at teardown discards changes instead of asking."""
    options.setdefault("recovery_folder", tmp_path / "recovery")
    window = MainWindow(**options)
    qtbot.addWidget(window, before_close_func=discard_changes)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.canvas.fit()
    return window


def discard_changes(window) -> None:
    window.document.undo_stack.setClean()
    window.document._dirty_outside_stack = False


def to_view(view, x: float, y: float) -> QPoint:
    """Canvas pixels -> viewport coordinates."""
    return view.mapFromScene(QPointF(x, y))


def drag(view, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    vp = view.viewport()
    pts = [to_view(view, x, y) for x, y in points]
    QTest.mousePress(vp, button, modifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, button, modifier, pts[-1])


def click(view, x, y, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(view.viewport(), button, Qt.KeyboardModifier.NoModifier, to_view(view, x, y))


def double_click(view, x, y) -> None:
    vp = view.viewport()
    p = to_view(view, x, y)
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    QTest.mouseDClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)


def line(x0, y0, x1, y1, n=20):
    return [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]
