"""The workspace around real renders (built-in tiny-flux): the result on the canvas follows the
render, the History opens a render full size and compares two, a render becomes the canvas
background, and Cancel and a failed render's message hold in the window's own layout."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QTextCursor, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from shapely.geometry import box

from ast_core.document import Instance, Layout
from ast_core.project import Project, RenderSettings, save_project
from ast_studio.compare_view import BLEND, SIDE_BY_SIDE, SWIPE
from ast_studio.generation import events as ev
from ast_studio.generation.model_settings import ModelSettings, save_model_settings

from workspace_support import full_studio_window, visible_on_screen

TIMEOUT = 120_000


def animals(size: int = 64) -> Layout:
    return Layout(size, size, "a red cat and a blue dog on green grass", "green grass", [
        Instance(name="cat", prompt="a red cat", color="#e6194b", geometry=box(0, 8, size * 0.45, size - 4)),
        Instance(name="dog", prompt="a blue dog", color="#4363d8",
                 geometry=box(size * 0.55, size * 0.3, size - 2, size - 6))])


@pytest.fixture
def small_studio(qtbot, tmp_path):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny-flux is all small ops: one thread is much faster on a shared machine
    save_model_settings(ModelSettings(model="tiny-flux"))
    path = tmp_path / "animals.astproj"
    save_project(Project(animals(), {"generation": RenderSettings(steps=2, seed=3).to_dict()}), path)
    window = full_studio_window(qtbot, tmp_path, (1366, 768), path)
    events = []
    window.generation.runner.event.connect(events.append)
    window.test_events = events
    yield window
    window.generation.shutdown()
    torch.set_num_threads(threads)


def render(qtbot, window, click_cancel_at_step: int | None = None):
    ui = window.generation
    seen = {}

    def cancel(event):
        if click_cancel_at_step is not None and isinstance(event, ev.Step) and "at" not in seen:
            seen["at"] = event.index
            qtbot.mouseClick(ui.panel.cancel_button, Qt.MouseButton.LeftButton)
            seen["status"] = ui.panel.status.text()
            seen["visible"] = visible_on_screen(ui.panel.status)

    ui.runner.event.connect(cancel)
    try:
        with qtbot.waitSignal(ui.runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
            qtbot.mouseClick(ui.panel.generate_button, Qt.MouseButton.LeftButton)
    finally:
        ui.runner.event.disconnect(cancel)
    return window.test_events[-1], seen


def test_renders_show_on_the_canvas_open_full_size_and_compare(qtbot, small_studio):
    window, doc = small_studio, small_studio.document
    last, _ = render(qtbot, window)
    assert isinstance(last, ev.Finished), last
    canvas = window.canvas
    assert canvas.has_result()  # the finished render is what R shows
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_R)
    assert canvas.scene().result_item.isVisible()
    doc.settings.set_generation(doc.settings.generation.with_changes(seed=4))
    render(qtbot, window)
    assert len(doc.renders) == 2

    history = window.generation.history
    first = history.strip.item(1)  # newest first: the seed-3 render
    at = history.strip.visualItemRect(first).center()
    QTest.mouseClick(history.strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseDClick(history.strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    viewer = window.render_viewer
    assert viewer.isVisible() and viewer.render.id == doc.renders[0].id
    view = viewer.view
    assert view.a is not None and view.a.width() == 64 and view.b is None
    assert view.fitted and view.zoom > 5  # a 64-pixel picture fills the window
    side = viewer.mode_buttons[SIDE_BY_SIDE]  # nothing to compare yet: greyed, saying what to do
    assert not side.isEnabled() and "Compare with" in side.toolTip()
    viewer.compare_with(doc.renders[1])
    assert view.mode == SIDE_BY_SIDE and view.b is not None
    left, right = view.viewports()
    grab = view.grab().toImage()
    a_pixel = grab.pixelColor(left.center().toPoint())
    b_pixel = grab.pixelColor(right.center().toPoint())
    assert a_pixel == view.a.pixelColor(32, 32) and b_pixel == view.b.pixelColor(32, 32)
    viewer.mode_buttons[SWIPE].click()
    vp = view.viewports()[0]
    x = round(vp.left() + vp.width() * view.split)
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, 100))
    QTest.mouseMove(view, QPoint(x - 150, 100))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x - 150, 100))
    assert view.split < 0.45
    viewer.mode_buttons[BLEND].click()
    assert viewer.blend.isVisible()
    viewer.blend.setValue(100)
    centre = view.to_picture(QPointF(view.rect().center()))
    assert view.grab().toImage().pixelColor(view.rect().center()) == view.b.pixelColor(int(centre.x()), int(centre.y()))
    zoom = view.zoom
    wheel = QWheelEvent(QPointF(200, 200), QPointF(view.mapToGlobal(QPoint(200, 200))), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, wheel)
    assert view.zoom > zoom and not view.fitted
    QTest.keyClick(view, Qt.Key.Key_0)
    assert view.fitted
    viewer.background_button.click()
    assert doc.background is not None and doc.background.image_png == doc.renders[0].image_png
    assert canvas.scene().background_item.isVisible()
    QTest.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()


def test_cancel_and_a_failed_render_say_so_where_the_artist_looks(qtbot, small_studio):
    window, doc = small_studio, small_studio.document
    ui = window.generation
    doc.layout.set_size(128, 128)
    ui.panel.steps.setValue(30)
    last, seen = render(qtbot, window, click_cancel_at_step=1)
    assert isinstance(last, ev.Cancelled) and last.steps_done <= seen["at"] + 1 < 30
    assert seen["status"] == "Cancelling at the end of this step…" and seen["visible"]
    assert "Cancelled after" in ui.panel.status.text() and visible_on_screen(ui.panel.status)
    assert ui.panel.generate_button.text() == "Generate" and visible_on_screen(ui.panel.generate_button)

    prompts = window.prompts_dock.widget()
    doc.layout.set_prompts(base="a red cat on green grass")  # the dog's text is gone
    ui.panel.steps.setValue(1)
    last, _ = render(qtbot, window)
    assert isinstance(last, ev.Error) and last.kind == ev.PROMPT
    assert visible_on_screen(ui.panel.messages) and "dog" in ui.panel.messages.text()
    prompts.base.setFocus()
    prompts.base.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(prompts.base, " with a blue dog")
    assert not ui.panel.messages.isVisible() and ui.panel.status.text() == "Ready"


def test_the_first_render_leaves_the_canvas_its_room(qtbot, small_studio):
    """Qt grows a dock whose content needs more room and never shrinks it back: the History must
    not need more height once it holds renders, or every session's canvas gets smaller."""
    window = small_studio
    dock = window.generation.history_dock
    qtbot.wait(50)
    before = (dock.height(), window.canvas.viewport().size())
    last, _ = render(qtbot, window)
    assert isinstance(last, ev.Finished)
    history = window.generation.history
    first = history.strip.item(0)
    QTest.mouseClick(history.strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     history.strip.visualItemRect(first).center())
    qtbot.wait(50)
    assert history.info.text() and history.strip.isVisible()
    assert (dock.height(), window.canvas.viewport().size()) == before


def test_a_new_or_reopened_project_shows_its_own_render_state(qtbot, small_studio, tmp_path):
    window, doc = small_studio, small_studio.document
    panel, preview = window.generation.panel, window.generation.preview
    seen = []
    window.generation.runner.job_started.connect(lambda *_: seen.append(panel.status.text()))
    last, _ = render(qtbot, window)
    assert isinstance(last, ev.Finished) and seen == ["Starting…"]  # not "Ready" while it starts
    assert panel.status.text().startswith("Rendered in") and panel.timing.isVisible()
    path = tmp_path / "kept.astproj"
    assert window.files.write(path)
    window.files.new()
    assert panel.status.text() == "Ready" and not panel.timing.isVisible() and not panel.progress.isVisible()
    assert preview.view.image is None
    assert window.files.open_path(path)
    assert len(doc.renders) == 1 and preview.view.image is not None  # the newest render, as it was left
    assert preview.caption.text().startswith("Render") and panel.status.text() == "Ready"
