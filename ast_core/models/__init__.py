"""Model registry and loading: families, devices/dtypes, the built-in tiny-flux model.

The families and the user's model configuration import without torch (the studio reads
them at start-up); loading, devices and dtypes import torch on first use.
"""
from .families import FAMILIES, FLUX_DEV, FLUX_SCHNELL, TINY_FLUX, ModelFamily, family

_LAZY = {
    "resolve_device": ".device", "resolve_dtype": ".device",
    "TINY_NAME": ".loading", "LoadedModel": ".loading", "ModelLoadError": ".loading", "check_folder": ".loading",
    "export_tiny_model": ".loading", "load_model": ".loading",
}

__all__ = [
    "FAMILIES", "FLUX_DEV", "FLUX_SCHNELL", "TINY_FLUX", "TINY_NAME", "LoadedModel", "ModelFamily",
    "ModelLoadError", "check_folder", "export_tiny_model", "family", "load_model", "resolve_device", "resolve_dtype",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
