"""Model settings: typed QSettings with fallbacks, and the dialog's folder check (engine's check_folder)."""
from __future__ import annotations

import json
import logging

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from ast_studio.generation.model_settings import (
    DEFAULTS,
    MODEL_NAMES,
    ModelSettings,
    load_model_settings,
    save_model_settings,
)


@pytest.fixture
def qsettings(tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    s = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    yield s
    s.clear()


def test_defaults_when_nothing_stored(qsettings):
    assert load_model_settings(qsettings) == DEFAULTS
    assert DEFAULTS.model == "tiny-flux" and DEFAULTS.is_builtin


def test_round_trip_through_the_ini_file(qsettings, tmp_path):
    chosen = ModelSettings(model="FLUX.1-dev", source="folder", folder=str(tmp_path / "flux"), hf_id="",
                           device="cpu", dtype="bf16", cpu_offload=True)
    save_model_settings(chosen, qsettings)
    reread = QSettings(qsettings.fileName(), QSettings.Format.IniFormat)  # a fresh reader of the same file
    assert load_model_settings(reread) == chosen
    assert "FLUX.1-dev" in (tmp_path / "studio.ini").read_text()


def test_bad_stored_values_fall_back_with_a_log_line(qsettings, caplog):
    qsettings.setValue("model/model", "FLUX.9-ultra")
    qsettings.setValue("model/device", "tpu")
    qsettings.setValue("model/dtype", "int3")
    qsettings.setValue("model/cpu_offload", "maybe")
    qsettings.setValue("model/folder", "/models/flux")
    with caplog.at_level(logging.WARNING):
        s = load_model_settings(qsettings)
    assert (s.model, s.device, s.dtype, s.cpu_offload) == (DEFAULTS.model, "auto", "auto", False)
    assert s.folder == "/models/flux"  # good values are kept
    text = caplog.text
    for bad in ("FLUX.9-ultra", "tpu", "int3", "maybe"):
        assert bad in text


def test_the_offered_models_are_engine_families():
    from ast_core.models import FAMILIES

    assert set(MODEL_NAMES) <= set(FAMILIES)


def test_load_key_changes_only_with_what_loads_the_model():
    a = ModelSettings(model="FLUX.1-dev", folder="/a")
    assert a.load_key() == ModelSettings(model="FLUX.1-dev", folder="/a").load_key()
    assert a.load_key() != a.with_changes(folder="/b").load_key()
    assert a.load_key() != a.with_changes(dtype="fp16").load_key()
    tiny = ModelSettings(model="tiny-flux", folder="/ignored")
    assert tiny.load_key() == ModelSettings(model="tiny-flux", folder="/other").load_key()


def _incomplete_flux_folder(root):
    folder = root / "flux-dev"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    (folder / "scheduler").mkdir()
    (folder / "scheduler" / "scheduler_config.json").write_text("{}")
    return folder


def test_dialog_says_what_is_missing_in_the_folder(qtbot, qsettings, tmp_path):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    folder = _incomplete_flux_folder(tmp_path)
    save_model_settings(ModelSettings(model="FLUX.1-dev", source="folder", folder=str(folder)), qsettings)
    dialog = ModelSettingsDialog(qsettings)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.last_check is not None, timeout=20000)
    ok, message = dialog.last_check
    assert not ok
    assert "transformer/" in message and "vae/" in message and str(folder) in message
    assert "transformer/" in dialog.status.text()

    dialog.folder.setText(str(tmp_path / "nowhere"))
    qtbot.waitUntil(lambda: dialog.last_check is not None and "nowhere" in dialog.last_check[1], timeout=20000)
    assert "not found" in dialog.last_check[1]

    dialog.model.setCurrentIndex(dialog.model.findData("tiny-flux"))
    qtbot.waitUntil(lambda: dialog.last_check is not None and dialog.last_check[0], timeout=20000)
    assert not dialog.folder_box.isVisibleTo(dialog)
    dialog.accept()
    assert load_model_settings(qsettings).model == "tiny-flux"
    assert load_model_settings(qsettings).folder == str(tmp_path / "nowhere")  # kept for later


def _complete_looking_folder(root, joint_attention_dim: int):
    """Every file check_folder looks for (weights are not read by the check)."""
    folder = _incomplete_flux_folder(root)
    for comp in ("vae", "text_encoder", "text_encoder_2", "transformer"):
        (folder / comp).mkdir()
        (folder / comp / "config.json").write_text("{}")
        (folder / comp / "model.safetensors").write_bytes(b"")
    (folder / "transformer" / "config.json").write_text(
        json.dumps({"joint_attention_dim": joint_attention_dim, "guidance_embeds": True}))
    for comp in ("tokenizer", "tokenizer_2"):
        (folder / comp).mkdir()
        (folder / comp / "tokenizer.json").write_text("{}")
    return folder


def test_dialog_names_the_family_found_in_a_complete_folder(qtbot, qsettings, tmp_path):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    folder = _complete_looking_folder(tmp_path, joint_attention_dim=4096)
    save_model_settings(ModelSettings(model="FLUX.1-schnell", source="folder", folder=str(folder)), qsettings)
    dialog = ModelSettingsDialog(qsettings)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.last_check is not None, timeout=20000)
    ok, message = dialog.last_check
    assert ok and "FLUX.1-dev" in message and "FLUX.1-schnell" in message  # found dev, settings said schnell
    assert dialog.status.text().startswith("✓")


def test_outline_toggle_is_remembered(qtbot, qsettings):
    from ast_studio.document import Document
    from ast_studio.generation.generation_ui import GenerationUi
    from ast_studio.generation.preview_pane import load_outlines_choice

    assert load_outlines_choice(qsettings) is True
    doc = Document()
    ui = GenerationUi(doc, qsettings)
    qtbot.addWidget(ui.preview)
    ui.preview.outlines.setChecked(False)
    assert not ui.preview.view.show_outlines and load_outlines_choice(qsettings) is False
    ui.close()
    again = GenerationUi(doc, qsettings)
    qtbot.addWidget(again.preview)
    assert not again.preview.outlines.isChecked()
    again.close()
    qsettings.setValue("preview/outlines", "sometimes")
    assert load_outlines_choice(qsettings) is True  # a bad value falls back to the default


def test_dialog_reports_a_repository_missing_from_the_hugging_face_cache(qtbot, qsettings):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    save_model_settings(ModelSettings(model="FLUX.1-dev", source="hf_cache", hf_id="nobody-here/not-a-cached-model"),
                        qsettings)
    dialog = ModelSettingsDialog(qsettings)
    qtbot.addWidget(dialog)
    assert dialog.hf_id.isVisibleTo(dialog) and not dialog.folder_box.isVisibleTo(dialog)
    qtbot.waitUntil(lambda: dialog.last_check is not None, timeout=20000)
    ok, message = dialog.last_check
    assert not ok and "nobody-here/not-a-cached-model" in message and "Hugging Face cache" in message


def test_dialog_shows_which_attention_backend_runs(qtbot, qsettings):
    """A read-only line, filled off the GUI thread: on this machine's CPU, the torch kernels."""
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    save_model_settings(ModelSettings(model="tiny-flux", device="cpu"), qsettings)
    dialog = ModelSettingsDialog(qsettings)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.attention.text() != "…", timeout=60000)
    assert dialog.attention.text() == "torch kernels (CPU)"
    assert dialog.form.labelForField(dialog.attention).text() == "AST attention"
