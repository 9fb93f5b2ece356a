"""The project's LoRAs in the Generate panel (undoable, rendered, recorded in the history; strength 0
is no LoRA; a bad file says why in the message area) and guidance "Model default" per model family."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt
from safetensors.torch import save_file

from ast_core.generation.settings import GenerationSettings
from ast_core.models import FAMILIES, LoraChoice
from ast_core.project import ProjectSettings, RenderSettings
from ast_studio.generation import events as ev
from ast_studio.generation import history
from ast_studio.generation.model_settings import ModelSettings, save_model_settings

from lora_files import kohya_flux_lora, misfit_flux_lora
from studio_window import close_studio, render, studio_window, two_animals


@pytest.fixture(scope="module")
def runner(qapp):
    from ast_studio.generation.worker import GenerationRunner

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny-flux: one thread is much faster than a pool fighting for 2 cores
    r = GenerationRunner()
    yield r
    r.shutdown()
    torch.set_num_threads(threads)


@pytest.fixture
def window(qtbot, tmp_path, runner):
    save_model_settings(ModelSettings(model="tiny-flux"))
    w = studio_window(qtbot, tmp_path, runner)
    w.document.layout.replace_all(two_animals())
    w.document.settings.set_generation(RenderSettings(steps=2, seed=5))
    yield w
    close_studio(w, runner)


def pixels(render_entry) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(render_entry.image_png))).astype(np.float32)


def test_loras_are_added_rendered_recorded_and_strength_zero_is_no_lora(qtbot, window, tmp_path):
    doc, panel = window.document, window.generation.panel
    loras = panel.loras
    assert isinstance(render(qtbot, window), ev.Finished)
    plain = pixels(doc.renders[-1])
    assert not loras.empty.isHidden()

    ink = kohya_flux_lora(tmp_path / "ink.safetensors", 1)
    count = doc.undo_stack.count()
    assert loras.add_files([ink]) == []
    assert doc.settings.loras == (LoraChoice(str(ink), 1.0),) and doc.undo_stack.count() == count + 1
    assert loras.rows[0][0].text() == "ink.safetensors" and loras.empty.isHidden()
    not_a_lora = tmp_path / "vae.safetensors"
    save_file({"encoder.conv_out.weight": torch.zeros(32, 8, 3, 3), "decoder.conv_in.weight": torch.zeros(8, 16, 3, 3)},
              str(not_a_lora))
    problems = loras.add_files([not_a_lora, ink])
    assert len(problems) == 2 and "is not a LoRA" in problems[0] and "already in the list" in problems[1]
    assert "LoRA not added" in panel.messages.text() and doc.undo_stack.count() == count + 1

    assert isinstance(render(qtbot, window), ev.Finished)
    with_lora = doc.renders[-1]
    assert np.abs(pixels(with_lora) - plain).mean() > 1.0
    recorded = with_lora.parameters["metadata"]["model"]["loras"]
    assert [(x["name"], x["scale"]) for x in recorded] == [("ink.safetensors", 1.0)]
    assert len(recorded[0]["sha256"]) == 64
    assert "LoRAs: ink.safetensors 1" in history.summary(with_lora)
    assert history.loras_of(with_lora) == (LoraChoice(str(ink), 1.0),)

    strength = loras.rows[0][1]
    count = doc.undo_stack.count()
    for _ in range(4):
        qtbot.keyClick(strength, Qt.Key.Key_Down)  # a burst of arrows: one undo step
    assert doc.settings.loras[0].scale == pytest.approx(0.8) and doc.undo_stack.count() == count + 1
    strength.setValue(0.0)
    assert isinstance(render(qtbot, window), ev.Finished)
    np.testing.assert_array_equal(pixels(doc.renders[-1]), plain)  # strength 0: as without it
    assert doc.renders[-1].parameters["metadata"]["model"]["loras"][0]["scale"] == 0.0

    # Restore parameters brings the LoRA list of a render back (one undo step with the rest)
    qtbot.mouseClick(loras.rows[0][2], Qt.MouseButton.LeftButton)  # ✕ removes it
    assert doc.settings.loras == () and not loras.rows
    window.generation.history.select(with_lora.id)
    assert window.generation.history.restore_selected()
    assert doc.settings.loras == (LoraChoice(str(ink), 1.0),)


def test_a_lora_that_does_not_fit_says_so_under_generate_and_the_message_goes_when_removed(qtbot, window,
                                                                                           tmp_path):
    doc, panel = window.document, window.generation.panel
    misfit = misfit_flux_lora(tmp_path / "wide.safetensors")
    assert panel.loras.add_files([misfit]) == []  # its header says LoRA for FLUX: only applying it tells
    error = render(qtbot, window)
    assert isinstance(error, ev.Error) and error.kind == ev.LORA, error
    text = panel.messages.text()
    assert text.startswith("LoRA problem") and "wide.safetensors" in text and "does not fit" in text
    assert "Traceback" not in text and not doc.renders
    panel.loras.remove(0)
    assert panel.messages.text() == "" and panel.status.text() == "Ready"
    assert isinstance(render(qtbot, window), ev.Finished)


def test_guidance_model_default_follows_the_family(qtbot, window):
    families = {name: FAMILIES[name].default_guidance for name in ("FLUX.1-dev", "FLUX.1-schnell", "SD3.5 Large",
                                                                   "SD3.5 Large Turbo", "SD3.5 Medium")}
    assert families == {"FLUX.1-dev": 3.5, "FLUX.1-schnell": 0.0, "SD3.5 Large": 3.5, "SD3.5 Large Turbo": 0.0,
                        "SD3.5 Medium": 4.5}
    for name, guidance in families.items():
        assert GenerationSettings().resolved((64, 64), FAMILIES[name]).guidance == guidance
    # the project stores None for "the model's default"; older files keep their number
    assert RenderSettings().guidance is None
    assert RenderSettings().engine_settings(64, 64, 1)["guidance"] is None
    assert ProjectSettings.from_dict({"generation": {"guidance": 3.5}}).generation.guidance == 3.5
    assert ProjectSettings.from_dict({"generation": {"guidance": None}}).generation.guidance is None
    stored = ProjectSettings.from_dict({}).to_dict()
    assert ProjectSettings.from_dict(stored).generation.guidance is None

    doc, panel = window.document, window.generation.panel
    assert panel.guidance.text() == "Model default (3.5)"  # tiny-flux, like FLUX.1-dev
    save_model_settings(ModelSettings(model="FLUX.1-schnell", source="hf_cache"))
    assert panel.guidance.text() == "Model default (0)"
    save_model_settings(ModelSettings(model="SD3.5 Medium", source="hf_cache"))
    assert panel.guidance.text() == "Model default (4.5)"
    save_model_settings(ModelSettings(model="tiny-flux"))
    qtbot.keyClick(panel.guidance, Qt.Key.Key_Up)  # from "Model default" up: 0 is a guidance of its own
    assert doc.settings.generation.guidance == 0.0 and panel.guidance.text() == "0.0"
    qtbot.keyClick(panel.guidance, Qt.Key.Key_Down)
    assert doc.settings.generation.guidance is None

    assert isinstance(render(qtbot, window), ev.Finished)
    ran = doc.renders[-1]
    assert ran.parameters["settings"]["guidance"] == 3.5  # the number that ran (tiny-flux's default)
    assert ran.parameters["render_settings"]["guidance"] is None  # restore brings back "Model default"
    assert "guidance 3.5" in history.summary(ran)
    assert ran.parameters["metadata"]["settings"]["guidance"] == 3.5
    assert history.render_settings_of(ran).guidance is None
