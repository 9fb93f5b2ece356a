"""Screenshots of the whole studio at laptop and desktop sizes, for a human look.

They go to the git-ignored ``out/screens`` (or ``$AST_SCREENS_DIR``); ``docs/make_screens.py``
runs this module and copies a few, optimised, to ``docs/screens`` for the README. The checks
here are what a screenshot must show to be worth looking at: the whole page, every panel on
screen, the picture where it should be.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ast_studio import window_layout
from ast_studio.compare_view import SWIPE

from editing_support import drag, line
from workspace_support import EXAMPLE, full_studio_window

SCREENS = Path(os.environ.get("AST_SCREENS_DIR", Path(__file__).resolve().parents[2] / "out" / "screens"))
SEED_SKETCH = Path(__file__).resolve().parents[1] / "data" / "seed-examples" / "beach.png"
TIMEOUT = 180_000

pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")


def save(widget, name: str, mouse_off: bool = True) -> Path:
    top = widget.window()
    if mouse_off and hasattr(top, "statusBar"):  # the mouse off the canvas: no brush circle left where it last was
        QTest.mouseMove(top.statusBar(), top.statusBar().rect().center())
    QApplication.processEvents()
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / name
    assert widget.grab().save(str(path))
    return path


def page_in_view(window) -> bool:
    view = window.canvas
    return view.viewport().rect().contains(view.mapFromScene(view.scene().canvas_rect()).boundingRect())


@pytest.mark.parametrize("size", [(1366, 768), (1280, 800), (1920, 1080)])
def test_workspace_screens(qtbot, tmp_path, size):
    window = full_studio_window(qtbot, tmp_path, size)
    try:
        doc = window.document
        doc.select(doc.layout.instances[3].id)
        assert page_in_view(window)
        save(window, f"workspace-{size[0]}x{size[1]}.png")
        window_layout.go_to_panel(window, "schedule_panel")
        panel = window.schedule_panel
        panel.set_kind("i2t")
        assert panel.heatmap.isVisible() and panel.bands.isVisible()
        save(window, f"schedule-page-{size[0]}x{size[1]}.png")
    finally:
        window.generation.shutdown()


@pytest.mark.skipif(not SEED_SKETCH.is_file(), reason="seed sketch missing")
def test_tracing_a_picture_screen(qtbot, tmp_path):
    """The AST demo's colour sketch of the beach, traced: a new instance drawn over it."""
    from ast_studio.picture_actions import import_background_picture

    window = full_studio_window(qtbot, tmp_path, (1366, 768))
    try:
        canvas = window.canvas
        assert import_background_picture(window, SEED_SKETCH)
        window.canvas_view_bar.background_opacity.setValue(70)
        window.actions_by_name["new_instance"].trigger()
        drag(canvas, line(330, 300, 420, 330, n=12))
        canvas.set_tool("eraser")
        QTest.mouseMove(canvas.viewport(), canvas.mapFromScene(380, 320))
        assert canvas.scene().background_item.isVisible() and canvas.cursor_item.label.isVisible()
        save(window, "tracing-1366x768.png", mouse_off=False)
    finally:
        window.generation.shutdown()


def test_result_and_viewer_screens(qtbot, tmp_path):
    """Two real tiny-flux renders (random weights: they show the pipeline, not pictures)."""
    import torch

    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    save_model_settings(ModelSettings(model="tiny-flux"))
    window = full_studio_window(qtbot, tmp_path, (1920, 1080))
    ui = window.generation
    try:
        doc = window.document
        for seed in (7, 8):
            doc.settings.set_generation(doc.settings.generation.with_changes(seed=seed, steps=2))
            with qtbot.waitSignal(ui.runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
                qtbot.mouseClick(ui.panel.generate_button, Qt.MouseButton.LeftButton)
        assert len(doc.renders) == 2
        ui.history.decode_thumbnails()
        cloud = next(i for i in doc.layout.instances if i.name == "Blue cloud")
        doc.select(cloud.id)
        window.instance_editor_dock.widget().strength.box.setValue(0.6)
        window.canvas_view_bar.under_action.trigger()
        window.canvas_view_bar.result_opacity.setValue(75)
        window.actions_by_name["show_result"].trigger()
        assert window.canvas.scene().result_item.isVisible()
        save(window, "result-on-canvas-1920x1080.png")

        from ast_studio.render_viewer import open_render_viewer

        viewer = open_render_viewer(window, doc.renders[1])
        viewer.resize(1100, 720)
        viewer.compare_with(doc.renders[0])
        viewer.mode_buttons[SWIPE].click()
        viewer.view.set_split(0.55)
        QApplication.processEvents()
        assert viewer.view.b is not None
        save(viewer, "render-viewer-swipe.png")
        viewer.close()
    finally:
        ui.shutdown()
        torch.set_num_threads(threads)
