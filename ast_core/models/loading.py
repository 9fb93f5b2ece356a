"""Load a model for generation: a built-in tiny model, a diffusers folder, or a Hugging Face cache id.

Always offline and safe: ``local_files_only=True``, safetensors weights only, no remote
code (the pipeline class must be one an architecture adapter knows). Every failure is a
:class:`ModelLoadError` whose message says what is wrong and with which file or folder.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .architecture import Architecture
from .architectures import ARCHITECTURES, DEFAULT_FAMILY, FAMILIES, architecture_for_pipeline_class
from .device import DTYPE_NAMES, resolve_device, resolve_dtype
from .families import ModelFamily

log = logging.getLogger(__name__)

TINY_NAME = DEFAULT_FAMILY
#: Written next to model_index.json by ``export_tiny_model``: names the family for the loader.
MARKER_FILE = "ast_studio_model.json"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelLoadError(Exception):
    """The model could not be loaded; the message names the folder/file and what to do."""


@dataclass
class LoadedModel:
    """A ready pipeline plus the facts of its family and where it came from."""

    pipeline: object  # the diffusers pipeline of the family's architecture
    family: ModelFamily
    source: str  # "tiny-flux", a folder path or a Hugging Face id
    device: torch.device
    dtype: torch.dtype
    cpu_offload: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def transformer(self):
        return self.pipeline.transformer

    @property
    def architecture(self) -> Architecture:
        return self.family.architecture

    @property
    def execution_device(self) -> torch.device:
        return self.pipeline._execution_device

    def describe(self) -> dict:
        """What the generation metadata records about the model."""
        return {
            "source": self.source,
            "family": self.family.name,
            "architecture": self.family.architecture_name,
            "device": str(self.device),
            "dtype": DTYPE_NAMES.get(self.dtype, str(self.dtype)),
            "cpu_offload": self.cpu_offload,
        }


def load_model(
    source: str | Path = TINY_NAME,
    device: str | torch.device | None = "auto",
    dtype: str | torch.dtype | None = "auto",
    cpu_offload: bool = False,
) -> LoadedModel:
    """Load ``source``: a built-in model's name (``"tiny-flux"``, ``"tiny-sd3"``), a diffusers
    folder, or a Hugging Face id already in the local cache."""
    try:
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
    except ValueError as e:
        raise ModelLoadError(str(e)) from None
    text = str(source)
    builtin = FAMILIES.get(text)
    if builtin is not None and builtin.builtin:
        shared = dev.type == "cpu" and dt == torch.float32  # (CPU offload is ignored on the CPU)
        pipe = builtin.architecture.build_tiny(builtin, fresh=not shared)
        return _finish(pipe, builtin, text, dev, dt, cpu_offload)
    path = Path(text).expanduser()
    if path.exists() or text.startswith((".", "/", "~")) or "\\" in text or not _HF_ID.match(text):
        folder = path
        label = str(path)
    else:
        folder = hf_cache_folder(text)
        label = text
    fam = check_folder(folder)
    pipe = _from_folder(folder, fam, dt)
    return _finish(pipe, fam, label, dev, dt, cpu_offload)


def check_folder(folder: Path) -> ModelFamily:
    """Validate a diffusers model folder; raise one ModelLoadError listing everything missing."""
    if not folder.exists():
        raise ModelLoadError(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file, not a diffusers model folder")
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise ModelLoadError(f"{folder} is not a diffusers model folder: model_index.json is missing")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{index_file}: unreadable model index ({e})") from None
    cls = index.get("_class_name") if isinstance(index, dict) else None
    arch = architecture_for_pipeline_class(cls) if isinstance(cls, str) else None
    if arch is None:
        supported = sorted(c for a in ARCHITECTURES.values() for c in a.pipeline_classes)
        raise ModelLoadError(
            f"{folder} holds no pipeline AST Studio knows: model_index.json names {cls!r}; "
            f"supported: {', '.join(supported)}"
        )
    missing = []
    for comp, needs in arch.components.items():
        sub = folder / comp
        if not sub.is_dir():
            missing.append(f"{comp}/")
            continue
        for alternatives in needs:
            if not any(list(sub.glob(pattern)) for pattern in alternatives):
                missing.append(f"{comp}/{' or '.join(alternatives)}")
    if missing:
        raise ModelLoadError(f"model folder {folder} is incomplete: missing {', '.join(missing)}")
    marker = None
    if (folder / MARKER_FILE).is_file():
        try:
            marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8")).get("family")
        except (OSError, ValueError, AttributeError):
            marker = None
    for comp, needs in arch.components.items():  # every config diffusers or transformers will read
        for name in (n for alternatives in needs for n in alternatives if n.endswith("config.json")):
            if (folder / comp / name).is_file():
                _config(folder / comp / name)
    try:
        return arch.family_for(_config(folder / "transformer" / "config.json"), marker, str(folder))
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"{folder / 'transformer' / 'config.json'}: {e}") from None


def _config(path: Path) -> dict:
    """A component's config, which must be a JSON object (given anything else, diffusers takes
    it for a model name and looks for it on the Hugging Face hub)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{path}: unreadable ({e})") from None
    if not isinstance(value, dict):
        raise ModelLoadError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def hf_cache_folder(repo_id: str) -> Path:
    """The local snapshot folder of a Hugging Face repository (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as e:  # noqa: BLE001 - hub raises several types for "not cached"
        raise ModelLoadError(
            f"{repo_id} is not in the local Hugging Face cache (AST Studio loads offline); "
            f"download it first (e.g. `hf download {repo_id}`) or give a model folder ({type(e).__name__})"
        ) from None


def _from_folder(folder: Path, fam: ModelFamily, dtype: torch.dtype):
    try:
        return fam.architecture.load_folder(str(folder), dtype)
    except Exception as e:  # noqa: BLE001 - corrupt weights surface as many exception types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"could not load {fam.name} from {folder}: {first[:300]}") from e


def _finish(pipe, fam: ModelFamily, source: str, dev: torch.device, dt: torch.dtype, cpu_offload: bool) -> LoadedModel:
    notes: list[str] = []
    pipe.set_progress_bar_config(disable=True)
    if cpu_offload and dev.type == "cpu":
        notes.append("CPU offload only helps on a GPU; running on the CPU without it")
        cpu_offload = False
    try:
        if cpu_offload:
            pipe.enable_model_cpu_offload(device=dev)
        elif (pipe.device, pipe.dtype) != (dev, dt):
            pipe.to(device=dev, dtype=dt)
    except (RuntimeError, ValueError, ImportError) as e:
        raise ModelLoadError(f"could not move {fam.name} to {dev} as {DTYPE_NAMES.get(dt, dt)}: {e}") from e
    for w in notes:
        log.warning(w)
    return LoadedModel(pipe, fam, source, dev, dt, cpu_offload, notes)


def export_tiny_model(folder: str | Path, name: str = TINY_NAME) -> Path:
    """Write built-in model ``name`` in diffusers' folder layout (safetensors) so it loads through the folder path."""
    fam = FAMILIES.get(name)
    if fam is None or not fam.builtin:
        builtins = [f.name for f in FAMILIES.values() if f.builtin]
        raise ModelLoadError(f"{name!r} is not a built-in model; built in: {', '.join(builtins)}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file; give a folder to export {name} into")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "model_index.json").is_file():
        raise ModelLoadError(f"{folder} is not empty; give a new or empty folder (or a previous export)")
    folder.mkdir(parents=True, exist_ok=True)
    fam.architecture.build_tiny(fam).save_pretrained(str(folder), safe_serialization=True)
    (folder / MARKER_FILE).write_text(json.dumps({"family": name}, indent=2) + "\n", encoding="utf-8")
    return folder
