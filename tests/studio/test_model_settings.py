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


def test_dialog_shows_which_attention_backend_runs(qtbot):
    """A read-only line, filled off the GUI thread: on this machine's CPU, the torch kernels."""
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    save_model_settings(ModelSettings(model="tiny-flux", device="cpu"))
    dialog = ModelSettingsDialog()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.attention.text() != "…", timeout=60000)
    assert dialog.attention.text() == "torch kernels (CPU)"
    assert dialog.device_form.labelForField(dialog.attention).text() == "AST attention"


def _wait_check(qtbot, dialog, *words):
    """The check of the dialog's current settings, once it has a message with every word."""
    qtbot.waitUntil(lambda: dialog.last_check is not None and all(w in dialog.last_check[1] for w in words)
                    and dialog.status.text() != "Checking…", timeout=30000)
    return dialog.last_check


def choose(combo, key) -> None:
    index = combo.findData(key)
    assert index >= 0, key
    combo.setCurrentIndex(index)


def test_dialog_round_trips_every_option_through_the_configuration_file(qtbot, tmp_path):
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    dialog = ModelSettingsDialog()
    qtbot.addWidget(dialog)
    choose(dialog.model, "FLUX.1-dev")
    choose(dialog.source, "file")
    assert dialog.file_box.isVisibleTo(dialog) and dialog.base_box.isVisibleTo(dialog)
    assert not dialog.folder_box.isVisibleTo(dialog) and "FLUX.1-dev in the Hugging Face cache" in \
        dialog.base.placeholderText()
    values = {"file": str(tmp_path / "flux1-dev-fp8.safetensors"), "base": str(tmp_path / "FLUX.1-dev"),
              "vae": str(tmp_path / "ae.safetensors")}
    for name, value in values.items():
        getattr(dialog, name).setText(value)
    encoders = (str(tmp_path / "clip_l.safetensors"), str(tmp_path / "t5xxl_fp8.safetensors"))
    for edit, value in zip(dialog.text_encoders, encoders):
        edit.setText(value)
    chosen = {"device": "xpu", "dtype": "fp16", "quantize": "fp8", "text_encoder_quantize": "nf4",
              "offload": "group", "vae_tiling": "on"}
    for name, value in chosen.items():
        choose(getattr(dialog, name), value)
    assert dialog.quantize.currentText().startswith("fp8: ") and "layer-wise" in dialog.quantize.currentText()
    dialog.accept()
    stored = json.loads(configuration_path().read_text())
    expected = {"model": "FLUX.1-dev", "source": "file", **values, "text_encoders": list(encoders), **chosen}
    assert {k: stored[k] for k in expected} == expected
    assert load_model_settings().options().text_encoders == encoders

    again = ModelSettingsDialog()
    qtbot.addWidget(again)
    assert again.settings() == load_model_settings()
    again.file.setText(str(tmp_path / "flux1-dev-Q4_0.gguf"))  # a GGUF file is quantised already
    assert again.quantize.currentData() == "none" and not again.quantize.isEnabled()


def test_the_check_says_what_is_wrong_in_one_line(qtbot, tmp_path):
    from ast_core.models import export_tiny_single_file
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    missing = tmp_path / "gone" / "flux1-dev.safetensors"
    save_model_settings(ModelSettings(model="FLUX.1-dev", source="file", file=str(missing)))
    dialog = ModelSettingsDialog()
    qtbot.addWidget(dialog)
    ok, message = _wait_check(qtbot, dialog, "file not found")
    assert not ok and str(missing) in message and "\n" not in message
    assert dialog.status.text().startswith("⚠")

    tiny = export_tiny_single_file(tmp_path / "tiny-transformer.safetensors")
    dialog.file.setText(str(tiny))  # a recognised transformer; the other parts from its base
    ok, message = _wait_check(qtbot, dialog, "tiny-transformer")
    assert ok and "tiny-flux" in message and "Settings say FLUX.1-dev" in message, message

    choose(dialog.device, "cpu")
    choose(dialog.quantize, "nf4")  # bitsandbytes: NVIDIA CUDA only
    ok, message = _wait_check(qtbot, dialog, "nf4")
    assert not ok and "NVIDIA CUDA" in message and "cpu" in message and "\n" not in message, message
    choose(dialog.quantize, "fp8")
    ok, message = _wait_check(qtbot, dialog, "Found")
    assert ok, message
    vae = tmp_path / "not-a-vae.safetensors"
    vae.write_bytes((tmp_path / "tiny-transformer.safetensors").read_bytes())
    dialog.vae.setText(str(vae))
    ok, message = _wait_check(qtbot, dialog, "not-a-vae")
    assert not ok and "not a VAE" in message, message


def _models_folder(root):
    """A ComfyUI-style models folder: a transformer, a VAE, two text encoders, a LoRA."""
    import torch
    from safetensors.torch import save_file

    from ast_core.models import export_tiny_single_file
    from lora_files import kohya_flux_lora

    for sub in ("diffusion_models", "vae", "clip", "loras"):
        (root / sub).mkdir(parents=True)
    export_tiny_single_file(root / "diffusion_models" / "flux1-tiny.safetensors")
    save_file({"encoder.conv_out.weight": torch.zeros(32, 8, 3, 3), "decoder.conv_in.weight": torch.zeros(8, 16, 3, 3)},
              str(root / "vae" / "ae.safetensors"))
    save_file({"encoder.block.0.layer.0.SelfAttention.q.weight": torch.zeros(4, 4)},
              str(root / "clip" / "t5.safetensors"))
    save_file({"text_model.embeddings.token_embedding.weight": torch.zeros(8, 768)},
              str(root / "clip" / "clip_l.safetensors"))
    kohya_flux_lora(root / "loras" / "ink.safetensors", 1)
    (root / "loras" / "broken.safetensors").write_bytes(b"\x0a\x00\x00\x00\x00\x00\x00\x00{not json}")
    return root


def test_scan_a_models_folder_and_pick_every_part_from_it(qtbot, tmp_path):
    from ast_studio.document import Document
    from ast_studio.generation.lora_list import LoraList
    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog
    from ast_studio.settings import models_folder

    root = _models_folder(tmp_path / "models")
    doc = Document()
    loras = LoraList(doc)
    qtbot.addWidget(loras)
    save_model_settings(ModelSettings(model="FLUX.1-dev", source="hf_cache"))
    dialog = ModelSettingsDialog(add_loras=loras.add_files)
    qtbot.addWidget(dialog)
    scan = dialog.open_scan()
    scan.folder.setText(str(root))
    scan.scan_button.click()
    qtbot.waitUntil(lambda: not scan.scanning, timeout=30000)
    assert models_folder() == str(root)  # offered again next time
    groups = {scan.files.topLevelItem(i).text(0) for i in range(scan.files.topLevelItemCount())}
    assert groups == {"Diffusion transformers (1)", "VAEs (1)", "Text encoders (2)", "LoRAs (1)"}
    assert "5 weights files found" in scan.status.text() and "1 unreadable" in scan.status.text()

    scan.select("flux1-tiny.safetensors")
    assert scan.use_model.isEnabled() and not scan.use_vae.isEnabled() and not scan.add_loras.isEnabled()
    scan.use_model.click()
    assert dialog.source.currentData() == "file" and dialog.file.text() == str(root / "diffusion_models" /
                                                                               "flux1-tiny.safetensors")
    assert dialog.model.currentData() == "FLUX.1-dev"  # a built-in family's file keeps the chosen model
    scan.select("ae.safetensors")
    scan.use_vae.click()
    assert dialog.vae.text() == str(root / "vae" / "ae.safetensors")
    scan.select("t5.safetensors", "clip_l.safetensors")
    scan.use_text_encoders.click()
    assert {e.text() for e in dialog.text_encoders} == {str(root / "clip" / "t5.safetensors"),
                                                        str(root / "clip" / "clip_l.safetensors"), ""}
    scan.select("ink.safetensors")
    scan.add_loras.click()
    assert "ink.safetensors" in dialog.loras_note.text() and doc.settings.loras == ()  # added on OK
    scan.reject()
    dialog.accept()
    assert [lora.name for lora in doc.settings.loras] == ["ink.safetensors"] and doc.undo_stack.count() == 1
    stored = load_model_settings()
    assert stored.file.endswith("flux1-tiny.safetensors") and stored.vae.endswith("ae.safetensors")
    assert len(stored.text_encoders) == 2
    doc.undo_stack.clear()


def test_dialog_fits_a_1366x768_screen(qtbot):
    import os
    from pathlib import Path

    from ast_studio.generation.model_settings_dialog import ModelSettingsDialog

    save_model_settings(ModelSettings(model="FLUX.1-dev", source="file", file="/models/flux1-dev.safetensors"))
    dialog = ModelSettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    hint = dialog.sizeHint()
    assert hint.width() <= 1000 and hint.height() <= 640, hint  # room for the title bar and a panel
    screens = Path(os.environ.get("AST_SCREENS_DIR", Path(__file__).resolve().parents[2] / "out" / "screens"))
    screens.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(screens / "model-settings-model.png"))
    dialog.tabs.setCurrentIndex(1)
    dialog.grab().save(str(screens / "model-settings-memory.png"))
