"""Generation settings in the project, the Generate panel's controls, and its AST controls (the schedule's
simple view)."""
from __future__ import annotations

import logging
import random

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import KeyframeCurve, preset_schedule
from ast_studio.document import Document
from ast_core.project import ProjectSettings
from ast_core.project.settings import RenderSettings


@pytest.fixture
def qsettings(tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    return QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def panel(qtbot, qsettings):
    from ast_studio.generation.generation_panel import GenerationPanel

    doc = Document()
    p = GenerationPanel(doc)
    qtbot.addWidget(p)
    p._test_document = doc  # keep the document alive as long as the panel
    yield p
    doc.undo_stack.clear()  # while the document is alive (its destructor would announce it too late)


def test_settings_round_trip_in_the_project_dict():
    s = RenderSettings(steps=12, guidance=2.5, seed=99, seed_mode="increment", method="none")
    settings = ProjectSettings.from_dict({"other": 1})
    settings.set_generation(s)
    stored = settings.to_dict()
    assert stored["other"] == 1 and stored["generation"]["seed_mode"] == "increment"
    assert ProjectSettings.from_dict(stored).generation == s and ProjectSettings.from_dict(stored) == settings
    assert ProjectSettings.from_dict({}).generation == RenderSettings()


def test_bad_stored_settings_fall_back_with_a_log_line(caplog):
    with caplog.at_level(logging.WARNING):
        read = ProjectSettings.from_dict({"generation": {"steps": 0, "guidance": "lots", "seed": -4,
                                                         "seed_mode": "dice", "method": "magic"}})
    assert read.generation == RenderSettings() and len(read.warnings) == 5
    for word in ("generation.steps", "generation.guidance", "generation.seed", "dice", "magic"):
        assert any(word in w for w in read.warnings)
    doc = Document()
    with caplog.at_level(logging.WARNING):  # the studio logs what it fell back on when it opens a project
        from ast_core.project import Project

        doc.load(Project(doc.layout.copy(), settings={"generation": {"seed": -4}}), None)
    assert "generation.seed" in caplog.text
    with caplog.at_level(logging.WARNING):
        assert ProjectSettings.from_dict({"generation": [1, 2]}).generation == RenderSettings()


def test_seed_modes():
    rng = random.Random(5)
    fixed = RenderSettings(seed=7)
    assert fixed.seed_for_run(rng) == 7 and fixed.after_run(7) == fixed
    inc = RenderSettings(seed=7, seed_mode="increment")
    assert inc.seed_for_run(rng) == 7 and inc.after_run(7).seed == 8
    rnd = RenderSettings(seed=7, seed_mode="random")
    seeds = {rnd.seed_for_run(rng) for _ in range(5)}
    assert len(seeds) == 5 and rnd.after_run(123) == rnd


def test_panel_edits_are_undoable_and_merge(panel):
    doc = panel._test_document
    panel.steps.setValue(10)
    panel.steps.setValue(11)
    panel.steps.setValue(12)
    assert doc.settings.generation.steps == 12
    assert doc.undo_stack.count() == 1  # the spin-box arrows make one undo step
    panel.seed_mode.setCurrentIndex(panel.seed_mode.findData("random"))
    assert not panel.seed.isEnabled()
    panel.method.setCurrentIndex(panel.method.findData("none"))
    assert not panel.ast_controls.isEnabled()  # no AST: its weights do not apply
    assert doc.is_modified
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert panel.method.currentData() == "ast" and panel.seed_mode.currentData() == "fixed"
    doc.undo_stack.undo()
    # unset steps = the model's own default, shown as such
    assert panel.steps.value() == 0 and panel.steps.text() == "Model default (4)"  # tiny-flux: none configured
    assert doc.settings.generation.steps is None
    panel.steps.setValue(0)
    assert doc.settings.generation.steps is None


def test_panel_follows_a_loaded_project(panel):
    from ast_core.document import Layout
    from ast_core.project import Project

    doc = panel._test_document
    sched = preset_schedule(AST_PAPER_FLUX)
    sched.set_weight("i2t", 7.25)
    doc.load(Project(Layout(width=512, height=320),
                     settings={"generation": RenderSettings(steps=9, seed=41, method="none").to_dict()},
                     schedule=sched.to_dict()), None)
    assert (panel.steps.value(), panel.seed.value(), panel.method.currentData()) == (9, 41, "none")
    assert panel.simple_schedule.weights["i2t"].box.value() == 7.25
    assert panel.size_label.text().startswith("512 × 320")


def test_ast_controls_edit_the_project_schedule_with_undo(panel):
    doc = panel._test_document
    assert doc.schedule is None  # the default preset until something is changed
    panel.simple_schedule.weights["i2t"].box.setValue(6.0)
    panel.simple_schedule.weights["t2t"].box.setValue(2.0)
    panel.simple_schedule.decay.setValue(1.5)
    panel.simple_schedule.steps.setValue(3)  # of tiny-flux's 4: the box reaches the steps that run
    s = doc.schedule
    assert (s.weight("i2t"), s.weight("t2t"), s.weight("i2i")) == (6.0, 2.0, 3.5)
    assert all(s.curve(k).decay == 1.5 and s.curve(k).modulated_steps == 3 for k in ("i2t", "t2t", "i2i"))
    assert doc.undo_stack.count() == 4
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    s = doc.schedule
    assert s.curve("i2t").decay == 3.0 and panel.simple_schedule.decay.value() == 3.0
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert doc.schedule is None and panel.simple_schedule.weights["i2t"].box.value() == 5.0


def test_ast_controls_leave_custom_keyframe_curves_alone(panel):
    doc = panel._test_document
    sched = preset_schedule(AST_PAPER_FLUX)
    custom = KeyframeCurve(((0.0, 1.0), (1.0, 0.0)))
    for kind in ("i2t", "t2t", "i2i"):
        sched.set_curve(kind, custom)
    doc.set_schedule(sched)
    assert not panel.simple_schedule.decay.isEnabled() and not panel.simple_schedule.steps.isEnabled()
    assert "Schedule page" in panel.simple_schedule.note.text()
    assert panel.simple_schedule.weights["i2i"].box.isEnabled()
    panel.simple_schedule.weights["i2i"].box.setValue(1.0)
    s = doc.schedule
    assert s.weight("i2i") == 1.0 and s.curve("i2t") == custom


def test_schedule_page_and_ast_controls_share_one_schedule(qtbot, panel):
    from ast_studio.schedule.binding import ScheduleBinding

    doc = panel._test_document
    binding = ScheduleBinding(doc)
    panel.simple_schedule.weights["t2t"].box.setValue(4.5)
    assert binding.schedule.weight("t2t") == 4.5
    binding.edit("Set weight", lambda s: s.set_weight("i2i", 0.5))
    assert panel.simple_schedule.weights["i2i"].box.value() == 0.5


def test_numbers_typed_into_the_panels_are_kept_as_typed(qtbot, panel):
    """Typing used to be overwritten mid-way (4.25 became 4.00): a value counts when Enter or Tab
    confirms it, and then it is exactly what was typed."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ast_studio.schedule import SchedulePanel

    doc = panel._test_document
    panel.show()
    qtbot.waitExposed(panel)

    def type_into(box, text: str) -> None:
        box.setFocus()
        box.lineEdit().selectAll()
        QTest.keyClicks(box.lineEdit(), text)
        QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)

    for box, text in ((panel.simple_schedule.weights["t2t"].box, "4.25"), (panel.simple_schedule.weights["i2t"].box, "6.75"), (panel.simple_schedule.weights["i2i"].box, "0.05"), (panel.simple_schedule.decay, "2.5"),
                      (panel.simple_schedule.steps, "3"), (panel.guidance, "4.5"), (panel.seed, "123456"),
                      (panel.steps, "12")):
        type_into(box, text)
        assert box.value() == float(text), (box, box.text())
    s = doc.schedule
    assert (s.weight("t2t"), s.weight("i2t"), s.weight("i2i")) == (4.25, 6.75, 0.05)
    assert s.curve("i2t").decay == 2.5 and s.curve("i2t").modulated_steps == 3
    r = doc.settings.generation
    assert (r.guidance, r.seed, r.steps) == (4.5, 123456, 12)
    type_into(panel.simple_schedule.weights["t2t"].box, "3.125")  # two decimals: the third digit cannot be typed
    assert panel.simple_schedule.weights["t2t"].box.value() == 3.12 and doc.schedule.weight("t2t") == 3.12

    schedule_panel = SchedulePanel(doc)
    qtbot.addWidget(schedule_panel)
    schedule_panel.show()
    qtbot.waitExposed(schedule_panel)
    type_into(schedule_panel.weight_spins["i2t"], "4.25")
    assert doc.schedule.weight("i2t") == 4.25 and panel.simple_schedule.weights["i2t"].box.value() == 4.25
