"""Models: architecture adapters, families, loading (device/dtype/offload), the built-in tiny models.

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
from .families import ModelFamily

_LOADING_NAMES = ("LoadedModel", "ModelLoadError", "TINY_NAME", "check_folder", "export_tiny_model",
                  "hf_cache_folder", "load_model")
_DEVICE_NAMES = ("resolve_device", "resolve_dtype")

__all__ = [
    "ARCHITECTURES", "Architecture", "AttentionLayer", "BASE", "Conditioning", "DEFAULT_FAMILY", "FAMILIES", "IMAGE",
    "IMAGE_FIRST", "JOINT", "JointLayout", "MAIN", "ModelFamily", "SINGLE", "TEXT_FIRST", "TextLayout", "TextPart",
    "TwoStreamControl",
    "architecture", "default_family", "family", "family_names", *_LOADING_NAMES, *_DEVICE_NAMES,
]


def __getattr__(name: str):
    if name in _LOADING_NAMES:
        from . import loading

        return getattr(loading, name)
    if name in _DEVICE_NAMES:
        from . import device

        return getattr(device, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
