"""Screenshots of the full studio with the beach example, for a human look (AST_SCREENS_DIR)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from ast_studio import theme
from ast_studio.app import create_window

from editing_support import discard_changes, drag, line

# Screenshots for a human look: out/screens/ in the checkout (git-ignored), or $AST_SCREENS_DIR.
SCREENS = Path(os.environ.get("AST_SCREENS_DIR", Path(__file__).resolve().parents[2] / "out" / "screens"))
EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "beach.astproj"


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")
@pytest.mark.parametrize("size", [(1600, 1000), (1280, 800)])
def test_main_window_with_the_beach_example(qtbot, tmp_path, size):
    app = QApplication.instance()
    saved_look = (app.style().name(), app.palette(), app.styleSheet())
    theme.apply(app)
    try:
        window = create_window([str(EXAMPLE)], recovery_folder=tmp_path / "recovery")
        qtbot.addWidget(window, before_close_func=discard_changes)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        window.canvas.fit()
        doc = window.document
        doc.select(doc.layout.instances[3].id)
        qtbot.wait(50)
        assert window.windowTitle() == "beach.astproj — AST Studio"
        # the canvas is the biggest thing on screen and shows the whole page
        view = window.canvas
        assert view.width() * view.height() >= 0.25 * size[0] * size[1]
        page = view.mapFromScene(view.scene().canvas_rect()).boundingRect()
        assert view.viewport().rect().contains(page)
        # every instance row is visible in the list without scrolling
        lst = window.instances_dock.widget().list
        assert lst.visualItemRect(lst.item(lst.count() - 1)).bottom() <= lst.viewport().height()
        # the base prompt shows at least three lines of text
        base = window.prompts_dock.widget().base
        assert base.viewport().height() >= 3 * base.fontMetrics().lineSpacing()
        SCREENS.mkdir(parents=True, exist_ok=True)
        name = f"studio-beach-{size[0]}x{size[1]}.png"
        assert window.grab().save(str(SCREENS / name))
        if size == (1600, 1000):
            window.canvas.set_tool("brush")
            doc.select(None)
            drag(view, line(60, 420, 200, 470, n=20))
            view.set_tool("polygon")
            for x, y in ((300, 60), (420, 40), (470, 120)):
                pos = view.mapFromScene(x, y)
                from PySide6.QtTest import QTest

                QTest.mouseClick(view.viewport(), __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.MouseButton.LeftButton,
                                 pos=pos)
            QTest.mouseMove(view.viewport(), view.mapFromScene(380, 160))
            qtbot.wait(50)
            assert window.grab().save(str(SCREENS / "studio-beach-drawing.png"))
            view.tool.cancel()
    finally:
        app.setStyle(saved_look[0])
        app.setPalette(saved_look[1])
        app.setStyleSheet(saved_look[2])
