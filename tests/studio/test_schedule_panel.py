"""The schedule panel, driven with real mouse events; results checked through the engine's
schedule model (``ast_core.schedule``: what the next generation computes), not the widgets."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from ast_core.models.flux import AST_PAPER as AST_PAPER_FLUX
from ast_core.schedule import OFF, KeyframeCurve, PowerCurve, Schedule, preset_schedule
from ast_core.models.flux import FLUX_DEV
from ast_core.schedule.timesteps import image_seq_len, scheduler_timesteps
from ast_studio.document import Document
from ast_studio.schedule import SchedulePanel


@pytest.fixture
def panel(qtbot):
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    save_model_settings(ModelSettings(model="FLUX.1-dev"))  # drawn for FLUX.1-dev's 28 default steps
    document = Document()
    widget = SchedulePanel(document)
    widget.resize(380, 1100)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    document.undo_stack.clear()


def engine_schedule(document) -> Schedule:
    """The schedule the next generation reads from the project (preset when none stored)."""
    if document.schedule is None:
        return preset_schedule(AST_PAPER_FLUX)
    return document.schedule


def run_timesteps(document) -> np.ndarray:
    steps = 28  # the project's default generation steps
    return scheduler_timesteps(steps, image_seq_len(document.layout.width, document.layout.height),
                               FLUX_DEV.scheduler)


def drag(widget, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier):
    a, b = start.toPoint(), end.toPoint()
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifier, a)
    for i in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), round(a.y() + (b.y() - a.y()) * i / steps))
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, b)


# ---------------------------------------------------------------- curves
def test_dragging_a_keyframe_changes_the_engine_coefficient_for_that_step_and_layer(panel):
    doc = panel.document
    panel.set_kind("i2t")
    timesteps = run_timesteps(doc)
    before = engine_schedule(doc).coefficient_table("i2t", timesteps)
    curve = panel.curve
    # the preset's curve as keyframes: keyframe 4 is step 5 of 28
    index = 4
    x, y = curve.points()[index]
    assert math.isclose(x, 4 / 27)
    assert math.isclose(y, (timesteps[4] / 1000) ** 3, rel_tol=1e-9)
    start = curve.keyframe_position(index)
    target_strength = 0.25
    end = curve.to_pixel(x, target_strength)
    drag(curve, start, end)

    assert doc.undo_stack.count() == 1, "a drag is one undo step"
    after_schedule = engine_schedule(doc)
    assert isinstance(after_schedule.curve("i2t"), KeyframeCurve)
    after = after_schedule.coefficient_table("i2t", timesteps)
    layer = 10  # double block 11: I2T acts in the AST preset
    w = after_schedule.weight("i2t")
    # the pixel grid limits precision: one pixel of the plot in strength units
    tol = curve._top() / curve.plot_rect().height()
    assert after[4, layer] == pytest.approx(w * target_strength, abs=w * tol)
    assert after[4, layer] < before[4, layer] - 0.5
    assert after[4, 2] == 0.0, "layer 3 has no modulation in the preset"
    # the other steps are untouched (neighbouring keyframes pin the curve)
    np.testing.assert_allclose(np.delete(after, 4, axis=0), np.delete(before, 4, axis=0), atol=1e-9)
    # other kinds are untouched
    np.testing.assert_allclose(after_schedule.coefficient_table("i2i", timesteps),
                               preset_schedule(AST_PAPER_FLUX).coefficient_table("i2i", timesteps))

    doc.undo_stack.undo()
    assert doc.schedule is None
    np.testing.assert_allclose(engine_schedule(doc).coefficient_table("i2t", timesteps), before)
    assert panel.curve.points()[index] == pytest.approx((x, y))
    doc.undo_stack.redo()
    np.testing.assert_allclose(engine_schedule(doc).coefficient_table("i2t", timesteps), after)


def test_heatmap_follows_a_drag_live_and_hover_reads_a_cell(panel, qtbot):
    doc = panel.document
    panel.set_kind("i2i")
    curve = panel.curve
    start = curve.keyframe_position(2)
    x, _ = curve.points()[2]
    QTest.mousePress(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start.toPoint())
    QTest.mouseMove(curve, curve.to_pixel(x, 0.0).toPoint())
    # mid-drag: nothing on the undo stack yet, but the heatmap already shows the new value
    assert doc.undo_stack.count() == 0
    live = panel.heatmap.values()
    assert live[2, 10] == pytest.approx(0.0, abs=0.05)
    np.testing.assert_allclose(live, panel.binding.schedule.coefficient_table("i2i", panel.binding.timesteps()))
    QTest.mouseRelease(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       curve.to_pixel(x, 0.0).toPoint())
    assert doc.undo_stack.count() == 1

    qtbot.wait(20)  # let the panel's layout settle after the status text changed
    heat = panel.heatmap
    seen = []
    heat.hovered.connect(lambda *args: seen.append(args))
    QTest.mouseMove(heat, heat.cell_centre(0, 30).toPoint())
    assert seen, "hovering the map reports the cell"
    step, layer, value = seen[-1]
    assert (step, layer) == (0, 30)
    expected = engine_schedule(doc).coefficient_table("i2i", run_timesteps(doc))[0, 30]
    assert value == pytest.approx(expected)
    assert "step 1" in panel.readout.text() and "layer 31" in panel.readout.text()
    assert f"{expected:.3f}" in panel.readout.text()


def test_add_and_remove_keyframes_with_the_mouse_and_keyboard(panel):
    doc = panel.document
    panel.set_kind("t2t")
    curve = panel.curve
    n = len(curve.points())
    # double-click in the empty tail (step 24 of 28, strength ~0.8) adds a keyframe there
    pos = curve.to_pixel(23 / 27, 0.8)
    QTest.mouseDClick(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
    s = engine_schedule(doc)
    pts = s.curve("t2t").points
    assert len(pts) == n + 1
    added = [p for p in pts if math.isclose(p[0], 23 / 27)]
    assert added and added[0][1] == pytest.approx(0.8, abs=0.03)
    table = s.coefficient_table("t2t", run_timesteps(doc))
    assert table[23, 10] == pytest.approx(3.5 * added[0][1])
    assert table[23, 55] == 0.0, "T2T does not act on the last layers"
    # right-click removes it again
    i = curve.points().index(added[0])
    QTest.mouseClick(curve, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                     curve.keyframe_position(i).toPoint())
    assert len(engine_schedule(doc).curve("t2t").points) == n
    assert engine_schedule(doc).coefficient_table("t2t", run_timesteps(doc))[23, 10] == 0.0
    # select + Delete removes the selected one
    QTest.mouseClick(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     curve.keyframe_position(3).toPoint())
    assert curve.selected_index() == 3
    QTest.keyClick(curve, Qt.Key.Key_Delete)
    assert len(engine_schedule(doc).curve("t2t").points) == n - 1
    assert doc.undo_stack.count() == 3
    for _ in range(3):
        doc.undo_stack.undo()
    assert doc.schedule is None


def test_numeric_entry_sets_the_selected_keyframe_exactly(panel):
    doc = panel.document
    panel.set_kind("i2i")
    curve = panel.curve
    QTest.mouseClick(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     curve.keyframe_position(1).toPoint())
    assert panel.key_value.isEnabled()
    assert panel.key_step.value() == pytest.approx(2.0)
    panel.key_value.setValue(0.125)
    s = engine_schedule(doc)
    assert s.curve("i2i").points[1] == pytest.approx((1 / 27, 0.125))
    assert s.coefficient_table("i2i", run_timesteps(doc))[1, 10] == pytest.approx(3.5 * 0.125)
    assert curve.selected_index() == 1


def test_arrow_keys_nudge_the_selected_keyframe_as_one_undo_step(panel):
    doc = panel.document
    panel.set_kind("t2t")
    curve = panel.curve
    QTest.mouseClick(curve, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     curve.keyframe_position(2).toPoint())
    y0 = curve.points()[2][1]
    QTest.keyClick(curve, Qt.Key.Key_Up)
    QTest.keyClick(curve, Qt.Key.Key_Up)
    QTest.keyClick(curve, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    s = engine_schedule(doc)
    assert s.curve("t2t").points[2] == pytest.approx((2 / 27, y0 + 0.09))
    assert s.coefficient_table("t2t", run_timesteps(doc))[2, 10] == pytest.approx(3.5 * (y0 + 0.09))
    assert doc.undo_stack.count() == 1
    # a step to the right cannot pass the next keyframe (step 4 holds one): it stays put
    QTest.keyClick(curve, Qt.Key.Key_Right)
    assert engine_schedule(doc).curve("t2t").points[2][0] == pytest.approx(2 / 27)
    doc.undo_stack.undo()
    assert doc.schedule is None


def test_weights_scale_the_coefficients_and_spin_steps_merge(panel):
    doc = panel.document
    spin = panel.weight_spins["i2t"]
    spin.setValue(6.0)
    spin.setValue(7.0)
    assert doc.undo_stack.count() == 1, "consecutive weight edits are one undo step"
    s = engine_schedule(doc)
    ts = run_timesteps(doc)
    assert s.weight("i2t") == 7.0
    np.testing.assert_allclose(s.coefficient_table("i2t", ts),
                               preset_schedule(AST_PAPER_FLUX).coefficient_table("i2t", ts) * 7.0 / 5.0)
    doc.undo_stack.undo()
    assert doc.schedule is None and spin.value() == 5.0


def test_power_curve_parameters_and_preset_curve(panel):
    doc = panel.document
    panel.set_kind("i2t")
    panel.decay_spin.setValue(1.0)
    panel.modulated_spin.setValue(8)
    panel.power_button.click()
    s = engine_schedule(doc)
    assert s.curve("i2t") == PowerCurve(1.0, 8)
    ts = run_timesteps(doc)
    table = s.coefficient_table("i2t", ts)
    assert table[7, 10] == pytest.approx(5.0 * ts[7] / 1000) and table[8, 10] == 0.0
    panel.preset_curve_button.click()
    assert engine_schedule(doc).curve("i2t") == PowerCurve(3.0, 16)


# ---------------------------------------------------------------- bands
def test_dragging_a_band_edge_changes_which_layers_act(panel):
    doc = panel.document
    bands = panel.bands
    # band 1 starts at layer 5 (double block 6) in the AST preset
    assert engine_schedule(doc).bands[1].start == 5
    start = bands.edge_position(1)
    end = QPointF(bands.layer_x(9), start.y())
    drag(bands, start, end)
    s = engine_schedule(doc)
    assert s.bands[1].start == 9
    assert doc.undo_stack.count() == 1
    ts = run_timesteps(doc)
    for kind in ("i2i", "t2t", "i2t"):
        mask = s.layer_mask(kind)
        assert mask[5:9].sum() == 0, f"{kind} no longer acts on layers 6-9"
        assert mask[9] == 1.0
        table = s.coefficient_table(kind, ts)
        assert table[0, 6] == 0.0 and table[0, 9] > 0
    doc.undo_stack.undo()
    assert engine_schedule(doc).bands[1].start == 5
    assert engine_schedule(doc).layer_mask("i2i")[5] == 1.0


def test_clicking_a_lane_cell_switches_a_map_for_the_band(panel):
    doc = panel.document
    bands = panel.bands
    QTest.mouseClick(bands, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     bands.cell_position(1, "attribute").toPoint())
    s = engine_schedule(doc)
    assert s.layer_plan(7).i2t_maps == frozenset({"instance", "attribute"})
    QTest.mouseClick(bands, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     bands.cell_position(0, "i2i").toPoint())
    s = engine_schedule(doc)
    assert s.layer_plan(2).i2i and s.coefficient_table("i2i", run_timesteps(doc))[0, 2] > 0
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.schedule is None


def test_band_menu_split_merge_and_row_factor(panel):
    doc = panel.document
    actions = panel.band_actions
    menu = actions.build_menu(1, 12)
    by_text = {a.text(): a for a in menu.actions()}
    by_text["Split band at layer 13"].trigger()
    s = engine_schedule(doc)
    assert [b.start for b in s.bands][:3] == [0, 5, 12]
    menu = actions.build_menu(2, 12)
    by_text = {a.text(): a for a in menu.actions()}
    by_text["All maps off"].trigger()
    assert not engine_schedule(doc).layer_plan(12).any
    menu = actions.build_menu(2, 12)
    {a.text(): a for a in menu.actions()}["Merge into previous band"].trigger()
    s = engine_schedule(doc)
    assert s.layer_plan(12).i2i and [b.start for b in s.bands][:3] == [0, 5, 19]
    menu = actions.build_menu(1, 6)
    sub = next(a.menu() for a in menu.actions() if a.text() == "I2T rows scaled by")
    next(a for a in sub.actions() if a.text().startswith("a_img")).trigger()
    assert engine_schedule(doc).layer_plan(6).i2t_row_factor == "a_img"
    assert doc.undo_stack.count() == 4


# ---------------------------------------------------------------- presets, files, depth
def test_presets_apply_reset_and_round_trip_through_astproj(panel, tmp_path, qtbot):
    from ast_core.project import load_project, save_project

    doc = panel.document
    panel.preset_combo.setCurrentText(OFF)
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    s = engine_schedule(doc)
    assert s.preset == OFF and not any(s.layer_mask(k).any() for k in ("i2i", "t2t", "i2t"))
    assert not panel.heatmap.values().any()
    path = tmp_path / "off.astproj"
    save_project(doc.to_project(), path)
    loaded = load_project(path).schedule
    assert loaded == s

    # back to the AST preset, edit it, save, open in a fresh document: same coefficients
    panel.preset_combo.setCurrentText(AST_PAPER_FLUX)
    panel.preset_combo.activated.emit(panel.preset_combo.currentIndex())
    panel.weight_spins["t2t"].setValue(2.0)
    drag(panel.bands, panel.bands.edge_position(2), QPointF(panel.bands.layer_x(22), 30))
    edited = engine_schedule(doc)
    assert panel.binding.differs_from_preset()
    path = tmp_path / "edited.astproj"
    save_project(doc.to_project(), path)
    other = Document()
    other.load(load_project(path), path)
    reopened = SchedulePanel(other)
    qtbot.addWidget(reopened)
    assert reopened.binding.schedule == edited
    ts = run_timesteps(doc)
    for kind in ("i2i", "t2t", "i2t"):
        np.testing.assert_array_equal(other.schedule.coefficient_table(kind, ts),
                                      edited.coefficient_table(kind, ts))
    np.testing.assert_allclose(reopened.heatmap.values(), panel.heatmap.values())

    panel.reset_button.click()
    assert engine_schedule(doc) == preset_schedule(AST_PAPER_FLUX)
    assert not panel.binding.differs_from_preset()
    doc.undo_stack.undo()
    assert engine_schedule(doc) == edited


def test_undo_of_load_and_steps_follow_the_generation_settings(panel):
    from ast_studio.generation.commands import SetRenderSettings

    doc = panel.document
    assert panel.curve._steps == 28
    doc.undo_stack.push(SetRenderSettings(doc, {"steps": 12}))
    assert panel.curve._steps == 12 and panel.heatmap.values().shape == (12, 57)
    s = panel.binding.schedule
    np.testing.assert_allclose(panel.heatmap.values(),
                               s.coefficient_table("i2i", scheduler_timesteps(12, 4096, FLUX_DEV.scheduler)))


def test_a_schedule_the_panel_cannot_read_is_kept_and_reported(qtbot, tmp_path):
    from ast_core.project import Project, load_project, save_project

    broken = preset_schedule(AST_PAPER_FLUX).to_dict()
    broken["bands"][1]["start"] = 7  # leaves a gap
    path = tmp_path / "broken.astproj"
    save_project(Project(Document().layout.copy()), path)
    project = load_project(path)
    project.unread_schedule, project.schedule_problem = broken, "schedule.bands[1].start: leaves a gap"
    save_project(project, path)  # an unread schedule is written back as it was
    project = load_project(path)
    assert project.schedule is None and project.unread_schedule == broken and "bands[1].start" in project.schedule_problem
    doc = Document()
    doc.load(project, path)
    panel = SchedulePanel(doc)
    qtbot.addWidget(panel)
    assert "bands[1].start" in panel.problem_label.text()
    assert not panel.problem_label.isHidden()
    assert doc.unread_schedule == broken, "the project's data is untouched until the artist edits"
    save_project(doc.to_project(), path)
    assert load_project(path).unread_schedule == broken
    panel.weight_spins["i2i"].setValue(1.0)
    assert doc.schedule.weight("i2i") == 1.0 and doc.unread_schedule is None and panel.problem_label.isHidden()
    doc.undo_stack.undo()
    assert doc.schedule is None and doc.unread_schedule == broken
    doc.undo_stack.clear()


def test_the_configured_models_layers_are_shown(panel):
    """An SD3.5 model: its 24 joint layers (no double | single header), its preset mapped by
    relative depth, its own presets offered; back on FLUX.1-dev the 57 layers return."""
    from ast_core.models.sd3 import AST_PAPER_SD35
    from ast_studio.generation.model_settings import ModelSettings, save_model_settings

    save_model_settings(ModelSettings(model="SD3.5 Medium"))
    s = panel.binding.schedule
    assert s.num_layers == 24 and s.preset == AST_PAPER_SD35
    assert panel.heatmap.values().shape == (40, 24)  # SD3.5 Medium's 40 default steps
    assert panel.bands.bands()[-1][1] == 24
    assert panel.binding.layer_runs() == [("joint", 0, 24)]
    assert "24 joint layers" in panel.context_label.text() and "single" not in panel.context_label.text()
    assert [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())] == [AST_PAPER_SD35, "off"]
    # the hierarchy is kept: nothing on the first blocks, attribute-only on the last
    assert not s.layer_plan(0).any and s.layer_plan(23).i2t_maps == frozenset({"attribute"})
    save_model_settings(ModelSettings(model="FLUX.1-dev"))
    assert panel.heatmap.values().shape == (28, 57)
    assert panel.binding.layer_runs() == [("double", 0, 19), ("single", 19, 57)]


def test_the_schedule_page_in_the_main_window_edits_the_windows_document(qtbot, tmp_path):
    from ast_core.project import load_project, save_project
    from ast_studio.main_window import MainWindow
    from ast_studio.schedule import install_schedule_panel

    window = MainWindow(recovery_folder=tmp_path / "recovery")
    qtbot.addWidget(window)
    panel = install_schedule_panel(window)
    assert window.schedule_panel is panel and window.workspace.indexOf(panel) == 1
    assert window.workspace.tabText(1) == "Schedule"
    doc = window.document
    panel.weight_spins["i2i"].setValue(2.5)
    assert doc.is_modified and doc.schedule.weight("i2i") == 2.5
    # opening another project swaps the schedule the panel shows
    other = preset_schedule(OFF)
    from ast_core.project import Project
    from ast_core.document import Layout

    path = tmp_path / "off.astproj"
    save_project(Project(layout=Layout(), schedule=other.to_dict()), path)
    doc.load(load_project(path), path)
    assert panel.binding.schedule == other
    assert panel.preset_combo.currentText() == OFF
    assert not panel.heatmap.values().any()
    doc.undo_stack.clear()


def test_the_panel_never_loads_torch():
    """The GUI thread draws the schedule from numpy alone (torch loads with the first render)."""
    import subprocess
    import sys

    code = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
            "from ast_studio.document import Document\nfrom ast_studio.schedule import SchedulePanel\n"
            "panel = SchedulePanel(Document())\npanel.set_kind('i2t')\n"
            "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
