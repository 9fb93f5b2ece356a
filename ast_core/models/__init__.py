"""Models: architecture adapters, families, options, loading (single files, quantisation,
offload, LoRAs, devices), the built-in tiny models.

Importing this package does not import torch; ``load_model`` and friends do when called.
"""
from .architecture import (
    BASE,
    IMAGE,
    IMAGE_FIRST,
    JOINT,
    MAIN,
    SINGLE,
    TEXT_FIRST,
    Architecture,
    AttentionLayer,
    Conditioning,
    JointLayout,
    TextLayout,
    TextPart,
    TwoStreamControl,
)
from .architectures import (
    ARCHITECTURES,
    DEFAULT_FAMILY,
    FAMILIES,
    architecture,
    default_family,
    family,
    family_names,
)
from .checkpoint_files import CheckpointFileError, FileFacts, inspect_file, scan_folder
from .families import ModelFamily
from .options import LoraChoice, ModelOptions, OptionError, parse_lora

_LOADING_NAMES = ("LoadedModel", "ModelFound", "ModelLoadError", "TINY_NAME", "check_folder", "check_model",
                  "hf_cache_folder", "load_model")
_EXPORT_NAMES = ("export_tiny_model", "export_tiny_single_file")
_DEVICE_NAMES = ("resolve_device", "resolve_dtype", "startup_warning")

__all__ = [
    "ARCHITECTURES", "Architecture", "AttentionLayer", "BASE", "Conditioning", "DEFAULT_FAMILY", "FAMILIES", "IMAGE",
    "IMAGE_FIRST", "JOINT", "JointLayout", "MAIN", "ModelFamily", "SINGLE", "TEXT_FIRST", "TextLayout", "TextPart",
    "TwoStreamControl",
    "architecture", "default_family", "family", "family_names", *_LOADING_NAMES, *_EXPORT_NAMES, *_DEVICE_NAMES,
    "CheckpointFileError", "FileFacts", "LoraChoice", "ModelOptions", "OptionError", "inspect_file", "parse_lora",
    "scan_folder",
]


def __getattr__(name: str):
    if name in _LOADING_NAMES:
        from . import loading

        return getattr(loading, name)
    if name in _EXPORT_NAMES:
        from . import tiny_exports

        return getattr(tiny_exports, name)
    if name in _DEVICE_NAMES:
        from . import device

        return getattr(device, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
