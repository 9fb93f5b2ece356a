"""The render history: turning a finished job into a project Render, reading it back, exporting it.

A Render (``ast_core.project.Render``) keeps the image as PNG bytes, the exact parameters
and a snapshot of the layout. ``parameters`` holds::

    {"settings": {width, height, steps, guidance, seed, method,    # what the engine ran (steps and
                  method_parameters},                              #  guidance as they ran)
     "render_settings": {steps, guidance, seed, seed_mode, method}, # the panel's settings (None = default)
     "loras": [{"path", "scale"}...],                               # the project's LoRAs
     "schedule": {...} | None, "model": {...}, "metadata": {...},   # engine metadata
     "seconds": 1.2, "warnings": [...]}

A project file may hold anything JSON there (an older version, another tool, a damaged
file), so everything read back from ``parameters`` is checked for its type here, and an
image that does not decode raises :class:`RenderImageError` when it is exported.
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
from ast_core.methods import METHODS, MethodParameterError
from ast_core.models.options import LoraChoice, OptionError
from ast_core.project import RenderSettings
from ast_core.schedule import Schedule

#: PNG text chunk keys written on export (the engine's one metadata format).
PNG_KEYS = ("Software", METADATA_KEY, LAYOUT_KEY)


class RenderImageError(ValueError):
    """The render's image cannot be decoded (a damaged project file); the message says why."""


def _object(value: Any) -> dict:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _text(value: Any, default: str = "?") -> str:
    """A short display text for a stored value of any type."""
    if value is None or isinstance(value, (dict, list)):
        return default
    return str(value)[:40]


def _parameters(render: Render, key: str) -> dict:
    return _object(_object(render.parameters).get(key))


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
        "schedule": None if job.schedule is None else job.schedule.to_dict(),
        "model": job.model.to_dict(),
        "loras": [lora.to_dict() for lora in job.loras],
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
    stored = _parameters(render, "render_settings")
    engine = _parameters(render, "settings")
    merged = {**{k: engine[k] for k in ("steps", "guidance", "seed", "method") if k in engine}, **stored}
    settings = RenderSettings.from_dict(merged)
    seed = engine.get("seed", settings.seed)
    if isinstance(seed, int) and not isinstance(seed, bool):
        settings = replace(settings, seed=seed)
    return replace(settings, seed_mode="fixed")


def method_parameters_of(render: Render) -> tuple[str, dict] | None:
    """(method, its parameters) as the render ran them; None when the render did not record them
    (an older version). Raises ValueError naming the problem when they cannot be used."""
    engine = _parameters(render, "settings")
    name, values = engine.get("method"), engine.get("method_parameters")
    if values is None:
        return None
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"its method {_text(name)!r} is not one this version knows")
    if not isinstance(values, dict):
        raise ValueError(f"its method parameters are {type(values).__name__}, not an object")
    try:
        return name, METHODS[name].check_parameters(values)
    except MethodParameterError as e:
        raise ValueError(str(e)) from None


def loras_of(render: Render) -> tuple[LoraChoice, ...] | None:
    """The LoRAs (file, strength) the render used; None when it recorded none (an older version).
    Raises ValueError naming the problem when the record cannot be read."""
    params = _object(render.parameters)
    stored = params.get("loras")
    if stored is None:  # renders of versions before the studio's LoRA list: the engine's record
        stored = _object(_object(params.get("metadata")).get("model")).get("loras")
        if stored is None:
            return None
    if not isinstance(stored, list):
        raise ValueError(f"its LoRAs are {type(stored).__name__}, not a list")
    try:
        return tuple(LoraChoice.from_dict({"path": x.get("path"), "scale": x.get("scale", 1.0)}
                                          if isinstance(x, dict) else x) for x in stored)
    except OptionError as e:
        raise ValueError(str(e)) from None


def method_label(name: Any) -> str:
    """The registry's label of method ``name`` ("?" for one this version does not know)."""
    return METHODS[name].label if isinstance(name, str) and name in METHODS else "?"


def _details(render: Render) -> str:
    """The method's parameters and the LoRAs, as lines ("" when there are none)."""
    lines = []
    values = _parameters(render, "settings").get("method_parameters")
    if isinstance(values, dict) and values:
        lines.append(f"{method_label(_parameters(render, 'settings').get('method'))}: "
                     + ", ".join(f"{_text(k)} {_text(v)}" for k, v in values.items()))
    try:
        loras = loras_of(render)
    except ValueError:
        loras = None
    if loras:
        lines.append("LoRAs: " + ", ".join(f"{lora.name} {lora.scale:g}" for lora in loras))
    return "\n".join(lines)


def schedule_of(render: Render) -> Schedule | None:
    """The schedule the render used (None: the model's default). Raises ValueError (naming the
    field) when the stored one cannot be read."""
    schedule = _object(render.parameters).get("schedule")
    if schedule is not None and not isinstance(schedule, dict):
        raise ValueError(f"its schedule is {type(schedule).__name__}, not an object")
    return None if schedule is None else Schedule.from_dict(schedule)


def seed_of(render: Render) -> Any:
    """The seed the render used, or "" when none is recorded."""
    seed = _parameters(render, "settings").get("seed", "")
    return seed if isinstance(seed, (int, float, str)) and not isinstance(seed, bool) else ""


def layout_of(render: Render):
    return layout_from_dict(render.layout, "render.layout")


def guidance_of(render: Render) -> Any:
    """The guidance the render ran with (the engine's record when the settings kept the default)."""
    guidance = _parameters(render, "settings").get("guidance")
    if guidance is None:
        guidance = _object(_parameters(render, "metadata").get("settings")).get("guidance")
    return guidance


def summary(render: Render) -> str:
    """For a tooltip or caption: size, steps, guidance, seed, method, model; then the method's
    parameters and the LoRAs on their own lines when there are any."""
    s = _parameters(render, "settings")
    model = _text(_parameters(render, "model").get("model"))
    guidance = guidance_of(render)
    guidance = f"{guidance:g}" if isinstance(guidance, (int, float)) and not isinstance(guidance, bool) \
        else _text(guidance)
    line = (f"{_text(s.get('width'))}×{_text(s.get('height'))} · {_text(s.get('steps'))} steps · "
            f"guidance {guidance} · seed {_text(s.get('seed'))} · {method_label(s.get('method'))} · {model}")
    details = _details(render)
    return line + ("\n" + details if details else "")


def short_summary(render: Render) -> str:
    """Seed, steps and method: what tells two renders of one layout apart."""
    s = _parameters(render, "settings")
    return f"seed {_text(s.get('seed'))} · {_text(s.get('steps'))} steps · {method_label(s.get('method'))}"


def png_with_metadata(render: Render) -> bytes:
    """The render's image as PNG with the engine's metadata (as ``ast-studio render`` writes it).

    Raises :class:`RenderImageError` when the image does not decode."""
    from ast_core.project.images import decode_png

    try:
        image = decode_png(bytes(render.image_png))
    except ValueError as e:
        raise RenderImageError(f"the render's image cannot be decoded ({e})") from None
    params = _object(render.parameters)
    metadata = _object(params.get("metadata"))
    metadata = {**metadata, "layout": render.layout}
    for key in ("settings", "schedule", "warnings"):  # what the history keeps beside the engine's record
        if metadata.get(key) is None and params.get(key) is not None:
            metadata[key] = params[key]
    return png_bytes(image, metadata)


def export_png(render: Render, path: str | Path) -> Path:
    """Write the render to ``path`` (a .png) with its metadata; returns the path written.

    Raises OSError (disk) or :class:`RenderImageError` (an image that does not decode)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(path.suffix + ".png") if path.suffix else path.with_suffix(".png")
    data = png_with_metadata(render)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return path


def png_text(path_or_bytes) -> dict[str, str]:
    """The text chunks of a PNG (to check an export, or to read one back)."""
    from PIL import Image

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else path_or_bytes
    with Image.open(src, formats=["PNG"]) as im:
        im.load()
        return dict(getattr(im, "text", {}) or {})

