"""The selected method's parameters, edited in a panel built from the registry; the prompt editors
follow the method (regional prompting needs no instance text in the base prompt)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ast_core.methods import METHODS, method
from ast_studio.document import Document
from ast_studio.generation import events as ev
from ast_studio.generation.model_settings import ModelSettings, save_model_settings
from ast_studio.panels.instance_editor import InstanceEditor
from ast_studio.panels.instance_list import InstanceList
from ast_studio.panels.prompts import PromptsPanel

from studio_window import close_studio, render, studio_window, two_animals

SCREENS = Path(os.environ.get("AST_SCREENS_DIR", Path(__file__).resolve().parents[2] / "out" / "screens"))


@pytest.fixture
def panel(qtbot):
    from ast_studio.generation.generation_panel import GenerationPanel

    doc = Document()
    p = GenerationPanel(doc)
    qtbot.addWidget(p)
    p._test_document = doc
    yield p
    doc.undo_stack.clear()


@pytest.fixture(scope="module")
def runner(qapp):
    import torch

    from ast_studio.generation.worker import GenerationRunner

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny-flux: one thread is much faster than a pool fighting for 2 cores
    r = GenerationRunner()
    yield r
    r.shutdown()
    torch.set_num_threads(threads)


def choose(combo, key) -> None:
    combo.setCurrentIndex(combo.findData(key))


def test_regional_shows_its_parameters_built_from_the_registry(qtbot, panel):
    doc, box = panel._test_document, panel.method_parameters
    assert not box.editors and "Schedule page" in box.note.text() and not box.note.isHidden()  # AST
    choose(panel.method, "regional")
    regional = method("regional")
    assert list(box.editors) == [p.name for p in regional.parameters] and box.note.isHidden()
    assert box.title().startswith(regional.label)
    for p in regional.parameters:
        editor = box.editors[p.name]
        assert box.form.labelForField(editor).text() == p.label and editor.toolTip() == p.help
        assert (editor.minimum(), editor.maximum()) == (p.minimum, p.maximum)
        assert box.value_of(p.name) == p.default

    steps_before = doc.undo_stack.count()
    inject = box.editors["inject_steps"]
    for _ in range(3):
        qtbot.keyClick(inject, Qt.Key.Key_Up)  # a burst of arrows: one undo step
    assert doc.settings.method_parameters("regional")["inject_steps"] == 13
    assert doc.undo_stack.count() == steps_before + 1
    box.editors["base_ratio"].setValue(0.35)
    assert doc.settings.method_parameters("regional")["base_ratio"] == 0.35
    assert doc.undo_stack.count() == steps_before + 2 and doc.is_modified
    doc.undo_stack.undo()
    assert box.value_of("base_ratio") == 0.2 and doc.settings.method_parameters("regional")["base_ratio"] == 0.2
    doc.undo_stack.undo()
    assert box.value_of("inject_steps") == 10
    doc.undo_stack.redo()
    doc.undo_stack.redo()

    choose(panel.method, "none")  # another method: its own (no) parameters; regional's are kept
    assert not box.editors and box.note.text() == "This method has no parameters."
    choose(panel.method, "regional")
    assert (box.value_of("inject_steps"), box.value_of("base_ratio")) == (13, 0.35)
    box.defaults_button.click()
    assert doc.settings.method_parameters("regional") == method("regional").default_parameters()
    assert not box.defaults_button.isEnabled()
    doc.undo_stack.undo()
    assert box.value_of("inject_steps") == 13


def test_nothing_about_a_method_is_hard_coded_in_the_box(panel):
    """Every registered method gets a box from its own specs alone."""
    for name, control in METHODS.items():
        choose(panel.method, name)
        box = panel.method_parameters
        assert list(box.editors) == [p.name for p in control.parameters]
        assert panel.ast_controls.isEnabled() == control.uses_schedule


def _prompt_panels(qtbot, doc):
    panels = PromptsPanel(doc), InstanceList(doc), InstanceEditor(doc)
    for p in panels:
        qtbot.addWidget(p)
    return panels


def test_prompt_editors_flag_missing_text_only_where_the_method_needs_it(qtbot, panel):
    doc = panel._test_document
    doc.layout.replace_all(two_animals(base="a picnic in a park"))  # no instance or background text in it
    prompts, instances, editor = _prompt_panels(qtbot, doc)
    doc.select(doc.layout.instances[0].id)
    assert not prompts.missing.isHidden() and "Background" in prompts.missing.text()
    assert not prompts.append_all.isHidden() and prompts.note.isHidden()
    assert instances.missing_ids == {i.id for i in doc.layout.instances}
    assert not editor.missing_box.isHidden()

    choose(panel.method, "regional")  # follows the selection live
    assert prompts.missing.isHidden() and prompts.append_all.isHidden()
    assert not prompts.note.isHidden() and prompts.note.text() == method("regional").prompts_note
    assert "base pass" in prompts.note.text()
    assert instances.missing_ids == set() and editor.missing_box.isHidden()
    assert doc.layout.base_prompt == "a picnic in a park"  # kept for the base pass

    # an instance without a prompt is refused by regional prompting too: still flagged there
    first = doc.layout.instances[0]
    doc.layout.update_instance(first.id, prompt="")
    assert instances.missing_ids == {first.id} and not editor.missing_box.isHidden()
    assert "Give this instance a prompt" in editor.missing.text()
    choose(panel.method, "none")  # the plain model reads no instance prompt
    assert instances.missing_ids == set()
    doc.undo_stack.undo()  # back to regional
    doc.layout.update_instance(first.id, prompt="a cat")

    doc.undo_stack.undo()  # back to AST: flagged again
    assert not prompts.missing.isHidden() and prompts.note.isHidden() and instances.missing_ids


def test_regional_parameters_are_saved_reopened_rendered_and_restored(qtbot, tmp_path, runner):
    save_model_settings(ModelSettings(model="tiny-flux"))
    window = studio_window(qtbot, tmp_path, runner)
    try:
        doc, panel = window.document, window.generation.panel
        doc.layout.replace_all(two_animals(base="a picnic"))  # regional: the instance text need not be there
        panel.steps.setValue(3)
        choose(panel.method, "regional")
        panel.method_parameters.editors["inject_steps"].setValue(2)
        panel.method_parameters.editors["base_ratio"].setValue(0.4)
        path = tmp_path / "regional.astproj"
        assert window.files.write(path)
    finally:
        close_studio(window, runner)

    again = studio_window(qtbot, tmp_path, runner)
    try:
        assert again.files.open_path(path, ask=False)
        doc, panel, box = again.document, again.generation.panel, again.generation.panel.method_parameters
        assert panel.method.currentData() == "regional"
        assert (box.value_of("inject_steps"), box.value_of("base_ratio")) == (2, 0.4)
        finished = render(qtbot, again)
        assert isinstance(finished, ev.Finished), finished
        ran = doc.renders[-1]
        metadata = ran.parameters["metadata"]
        assert metadata["settings"]["method_parameters"] == {"inject_steps": 2, "double_interval": 1,
                                                             "single_interval": 2, "base_ratio": 0.4}
        assert metadata["method_used"] == "regional" and len(metadata["regions"]) == 3
        history = again.generation.history
        assert "Regional prompting: inject_steps 2" in history.info.toolTip()
        assert "Regional prompting: inject_steps 2" in history.strip.currentItem().toolTip()
        SCREENS.mkdir(parents=True, exist_ok=True)
        again.generation.history.decode_thumbnails()
        again.grab().save(str(SCREENS / "regional-parameters-1366x768.png"))  # for a human look

        box.editors["base_ratio"].setValue(0.9)
        choose(panel.method, "ast")
        count = doc.undo_stack.count()
        history.select(ran.id)
        assert history.restore_selected()
        assert doc.undo_stack.count() == count + 1  # one step
        assert panel.method.currentData() == "regional" and box.value_of("base_ratio") == 0.4
        assert doc.settings.method_parameters("regional")["base_ratio"] == 0.4
        doc.undo_stack.undo()
        assert doc.settings.method_parameters("regional")["base_ratio"] == 0.9
    finally:
        close_studio(again, runner)
