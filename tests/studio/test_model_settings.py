"""Model settings: the user's model configuration (a JSON file shared with ``ast-studio render``)
with fallbacks, the move from older QSettings, and the dialog's folder check (engine's check_folder)."""
from __future__ import annotations

import json
import logging

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from ast_core.models.configuration import NO_MODEL_NOTE, config_folder, configuration_path
from ast_studio.generation.model_settings import (
    DEFAULTS,
    MODEL_NAMES,
    ModelSettings,
    load_model_settings,
    model_note,
    notifier,
    save_model_settings,
)


@pytest.fixture
def qsettings(tmp_path):
    QStandardPaths.setTestModeEnabled(True)
    s = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    yield s
    s.clear()


def test_defaults_when_nothing_stored(isolated_model_configuration):
    assert configuration_path() == isolated_model_configuration / "model.json"  # never the user's own file
    assert load_model_settings() == DEFAULTS
    assert DEFAULTS.model == "tiny-flux" and DEFAULTS.is_builtin
    assert model_note() == NO_MODEL_NOTE and "tiny-flux" in NO_MODEL_NOTE


def test_round_trip_through_the_configuration_file(tmp_path):
    chosen = ModelSettings(model="FLUX.1-dev", source="folder", folder=str(tmp_path / "flux"), hf_id="",
                           device="cpu", dtype="bf16", offload="model")
    heard = []
    notifier().changed.connect(heard.append)
    try:
        save_model_settings(chosen)
    finally:
        notifier().changed.disconnect(heard.append)
    assert heard == [chosen]
    assert load_model_settings() == chosen and model_note() == ""
    stored = json.loads(configuration_path().read_text())
    assert stored["model"] == "FLUX.1-dev" and stored["offload"] == "model"


def test_bad_stored_values_fall_back_with_a_log_line(caplog):
    configuration_path().parent.mkdir(parents=True, exist_ok=True)
    configuration_path().write_text(json.dumps({"model": "FLUX.9-ultra", "device": "tpu", "dtype": "int3",
                                                "cpu_offload": "maybe", "folder": "/models/flux", "colour": 1}))
    with caplog.at_level(logging.WARNING):
        s = load_model_settings()
    assert (s.model, s.device, s.dtype, s.cpu_offload) == (DEFAULTS.model, "auto", "auto", False)
    assert s.folder == "/models/flux"  # good values are kept
    for bad in ("FLUX.9-ultra", "tpu", "int3", "maybe", "colour"):
        assert bad in caplog.text
    configuration_path().write_text("{ not json")
    with caplog.at_level(logging.WARNING):
        assert load_model_settings() == DEFAULTS
    assert "not valid JSON" in caplog.text


def test_settings_of_an_older_studio_move_from_qsettings_once():
    from ast_studio.settings import store

    old = store()  # the isolated QSettings of this test
    for key, value in {"model": "FLUX.1-schnell", "source": "hf_cache", "hf_id": "me/schnell", "device": "cpu",
                       "dtype": "bf16", "cpu_offload": True, "folder": ""}.items():
        old.setValue(f"model/{key}", value)
    old.sync()
    assert not configuration_path().exists()
    moved = load_model_settings()
    assert (moved.model, moved.source, moved.hf_id, moved.device, moved.dtype, moved.cpu_offload) == \
        ("FLUX.1-schnell", "hf_cache", "me/schnell", "cpu", "bf16", True)
    assert configuration_path().exists() and not store().contains("model/model")
    save_model_settings(moved.with_changes(device="auto"))
    assert load_model_settings().device == "auto"  # the file rules from now on


def test_the_configuration_folder_follows_the_platform_rules(monkeypatch, tmp_path):
    monkeypatch.delenv("AST_STUDIO_CONFIG_DIR")
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_folder() == tmp_path / "xdg" / "ast-studio"
    monkeypatch.setenv("AST_STUDIO_CONFIG_DIR", str(tmp_path / "chosen"))
    assert configuration_path() == tmp_path / "chosen" / "model.json"


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


def test_dialog_says_what_is_missing_in_the_folder(qtbot, tmp_path):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    folder = _incomplete_flux_folder(tmp_path)
    save_model_settings(ModelSettings(model="FLUX.1-dev", source="folder", folder=str(folder)))
    dialog = ModelSettingsDialog()
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
    assert load_model_settings().model == "tiny-flux"
    assert load_model_settings().folder == str(tmp_path / "nowhere")  # kept for later


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


def test_dialog_names_the_family_found_in_a_complete_folder(qtbot, tmp_path):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    folder = _complete_looking_folder(tmp_path, joint_attention_dim=4096)
    save_model_settings(ModelSettings(model="FLUX.1-schnell", source="folder", folder=str(folder)))
    dialog = ModelSettingsDialog()
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


def test_dialog_reports_a_repository_missing_from_the_hugging_face_cache(qtbot):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    save_model_settings(ModelSettings(model="FLUX.1-dev", source="hf_cache", hf_id="nobody-here/not-a-cached-model"))
    dialog = ModelSettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.hf_id.isVisibleTo(dialog) and not dialog.folder_box.isVisibleTo(dialog)
    qtbot.waitUntil(lambda: dialog.last_check is not None, timeout=20000)
    ok, message = dialog.last_check
    assert not ok and "nobody-here/not-a-cached-model" in message and "Hugging Face cache" in message
