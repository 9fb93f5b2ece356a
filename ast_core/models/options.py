"""Every option of loading a model, typed and validated: what the studio's model dialog and
``ast-studio render``'s flags both set, and what a render's metadata records.

    options = ModelOptions(source="~/models/flux1-dev-Q4_0.gguf", base="black-forest-labs/FLUX.1-dev",
                           text_encoder_quantize="fp8", offload="model",
                           loras=(LoraChoice("~/loras/ink.safetensors", 0.8),))
    options.validate()             # OptionError (a ValueError) naming the option and the choices
    ModelOptions.from_dict(options.to_dict()) == options

No torch, no Qt: the studio builds its dialog from the choices here (``CHOICES`` and the
labels in ``LABELS``) on its GUI thread. Which choices a device or the installed packages
allow is checked when loading (:mod:`ast_core.models.quantisation`), with one line naming
what is missing.

* ``source``: a built-in model's name (``tiny-flux``), a diffusers folder, a Hugging Face id
  already in the local cache, or one file (``.safetensors`` / ``.gguf``): a transformer, or an
  all-in-one checkpoint.
* ``base``: where the other components (and the configs) come from when ``source`` is a file:
  a diffusers folder or a cached Hugging Face id ("" = the model family's usual repository in the
  cache). Only the configs and tokenizers are read from it for components given as files.
* ``vae`` and ``text_encoders``: single files replacing the base's VAE / text encoders (each
  text-encoder file is matched to its slot by its contents).
* ``quantize`` (the transformer) and ``text_encoder_quantize`` (the T5 encoder): see ``QUANTISATIONS``.
  A ``.gguf`` source is already quantised: ``quantize`` must then be ``none``.
* ``offload``: ``none``; ``model`` (one component on the GPU at a time); ``sequential`` (one
  layer at a time: least memory, slowest); ``group`` (groups of blocks, streamed).
* ``vae_tiling``: ``auto`` (tiled decoding above ``AUTO_TILING_PIXELS``), ``on``, ``off``.
* ``loras``: several LoRA files with a strength each (a project's list; applied without reloading).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .architectures import DEFAULT_FAMILY

#: Weight quantisations (transformer and T5): name -> what it is (the studio shows this text).
QUANTISATIONS: dict[str, str] = {
    "none": "as stored, in the precision setting",
    "fp8": "fp8 storage, computed in the precision setting (layer-wise casting; any device but Apple MPS)",
    "nf4": "4-bit NF4 (bitsandbytes; NVIDIA CUDA only)",
    "int8": "8-bit LLM.int8 (bitsandbytes; NVIDIA CUDA only)",
    "torchao-int8": "8-bit weights (torchao; CPU and GPUs)",
    "torchao-fp8": "fp8 weights (torchao; recent NVIDIA GPUs and CPU)",
}
OFFLOADS: dict[str, str] = {
    "none": "everything stays on the device",
    "model": "one model part on the GPU at a time (saves memory, a little slower)",
    "sequential": "one layer at a time (least memory, much slower)",
    "group": "groups of transformer blocks streamed to the GPU (between the two)",
}
VAE_TILINGS: dict[str, str] = {
    "auto": "tiled decoding for large images only",
    "on": "always decode in tiles (least memory)",
    "off": "never tile",
}
DEVICES = ("auto", "cuda", "mps", "xpu", "cpu")
DTYPES = ("auto", "bf16", "fp16", "f32")
#: ``vae_tiling="auto"`` tiles images with more pixels than this (2 megapixels: above every
#: standard canvas, e.g. 1024x1024 and 1344x768 decode whole; 2048x2048 decodes in tiles).
AUTO_TILING_PIXELS = 2 * 1024 * 1024
MAX_LORAS = 16
MAX_LORA_SCALE = 10.0

CHOICES: dict[str, tuple[str, ...]] = {
    "device": DEVICES, "dtype": DTYPES, "quantize": tuple(QUANTISATIONS),
    "text_encoder_quantize": tuple(QUANTISATIONS), "offload": tuple(OFFLOADS), "vae_tiling": tuple(VAE_TILINGS),
}
LABELS: dict[str, dict[str, str]] = {
    "quantize": QUANTISATIONS, "text_encoder_quantize": QUANTISATIONS, "offload": OFFLOADS,
    "vae_tiling": VAE_TILINGS,
}
#: File name endings a single-file source may have.
SINGLE_FILE_SUFFIXES = (".safetensors", ".sft", ".gguf")


class OptionError(ValueError):
    """A model option is wrong; the message names the option, the value and what is allowed."""


@dataclass(frozen=True)
class LoraChoice:
    """One LoRA file and its strength (0 = no effect; negative values invert it)."""

    path: str
    scale: float = 1.0

    def validate(self) -> "LoraChoice":
        if not isinstance(self.path, str) or not self.path.strip():
            raise OptionError(f"lora: the file name must be text, got {self.path!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) or not math.isfinite(self.scale):
            raise OptionError(f"lora {self.path}: the strength must be a number, got {self.scale!r}")
        if abs(self.scale) > MAX_LORA_SCALE:
            raise OptionError(f"lora {self.path}: the strength must be between -{MAX_LORA_SCALE:g} and "
                              f"{MAX_LORA_SCALE:g}, got {self.scale:g}")
        return self

    @property
    def name(self) -> str:
        return Path(self.path).name

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "scale": float(self.scale)}

    @staticmethod
    def from_dict(data: Any) -> "LoraChoice":
        if isinstance(data, str):
            return parse_lora(data)
        if not isinstance(data, dict) or "path" not in data:
            raise OptionError(f"lora: expected {{'path': FILE, 'scale': NUMBER}}, got {data!r}")
        unknown = set(data) - {"path", "scale"}
        if unknown:
            raise OptionError(f"lora: unknown field(s) {', '.join(sorted(unknown))}")
        return LoraChoice(data["path"], data.get("scale", 1.0)).validate()


def parse_lora(text: str) -> LoraChoice:
    """``FILE`` or ``FILE:SCALE`` (the command line's ``--lora``); a Windows drive colon is kept."""
    if not isinstance(text, str) or not text.strip():
        raise OptionError("lora: give a file name, optionally FILE:SCALE")
    path, scale = text, 1.0
    head, sep, tail = text.rpartition(":")
    if sep and head and not (len(head) == 1 and head.isalpha()):  # "C:\x.safetensors" has no scale
        try:
            scale = float(tail)
        except ValueError:
            if tail and "/" not in tail and "\\" not in tail:
                raise OptionError(f"lora {text!r}: the strength after ':' must be a number, got {tail!r}") from None
        else:
            path = head
    return LoraChoice(path, scale).validate()


@dataclass(frozen=True)
class ModelOptions:
    """Everything that decides how a model is loaded and run (see the module docstring)."""

    source: str = DEFAULT_FAMILY
    base: str = ""
    vae: str = ""
    text_encoders: tuple[str, ...] = ()
    device: str = "auto"
    dtype: str = "auto"
    quantize: str = "none"
    text_encoder_quantize: str = "none"
    offload: str = "none"
    vae_tiling: str = "auto"
    loras: tuple[LoraChoice, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ checks
    def validate(self) -> "ModelOptions":
        for name in ("source", "base", "vae"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise OptionError(f"{name} must be text, got {value!r}")
        if not self.source.strip():
            raise OptionError("source: give a built-in model, a model folder, a Hugging Face id or a model file")
        if not isinstance(self.text_encoders, tuple) or not all(isinstance(t, str) and t for t in self.text_encoders):
            raise OptionError(f"text_encoders must be a list of file names, got {self.text_encoders!r}")
        if len(self.text_encoders) > 3:
            raise OptionError(f"text_encoders: at most 3 files (CLIP-L, CLIP-G, T5), got {len(self.text_encoders)}")
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if name == "device" and isinstance(value, str) and _indexed_device(value):
                continue
            if value not in choices:
                raise OptionError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if self.is_gguf and self.quantize != "none":
            raise OptionError(f"quantize: {Path(self.source).name} is a GGUF file, already quantised; "
                              f"use quantize none with it (got {self.quantize!r})")
        if not isinstance(self.loras, tuple):
            raise OptionError(f"loras must be a list, got {self.loras!r}")
        if len(self.loras) > MAX_LORAS:
            raise OptionError(f"loras: at most {MAX_LORAS}, got {len(self.loras)}")
        seen = set()
        for lora in self.loras:
            if not isinstance(lora, LoraChoice):
                raise OptionError(f"loras: expected LoraChoice entries, got {lora!r}")
            lora.validate()
            key = str(Path(lora.path).expanduser())
            if key in seen:
                raise OptionError(f"loras: {lora.path} is listed twice; give it once with the strength you want")
            seen.add(key)
        return self

    # ------------------------------------------------------------------ facts
    @property
    def is_file(self) -> bool:
        """The source is one weights file (a transformer or an all-in-one checkpoint)."""
        return self.source.lower().endswith(SINGLE_FILE_SUFFIXES)

    @property
    def is_gguf(self) -> bool:
        return self.source.lower().endswith(".gguf")

    @property
    def cpu_offload(self) -> bool:
        """Any offload (the older boolean setting)."""
        return self.offload != "none"

    def load_key(self) -> tuple:
        """Two options with the same key load the same pipeline (LoRAs are applied afterwards)."""
        d = self.to_dict()
        d.pop("loras")
        return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(d.items()))

    def vae_tiles(self, width: int, height: int) -> bool:
        """Whether a ``width x height`` render decodes in tiles."""
        return self.vae_tiling == "on" or (self.vae_tiling == "auto" and width * height > AUTO_TILING_PIXELS)

    def describe(self) -> str:
        """A short line for logs and the studio's status ("FILE, fp8, model offload, 2 LoRAs")."""
        parts = [Path(self.source).name if self.is_file else self.source]
        parts += [f"transformer {self.quantize}"] if self.quantize != "none" else []
        parts += [f"T5 {self.text_encoder_quantize}"] if self.text_encoder_quantize != "none" else []
        parts += [f"{self.offload} offload"] if self.offload != "none" else []
        parts += [f"{len(self.loras)} LoRA{'s' if len(self.loras) > 1 else ''}"] if self.loras else []
        return ", ".join(parts)

    # ------------------------------------------------------------------ dicts
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["text_encoders"] = list(self.text_encoders)
        d["loras"] = [lora.to_dict() for lora in self.loras]
        return d

    @staticmethod
    def from_dict(data: Any) -> "ModelOptions":
        """Options from a JSON object (missing keys take their defaults); OptionError on anything wrong."""
        if not isinstance(data, dict):
            raise OptionError(f"model options must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(ModelOptions)}
        unknown = set(data) - known
        if unknown:
            raise OptionError(f"unknown model option(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        if "text_encoders" in values:
            te = values["text_encoders"]
            if not isinstance(te, (list, tuple)):
                raise OptionError(f"text_encoders must be a list of file names, got {te!r}")
            values["text_encoders"] = tuple(te)
        if "loras" in values:
            loras = values["loras"]
            if not isinstance(loras, (list, tuple)):
                raise OptionError(f"loras must be a list, got {loras!r}")
            values["loras"] = tuple(LoraChoice.from_dict(x) for x in loras)
        return ModelOptions(**values).validate()

    def with_changes(self, **changes) -> "ModelOptions":
        return replace(self, **changes)


def _indexed_device(value: str) -> bool:
    """``cuda:1``, ``xpu:0``..."""
    kind, sep, index = value.partition(":")
    return bool(sep) and kind in ("cuda", "xpu", "mps") and index.isdigit()


#: Where a project keeps its LoRA list in its settings (``settings.json``): ``[{"path", "scale"}]``.
PROJECT_LORAS = "loras"


def loras_from_settings(settings: Any) -> tuple[LoraChoice, ...]:
    """A project's LoRAs from its settings (none when absent); OptionError for a bad list."""
    if not isinstance(settings, dict) or settings.get(PROJECT_LORAS) in (None, []):
        return ()
    value = settings[PROJECT_LORAS]
    if not isinstance(value, list):
        raise OptionError(f"project settings: {PROJECT_LORAS} must be a list, got {type(value).__name__}")
    return tuple(LoraChoice.from_dict(x) for x in value)


def loras_to_settings(loras: tuple[LoraChoice, ...]) -> list[dict[str, Any]]:
    return [lora.to_dict() for lora in loras]

