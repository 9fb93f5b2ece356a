"""Model registry and loading: families, devices/dtypes, the built-in tiny-flux model."""
from .device import resolve_device, resolve_dtype
from .families import FAMILIES, FLUX_DEV, FLUX_SCHNELL, TINY_FLUX, ModelFamily, family
from .loading import (
    TINY_NAME,
    LoadedModel,
    ModelLoadError,
    check_folder,
    export_tiny_model,
    load_model,
)

__all__ = [
    "FAMILIES", "FLUX_DEV", "FLUX_SCHNELL", "TINY_FLUX", "TINY_NAME", "LoadedModel", "ModelFamily",
    "ModelLoadError", "check_folder", "export_tiny_model", "family", "load_model", "resolve_device", "resolve_dtype",
]
