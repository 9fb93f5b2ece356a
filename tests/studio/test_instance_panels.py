"""Instance list, instance editor and prompts panel: every change is an undo step on the model."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtTest import QTest

from ast_core.document import Instance
from shapely.geometry import box

from ast_studio.panels.instance_editor import parse_words
from ast_studio.panels.instance_list import InstanceDelegate
from ast_studio.panels.prompts import instance_spans
from editing_support import open_window


@pytest.fixture
def window(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    layout = w.document.layout
    layout.set_prompts("A photo of a beach with a yellow umbrella and a red ball", "a beach")
    for name, prompt, colour, x in (("Umbrella", "a yellow umbrella", "#ffe119", 0), ("Ball", "a red ball", "#e6194b", 300),
                                    ("Dog", "a brown dog", "#9a6324", 600)):
        layout.add_instance(Instance(name, prompt, colour, box(x, 100, x + 200, 300)))
    w.document.undo_stack.clear()
    return w


def names(panel):
    return [panel.instance_at_row(r).name for r in range(panel.list.count())]


def test_list_shows_top_most_first_and_follows_selection(window):
    panel = window.instances_dock.widget()
    assert names(panel) == ["Dog", "Ball", "Umbrella"]
    doc = window.document
    panel.list.setCurrentRow(2)
    assert doc.selected_id == doc.layout.instances[0].id
    doc.select(doc.layout.instances[2].id)
    assert panel.list.currentRow() == 0
    assert panel.missing_ids == {doc.layout.instances[2].id}  # "a brown dog" is not in the base prompt


def test_drag_reorder_raise_lower_are_undoable(window):
    panel, doc = window.instances_dock.widget(), window.document
    panel.move_row(2, 0)  # what a drop of the bottom row onto the top does
    assert names(panel) == ["Umbrella", "Dog", "Ball"]
    assert [i.name for i in doc.layout.instances] == ["Ball", "Dog", "Umbrella"]
    assert doc.selected_id == doc.layout.instances[2].id
    panel.buttons["lower"].click()
    assert names(panel) == ["Dog", "Umbrella", "Ball"]
    # z-order on the canvas follows
    items = window.canvas.scene().items_by_id
    assert items[doc.layout.instances[2].id].zValue() > items[doc.layout.instances[1].id].zValue()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert names(panel) == ["Dog", "Ball", "Umbrella"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_list_drop_event_reorders(window, qtbot):
    panel = window.instances_dock.widget()
    lst = panel.list
    lst.setCurrentRow(2)
    rect = lst.visualItemRect(lst.item(0))
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

    mime = lst.model().mimeData([lst.model().index(2, 0)])
    pos = rect.topLeft() + QPoint(20, 3)
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # offscreen there is no drag manager to route synthetic drag events: call the handlers
    # the drag would reach (Qt's own dragMoveEvent sets the drop indicator our dropEvent reads)
    lst.dragEnterEvent(QDragEnterEvent(pos, *args))
    lst.dragMoveEvent(QDragMoveEvent(pos, *args))
    lst.dropEvent(QDropEvent(pos.toPointF(), *args))
    assert names(panel) == ["Umbrella", "Dog", "Ball"]
    assert lst.count() == 3 and window.document.undo_stack.count() == 1


def test_visibility_and_lock_toggles_in_the_row(window):
    panel, doc = window.instances_dock.widget(), window.document
    lst = panel.list
    rect = lst.visualItemRect(lst.item(0))
    icons_at = InstanceDelegate.icon_rects(rect)
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     icons_at["visible"].center())
    dog = doc.layout.instances[2]
    assert dog.visible is False
    assert not window.canvas.scene().items_by_id[dog.id].isVisible()
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     icons_at["locked"].center())
    assert dog.locked is True
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert dog.visible and not dog.locked


def test_add_duplicate_remove_buttons(window):
    panel, doc = window.instances_dock.widget(), window.document
    panel.buttons["add"].click()
    new = doc.layout.instances[-1]
    assert new.is_empty and doc.selected_id == new.id and new.color not in ("#ffe119", "#e6194b", "#9a6324")
    doc.select(doc.layout.instances[0].id)
    panel.buttons["duplicate"].click()
    copy = doc.layout.instances[1]
    assert copy.name == "Umbrella copy" and copy.geometry.equals(doc.layout.instances[0].geometry)
    assert copy.id != doc.layout.instances[0].id and copy.color != doc.layout.instances[0].color
    panel.buttons["remove"].click()
    assert [i.name for i in doc.layout.instances] == ["Umbrella", "Ball", "Dog", "Instance 4"]
    assert doc.undo_stack.count() == 3


def test_typing_in_the_prompt_is_one_undo_step_and_flag_clears(window, qtbot):
    doc = window.document
    editor = window.instance_editor_dock.widget()
    dog = doc.layout.instances[2]
    doc.select(dog.id)
    assert editor.missing_box.isVisibleTo(editor)
    editor.prompt.setFocus()
    editor.prompt.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(editor.prompt, " running")
    assert dog.prompt == "a brown dog running"
    assert doc.undo_stack.count() == 1  # 8 keystrokes, one step
    editor.append.click()
    assert doc.layout.base_prompt.endswith(", a brown dog running")
    assert not editor.missing_box.isVisibleTo(editor)
    assert dog.id not in window.instances_dock.widget().missing_ids
    doc.undo_stack.undo()
    assert dog.id in window.instances_dock.widget().missing_ids
    doc.undo_stack.undo()
    assert dog.prompt == "a brown dog" and editor.prompt.toPlainText() == "a brown dog"


def test_rename_and_attribute_words(window):
    doc = window.document
    editor = window.instance_editor_dock.widget()
    ball = doc.layout.instances[1]
    doc.select(ball.id)
    assert editor.words.placeholderText() == "automatic: red"
    editor.name.setFocus()
    editor.name.selectAll()
    QTest.keyClicks(editor.name, "Beach ball")
    assert ball.name == "Beach ball" and doc.undo_stack.count() == 1
    editor.words.setFocus()
    QTest.keyClicks(editor.words, "red, shiny")
    QTest.keyClick(editor.words, Qt.Key.Key_Return)
    assert ball.attribute_words == ["red", "shiny"]
    assert parse_words("  ") is None and parse_words("a b,c") == ["a", "b", "c"]


def test_base_prompt_highlights_instances_in_their_colours(window, qtbot):
    doc = window.document
    prompts = window.prompts_dock.widget()
    spans = instance_spans(doc.layout.base_prompt, doc.layout.instances)
    assert sorted(s[2] for s in spans) == ["#e6194b", "#ffe119"]
    block = prompts.base.document().firstBlock()
    formats = {r.format.background().color().name() for r in block.layout().formats()}
    assert {"#ffe119", "#e6194b"} <= formats
    # typing the missing instance's text highlights it and clears the flag
    prompts.base.setFocus()
    prompts.base.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(prompts.base, ", a brown dog")
    assert doc.layout.base_prompt.endswith("a brown dog") and doc.undo_stack.count() == 1
    formats = {r.format.background().color().name() for r in prompts.base.document().firstBlock().layout().formats()}
    from ast_studio.panels.prompts import readable

    assert readable(QColor("#9a6324")).name() in formats
    assert not prompts.missing.isVisibleTo(prompts)
    prompts.background.setFocus()
    prompts.background.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(prompts.background, " at noon")
    assert doc.layout.background_prompt == "a beach at noon" and doc.undo_stack.count() == 2


def test_append_missing_is_one_step(window):
    doc = window.document
    prompts = window.prompts_dock.widget()
    assert prompts.append_all.isVisibleTo(prompts)
    prompts.append_all.click()
    assert "a brown dog" in doc.layout.base_prompt and doc.undo_stack.count() == 1
    assert QColor(doc.layout.instances[2].color).isValid()


def test_undo_keys_in_a_text_field_undo_the_document_per_typing_session(window):
    doc = window.document
    prompts = window.prompts_dock.widget()
    start = doc.layout.base_prompt
    prompts.base.setFocus()
    prompts.base.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(prompts.base, " at dawn")
    window.canvas.setFocus()  # focus leaves: the next typing is a new undo step
    prompts.base.setFocus()
    prompts.base.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClicks(prompts.base, ", calm")
    assert doc.layout.base_prompt == start + " at dawn, calm" and doc.undo_stack.count() == 2
    QTest.keyClick(prompts.base, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.layout.base_prompt == start + " at dawn" and prompts.base.toPlainText() == doc.layout.base_prompt
    QTest.keyClick(prompts.base, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.layout.base_prompt == start
    QTest.keyClick(prompts.base, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert doc.layout.base_prompt == start + " at dawn" and doc.undo_stack.count() == 2


def test_row_context_menu_brings_to_front(window):
    panel, doc = window.instances_dock.widget(), window.document
    lst = panel.list
    panel._context_menu(lst.visualItemRect(lst.item(2)).center())  # the bottom row: Umbrella
    menu = panel.context_menu
    front = [a for a in menu.actions() if a.text() == "Bring to front"][0]
    assert front.isEnabled()
    front.trigger()
    menu.close()
    assert [i.name for i in doc.layout.instances] == ["Ball", "Dog", "Umbrella"]
    assert names(panel)[0] == "Umbrella" and doc.undo_stack.count() == 1


def test_menus_keep_help_last(window):
    window.menu("generate", "&Generate")
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and "&Generate" in titles


def test_double_click_on_a_row_renames(window, qtbot):
    panel, doc = window.instances_dock.widget(), window.document
    lst = panel.list
    pos = lst.visualItemRect(lst.item(1)).center() - QPoint(60, 0)
    with qtbot.waitSignal(panel.rename_requested, timeout=2000):
        QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        QTest.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    editor = window.instance_editor_dock.widget()
    assert doc.selected().name == "Ball"
    assert editor.name.selectedText() == "Ball"  # focused and selected, ready to type over
    QTest.keyClicks(editor.name, "Red ball")
    assert doc.layout.instances[1].name == "Red ball"


def test_the_background_prompt_is_treated_like_an_instances_text(window, qtbot):
    """Highlighted in the base prompt, flagged when missing, appended by "Append missing"."""
    from ast_studio.panels.prompts import BACKGROUND_COLOUR, readable

    doc = window.document
    prompts = window.prompts_dock.widget()

    def highlighted(colour: str) -> list[str]:
        block = prompts.base.document().firstBlock()
        text = block.text()
        return [text[r.start:r.start + r.length] for r in block.layout().formats()
                if r.format.background().color().name() == readable(QColor(colour)).name()]

    assert highlighted(BACKGROUND_COLOUR) == ["a beach"]  # "A photo of a beach with ..."
    assert prompts.missing.text() == "⚠ Not in the base prompt: Dog"
    # a background the base prompt lacks is flagged, as an instance is
    prompts.background.setFocus()
    prompts.background.selectAll()
    QTest.keyClicks(prompts.background, "a stormy sea")
    assert doc.layout.background_prompt == "a stormy sea"
    assert highlighted(BACKGROUND_COLOUR) == []
    assert prompts.missing.isVisibleTo(prompts) and prompts.missing.text() == "⚠ Not in the base prompt: Background, Dog"
    assert prompts.append_all.isVisibleTo(prompts)
    # one click appends the background and the missing instance, as one undo step
    steps = doc.undo_stack.count()
    qtbot.mouseClick(prompts.append_all, Qt.MouseButton.LeftButton)
    assert doc.layout.base_prompt == ("A photo of a beach with a yellow umbrella and a red ball, a stormy sea, "
                                      "a brown dog")
    assert doc.undo_stack.count() == steps + 1
    assert not prompts.missing.isVisibleTo(prompts) and not prompts.append_all.isVisibleTo(prompts)
    assert highlighted(BACKGROUND_COLOUR) == ["a stormy sea"]
    assert highlighted("#9a6324") == ["a brown dog"]
    doc.undo_stack.undo()
    assert "stormy" not in doc.layout.base_prompt and "Background" in prompts.missing.text()
    # with only the background missing, "Append missing" still shows and works
    doc.undo_stack.redo()
    prompts.background.setFocus()
    prompts.background.selectAll()
    QTest.keyClicks(prompts.background, "a quiet harbour")
    assert prompts.missing.text() == "⚠ Not in the base prompt: Background"
    assert prompts.append_all.isVisibleTo(prompts)
    prompts.append_all.click()
    assert doc.layout.base_prompt.endswith(", a brown dog, a quiet harbour") and not prompts.missing.isVisibleTo(prompts)
    # an empty background prompt needs nothing in the base prompt
    prompts.background.setFocus()
    prompts.background.selectAll()
    QTest.keyClick(prompts.background, Qt.Key.Key_Delete)
    assert doc.layout.background_prompt == "" and not doc.layout.background_missing_from_base_prompt()
