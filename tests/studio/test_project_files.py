"""Files from the menus: save/close/reopen, bad files, unsaved-changes question, import/export, recent."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ast_core.project import load_project, read_thumbnail
from ast_studio import settings

from editing_support import drag, line, open_window


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, tmp_path)


def draw_two(window):
    view, doc = window.canvas, window.document
    view.set_brush_diameter(40)
    drag(view, line(100, 100, 700, 300, n=30))
    doc.select(None)
    view.set_tool("polygon")
    from editing_support import click, double_click

    for x, y in ((200, 600), (800, 600), (800, 900)):
        click(view, x, y)
    double_click(view, 200, 900)
    doc.layout.set_prompts("a red stroke and a green block", "a white wall")


def test_save_close_reopen_gives_the_same_document(window, qtbot, tmp_path, monkeypatch):
    draw_two(window)
    doc = window.document
    expected = doc.layout.copy()
    target = tmp_path / "scene"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), PROJECT_FILTER))
    window.actions_by_name["save"].trigger()  # untitled: Save asks where (Save As)
    saved = tmp_path / "scene.astproj"
    assert saved.is_file() and doc.path == saved.resolve()
    assert not doc.is_modified and window.windowTitle() == "scene.astproj — AST Studio"
    thumb = read_thumbnail(saved)
    assert thumb is not None and max(thumb.size) == 256
    assert settings.recent_files()[0] == saved.resolve()
    assert window.close()

    again = open_window(qtbot, tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), PROJECT_FILTER))
    again.actions_by_name["open"].trigger()
    assert again.document.layout.same_as(expected)
    assert again.document.path == saved.resolve() and not again.document.is_modified
    assert len(again.canvas.scene().items_by_id) == 2
    # Open Recent lists it
    again.recent_menu.aboutToShow.emit()
    assert str(saved.resolve()) in [a.text() for a in again.recent_menu.actions()]


PROJECT_FILTER = "AST projects (*.astproj)"


def test_bad_file_from_the_menu_shows_its_error_and_keeps_the_document(window, tmp_path, monkeypatch):
    draw_two(window)
    doc = window.document
    before, steps = doc.layout.copy(), doc.undo_stack.count()
    bad = tmp_path / "broken.astproj"
    bad.write_bytes(b"this is not a zip file")
    shown = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), PROJECT_FILTER))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text)))
    window.actions_by_name["open"].trigger()
    assert len(shown) == 1 and shown[0][0] == "Cannot open project"
    assert "broken.astproj" in shown[0][1]
    assert doc.layout.same_as(before) and doc.undo_stack.count() == steps and doc.is_modified
    assert doc.path is None


def test_a_failed_save_names_the_file(window, tmp_path, monkeypatch):
    import errno
    import os

    import ast_core.project.writer as writer

    draw_two(window)
    target = tmp_path / "full.astproj"
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), PROJECT_FILTER))

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", full_disk)
    window.actions_by_name["save"].trigger()
    assert shown == [("Cannot save project", f"{target}: No space left on device")]
    assert window.document.is_modified and window.document.path is None
    assert not [p for p in os.listdir(tmp_path) if p.startswith((".full", "full"))]


def test_closing_with_unsaved_changes_asks(window, tmp_path, monkeypatch):
    draw_two(window)
    answers = []

    def ask(answer):
        def fake(*a, **k):
            answers.append(a[2] if len(a) > 2 else "")
            return answer
        return fake

    monkeypatch.setattr(QMessageBox, "warning", ask(QMessageBox.StandardButton.Cancel))
    assert not window.close() and window.isVisible()
    assert "Untitled" in answers[0]
    target = tmp_path / "kept.astproj"
    monkeypatch.setattr(QMessageBox, "warning", ask(QMessageBox.StandardButton.Save))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), PROJECT_FILTER))
    assert window.close()
    assert load_project(target).layout.same_as(window.document.layout)


def test_new_asks_then_starts_an_empty_document(window, monkeypatch):
    draw_two(window)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.actions_by_name["new"].trigger()
    doc = window.document
    assert doc.layout.instances == [] and doc.undo_stack.count() == 0 and not doc.is_modified
    assert window.canvas.scene().items_by_id == {}


def test_import_seed_sketch_then_export_sketch_and_masks(window, seed_examples, tmp_path, monkeypatch):
    infos = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a: infos.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(seed_examples / "beach.png"), "Colour sketches (*.png)"))
    window.actions_by_name["import_seed"].trigger()
    doc = window.document
    assert len(doc.layout.instances) == 6 and doc.is_modified and doc.path is None
    assert window.windowTitle() == "beach* — AST Studio"
    assert doc.settings.generation.seed == 945554353
    assert len(window.canvas.scene().items_by_id) == 6

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out / "sketch.png"), ""))
    window.actions_by_name["export_sketch"].trigger()
    assert (out / "sketch.png").is_file() and (out / "sketch.json").is_file()
    masks = tmp_path / "masks"
    masks.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(masks))
    window.actions_by_name["export_masks"].trigger()
    assert (masks / "masks.json").is_file() and len(list(masks.glob("*.png"))) == 7
    # masks that would not fit in memory are refused in a message, nothing written
    import importlib

    mask_files_module = importlib.import_module("ast_core.exporters.mask_files")

    monkeypatch.setattr(mask_files_module, "MAX_MASK_BYTES", 1 << 20)
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: warned.append(text))
    too_big = tmp_path / "too-big"
    too_big.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(too_big))
    window.actions_by_name["export_masks"].trigger()
    assert len(warned) == 1 and "need about" in warned[0] and "Nothing was written" in warned[0]
    assert list(too_big.iterdir()) == []

    from ast_core.importers import import_seed

    back_import = import_seed(out / "sketch.png", out / "sketch.json")
    assert back_import.settings.get("seed") == 945554353
    back = back_import.layout
    assert sorted(i.prompt for i in back.instances) == sorted(i.prompt for i in doc.layout.instances)


def test_import_boxes_asks_which_layout(window, seed_examples, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(seed_examples / "regional_boxes.json"), "JSON (*.json)"))
    asked = []

    def pick(parent, title, label, items, *a, **k):
        asked.append(items)
        return items[1], True

    monkeypatch.setattr(QInputDialog, "getItem", pick)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    window.actions_by_name["import_boxes"].trigger()
    assert len(asked[0]) == 4
    assert len(window.document.layout.instances) >= 1 and window.document.is_modified
