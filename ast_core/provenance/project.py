"""A render's metadata back into a project: the layout, settings, schedule and LoRAs that made it.

The project reproduces the image with the same model: its seed is the image's own (mode
"fixed"), one image per render, the method and that method's parameters, the schedule the run
used and the LoRAs with their strengths. The layout is the one the run used, as drawn (an image
rendered at another size than its canvas, with ``render --size``, is said in a warning). Values
the project cannot hold (a seed beyond the studio's range...) fall back with a warning naming them.
"""
from __future__ import annotations

from typing import Any

from ..project.errors import FieldError
from ..project.fields import get_timestamp
from ..project.layout_json import layout_from_dict
from ..project.model import Project, Render
from ..project.render_record import render_parameters
from ..project.settings import MAX_SEED, ProjectSettings
from ..project.wkt_geometry import GeometryReader
from .record import METADATA_KEY


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise FieldError(f"{METADATA_KEY}: {where}", "missing: the metadata does not say how the image was made")
    return value


def _size_note(layout, width: Any, height: Any) -> list[str]:
    """A line when the image was rendered at another size than the canvas (``render --size``)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height)):
        return []
    if (width, height) == (layout.width, layout.height):
        return []
    return [f"the image was rendered at {width}x{height} from a {layout.width}x{layout.height} canvas: "
            f"`ast-studio render --size {width}x{height}` repeats it (the studio renders at the canvas size)"]


def project_from_metadata(metadata: dict, image_png: bytes) -> tuple[Project, list[str]]:
    """(the project that made the image, warnings). Raises FieldError naming a field it cannot use."""
    warnings: list[str] = []
    layout_data = _object(metadata.get("layout"), "layout")
    settings = _object(metadata.get("settings"), "settings")
    layout = layout_from_dict(layout_data, f"{METADATA_KEY}: layout", GeometryReader())
    warnings += _size_note(layout, settings.get("width"), settings.get("height"))

    method = settings.get("method", metadata.get("method"))
    seed = settings.get("seed", metadata.get("seed"))
    if isinstance(seed, int) and not isinstance(seed, bool) and seed > MAX_SEED:
        warnings.append(f"seed {seed} is beyond the studio's seeds (0 to {MAX_SEED}): the project keeps seed 0; "
                        f"`ast-studio render --seed {seed}` repeats the image")
        seed = 0
    generation = {"steps": settings.get("steps"), "guidance": settings.get("guidance"), "seed": seed,
                  "seed_mode": "fixed", "method": method, "count": 1}
    data: dict[str, Any] = {"generation": {k: v for k, v in generation.items() if v is not None}}
    if isinstance(method, str) and isinstance(settings.get("method_parameters"), dict):
        data["method_parameters"] = {method: settings["method_parameters"]}
    model = metadata.get("model") if isinstance(metadata.get("model"), dict) else {}
    loras = model.get("loras")
    if isinstance(loras, list) and loras:
        data["loras"] = [{"path": x.get("path"), "scale": x.get("scale", 1.0)} if isinstance(x, dict) else x
                         for x in loras]
    project_settings = ProjectSettings.from_dict(data)
    warnings += [f"settings: {w}" for w in project_settings.warnings]

    schedule = metadata.get("schedule")
    project = Project(layout, project_settings, schedule if isinstance(schedule, dict) else None)
    if project.schedule_problem:
        warnings.append(f"the schedule cannot be read ({project.schedule_problem}); it is kept as it was")
    try:
        created = get_timestamp(metadata, "created", "", "")
    except FieldError:
        created = ""
    record = render_parameters(metadata, render_settings=project_settings.generation.to_dict())
    project.renders.append(Render(image_png, record, layout_data, created))
    return project, warnings
