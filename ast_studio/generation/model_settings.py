"""Which model the studio loads, from where and how: the user's model configuration.

The configuration and its storage live in :mod:`ast_core.models.configuration` (a JSON file
in the user's configuration folder), so ``ast-studio render`` follows the same choice. This
module adds what the studio needs on top: a Qt signal when the choice changes (the Generate
and Schedule panels follow it) and a one-time move of settings that older versions kept in
QSettings (group ``model/``).

No torch here: checking a folder against the engine's requirements runs off the GUI
thread (:mod:`.model_check`).
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from ast_core.models.configuration import (  # noqa: F401 - the studio's names for them
    BUILTIN_MODELS,
    DEVICES,
    DTYPES,
    HF_IDS,
    MODEL_NAMES,
    SOURCES,
    configuration_from_dict,
    configuration_path,
    configured_model,
    write_configuration,
)
from ast_core.models.configuration import DEFAULTS  # noqa: F401
from ast_core.models.configuration import ModelConfiguration as ModelSettings

log = logging.getLogger(__name__)

OLD_GROUP = "model"  # where versions before the JSON file kept the model settings (QSettings)


class ModelSettingsNotifier(QObject):
    #: the stored model settings changed (the new ModelSettings)
    changed = Signal(object)


_notifier: ModelSettingsNotifier | None = None


def notifier() -> ModelSettingsNotifier:
    """The one object that announces model-settings changes to every panel."""
    global _notifier
    if _notifier is None:
        _notifier = ModelSettingsNotifier()
    return _notifier


def load_model_settings(path: Path | None = None) -> ModelSettings:
    """The configured model (the default built-in model when none is); each bad stored value falls back."""
    if path is None:
        _move_old_settings()
    return configured_model(path)[0]


def model_note(path: Path | None = None) -> str:
    """The one-line note shown while no model is configured ("" once one is)."""
    if path is None:
        _move_old_settings()
    return configured_model(path)[1]


def save_model_settings(model: ModelSettings, path: Path | None = None) -> None:
    write_configuration(model, path)
    notifier().changed.emit(model)


def _move_old_settings() -> None:
    """Model settings an older studio stored in QSettings move to the configuration file, once."""
    if configuration_path().exists():
        return
    try:
        from ast_studio.settings import store

        old = store()
        if not old.contains(f"{OLD_GROUP}/model"):
            return
        old.beginGroup(OLD_GROUP)
        try:
            data = {key: _plain(old.value(key)) for key in old.childKeys()}
        finally:
            old.endGroup()
        model = configuration_from_dict(data, "QSettings model/")
        path = write_configuration(model)
        old.remove(OLD_GROUP)
        log.info("model settings moved from QSettings to %s", path)
    except Exception:  # noqa: BLE001 - an old settings file must never stop the studio
        log.exception("could not move the old model settings")


def _plain(value):
    """QSettings (INI) gives booleans back as text."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def flag(settings: QSettings, key: str, default: bool) -> bool:
    value = settings.value(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int):
        return bool(value)
    log.warning("setting %s=%r is not true/false; using %r", key, value, default)
    return default
