"""A first-time user's first renders: the studio as ``ast-studio`` starts it, with nothing
configured (the built-in tiny-flux) and every setting left as it is ("Model default" steps).

A brand-new project: one instance drawn with the mouse, its prompt, the base and the
background prompt typed, Generate clicked. Then every example project shipped, opened and
rendered the same way. Each render must finish and join the History showing the steps that
ran (tiny-flux: 4), and the Schedule panel's heatmap must be exactly the coefficients the
engine prepared for that render (``ASTAttention.coefficients``, recorded as it is built).
"""
from __future__ import annotations

from ast_core.project import ProjectSettings

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ast_core.schedule import KINDS
from ast_studio.project_files import EXAMPLES

from editing_support import discard_changes, drag, line

pytestmark = pytest.mark.slow  # loads tiny-flux and renders four images (~15-25 s on 2 busy cores)

TIMEOUT = 180_000
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.astproj"))


@pytest.fixture
def prepared_controllers(monkeypatch):
    """Every ASTAttention the engine builds, in order."""
    import ast_core.attention as attention

    made = []

    class Recorded(attention.ASTAttention):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(attention, "ASTAttention", Recorded)
    return made


@pytest.fixture
def studio(qtbot, tmp_path):
    """The studio's main window as ``ast-studio`` builds it (all panels, its own worker thread)."""
    import torch

    from ast_studio import settings
    from ast_studio.app import create_window

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny-flux is all small ops: one thread is much faster on a shared machine
    settings.mark_has_run()  # File > New's empty project (the first run's beach example is tested below)
    window = create_window([], recovery_folder=tmp_path / "recovery")
    qtbot.addWidget(window, before_close_func=discard_changes)
    window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    window.canvas.fit()
    yield window
    window.generation.shutdown()
    torch.set_num_threads(threads)


def generate_with_defaults(qtbot, window, renders_before: int):
    """Click Generate and wait for the render to join the History; returns the Render."""
    ui = window.generation
    qtbot.mouseClick(ui.panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.document.renders) > renders_before or ui.last_error is not None,
                    timeout=TIMEOUT)
    assert ui.last_error is None, ui.last_error.message
    qtbot.waitUntil(lambda: not ui.runner.busy, timeout=TIMEOUT)
    return window.document.renders[-1]


def check_render(window, render, controller, expected_steps: int) -> None:
    ui = window.generation
    assert render.parameters["settings"]["steps"] == expected_steps
    assert render.parameters["render_settings"]["steps"] is None  # the project still says "Model default"
    assert len(render.parameters["metadata"]["timesteps"]) == expected_steps
    history = ui.history
    assert history.strip.count() == len(window.document.renders)
    assert f"{expected_steps} steps" in history.strip.item(0).toolTip()  # newest first
    assert f"{expected_steps} steps" in history.info.text()
    assert f"{expected_steps} steps" in ui.preview.caption.text()
    assert ui.panel.progress.format() == "Done" and ui.panel.progress.maximum() == expected_steps
    assert "None" not in history.info.text() + ui.preview.caption.text()
    # the Schedule panel drew exactly what the engine used for this render
    panel = window.schedule_panel
    assert panel.binding.steps == expected_steps
    for kind in KINDS:
        panel.set_kind(kind)
        assert controller.coefficients[kind].shape[0] == expected_steps
        np.testing.assert_array_equal(panel.heatmap.values(), controller.coefficients[kind])
    assert f"Drawn for {expected_steps} steps" in panel.context_label.text()


def test_a_new_project_renders_with_every_setting_as_it_is(qtbot, studio, prepared_controllers):
    window, doc = studio, studio.document
    ui = window.generation
    assert doc.layout.instances == [] and doc.settings == ProjectSettings()
    # what a first-time user sees before anything is configured
    assert ui.panel.steps.text() == "Model default (4)"
    assert ui.panel.model_note.isVisibleTo(ui.panel) and "tiny-flux" in ui.panel.model_note.text()

    window.canvas.set_tool("brush")
    drag(window.canvas, line(300, 300, 700, 650, n=25))
    assert len(doc.layout.instances) == 1
    editor = window.instance_editor_dock.widget()
    editor.prompt.setFocus()
    QTest.keyClicks(editor.prompt, "a red fox")
    prompts = window.prompts_dock.widget()
    prompts.base.setFocus()
    QTest.keyClicks(prompts.base, "a red fox in a snowy forest")
    prompts.background.setFocus()
    QTest.keyClicks(prompts.background, "a snowy forest")
    assert doc.layout.instances[0].prompt == "a red fox"
    assert doc.layout.background_prompt == "a snowy forest"

    render = generate_with_defaults(qtbot, window, 0)
    assert len(prepared_controllers) == 1
    check_render(window, render, prepared_controllers[-1], 4)
    assert render.parameters["metadata"]["method_used"] == "ast"


@pytest.mark.skipif(not EXAMPLE_NAMES, reason="example projects not built")
def test_every_example_project_renders_with_its_settings_as_they_are(qtbot, studio, prepared_controllers):
    window = studio
    assert EXAMPLE_NAMES == ["beach", "living_room", "winter_night"]
    for name in EXAMPLE_NAMES:
        discard_changes(window)
        assert window.files.open_path(EXAMPLES / f"{name}.astproj")
        doc = window.document
        assert doc.renders == [] and window.generation.panel.steps.text() == "Model default (4)"
        made = len(prepared_controllers)
        render = generate_with_defaults(qtbot, window, 0)
        assert len(prepared_controllers) == made + 1, name
        check_render(window, render, prepared_controllers[-1], 4)
        assert render.parameters["settings"]["seed"] == doc.settings.generation.seed
