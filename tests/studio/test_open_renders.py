"""Render PNGs reopen as projects: File ▸ Open, drag and drop onto the window, and the round trip
studio render -> exported PNG -> project -> ``ast-studio render`` -> the same image and metadata."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from ast_core.project import RenderSettings, layout_to_dict
from ast_core.project.layout_json import layout_from_dict
from ast_core.provenance import png_bytes, read_metadata
from ast_studio.generation import history
from ast_studio.generation.generation_ui import GenerationUi
from ast_studio.generation.model_settings import ModelSettings, save_model_settings
from ast_studio.generation.worker import GenerationRunner

from editing_support import open_window
from test_generation import TIMEOUT, two_animals

PNG_FILTER = "Renders with AST Studio metadata (*.png)"


LAYOUT = two_animals()


def a_render_png(path, seed: int = 11) -> bytes:
    """A PNG as the studio and the command line write it (metadata made by hand: no engine needed)."""
    md = {"format": 2, "created": "2026-01-01T00:00:00+00:00", "model": {"family": "tiny-flux", "source": "tiny-flux"},
          "settings": {"width": 64, "height": 64, "steps": 3, "guidance": 3.5, "seed": seed, "method": "none",
                       "num_images": 1, "method_parameters": {}},
          "seed": seed, "method": "none", "method_used": "none", "schedule": None,
          "layout": layout_to_dict(LAYOUT)}
    data = png_bytes(Image.new("RGB", (64, 64), (200, 40, 40)), md)
    path.write_bytes(data)
    return data


def test_file_open_takes_a_render_png_as_a_new_untitled_project(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path)
    png = tmp_path / "red cat.png"
    data = a_render_png(png, seed=42)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(png), PNG_FILTER))
    window.actions_by_name["open"].trigger()
    doc = window.document
    assert doc.path is None and doc.display_name() == "red cat" and doc.is_modified
    assert doc.layout.same_as(LAYOUT)
    g = doc.settings.generation
    assert (g.seed, g.steps, g.method, g.seed_mode) == (42, 3, "none", "fixed")
    assert len(doc.renders) == 1 and doc.renders[0].image_png == data  # the PNG itself, in the history
    assert history.seed_of(doc.renders[0]) == 42 and "tiny-flux" in history.summary(doc.renders[0])


def test_a_png_that_is_not_a_render_is_refused_and_the_document_kept(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path)
    doc = window.document
    doc.layout.set_prompts("a lone house", "")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (16, 16)).save(photo)
    shown = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(photo), PNG_FILTER))
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append((title, text)))
    window.actions_by_name["open"].trigger()
    assert len(shown) == 1 and "photo.png: holds no AST Studio metadata" in shown[0][1]
    assert doc.layout.base_prompt == "a lone house" and doc.renders == []


def drop(window, paths) -> tuple[bool, bool]:
    """Drag ``paths`` onto the window and drop them: (entering accepted?, drop accepted?)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    actions, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(50, 50), actions, mime, button, mods)
    QApplication.sendEvent(window, enter)
    dropped = QDropEvent(QPointF(50, 50), actions, mime, button, mods)
    QApplication.sendEvent(window, dropped)
    return enter.isAccepted(), dropped.isAccepted()


def test_dropping_a_render_png_or_a_project_on_the_window_opens_it(qtbot, tmp_path, monkeypatch):
    from ast_core.project import Project, save_project

    window = open_window(qtbot, tmp_path)
    doc = window.document
    assert window.acceptDrops() and not window.canvas.acceptDrops() and not window.canvas.viewport().acceptDrops()
    assert drop(window, [tmp_path / "notes.txt"]) == (False, False)

    png = tmp_path / "dropped.png"
    a_render_png(png, seed=7)
    assert drop(window, [png]) == (True, True)
    qtbot.waitUntil(lambda: doc.display_name() == "dropped")
    assert doc.settings.generation.seed == 7 and len(doc.renders) == 1

    project = tmp_path / "beach.astproj"
    layout = two_animals()
    layout.set_prompts("a red cat and a blue dog on a beach", "a beach")
    save_project(Project(layout), project)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert drop(window, [tmp_path / "notes.txt", project]) == (True, True)  # the first file Open takes
    qtbot.waitUntil(lambda: doc.path == project.resolve())
    assert doc.layout.background_prompt == "a beach" and doc.renders == []


@pytest.fixture
def runner(qapp):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    r = GenerationRunner()
    yield r
    r.shutdown()
    torch.set_num_threads(threads)


def test_a_studio_render_reopens_and_renders_the_same_on_the_command_line(qtbot, runner, tmp_path, monkeypatch):
    from ast_core.cli import main
    from ast_studio.document import Document

    QStandardPaths.setTestModeEnabled(True)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "user-settings"))
    save_model_settings(ModelSettings(model="tiny-flux"))
    doc = Document()
    doc.layout.replace_all(two_animals())
    doc.settings.set_generation(RenderSettings(steps=2, seed=11))
    ui = GenerationUi(doc, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), runner=runner)
    qtbot.addWidget(ui.panel)
    try:
        with qtbot.waitSignal(runner.busy_changed, timeout=TIMEOUT, check_params_cb=lambda busy: not busy):
            ui.generate()
        exported = history.export_png(doc.renders[0], tmp_path / "studio.png")
    finally:
        ui.close()
        doc.undo_stack.clear()

    window = open_window(qtbot, tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(exported), PNG_FILTER))
    window.actions_by_name["open"].trigger()
    assert layout_from_dict(doc.renders[0].layout).same_as(window.document.layout)
    assert window.document.renders[0].image_png == exported.read_bytes()
    project = tmp_path / "reopened.astproj"
    assert window.files.write(project)

    again = tmp_path / "again.png"
    assert main(["render", str(project), "-o", str(again), "--model", "tiny-flux", "--quiet"]) == 0
    with Image.open(again) as a, Image.open(exported) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    first, second = read_metadata(exported), read_metadata(again)
    first.pop("created"), second.pop("created")
    assert first == second
