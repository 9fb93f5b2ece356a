"""The render history: entries made from finished jobs, export with metadata, delete/restore with undo."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, QStandardPaths, Qt
from shapely.geometry import box

from ast_core.document import Instance, Layout
from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import preset_schedule
from ast_studio.document import Document
from ast_studio.generation import events as ev
from ast_studio.generation import history
from ast_studio.generation.history_panel import HistoryPanel
from ast_studio.generation.model_settings import ModelSettings
from ast_core.project import RenderSettings


def layout(base="a red cat on a mat") -> Layout:
    return Layout(width=64, height=96, base_prompt=base, background_prompt="a mat",
                  instances=[Instance(name="cat", prompt="a red cat", color="#e6194b", geometry=box(4, 4, 40, 90))])


def finished(seed=7, steps=3, schedule=None, lay=None) -> ev.Finished:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (96, 64, 3), dtype=np.uint8)
    lay = lay or layout()
    job = ev.GenerationJob(
        layout=lay, schedule=schedule,
        settings={"width": 64, "height": 96, "steps": steps, "guidance": 3.5, "seed": seed, "method": "ast"},
        model=ModelSettings(model="tiny-flux"),
        parameters={"render_settings": RenderSettings(steps=steps, seed=seed, seed_mode="increment").to_dict()},
    )
    metadata = {"seed": np.int64(seed), "timesteps": np.array([1000.0, 500.0]), "sigma": float("nan"),
                "layout": {"dropped": True}, "method_used": "ast"}
    return ev.Finished([image], metadata, ["a warning"], job, 1.25)


@pytest.fixture
def doc():
    d = Document()
    d.layout.replace_all(layout())
    yield d
    d.undo_stack.clear()


@pytest.fixture
def panel(qtbot, doc):
    p = HistoryPanel(doc)
    qtbot.addWidget(p)
    p.show()
    return p


def add(doc, *events):
    doc.set_renders(list(doc.renders) + [history.render_from_finished(e) for e in events])


def test_a_finished_job_becomes_a_history_entry():
    event = finished()
    render = history.render_from_finished(event)
    decoded = np.asarray(Image.open(io.BytesIO(render.image_png)))
    assert np.array_equal(decoded, event.images[0])  # lossless PNG of the decoded image
    p = render.parameters
    assert p["settings"]["seed"] == 7 and p["render_settings"]["seed_mode"] == "increment"
    assert p["metadata"]["seed"] == 7 and p["metadata"]["timesteps"] == [1000.0, 500.0]
    assert p["metadata"]["sigma"] == "nan" and "layout" not in p["metadata"]  # JSON-safe, no duplicate layout
    assert p["model"]["model"] == "tiny-flux" and p["warnings"] == ["a warning"] and p["seconds"] == 1.25
    assert render.layout["instances"][0]["name"] == "cat" and render.created


def test_restored_settings_fix_the_seed_the_render_used():
    s = history.render_settings_of(history.render_from_finished(finished(seed=42, steps=5)))
    assert (s.seed, s.steps, s.seed_mode, s.method) == (42, 5, "fixed", "ast")


def test_strip_follows_the_document_and_delete_is_undoable(panel, doc):
    add(doc, finished(1), finished(2), finished(3))
    assert panel.strip.count() == 3
    assert panel.strip.item(0).text() == "seed 3"  # newest first
    assert not panel.delete.isEnabled()
    panel.strip.setCurrentRow(1)
    assert panel.delete.isEnabled() and "seed 2" in panel.info.text()
    panel.delete.click()
    assert [r.parameters["settings"]["seed"] for r in doc.renders] == [1, 3]
    doc.undo_stack.undo()
    assert [r.parameters["settings"]["seed"] for r in doc.renders] == [1, 2, 3] and panel.strip.count() == 3


def test_delete_selects_the_next_render_and_keeps_the_focus_in_the_strip(qtbot, doc):
    """Deleting disables the Delete button; the focus must not move on to the next widget (a
    number box, where the next key typed would change a setting)."""
    from PySide6.QtWidgets import QSpinBox, QVBoxLayout, QWidget

    host = QWidget()
    box = QVBoxLayout(host)
    panel = HistoryPanel(doc)
    number = QSpinBox()
    box.addWidget(panel)
    box.addWidget(number)  # next in the focus chain after the buttons
    qtbot.addWidget(host)
    host.show()
    host.activateWindow()
    qtbot.waitActive(host)
    add(doc, finished(1), finished(2), finished(3))
    panel.strip.setCurrentRow(1)
    panel.delete.setFocus()
    qtbot.mouseClick(panel.delete, Qt.MouseButton.LeftButton)
    assert [r.parameters["settings"]["seed"] for r in doc.renders] == [1, 3]
    assert host.focusWidget() is panel.strip  # where the keyboard goes (offscreen: the window's focus)
    assert "seed 1" in panel.strip.currentItem().text() and panel.delete.isEnabled()
    for _ in range(2):
        qtbot.mouseClick(panel.delete, Qt.MouseButton.LeftButton)
    assert doc.renders == [] and host.focusWidget() is not number


def test_click_asks_to_view_the_render(qtbot, panel, doc):
    add(doc, finished(1))
    item = panel.strip.item(0)
    rect = panel.strip.visualItemRect(item)
    with qtbot.waitSignal(panel.view_requested) as blocker:
        qtbot.mouseClick(panel.strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0].id == doc.renders[0].id


def test_restore_parameters_and_layout_is_one_undo_step(panel, doc):
    sched = preset_schedule(AST_PAPER_FLUX)
    sched.set_weight("t2t", 1.0)
    old_layout = layout()
    add(doc, finished(9, steps=6, schedule=sched, lay=old_layout))
    doc.layout.set_prompts(base="a red cat and a dog on a mat")
    doc.layout.set_size(128, 128)
    before_layout = doc.layout.copy()
    doc.settings.set_generation(RenderSettings(steps=20, seed=1))
    panel.strip.setCurrentRow(0)
    panel.restore_all_action.trigger()
    s = doc.settings.generation
    assert (s.steps, s.seed) == (6, 9) and doc.schedule.weight("t2t") == 1.0
    assert doc.layout.same_as(old_layout)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.layout.same_as(before_layout) and doc.schedule is None
    assert doc.settings.generation.steps == 20


def test_restoring_what_is_already_there_pushes_nothing(panel, doc):
    add(doc, finished(9))
    doc.settings.set_generation(history.render_settings_of(doc.renders[0]))
    panel.strip.setCurrentRow(0)
    messages = []
    panel.message.connect(messages.append)
    assert panel.restore_selected()
    assert doc.undo_stack.count() == 0 and "already match" in messages[-1]


def test_a_broken_layout_snapshot_is_reported_and_nothing_changes(panel, doc):
    add(doc, finished(9))
    doc.renders[0].layout["instances"][0]["geometry"] = "POLYGON ((0 0, 1 1"
    panel.refresh()
    panel.strip.setCurrentRow(0)
    messages = []
    panel.message.connect(messages.append)
    assert not panel.restore_selected(with_layout=True)
    assert "layout snapshot" in messages[-1] and doc.undo_stack.count() == 0


def test_export_png_with_metadata(panel, doc, tmp_path):
    add(doc, finished(4))
    panel.strip.setCurrentRow(0)
    out = panel.export_selected(tmp_path / "cat render")
    assert out.endswith("cat render.png")
    text = history.png_text(open(out, "rb").read())
    assert set(history.PNG_KEYS) <= set(text)
    metadata = json.loads(text["ast-studio:metadata"])  # the CLI's format: `ast-studio render` writes the same
    assert metadata["layout"]["base_prompt"] == "a red cat on a mat" and metadata["settings"]["seed"] == 4
    assert metadata["layout"] == doc.renders[0].layout and "ast-studio:layout" not in text  # one JSON chunk
    prompt, line = text["parameters"].split("\n")
    assert prompt == "a red cat on a mat" and line.startswith("Steps: 3, Sampler: Euler") and "Seed: 4" in line
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), np.asarray(Image.open(io.BytesIO(doc.renders[0].image_png))))
    messages = []
    panel.message.connect(messages.append)
    assert panel.export_selected(tmp_path / "no such folder" / "x.png") is None
    assert "Could not export" in messages[-1]


def test_view_render_shows_it_in_the_preview(qtbot, doc, tmp_path):
    from ast_studio.generation.generation_ui import GenerationUi

    QStandardPaths.setTestModeEnabled(True)
    ui = GenerationUi(doc, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ui.preview)
    add(doc, finished(5))
    ui.view_render(doc.renders[0])
    assert ui.preview.view.image.size().toTuple() == (64, 96)
    assert "seed 5" in ui.preview.caption.text()
    assert ui.preview.view.layout_snapshot.instances[0].name == "cat"
    ui.close()


@pytest.mark.parametrize("key,value", [("model", "tiny-flux"), ("model", ["x"]), ("settings", ["seed", 3]),
                                       ("settings", {"seed": {"deep": 1}, "method": ["ast"]}), ("render_settings", 5),
                                       ("schedule", "fast"), ("metadata", None)])
def test_parameters_of_any_type_are_shown_and_restore_says_what_it_cannot_read(panel, doc, key, value):
    """A project file may hold anything JSON there (issue 17: a string model broke the panel)."""
    add(doc, finished(3))
    doc.renders[0].parameters[key] = value
    panel.refresh()
    panel.strip.setCurrentRow(0)
    assert "steps" in panel.info.text() and panel.strip.count() == 1
    assert history.summary(doc.renders[0]) and history.short_summary(doc.renders[0])
    messages = []
    panel.message.connect(messages.append)
    restored = panel.restore_selected()
    if key == "schedule":
        assert not restored and "schedule cannot be read" in messages[-1] and doc.undo_stack.count() == 0
    else:
        assert restored


def test_an_image_that_does_not_decode_shows_grey_and_export_says_why(qtbot, panel, doc, tmp_path):
    add(doc, finished(3))
    doc.renders[0].image_png = doc.renders[0].image_png[:60] + bytes(200)
    panel.refresh()
    panel.decode_thumbnails()
    assert not panel.strip.item(0).icon().isNull()
    panel.strip.setCurrentRow(0)
    messages = []
    panel.message.connect(messages.append)
    assert panel.export_selected(tmp_path / "x.png") is None
    assert "cannot be decoded" in messages[-1] and sorted(p.name for p in tmp_path.iterdir()) == []


def test_thumbnails_are_decoded_after_the_strip_shows_and_only_once(qtbot, panel, doc, monkeypatch):
    import ast_studio.generation.history_panel as history_panel

    decoded = []
    real = history_panel.thumbnail
    monkeypatch.setattr(history_panel, "thumbnail", lambda png, *a: decoded.append(png) or real(png, *a))
    add(doc, finished(1), finished(2))
    assert panel.strip.count() == 2 and decoded == []  # shown at once, pixels later
    qtbot.waitUntil(lambda: len(decoded) == 2)
    assert decoded[0] is doc.renders[1].image_png  # the newest (leftmost) first
    add(doc, finished(3))
    qtbot.waitUntil(lambda: len(decoded) == 3)
    qtbot.wait(20)
    assert len(decoded) == 3  # the two already decoded are kept


def test_viewing_a_render_that_does_not_decode_says_so(qtbot, doc, tmp_path):
    from ast_studio.generation.generation_ui import GenerationUi

    QStandardPaths.setTestModeEnabled(True)
    ui = GenerationUi(doc, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(ui.preview)
    add(doc, finished(5))
    doc.renders[0].image_png = b"\x89PNG\r\n\x1a\n" + bytes(40)
    ui.view_render(doc.renders[0])
    assert ui.preview.view.image is None and "cannot be decoded" in ui.preview.caption.text()
    ui.close()
