"""Which model the studio loads, from where and how: typed, persisted with QSettings.

The settings belong to the user (not to a project): the same model folder serves every
project. Stored under the ``model/`` group of the application's QSettings. A stored value
that is missing or not understood falls back to its default with a log line, so a bad
settings file never stops the studio from starting.

No torch here: checking a folder against the engine's requirements runs off the GUI
thread (:mod:`.model_check`).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)

#: Model families the studio offers (names of ``ast_core.models.families.FAMILIES``).
MODEL_NAMES = ("FLUX.1-dev", "FLUX.1-schnell", "tiny-flux")
BUILTIN_MODELS = ("tiny-flux",)  # built in code: no folder, no download
#: Where the weights come from: a local folder, or a repository id in the Hugging Face cache.
SOURCES = ("folder", "hf_cache")
DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "bf16", "fp16", "f32")
GROUP = "model"
HF_IDS = {"FLUX.1-dev": "black-forest-labs/FLUX.1-dev", "FLUX.1-schnell": "black-forest-labs/FLUX.1-schnell"}


@dataclass(frozen=True)
class ModelSettings:
    model: str = "tiny-flux"
    source: str = "folder"
    folder: str = ""
    hf_id: str = ""
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False

    @property
    def is_builtin(self) -> bool:
        return self.model in BUILTIN_MODELS

    @property
    def location(self) -> str:
        """The folder or Hugging Face id the weights load from ("" for a built-in model)."""
        if self.is_builtin:
            return ""
        if self.source == "hf_cache":
            return self.hf_id or HF_IDS.get(self.model, "")
        return self.folder

    def load_key(self) -> tuple:
        """Two settings with the same key load the same pipeline (the worker's cache key)."""
        return (self.model, "" if self.is_builtin else self.source, self.location, self.device,
                self.dtype, self.cpu_offload)

    def describe(self) -> str:
        where = "built in" if self.is_builtin else (
            f"Hugging Face cache {self.location}" if self.source == "hf_cache" else (self.folder or "no folder set"))
        extra = [] if self.device == "auto" else [self.device]
        extra += [] if self.dtype == "auto" else [self.dtype]
        extra += ["CPU offload"] if self.cpu_offload else []
        return f"{self.model} ({where}{', ' + ', '.join(extra) if extra else ''})"

    def to_dict(self) -> dict:
        return asdict(self)

    def with_changes(self, **changes) -> "ModelSettings":
        return replace(self, **changes)


DEFAULTS = ModelSettings()


def _store() -> QSettings:
    from ast_studio.settings import store

    return store()


def _choice(settings: QSettings, key: str, choices: tuple, default: str) -> str:
    value = settings.value(key, default)
    if value is None or str(value) not in choices:
        if settings.contains(key):
            log.warning("setting %s=%r is not one of %s; using %r", key, value, ", ".join(choices), default)
        return default
    return str(value)


def _text(settings: QSettings, key: str, default: str) -> str:
    value = settings.value(key, default)
    if not isinstance(value, str):
        log.warning("setting %s=%r is not text; using %r", key, value, default)
        return default
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


def load_model_settings(settings: QSettings | None = None) -> ModelSettings:
    """The stored settings; each bad or missing value falls back to its default."""
    s = settings if settings is not None else _store()
    s.beginGroup(GROUP)
    try:
        return ModelSettings(
            model=_choice(s, "model", MODEL_NAMES, DEFAULTS.model),
            source=_choice(s, "source", SOURCES, DEFAULTS.source),
            folder=_text(s, "folder", DEFAULTS.folder),
            hf_id=_text(s, "hf_id", DEFAULTS.hf_id),
            device=_choice(s, "device", DEVICES, DEFAULTS.device),
            dtype=_choice(s, "dtype", DTYPES, DEFAULTS.dtype),
            cpu_offload=flag(s, "cpu_offload", DEFAULTS.cpu_offload),
        )
    finally:
        s.endGroup()


def save_model_settings(model: ModelSettings, settings: QSettings | None = None) -> None:
    s = settings if settings is not None else _store()
    s.beginGroup(GROUP)
    try:
        for key, value in model.to_dict().items():
            s.setValue(key, value)
    finally:
        s.endGroup()
    s.sync()

