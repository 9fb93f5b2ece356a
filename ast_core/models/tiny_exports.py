"""Write the built-in tiny models as a diffusers folder, or their transformer as one file in the
architecture's original single-file key layout (safetensors or GGUF): test fixtures for the
folder, single-file and GGUF loading paths (``ast-studio export-tiny-model``).
"""
from __future__ import annotations

import json
from pathlib import Path

from .architectures import FAMILIES
from .families import ModelFamily
from .loading import MARKER_FILE, TINY_NAME, ModelLoadError


def export_tiny_model(folder: str | Path, name: str = TINY_NAME) -> Path:
    """Write built-in model ``name`` in diffusers' folder layout (safetensors) so it loads through the folder path."""
    fam = _builtin_family(name)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file; give a folder to export {name} into")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "model_index.json").is_file():
        raise ModelLoadError(f"{folder} is not empty; give a new or empty folder (or a previous export)")
    folder.mkdir(parents=True, exist_ok=True)
    fam.architecture.build_tiny(fam).save_pretrained(str(folder), safe_serialization=True)
    (folder / MARKER_FILE).write_text(json.dumps({"family": name}, indent=2) + "\n", encoding="utf-8")
    return folder


def export_tiny_single_file(path: str | Path, name: str = TINY_NAME, gguf_type: str = "Q8_0") -> Path:
    """Write built-in model ``name``'s transformer as one file in its architecture's original key layout.

    ``.safetensors``: float32; ``.gguf``: 2-D weights quantised to ``gguf_type`` (Q8_0, Q4_0...),
    the rest float32, as city96's GGUF files are. Loads back with ``load_model(FILE)`` (the
    other parts then come from the built-in model) or ``base=`` an exported folder.
    """
    fam = _builtin_family(name)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".gguf"):
        raise ModelLoadError(f"{path}: the single file must end in .safetensors or .gguf")
    if path.exists() and not path.is_file():
        raise ModelLoadError(f"{path}: exists and is not a file")
    if not path.parent.is_dir():
        raise ModelLoadError(f"{path}: folder {str(path.parent)!r} does not exist")
    state = fam.architecture.build_tiny(fam).transformer.state_dict()
    original = fam.architecture.original_layout({k: v.detach().float() for k, v in state.items()})
    if suffix == ".gguf":
        from .gguf_files import write_gguf

        write_gguf(original, path, gguf_type, fam.architecture_name)
    else:
        from safetensors.torch import save_file

        save_file(original, str(path), metadata={"format": "pt", "ast_studio_family": name})
    return path


def _builtin_family(name: str) -> ModelFamily:
    fam = FAMILIES.get(name)
    if fam is None or not fam.builtin:
        builtins = [f.name for f in FAMILIES.values() if f.builtin]
        raise ModelLoadError(f"{name!r} is not a built-in model; built in: {', '.join(builtins)}")
    return fam
