"""What a history entry (:class:`~ast_core.project.model.Render`) records, in one place.

``Render.parameters`` holds::

    {"settings": {width, height, steps, guidance, seed, method, ...},  # what the engine ran
     "render_settings": {steps, guidance, seed, seed_mode, method, count},  # the project's settings
     "schedule": {...} | None,                        # the project's schedule (None: the model's preset)
     "metadata": {...},                               # the engine's metadata of this image, less its layout
     "model": {...},                                  # the studio's model settings (absent for imports)
     "seconds": 1.2, "warnings": [...]}

and ``Render.layout`` the layout snapshot. A project file may hold anything JSON there (an
older version, another tool, a damaged file): readers of these values check their types.
"""
from __future__ import annotations

from typing import Any


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


_FROM_METADATA = object()


def render_parameters(metadata: dict, *, settings: dict | None = None, render_settings: dict | None = None,
                      schedule: Any = _FROM_METADATA, model: dict | None = None, seconds: float | None = None,
                      warnings: list | None = None) -> dict[str, Any]:
    """A history entry's parameters for one image with engine ``metadata`` (its layout is left out:
    ``Render.layout`` holds it). ``settings`` and ``schedule`` default to the metadata's."""
    md = {k: v for k, v in _object(metadata).items() if k != "layout"}
    out: dict[str, Any] = {
        "settings": dict(settings if settings is not None else _object(md.get("settings"))),
        "render_settings": dict(render_settings or {}),
        "schedule": md.get("schedule") if schedule is _FROM_METADATA else schedule,
        "metadata": md,
        "warnings": list(warnings if warnings is not None else md.get("warnings") or []),
    }
    if model is not None:
        out["model"] = dict(model)
    if seconds is not None:
        out["seconds"] = round(float(seconds), 3)
    return out


def render_metadata(parameters: Any, layout: Any) -> dict[str, Any]:
    """The metadata a history entry's PNG carries: its engine metadata with the layout snapshot,
    and the settings, schedule and warnings the history keeps beside it where the metadata lacks them."""
    params = _object(parameters)
    metadata = {**_object(params.get("metadata")), "layout": layout}
    for key in ("settings", "schedule", "warnings"):
        if metadata.get(key) is None and params.get(key) is not None:
            metadata[key] = params[key]
    return metadata
