"""The metadata of a render: everything needed to make the same image again.

One dict per image (:func:`image_metadata`): its own seed, and where it stands among the
variations of its run. PNGs carry it in their ``ast-studio:metadata`` chunk (:mod:`ast_core.provenance`,
which also owns its format version).
"""
from __future__ import annotations

import copy
import platform
from datetime import datetime, timezone
from typing import Any

from ..document import Layout
from ..provenance.record import FORMAT
from .settings import GenerationSettings


def versions() -> dict[str, str]:
    import diffusers
    import torch
    import transformers

    try:
        from importlib.metadata import version

        app = version("ast-studio")
    except Exception:  # noqa: BLE001 - not installed as a distribution (running from a checkout)
        app = "0.1.0"
    return {
        "ast-studio": app, "diffusers": diffusers.__version__, "transformers": transformers.__version__,
        "torch": torch.__version__, "python": platform.python_version(),
    }


def layout_dict(layout: Layout) -> dict[str, Any]:
    from ..project.layout_json import layout_to_dict

    return layout_to_dict(layout)


def build_metadata(*, model, settings: GenerationSettings, run, layout: Layout, plan, warnings: list[str],
                   timesteps: list[float]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "app": "ast-studio",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model.describe(),
        "settings": settings.to_dict(),
        "seed": settings.seed,
        "method": settings.method,
        "method_used": run.used,  # the method that shaped the image ("none" when the layout had nothing)
        "schedule": run.record.get("schedule"),
        "attention_backend": run.record.get("attention_backend"),  # AST: "triton", "flex" or "torch"
        "regions": run.record.get("regions"),  # regional prompting: each region's prompt and image tokens
        "layout": layout_dict(layout),
        "segments": plan.summary() if plan is not None else [],
        "timesteps": [round(float(t), 6) for t in timesteps],
        "versions": versions(),
        "warnings": list(warnings),
    }


def image_metadata(metadata: dict[str, Any], index: int) -> dict[str, Any]:
    """The metadata of image ``index`` (0-based) of a run's ``metadata``: its own seed, recorded as a
    one-image run with that seed (which makes this image), and ``image`` = {index (1-based), count,
    first_seed}."""
    out = copy.deepcopy(metadata)
    settings = out["settings"]
    count, first = int(settings["num_images"]), int(settings["seed"])
    seed = first + index
    settings.update(seed=seed, num_images=1)
    out["seed"] = seed
    out["image"] = {"index": index + 1, "count": count, "first_seed": first}
    return out


def job_from_metadata(metadata: dict[str, Any]):
    """(layout, schedule, settings) that reproduce a render from its metadata (same model, same seed)."""
    from ..project.layout_json import layout_from_dict
    from ..schedule import Schedule

    layout = layout_from_dict(metadata["layout"])
    schedule = Schedule.from_dict(metadata["schedule"]) if metadata.get("schedule") else None
    settings = GenerationSettings.from_dict(metadata["settings"])
    return layout, schedule, settings
