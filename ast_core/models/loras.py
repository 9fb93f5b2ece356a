"""LoRAs on a loaded pipeline: several at once, each with a strength, changed without reloading.

Files go through the pipeline's ``load_lora_weights``, whose converters read the common
formats (kohya/sd-scripts ``lora_unet_*``, XLabs, ComfyUI/BFL, diffusers/PEFT), and
``set_adapters`` gives each its strength. A file that is not a LoRA, is for another model, or
does not fit this model's layers is refused with one line naming the file; the LoRAs that
were active stay as they were. Needs the ``peft`` package (a dependency of ast-studio).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint_files import CheckpointFileError, inspect_file
from .options import LoraChoice

log = logging.getLogger(__name__)


class LoraError(ValueError):
    """A LoRA file cannot be applied; the message names the file and why."""


@dataclass
class LoraState:
    """The adapters loaded into one pipeline: resolved path -> (adapter name, sha256)."""

    adapters: dict[str, tuple[str, str]] = field(default_factory=dict)
    active: list[dict] = field(default_factory=list)  # what the metadata records
    counter: int = 0


def file_hash(path: Path) -> str:
    """sha256 of the whole file (what LoRA sites list), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_file(choice: LoraChoice, architecture) -> Path:
    path = Path(choice.path).expanduser()
    try:
        facts = inspect_file(path)
    except CheckpointFileError as e:
        raise LoraError(f"lora {e}") from None
    if facts.kind != "lora":
        raise LoraError(f"lora {path}: not a LoRA, it holds a {facts.describe()}")
    if facts.architecture and facts.architecture != architecture.name:
        raise LoraError(f"lora {path}: made for {facts.architecture}, this model is {architecture.label}")
    if facts.format != "safetensors":
        raise LoraError(f"lora {path}: LoRAs are read from .safetensors files")
    return path.resolve()


def apply_loras(pipe, architecture, wanted: tuple[LoraChoice, ...], state: LoraState) -> list[dict]:
    """Make exactly ``wanted`` active on ``pipe`` (loading new files, dropping unlisted ones)."""
    checked = [(choice, _check_file(choice, architecture)) for choice in wanted]
    names, weights, active = [], [], []
    added: list[str] = []
    try:
        for choice, path in checked:
            key = str(path)
            if key not in state.adapters:
                state.counter += 1
                name = f"lora{state.counter}"
                try:
                    pipe.load_lora_weights(key, adapter_name=name)
                except Exception as e:  # noqa: BLE001 - converters raise many types for foreign files
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                    raise LoraError(f"lora {path}: does not fit this {architecture.label} model ({first[:200]})") from e
                state.adapters[key] = (name, file_hash(path))
                added.append(key)
            name, digest = state.adapters[key]
            names.append(name)
            weights.append(float(choice.scale))
            active.append({"path": str(choice.path), "name": path.name, "scale": float(choice.scale),
                           "sha256": digest})
    except LoraError:
        for key in added:  # leave the pipeline as it was
            pipe.delete_adapters([state.adapters.pop(key)[0]])
        raise
    unused = [state.adapters.pop(k)[0] for k in list(state.adapters) if k not in {str(p) for _, p in checked}]
    if unused:
        pipe.delete_adapters(unused)
    if names:
        if hasattr(pipe, "enable_lora"):
            pipe.enable_lora()
        pipe.set_adapters(names, weights)
    state.active = active
    return active
