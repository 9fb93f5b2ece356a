"""The render history: turning a finished job into a project Render, reading it back, exporting it.

A Render (``ast_core.project.Render``) keeps the image as PNG bytes, the exact parameters
and a snapshot of the layout. ``parameters`` holds::

    {"settings": {width, height, steps, guidance, seed, method},   # what the engine ran
     "render_settings": {steps, guidance, seed, seed_mode, method}, # the panel's settings
     "schedule": {...} | None, "model": {...}, "metadata": {...},   # engine metadata
     "seconds": 1.2, "warnings": [...]}
"""
from __future__ import annotations

import io
import math
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ast_core.provenance import LAYOUT_KEY, METADATA_KEY, png_bytes
from ast_core.project import Render
from ast_core.project.layout_json import layout_from_dict, layout_to_dict

from . import events as ev
from .render_settings import RenderSettings, render_settings_from_project

#: PNG text chunk keys written on export (the engine's one metadata format).
PNG_KEYS = ("Software", METADATA_KEY, LAYOUT_KEY)


def json_safe(value: Any) -> Any:
    """``value`` with everything JSON cannot hold turned into numbers, lists or strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "item") and callable(value.item):
        try:
            return json_safe(value.item())
        except (ValueError, TypeError):
            pass
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return str(value)


def render_from_finished(finished: ev.Finished, index: int = 0) -> Render:
    """The history entry for image ``index`` of a finished job."""
    job = finished.job
    if job is None:
        raise ValueError("a finished event without its job cannot be recorded")
    parameters = {
        "settings": dict(job.settings),
        "render_settings": dict(job.parameters.get("render_settings", {})),
        "schedule": job.schedule,
        "model": job.model.to_dict(),
        "metadata": {k: v for k, v in finished.metadata.items() if k != "layout"},  # Render.layout has it
        "seconds": round(finished.seconds, 3),
        "warnings": list(finished.warnings),
    }
    png = finished.pngs[index] if index < len(finished.pngs) else None
    if png is None:
        from .engine_run import encode_png

        png = encode_png(finished.images[index])
    return Render(
        image_png=png,
        parameters=json_safe(parameters),
        layout=layout_to_dict(job.layout),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def render_settings_of(render: Render) -> RenderSettings:
    """The panel settings a render was made with, seed fixed to the seed it used."""
    params = render.parameters or {}
    stored = params.get("render_settings") or {}
    engine = params.get("settings") or {}
    merged = {**{k: engine[k] for k in ("steps", "guidance", "seed", "method") if k in engine}, **stored}
    settings = render_settings_from_project({"generation": merged})
    seed = engine.get("seed", settings.seed)
    if isinstance(seed, int) and not isinstance(seed, bool):
        settings = replace(settings, seed=seed)
    return replace(settings, seed_mode="fixed")


def schedule_of(render: Render) -> dict | None:
    return (render.parameters or {}).get("schedule")


def layout_of(render: Render):
    return layout_from_dict(render.layout, "render.layout")


def summary(render: Render) -> str:
    """One line for a tooltip or caption: size, steps, guidance, seed, method, model."""
    p = render.parameters or {}
    s = p.get("settings") or {}
    model = (p.get("model") or {}).get("model", "?")
    method = "AST" if s.get("method") == "ast" else "no AST" if s.get("method") == "none" else "?"
    return (f"{s.get('width', '?')}×{s.get('height', '?')} · {s.get('steps', '?')} steps · "
            f"guidance {s.get('guidance', '?')} · seed {s.get('seed', '?')} · {method} · {model}")


def short_summary(render: Render) -> str:
    """Seed, steps and method: what tells two renders of one layout apart."""
    s = (render.parameters or {}).get("settings") or {}
    method = "AST" if s.get("method") == "ast" else "no AST"
    return f"seed {s.get('seed', '?')} · {s.get('steps', '?')} steps · {method}"


def png_with_metadata(render: Render) -> bytes:
    """The render's image as PNG with the engine's metadata (as ``ast-studio render`` writes it)."""
    from PIL import Image

    image = Image.open(io.BytesIO(render.image_png), formats=["PNG"])
    image.load()
    params = render.parameters or {}
    metadata = params.get("metadata") if isinstance(params.get("metadata"), dict) else {}
    metadata = {**metadata, "layout": render.layout}
    for key in ("settings", "schedule", "warnings"):  # what the history keeps beside the engine's record
        if metadata.get(key) is None and params.get(key) is not None:
            metadata[key] = params[key]
    return png_bytes(image, metadata)


def export_png(render: Render, path: str | Path) -> Path:
    """Write the render to ``path`` (a .png) with its metadata; returns the path written."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(path.suffix + ".png") if path.suffix else path.with_suffix(".png")
    data = png_with_metadata(render)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def png_text(path_or_bytes) -> dict[str, str]:
    """The text chunks of a PNG (to check an export, or to read one back)."""
    from PIL import Image

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else path_or_bytes
    with Image.open(src, formats=["PNG"]) as im:
        im.load()
        return dict(getattr(im, "text", {}) or {})

