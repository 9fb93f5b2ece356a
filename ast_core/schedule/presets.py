"""Named schedules: "off" here, and the presets each architecture adapter contributes.

The AST paper's layer table is written for FLUX.1's 19 + 38 layers; the FLUX adapter
contributes it (and the schnell variant), the SD3 adapter its mapping onto SD3.5's joint
blocks (:mod:`ast_core.models`). The method's own defaults (the demo's weights, decay and
size regularisation) live here, with the generic "off" preset.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .bands import LayerBand
from .curves import PowerCurve
from .schedule import Schedule
from .structure import num_layers, structure

OFF = "off"

DEMO_WEIGHTS = {"i2i": 3.5, "t2t": 3.5, "i2t": 5.0}
DEMO_DECAY = 3.0
DEMO_MODULATED_STEPS = 16
DEMO_STEPS = 32
DEMO_SIZEREG_IMAGE = 1.0
DEMO_SIZEREG_TEXT = 4.0


def demo_curves(modulated_steps: int = DEMO_MODULATED_STEPS,
                modulated_fraction: float | None = None) -> dict[str, PowerCurve]:
    """The demo's ``(t/1000)^3`` curve for every kind, on the given modulated steps."""
    curve = PowerCurve(DEMO_DECAY, modulated_steps, modulated_fraction)
    return {"i2i": curve, "t2t": curve, "i2t": curve}


def demo_schedule(layers: Iterable[Sequence[Any]], bands: Iterable[LayerBand], preset: str,
                  curves: dict[str, PowerCurve] | None = None) -> Schedule:
    """A schedule with the demo's weights and size regularisation."""
    return Schedule(layers=layers, bands=bands, weights=DEMO_WEIGHTS, curves=curves or demo_curves(),
                    sizereg_image=DEMO_SIZEREG_IMAGE, sizereg_text=DEMO_SIZEREG_TEXT, preset=preset)


def _builders() -> dict:
    from ast_core.models.architectures import schedule_presets

    return schedule_presets()


def preset_names() -> list[str]:
    """Every preset name: the architectures' presets, then "off"."""
    return [*_builders(), OFF]


def preset_schedule(name: str, layers: Iterable[Sequence[Any]] | None = None) -> Schedule:
    """A fresh schedule for preset ``name``, mapped to ``layers`` (the preset's own structure if None)."""
    target = None if layers is None else structure(layers)
    if name == OFF:
        if target is None:
            from ast_core.models.architectures import default_family

            target = default_family().layers
        return demo_schedule(target, (LayerBand(0, num_layers(target)),), OFF)
    builders = _builders()
    if name not in builders:
        raise ValueError(f"preset: unknown preset {name!r}; choose one of {preset_names()}")
    schedule = builders[name](target)
    if target is not None and schedule.structure != target:
        schedule = schedule.for_structure(target)
    return schedule
