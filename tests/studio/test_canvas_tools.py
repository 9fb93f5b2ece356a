"""Real mouse gestures on the canvas edit the model through one undo step each."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ast_core.document import PALETTE, Instance
from shapely.geometry import box

from editing_support import click, double_click, drag, line, open_window, to_view


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, tmp_path)


def test_brush_drag_creates_an_instance_in_one_undo_step(window):
    view, doc = window.canvas, window.document
    view.set_tool("brush")
    view.set_brush_diameter(32)
    drag(view, line(200, 300, 800, 300, n=30))
    layout = doc.layout
    assert len(layout.instances) == 1
    inst = layout.instances[0]
    assert inst.color == PALETTE[0] and doc.selected_id == inst.id
    minx, miny, maxx, maxy = inst.geometry.bounds
    assert minx == pytest.approx(184, abs=3) and maxx == pytest.approx(816, abs=3)
    assert miny == pytest.approx(284, abs=3) and maxy == pytest.approx(316, abs=3)
    assert inst.area == pytest.approx(600 * 32 + 3.1416 * 16 ** 2, rel=0.03)
    assert doc.undo_stack.count() == 1 and doc.is_modified
    assert window.windowTitle().startswith("Untitled*")
    # a second stroke on the selected instance adds to it, again one step
    drag(view, line(500, 100, 500, 600, n=25))
    assert len(layout.instances) == 1 and doc.undo_stack.count() == 2
    assert layout.instances[0].geometry.bounds[1] == pytest.approx(84, abs=3)
    doc.undo_stack.undo()
    assert layout.instances[0].geometry.bounds[1] == pytest.approx(284, abs=3)
    doc.undo_stack.undo()
    assert layout.instances == [] and not doc.is_modified
    assert window.windowTitle().startswith("Untitled —")
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert len(layout.instances) == 1 and layout.instances[0].geometry.bounds[1] == pytest.approx(84, abs=3)
    # the scene follows the model
    item = view.scene().items_by_id[layout.instances[0].id]
    assert item.path().boundingRect().top() == pytest.approx(84, abs=3)


def test_escape_deselects_so_the_next_stroke_is_a_new_instance(window):
    view, doc = window.canvas, window.document
    drag(view, line(100, 100, 300, 100))
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert doc.selected_id is None
    drag(view, line(100, 600, 300, 600))
    colours = [i.color for i in doc.layout.instances]
    assert colours == list(PALETTE[:2])


def test_polygon_clicks_and_double_click_close_one_polygon(window):
    view, doc = window.canvas, window.document
    QTest.keyClick(view, Qt.Key.Key_P)
    assert view.tool.name == "polygon"
    for x, y in ((100, 100), (600, 100), (600, 500)):
        click(view, x, y)
    assert doc.layout.instances == []  # nothing committed while clicking
    double_click(view, 100, 500)
    assert len(doc.layout.instances) == 1 and doc.undo_stack.count() == 1
    g = doc.layout.instances[0].geometry
    assert g.area == pytest.approx(500 * 400, rel=0.02)
    assert g.bounds == pytest.approx((100, 100, 600, 500), abs=2)


def test_polygon_enter_closes_escape_cancels_and_two_clicks_are_refused(window):
    view, doc = window.canvas, window.document
    view.set_tool("polygon")
    for x, y in ((50, 50), (300, 50), (50, 300)):
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert doc.layout.instances[0].area == pytest.approx(250 * 250 / 2, rel=0.03)
    QTest.keyClick(view, Qt.Key.Key_Escape)  # deselect
    for x, y in ((500, 500), (900, 500), (900, 900)):
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Escape)  # cancel the polygon in progress
    assert len(doc.layout.instances) == 1
    assert not [i for i in view.scene().items() if i.zValue() >= 1_000_000 and i is not view.cursor_item]
    click(view, 500, 500)
    double_click(view, 600, 600)
    assert len(doc.layout.instances) == 1 and doc.undo_stack.count() == 1


def test_eraser_subtracts_from_selected_or_all_in_one_step(window):
    view, doc = window.canvas, window.document
    layout = doc.layout
    a = Instance("Sky", "a sky", "#4363d8", box(0, 0, 1024, 400))
    b = Instance("Sea", "a sea", "#42d4f4", box(0, 300, 1024, 1024))
    layout.add_instance(a)
    layout.add_instance(b)
    doc.select(b.id)
    view.set_tool("eraser")
    view.set_brush_diameter(40)
    stroke = line(512, 100, 512, 900, n=40)
    drag(view, stroke)
    assert a.area == pytest.approx(1024 * 400)  # only the selected one
    assert b.area < 1024 * 724 - 40 * 600 * 0.9
    assert doc.undo_stack.count() == 1
    window.actions_by_name["erase_all"].setChecked(True)
    drag(view, line(100, 350, 900, 350, n=40))
    assert doc.undo_stack.count() == 2  # touching two instances is still one step
    assert a.area < 1024 * 400 - 800 * 40 * 0.45
    before_b = b.area
    doc.undo_stack.undo()
    assert a.area == pytest.approx(1024 * 400) and b.area > before_b


def test_select_click_drag_moves_top_most_and_delete_removes(window, qtbot):
    view, doc = window.canvas, window.document
    layout = doc.layout
    low = layout.add_instance(Instance("Low", "", "#e6194b", box(100, 100, 500, 500)))
    top = layout.add_instance(Instance("Top", "", "#3cb44b", box(300, 300, 600, 600)))
    QTest.keyClick(view, Qt.Key.Key_V)
    click(view, 400, 400)  # inside both: the top-most wins
    assert doc.selected_id == top.id
    click(view, 150, 150)
    assert doc.selected_id == low.id
    drag(view, line(150, 150, 250, 190, n=10))
    assert low.geometry.bounds == pytest.approx((200, 140, 600, 540), abs=1.5)
    assert doc.undo_stack.count() == 1
    click(view, 900, 900)  # empty canvas deselects
    assert doc.selected_id is None
    click(view, 590, 590)
    assert doc.selected_id == top.id
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert [i.name for i in layout.instances] == ["Low"]
    doc.undo_stack.undo()
    assert [i.name for i in layout.instances] == ["Low", "Top"]


def test_locked_instance_refuses_strokes_with_a_message(window, qtbot):
    view, doc = window.canvas, window.document
    inst = doc.layout.add_instance(Instance("Rock", "", "#9a6324", box(0, 0, 200, 200), locked=True))
    doc.select(inst.id)
    view.set_tool("brush")
    with qtbot.waitSignal(view.message) as got:
        drag(view, line(100, 100, 400, 100))
    assert "locked" in got.args[0]
    assert inst.area == pytest.approx(200 * 200) and doc.undo_stack.count() == 0


def test_brush_size_keys_zoom_keys_and_status_bar(window):
    view = window.canvas
    view.set_brush_diameter(24)
    QTest.keyClick(view, Qt.Key.Key_BracketRight)
    assert view.brush_radius * 2 == 32 and window.brush_size_box.value() == 32
    QTest.keyClick(view, Qt.Key.Key_BracketLeft)
    QTest.keyClick(view, Qt.Key.Key_BracketLeft)
    assert view.brush_radius * 2 == 16
    z = view.zoom()
    QTest.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom() == pytest.approx(z * 1.25)
    QTest.keyClick(view, Qt.Key.Key_Minus)
    assert view.zoom() == pytest.approx(z)
    QTest.mouseMove(view.viewport(), to_view(view, 10, 10))  # a move to the same place is dropped by Qt
    QTest.mouseMove(view.viewport(), to_view(view, 321, 123))
    assert window.coords_label.text() in ("x 321  y 123", "x 320  y 123", "x 321  y 122", "x 320  y 122")
    assert "Brush" in window.hint_label.text()


def test_space_drag_pans_without_drawing(window):
    view, doc = window.canvas, window.document
    view.set_zoom(2.0)
    before = view.mapToScene(view.viewport().rect().center())
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view, line(400, 400, 300, 300, n=5))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(view.viewport().rect().center())
    assert doc.layout.instances == []
    assert after.x() == pytest.approx(before.x() + 100, abs=3) and after.y() == pytest.approx(before.y() + 100, abs=3)


def test_canvas_size_preset_is_undoable(window):
    doc = window.document
    preset = [a for a in window.canvas_size_menu.actions() if a.text().startswith("Landscape")][0]
    preset.trigger()
    assert (doc.layout.width, doc.layout.height) == (1344, 768)
    assert window.size_label.text() == "1344 × 768"
    doc.undo_stack.undo()
    assert (doc.layout.width, doc.layout.height) == (1024, 1024)


def test_wheel_zooms_at_the_cursor(window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = window.canvas
    z = view.zoom()
    at = to_view(view, 700, 300)
    under_before = view.mapToScene(at)
    event = QWheelEvent(QPointF(at), QPointF(view.viewport().mapToGlobal(at)), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() == pytest.approx(z * 1.15 ** 2)
    under_after = view.mapToScene(at)
    assert abs(under_after.x() - under_before.x()) < 3 and abs(under_after.y() - under_before.y()) < 3


def type_into(box, text: str) -> None:
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), text)
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Tab)


def test_custom_canvas_size_takes_what_was_typed_or_says_why_not(window, monkeypatch, qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from ast_studio import canvas_size
    from ast_studio.window_actions import custom_canvas_size

    assert canvas_size.round_to_step(1000) == 1008 and canvas_size.round_to_step(10) == 64
    dialog = canvas_size.CanvasSizeDialog(1024, 1024)
    qtbot.addWidget(dialog)
    dialog.show()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    for typed in ("4112", "8192"):  # used to become 416 and 816 without a word
        type_into(dialog.width_box, typed)
        assert dialog.width_box.value() == int(typed) and dialog.width_box.text() == f"{typed} px"
        assert f"Width {typed} px is larger than 4096 px" in dialog.problem.text() and not ok.isEnabled()
    type_into(dialog.width_box, "32")
    assert "smaller than 64 px" in dialog.problem.text() and not ok.isEnabled()
    type_into(dialog.width_box, "900")
    type_into(dialog.height_box, "1000")
    assert ok.isEnabled() and dialog.width_box.value() == 900
    assert "Width 900 px becomes 896 px" in dialog.problem.text() and "Height 1000 px becomes 1008 px" in dialog.problem.text()
    assert dialog.size() == (896, 1008)

    def accept(d):
        type_into(d.width_box, "900")
        type_into(d.height_box, "1000")
        return True

    monkeypatch.setattr(canvas_size.CanvasSizeDialog, "exec", accept)
    custom_canvas_size(window)
    layout = window.document.layout
    assert (layout.width, layout.height) == (896, 1008)
    assert window.document.undo_stack.count() == 1


def test_resizing_the_canvas_offers_to_scale_the_instances(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    doc = window.document
    drag(window.canvas, line(256, 512, 768, 512, n=20))  # a stroke across the middle of 1024 x 1024
    before = doc.layout.instances[0].geometry
    answers, asked = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes,
                      QMessageBox.StandardButton.No], []

    def answer(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", answer)
    portrait = next(a for a in window.canvas_size_menu.actions() if a.text().startswith("Portrait"))
    portrait.trigger()  # Cancel: nothing changes
    assert (doc.layout.width, doc.layout.height) == (1024, 1024) and doc.undo_stack.count() == 1
    assert "1024 × 1024 to 768 × 1344" in asked[0] and "1 instance" in asked[0]
    portrait.trigger()  # Yes: the stroke keeps its place in the picture
    g = doc.layout.instances[0].geometry
    assert (doc.layout.width, doc.layout.height) == (768, 1344) and doc.undo_stack.count() == 2
    assert g.centroid.x == pytest.approx(before.centroid.x * 0.75, abs=1)
    assert g.centroid.y == pytest.approx(before.centroid.y * 1344 / 1024, abs=1)
    assert g.bounds[0] == pytest.approx(before.bounds[0] * 0.75, abs=1)
    doc.undo_stack.undo()  # one undo step brings size and shapes back
    assert (doc.layout.width, doc.layout.height) == (1024, 1024)
    assert doc.layout.instances[0].geometry.equals(before)
    portrait.trigger()  # No: pixel positions kept
    assert (doc.layout.width, doc.layout.height) == (768, 1344)
    assert doc.layout.instances[0].geometry.equals(before)
    assert not answers


def test_a_flat_polygon_and_a_shape_off_the_canvas_say_what_is_wrong(window):
    view, doc = window.canvas, window.document
    bar = window.statusBar()
    view.set_tool("polygon")
    for x, y in ((100, 100), (300, 300), (500, 500)):  # all on one line
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert doc.layout.instances == [] and "encloses no area" in bar.currentMessage()
    assert "outside the canvas" not in bar.currentMessage()
    for x, y in ((-300, -300), (-100, -300), (-200, -100)):  # off the canvas, up and to the left
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert doc.layout.instances == [] and "the polygon lies outside the canvas" in bar.currentMessage()
    view.set_tool("brush")
    drag(view, line(100, 100, 300, 100))
    view.set_tool("polygon")
    for x, y in ((100, 100), (200, 200), (300, 300)):  # flat again, now onto the selected instance
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Return)
    assert doc.undo_stack.count() == 1 and "encloses no area" in bar.currentMessage()


def test_the_status_bar_hint_names_the_instance_as_it_is_now(window):
    view, doc = window.canvas, window.document
    hint = window.hint_label
    drag(view, line(100, 100, 300, 100))  # a new instance, selected
    inst = doc.layout.instances[0]
    assert f"paint onto {inst.name}." in hint.text()
    window.instances_dock.widget().rename_requested.emit(inst.id)
    name = window.instance_editor_dock.widget().name
    QTest.keyClicks(name, "Fox")  # the whole name was selected: typing replaces it
    assert inst.name == "Fox" and "paint onto Fox." in hint.text()
    view.set_tool("polygon")
    assert "click the vertices of a shape to add to Fox;" in hint.text()
    doc.select(None)
    assert "click the vertices of a shape for a new instance;" in hint.text()


def test_clicking_the_first_vertex_closes_the_polygon_and_backspace_removes_one(window):
    view, doc = window.canvas, window.document
    view.set_tool("polygon")
    for x, y in ((100, 100), (500, 100), (520, 520), (500, 400)):
        click(view, x, y)
    QTest.keyClick(view, Qt.Key.Key_Backspace)  # drop (500, 400)
    assert len(view.tool.points) == 3
    click(view, 102, 101)
    assert len(doc.layout.instances) == 1
    assert doc.layout.instances[0].geometry.bounds == pytest.approx((100, 100, 520, 520), abs=2)


def test_holes_and_multipolygons_are_drawn_right():
    from PySide6.QtCore import QPointF
    from shapely.geometry import MultiPolygon, Polygon

    from ast_studio.canvas.shapes import path_from_geometry

    ring = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(30, 30), (70, 30), (70, 70), (30, 70)]])
    island = Polygon([(200, 0), (250, 0), (250, 50), (200, 50)])
    path = path_from_geometry(MultiPolygon([ring, island]))
    assert path.contains(QPointF(10, 10)) and path.contains(QPointF(225, 25))
    assert not path.contains(QPointF(50, 50))  # the hole stays empty
    assert not path.contains(QPointF(150, 25))


def test_instance_names_on_the_canvas_follow_the_model_and_toggle(window):
    doc = window.document
    inst = doc.layout.add_instance(Instance("Sun", "a sun", "#ffe119", box(100, 100, 300, 300)))
    label = window.canvas.scene().items_by_id[inst.id].label
    assert label.isVisible() and label.text == "Sun"
    assert (label.pos().x(), label.pos().y()) == pytest.approx((200, 200), abs=101)
    doc.layout.update_instance(inst.id, name="Sunset")
    assert label.text == "Sunset"
    QTest.keyClick(window.canvas, Qt.Key.Key_N)
    assert not label.isVisible()
    window.actions_by_name["show_names"].setChecked(True)
    assert label.isVisible()


def test_arrow_keys_nudge_the_selected_instance_in_one_undo_step(window):
    view, doc = window.canvas, window.document
    inst = doc.layout.add_instance(Instance("Box", "", "#4363d8", box(100, 100, 200, 200)))
    doc.select(inst.id)
    view.set_tool("select")
    QTest.keyClick(view, Qt.Key.Key_Right)
    QTest.keyClick(view, Qt.Key.Key_Right)
    QTest.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert inst.geometry.bounds == pytest.approx((102, 110, 202, 210))
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert inst.geometry.bounds == pytest.approx((100, 100, 200, 200))


def test_a_whole_new_layout_of_another_size_is_fitted_in_view(window):
    """Restoring a render's layout (or undoing an import) can change the canvas size through a
    whole-layout swap: the page is fitted again, as for a resize; the same size keeps the view."""
    from ast_core.document import Layout

    view = window.canvas
    layout = window.document.layout
    view.fit()
    small = view.zoom()
    bigger = Layout(layout.width * 2, layout.height * 2)
    layout.replace_all(bigger)
    assert view.zoom() == pytest.approx(small / 2, rel=0.05)
    QTest.keyClick(view, Qt.Key.Key_Plus)  # the user's zoom
    zoomed = view.zoom()
    layout.replace_all(Layout(layout.width, layout.height))  # the same size: the view stays
    assert view.zoom() == pytest.approx(zoomed)
