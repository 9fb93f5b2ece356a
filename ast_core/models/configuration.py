"""Which model renders: the user's configuration, shared by the studio and ``ast-studio render``.

The configuration belongs to the user, not to a project (the same model folder serves every
project). It is a small JSON file, ``model.json``, in the user's configuration folder:

* ``$AST_STUDIO_CONFIG_DIR`` when set (the test suite points it at a temporary folder);
* Windows ``%APPDATA%\\AST Studio``; macOS ``~/Library/Application Support/AST Studio``;
* elsewhere ``$XDG_CONFIG_HOME/ast-studio`` (``~/.config/ast-studio``).

One rule for every front end (:func:`configured_model`): the stored configuration, else the
built-in tiny-flux with a one-line note saying so. A stored value that is missing or not
understood falls back to its default with a log line, so a bad file never stops a render.
No torch and no Qt here.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from .architectures import DEFAULT_FAMILY, FAMILIES
from .families import ModelFamily
from .options import CHOICES as OPTION_CHOICES
from .options import LoraChoice, ModelOptions

log = logging.getLogger(__name__)

ENV_FOLDER = "AST_STUDIO_CONFIG_DIR"
FILE_NAME = "model.json"
#: Model families offered for rendering (names of ``FAMILIES``), real models first.
MODEL_NAMES = tuple(FAMILIES)
BUILTIN_MODELS = tuple(f.name for f in FAMILIES.values() if f.builtin)  # built in code: no folder, no download
#: Where the weights come from: a local diffusers folder, a repository id in the Hugging Face
#: cache, or one weights file (a transformer, GGUF or all-in-one checkpoint; the other parts from ``base``).
SOURCES = ("folder", "hf_cache", "file")
DEVICES = OPTION_CHOICES["device"]
DTYPES = OPTION_CHOICES["dtype"]
HF_IDS = {f.name: f.hf_id for f in FAMILIES.values() if f.hf_id}
NO_MODEL_NOTE = (f"no model configured: rendering with the built-in {DEFAULT_FAMILY} (random weights: it shows the "
                 "pipeline working, not real pictures); choose a model in Generate > Model settings")


@dataclass(frozen=True)
class ModelConfiguration:
    model: str = DEFAULT_FAMILY
    source: str = "folder"
    folder: str = ""
    hf_id: str = ""
    file: str = ""
    #: with a single file: where the other parts come from ("" = the family's usual repository)
    base: str = ""
    vae: str = ""
    text_encoders: tuple[str, ...] = ()
    device: str = "auto"
    dtype: str = "auto"
    quantize: str = "none"
    text_encoder_quantize: str = "none"
    offload: str = "none"
    vae_tiling: str = "auto"

    @property
    def is_builtin(self) -> bool:
        return self.model in BUILTIN_MODELS

    @property
    def family(self) -> ModelFamily:
        """The family these settings name (what "Model default" steps and the timesteps follow)."""
        return FAMILIES[self.model]

    @property
    def location(self) -> str:
        """The folder or Hugging Face id the weights load from ("" for a built-in model)."""
        if self.is_builtin:
            return ""
        if self.source == "hf_cache":
            return self.hf_id or HF_IDS.get(self.model, "")
        if self.source == "file":
            return self.file
        return self.folder

    def missing_location(self) -> str:
        """Why the weights cannot be found from these settings ("" when a location is set)."""
        if self.is_builtin or self.location:
            return ""
        what = {"hf_cache": "Hugging Face repository id", "file": "model file"}.get(self.source, "model folder")
        return f"no {what} set for {self.model}: choose one in Model settings"

    def load_source(self) -> str:
        """What ``load_model`` takes: the built-in model's name, a folder or a Hugging Face id."""
        return self.model if self.is_builtin else self.location

    @property
    def cpu_offload(self) -> bool:
        return self.offload != "none"

    def options(self, loras: tuple[LoraChoice, ...] = ()) -> ModelOptions:
        """What ``load_model`` takes for this configuration (with a project's ``loras``)."""
        builtin = self.is_builtin
        return ModelOptions(
            source=self.load_source(), base="" if builtin else self.base, vae="" if builtin else self.vae,
            text_encoders=() if builtin else tuple(self.text_encoders), device=self.device, dtype=self.dtype,
            quantize=self.quantize, text_encoder_quantize=self.text_encoder_quantize, offload=self.offload,
            vae_tiling=self.vae_tiling, loras=tuple(loras),
        )

    def load_key(self) -> tuple:
        """Two configurations with the same key load the same pipeline (the studio worker's cache key)."""
        return (self.model, self.options().load_key())

    def describe(self) -> str:
        where = "built in" if self.is_builtin else {
            "hf_cache": f"Hugging Face cache {self.location}", "file": self.file or "no file set",
        }.get(self.source, self.folder or "no folder set")
        extra = [] if self.device == "auto" else [self.device]
        extra += [] if self.dtype == "auto" else [self.dtype]
        extra += [f"transformer {self.quantize}"] if self.quantize != "none" else []
        extra += [f"T5 {self.text_encoder_quantize}"] if self.text_encoder_quantize != "none" else []
        extra += [f"{self.offload} offload"] if self.offload != "none" else []
        return f"{self.model} ({where}{', ' + ', '.join(extra) if extra else ''})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["text_encoders"] = list(self.text_encoders)
        return d

    def with_changes(self, **changes) -> "ModelConfiguration":
        return replace(self, **changes)


DEFAULTS = ModelConfiguration()
CHOICES = {"model": MODEL_NAMES, "source": SOURCES,
           **{k: v for k, v in OPTION_CHOICES.items() if k in {f.name for f in fields(ModelConfiguration)}}}


def config_folder() -> Path:
    """The user's AST Studio configuration folder (``$AST_STUDIO_CONFIG_DIR`` wins)."""
    chosen = os.environ.get(ENV_FOLDER)
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "AST Studio"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "AST Studio"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ast-studio"


def configuration_path() -> Path:
    return config_folder() / FILE_NAME


def configuration_from_dict(data: dict, where: str = FILE_NAME) -> ModelConfiguration:
    """A configuration from stored values; each bad or missing value falls back to its default."""
    data = dict(data)
    if "cpu_offload" in data:  # versions before the offload modes stored a flag
        flag = data.pop("cpu_offload")
        if not isinstance(flag, bool):
            log.warning("%s: cpu_offload=%r is not understood; using no offload", where, flag)
        elif flag and "offload" not in data:
            data["offload"] = "model"
    values = {}
    for f in fields(ModelConfiguration):
        default = getattr(DEFAULTS, f.name)
        if f.name not in data:
            values[f.name] = default
            continue
        v = data[f.name]
        if f.name in CHOICES:
            ok = v in CHOICES[f.name]
        elif isinstance(default, bool):
            ok = isinstance(v, bool)
        elif isinstance(default, tuple):
            ok = isinstance(v, list) and len(v) <= 3 and all(isinstance(x, str) and x for x in v)
            v = tuple(v) if ok else v
        else:
            ok = isinstance(v, str)
        if not ok:
            log.warning("%s: %s=%r is not understood; using %r", where, f.name, v, default)
            v = default
        values[f.name] = v
    unknown = sorted(set(data) - {f.name for f in fields(ModelConfiguration)})
    if unknown:
        log.warning("%s: ignoring unknown setting(s) %s", where, ", ".join(unknown))
    return ModelConfiguration(**values)


def read_configuration(path: Path | None = None) -> ModelConfiguration | None:
    """The stored configuration, or None when nothing (readable) is stored."""
    path = Path(path) if path is not None else configuration_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("cannot read the model configuration %s (%s); using the default", path, e)
        return None
    try:
        data = json.loads(text)
    except ValueError as e:
        log.warning("the model configuration %s is not valid JSON (%s); using the default", path, e)
        return None
    if not isinstance(data, dict):
        log.warning("the model configuration %s is not a JSON object; using the default", path)
        return None
    return configuration_from_dict(data, str(path))


def write_configuration(config: ModelConfiguration, path: Path | None = None) -> Path:
    """Store ``config`` (atomically: a reader never sees half a file); returns the path written."""
    path = Path(path) if path is not None else configuration_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(part, path)
    return path


def configured_model(path: Path | None = None) -> tuple[ModelConfiguration, str]:
    """(configuration, note): the stored model, else tiny-flux with :data:`NO_MODEL_NOTE`."""
    stored = read_configuration(path)
    if stored is None:
        return DEFAULTS, NO_MODEL_NOTE
    return stored, ""
