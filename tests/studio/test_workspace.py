"""The artist's workspace: the result and a background picture on the canvas, per-instance strength,
the new-instance flow, fitting small screens, panels by keyboard, the generated shortcut list and
tooltips everywhere. Every test drives the real widgets of the whole window."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QDockWidget, QLineEdit,
    QListWidget, QPlainTextEdit, QTabBar, QWidget,
)

from ast_core.project import load_project
from ast_studio import window_layout
from ast_studio.canvas.scene import FILL_ALPHA, SHEER_FILL_ALPHA

from editing_support import drag, line
from workspace_support import EXAMPLE, full_studio_window, picture_file

pytestmark = pytest.mark.skipif(not EXAMPLE.is_file(), reason="example project not built")


@pytest.fixture
def window(qtbot, tmp_path):
    w = full_studio_window(qtbot, tmp_path)
    yield w
    w.generation.shutdown()


def red_image(w=512, h=512) -> QImage:
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    return image


# ----------------------------------------------------------------------------- the result on the canvas

def test_r_toggles_between_the_layout_and_the_result(qtbot, window):
    canvas, scene = window.canvas, window.canvas.scene()
    act = window.actions_by_name["show_result"]
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_R)  # nothing rendered yet: it says so and stays on the layout
    assert not canvas.result_shown and not act.isChecked()
    assert "No render to show yet" in window.statusBar().currentMessage()
    window.generation.preview.show_image(red_image(), window.document.layout, "Render")  # what History shows
    QTest.keyClick(canvas, Qt.Key.Key_R)
    assert canvas.result_shown and act.isChecked() and scene.result_item.isVisible()
    assert scene.result_item.zValue() > max(i.zValue() for i in scene.items_by_id.values())  # over the layout
    bar = window.canvas_view_bar
    bar.under_action.trigger()  # under the layout: the instances become see-through
    assert scene.result_item.zValue() < min(i.zValue() for i in scene.items_by_id.values())
    assert all(item.brush().color().alpha() == SHEER_FILL_ALPHA for item in scene.items_by_id.values())
    bar.result_opacity.setValue(40)
    assert scene.result_item.opacity() == pytest.approx(0.4)
    pixel = canvas.grab().toImage().pixelColor(canvas.mapFromScene(5, 505))  # a corner no instance covers
    assert pixel.red() > pixel.green() + 40  # the red render shows through the checkerboard
    QTest.keyClick(canvas, Qt.Key.Key_R)
    assert not scene.result_item.isVisible() and not act.isChecked()
    assert all(item.brush().color().alpha() == FILL_ALPHA for item in scene.items_by_id.values())
    window.generation.preview.clear()  # a new project: nothing to show any more
    assert canvas.scene().result_item.image is None


# ----------------------------------------------------------------------------- the background picture

def test_a_picture_becomes_the_background_and_stays_with_the_project(qtbot, window, tmp_path):
    from ast_studio.picture_actions import import_background_picture

    doc = window.document
    jpeg = picture_file(tmp_path / "photo.jpg", (300, 150), fmt="JPEG")
    steps = doc.undo_stack.count()
    assert import_background_picture(window, jpeg)
    assert doc.background is not None and doc.background.name == "photo.jpg" and doc.undo_stack.count() == steps + 1
    item = window.canvas.scene().background_item
    assert item.isVisible() and item.opacity() == pytest.approx(0.5)
    rect = item.picture_rect()  # 2:1 picture on the 512x512 canvas: fitted, centred, aspect kept
    assert (rect.width(), rect.height(), rect.top()) == pytest.approx((512, 256, 128))
    slider = window.canvas_view_bar.background_opacity
    assert slider.isEnabled()
    slider.setFocus()
    slider.sliderPressed.emit()  # one drag of the slider ...
    for v in (45, 35, 25):
        slider.setValue(v)
    slider.sliderReleased.emit()
    assert doc.background.opacity == pytest.approx(0.25) and item.opacity() == pytest.approx(0.25)
    assert doc.undo_stack.count() == steps + 2  # ... is one undo step
    path = tmp_path / "traced.astproj"
    assert window.files.write(path)
    reopened = load_project(path)
    assert reopened.background == doc.background
    doc.undo_stack.undo()
    assert doc.background.opacity == pytest.approx(0.5)
    window.actions_by_name["background_show"].trigger()
    assert not doc.background.visible and not item.isVisible()
    window.actions_by_name["background_remove"].trigger()
    assert doc.background is None and not item.isVisible()
    doc.undo_stack.undo()
    assert doc.background is not None


def test_a_file_that_is_no_picture_is_refused_in_one_line(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from ast_studio.picture_actions import import_background_picture

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert not import_background_picture(window, bad)
    assert window.document.background is None
    assert len(shown) == 1 and "notes.png is not a picture" in shown[0] and "\n" not in shown[0]


# ----------------------------------------------------------------------------- per-instance strength

def test_one_strength_slider_drag_is_one_undo_step(qtbot, window, tmp_path):
    doc = window.document
    inst = doc.layout.instances[2]
    doc.select(inst.id)
    editor = window.instance_editor_dock.widget()
    slider = editor.strength.slider
    assert slider.isVisible() and editor.strength.box.value() == 1.0
    steps = doc.undo_stack.count()
    handle = QPoint(round(slider.width() * 0.5), slider.height() // 2)  # 1.00 sits in the middle
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, handle)
    for x in (0.45, 0.35, 0.25):
        QTest.mouseMove(slider, QPoint(round(slider.width() * x), slider.height() // 2))
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(round(slider.width() * 0.25), slider.height() // 2))
    assert 0.3 < inst.strength < 0.7
    assert doc.undo_stack.count() == steps + 1
    editor.strength.box.setFocus()
    editor.strength.box.setValue(0.0)  # typed: its control off
    assert doc.layout.instance(inst.id).strength == 0.0
    path = tmp_path / "strength.astproj"
    assert window.files.write(path)
    assert load_project(path).layout.instance(inst.id).strength == 0.0
    while doc.undo_stack.index() > steps:
        doc.undo_stack.undo()
    assert doc.layout.instance(inst.id).strength == 1.0 and editor.strength.box.value() == 1.0


# ----------------------------------------------------------------------------- the new-instance flow

def test_esc_in_a_text_field_goes_back_to_the_canvas_with_nothing_selected(qtbot, window):
    doc = window.document
    editor, prompts = window.instance_editor_dock.widget(), window.prompts_dock.widget()
    for field in (editor.name, editor.prompt, prompts.base, window.generation.panel.guidance):
        doc.select(doc.layout.instances[0].id)
        field.setFocus()
        QApplication.processEvents()
        assert field.hasFocus()
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
        assert window.canvas.hasFocus(), field
        assert doc.selected_id is None
    # drawing now makes a new instance
    before = len(doc.layout.instances)
    window.canvas.set_tool("brush")
    drag(window.canvas, line(20, 480, 120, 500, n=10))
    assert len(doc.layout.instances) == before + 1


def test_the_new_instance_action_adds_one_to_draw(qtbot, window):
    doc, canvas = window.document, window.canvas
    canvas.set_tool("select")
    before = len(doc.layout.instances)
    window.actions_by_name["new_instance"].trigger()
    assert len(doc.layout.instances) == before + 1
    inst = doc.selected()
    assert inst is doc.layout.instances[-1] and inst.is_empty and canvas.tool.name == "brush"
    assert window.actions_by_name["new_instance"].shortcut() == QKeySequence("Ctrl+Shift+N")
    assert window.actions_by_name["new_instance"] in window.tool_bar.actions()
    drag(canvas, line(20, 470, 140, 500, n=10))  # the stroke goes into the new instance
    assert len(doc.layout.instances) == before + 1 and not inst.is_empty
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.layout.instances) == before


def test_the_eraser_says_which_instance_it_erases(qtbot, window):
    doc, canvas = window.document, window.canvas
    cloud = next(i for i in doc.layout.instances if i.name == "Blue cloud")
    doc.select(cloud.id)
    canvas.set_tool("eraser")
    label = canvas.cursor_item.label
    assert label.text == "erase: Blue cloud" and canvas.cursor_item.ring.name() == cloud.color
    assert "Blue cloud" in window.hint_label.text()
    doc.select(None)
    assert label.text == "erase: all instances"
    doc.select(cloud.id)
    window.actions_by_name["erase_all"].trigger()
    assert label.text == "erase: all instances"
    window.actions_by_name["erase_all"].trigger()
    canvas.set_tool("brush")
    assert not label.isVisible()


# ----------------------------------------------------------------------------- fitting the screen

@pytest.mark.parametrize("size", [(1366, 768), (1280, 800), (1920, 1080)])
def test_the_window_fits_the_screen_and_the_canvas_fits_the_window(qtbot, tmp_path, size):
    window = full_studio_window(qtbot, tmp_path, size)
    try:
        assert window.minimumSizeHint().width() <= 1000
        assert (window.width(), window.height()) == size
        view = window.canvas
        page = view.mapFromScene(view.scene().canvas_rect()).boundingRect()
        assert view.viewport().rect().contains(page)  # the whole page, on open
        assert view.width() * view.height() >= 0.2 * size[0] * size[1]
        for dock in window_layout.docks(window).values():
            assert dock.isVisible() and not dock.isFloating()
            assert window.rect().contains(dock.geometry()), dock.objectName()
        # the Schedule page shows its curve, bands and heatmap side by side
        window_layout.go_to_panel(window, "schedule_panel")
        panel = window.schedule_panel
        assert panel.isVisible() and panel.columns.direction() == panel.columns.Direction.LeftToRight
    finally:
        window.generation.shutdown()


def test_a_window_about_1000_pixels_wide_keeps_its_tabs_and_lists_whole(qtbot, tmp_path):
    window = full_studio_window(qtbot, tmp_path, (1000, 700))
    try:
        qtbot.wait(100)
        tabs = window.workspace.tabBar()
        assert tabs.width() >= tabs.sizeHint().width()  # "Canvas" and "Schedule", not "Canv" and arrows
        assert window.canvas_view_bar.isVisible()
        listing = window.instances_dock.widget().list
        assert not listing.horizontalScrollBar().isVisible()  # the lock column stays in view
        assert listing.viewport().width() >= listing.sizeHintForColumn(0)
    finally:
        window.generation.shutdown()


def test_reset_layout_brings_every_panel_back(qtbot, window):
    found = window_layout.docks(window)
    found["history_dock"].close()
    found["preview_dock"].setFloating(True)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, found["instances_dock"])
    window.actions_by_name["reset_layout"].trigger()
    for name, dock in found.items():
        assert dock.isVisible() and not dock.isFloating(), name
    assert window.dockWidgetArea(found["instances_dock"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.dockWidgetArea(found["history_dock"]) == Qt.DockWidgetArea.BottomDockWidgetArea


def test_the_arrangement_is_remembered_with_its_version(qtbot, tmp_path):
    from ast_studio import settings

    window = full_studio_window(qtbot, tmp_path)
    window_layout.docks(window)["history_dock"].close()
    window.close()
    geometry, state = settings.window_state()
    assert state is not None
    again = full_studio_window(qtbot, tmp_path)
    try:
        assert not window_layout.docks(again)["history_dock"].isVisible()  # restored as left
    finally:
        again.generation.shutdown()
    third = full_studio_window(qtbot, tmp_path)
    try:
        # a state saved with another layout version (other panels) is not restored: the default stays
        assert not third.restore_arrangement(None, third.saveState(window_layout.LAYOUT_VERSION - 1))
        assert third.restore_arrangement(None, third.saveState(window_layout.LAYOUT_VERSION))
    finally:
        third.generation.shutdown()


def test_the_preview_can_be_enlarged_and_put_back(qtbot, window):
    dock = window_layout.docks(window)["preview_dock"]
    window.generation.preview.enlarge.click()
    assert dock.isFloating() and dock.width() > 500 and dock.height() > 500
    window.generation.preview.enlarge.click()
    assert not dock.isFloating()


# ----------------------------------------------------------------------------- keyboard and help

def test_every_panel_is_reached_by_keyboard(qtbot, window):
    for label, keys, target in window_layout.PANEL_KEYS:
        action = next(a for a in window.actions() if a.shortcut() == QKeySequence(keys))
        action.trigger()
        QApplication.processEvents()
        focus = QApplication.focusWidget()
        widget = window_layout.panel_widget(window, target)
        assert focus is not None and (focus is widget or widget.isAncestorOf(focus)), label
        assert window_layout.current_panel(window) == target
    window_layout.go_to_panel(window, "canvas")
    seen = [window_layout.cycle_panels(window, 1) for _ in range(len(window_layout.PANEL_KEYS))]
    assert set(seen) == {k for _l, _s, k in window_layout.PANEL_KEYS}  # F6 visits every panel
    for name in ("brush", "polygon", "eraser", "select"):  # and every tool has its key
        assert not window.actions_by_name[f"tool_{name}"].shortcut().isEmpty()


def test_the_shortcuts_list_is_read_from_the_actions(qtbot, window):
    from ast_studio.shortcuts_help import shortcut_rows

    window.actions_by_name["shortcuts"].trigger()
    dialog = window.shortcuts_dialog
    text = dialog.text.toPlainText()
    in_menus = []
    for menu in window.menus.values():
        stack = [menu]
        while stack:
            m = stack.pop()
            for a in m.actions():
                if a.menu() is not None:
                    stack.append(a.menu())
                elif not a.shortcut().isEmpty():
                    in_menus.append(a)
    assert len(in_menus) > 30
    for action in in_menus:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert keys in text and action.text().replace("&", "").rstrip("…").strip() in text, action.text()
    assert "Backspace" in text and "remove the last vertex" in text  # a tool's own keys
    dialog.close()
    action = window.actions_by_name["reset_layout"]  # a key added later shows at once: never stale
    action.setShortcut(QKeySequence("Ctrl+Alt+R"))
    assert any(row[1] == QKeySequence("Ctrl+Alt+R").toString(QKeySequence.SequenceFormat.NativeText)
               and row[2] == "Reset layout" for row in shortcut_rows(window))


INTERACTIVE = (QAbstractButton, QAbstractSpinBox, QComboBox, QAbstractSlider, QLineEdit, QPlainTextEdit, QListWidget)


def test_every_control_of_the_window_says_what_it_does(qtbot, window):
    """Each interactive control has a tooltip (the internal parts of Qt's composite widgets and
    the dock title buttons are Qt's own)."""
    doc = window.document
    doc.select(doc.layout.instances[0].id)  # the instance editor's fields shown
    window.generation.preview.show_image(red_image(), doc.layout, "Render")
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE):
            continue
        if widget.objectName().startswith("qt_") or isinstance(widget.parent(), (QAbstractSpinBox, QComboBox)):
            continue
        if type(widget).__name__ == "QScrollBar" or widget.parent() is None:
            continue
        if isinstance(widget.parent(), (QDockWidget, QTabBar)):  # docks' float/close, tab scroll buttons
            continue
        if not widget.toolTip().strip():
            missing.append(f"{type(widget).__name__} {widget.objectName() or ''} "
                           f"{getattr(widget, 'text', lambda: '')() if isinstance(widget, QAbstractButton) else ''}"
                           f" in {type(widget.parent()).__name__}")
    assert not missing, "\n".join(missing)


# ----------------------------------------------------------------------------- the simple view of the schedule

def test_simple_and_expert_views_show_the_same_schedule(qtbot, window):
    from ast_studio.schedule.simple_view import SIMPLE_WEIGHTS

    doc = window.document
    simple = window.generation.panel.simple_schedule
    expert = window.schedule_panel
    names = [name for _k, name, _t in SIMPLE_WEIGHTS]
    assert len(set(names)) == 3 and set(k for k, _n, _t in SIMPLE_WEIGHTS) == {"i2i", "t2t", "i2t"}
    slider = simple.weights["i2t"].slider
    slider.setFocus()
    steps = doc.undo_stack.count()
    slider.sliderPressed.emit()
    for v in (120, 140, 160):
        slider.setValue(v)
    slider.sliderReleased.emit()
    assert doc.undo_stack.count() == steps + 1  # one drag, one step
    assert doc.schedule.weight("i2t") == pytest.approx(8.0)
    assert expert.weight_spins["i2t"].value() == pytest.approx(8.0)  # the expert view shows the same value
    expert.weight_spins["t2t"].setValue(1.25)
    assert simple.weights["t2t"].value() == pytest.approx(1.25)
    simple.expert.click()  # "Expert view…" opens the Schedule page
    assert window.workspace.currentWidget() is expert
    simple.use_defaults()
    assert doc.schedule.weight("i2t") == 5.0 and simple.weights["i2t"].value() == 5.0
