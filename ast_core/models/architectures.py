"""The registry of architecture adapters and the model families built on them (no torch)."""
from __future__ import annotations

from typing import Callable

from . import flux, sd3
from .architecture import Architecture
from .families import ModelFamily

ARCHITECTURE_MODULES = (flux, sd3)
ARCHITECTURES: dict[str, Architecture] = {
    a.name: a for a in (flux.FluxArchitecture(), sd3.SD3Architecture())
}
#: Every known family by name, in display order (real models first, built-in test models last).
FAMILIES: dict[str, ModelFamily] = {
    f.name: f for f in sorted((f for m in ARCHITECTURE_MODULES for f in m.FAMILIES), key=lambda f: f.builtin)
}
#: The family used when nothing is configured: the first built-in one.
DEFAULT_FAMILY = next(f.name for f in FAMILIES.values() if f.builtin)


def architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}") from None


def family(name: str) -> ModelFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}") from None


def default_family() -> ModelFamily:
    return FAMILIES[DEFAULT_FAMILY]


def family_names(*, builtin: bool | None = None) -> list[str]:
    """Names of the known families in display order (``builtin`` filters built-in ones)."""
    return [f.name for f in FAMILIES.values() if builtin is None or f.builtin == builtin]


def architecture_for_pipeline_class(class_name: str) -> Architecture | None:
    for arch in ARCHITECTURES.values():
        if class_name in arch.pipeline_classes:
            return arch
    return None


def schedule_presets() -> dict[str, Callable]:
    """Every architecture's schedule presets: name -> builder(structure or None)."""
    out: dict[str, Callable] = {}
    for arch in ARCHITECTURES.values():
        out.update(arch.presets())
    return out
