"""Layout <-> plain JSON (the ``layout.json`` part of a project and render snapshots).

Geometry is stored as WKT, one string per instance, at full precision, so a diff of
two saves shows which instance changed. Instances are listed bottom to top (z-order).
"""
from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon

from ..document import Instance, Layout
from ..document.layout import LayoutError
from ..document.instance import check_colour, check_strength
from .errors import FieldError
from .fields import get, reject_unknown, require_object
from .wkt_geometry import GeometryReader, check_drawing_cost

LAYOUT_FIELDS = {"width", "height", "base_prompt", "background_prompt", "instances"}
INSTANCE_FIELDS = {"id", "name", "prompt", "color", "visible", "locked", "attribute_words", "geometry", "strength"}
#: Longest name/prompt accepted (characters); prompts far longer than any text encoder reads.
MAX_TEXT = 20_000
MAX_INSTANCES = 1_000
MAX_ID = 64


def geometry_to_wkt(geometry: Polygon | MultiPolygon) -> str:
    return shapely.to_wkt(geometry, rounding_precision=-1, trim=True)


def layout_to_dict(layout: Layout) -> dict[str, Any]:
    return {
        "width": layout.width,
        "height": layout.height,
        "base_prompt": layout.base_prompt,
        "background_prompt": layout.background_prompt,
        "instances": [
            {
                "id": inst.id,
                "name": inst.name,
                "prompt": inst.prompt,
                "color": inst.color,
                "visible": inst.visible,
                "locked": inst.locked,
                "attribute_words": None if inst.attribute_words is None else list(inst.attribute_words),
                "strength": inst.strength,
                "geometry": geometry_to_wkt(inst.geometry),
            }
            for inst in layout.instances
        ],
    }


def _text(obj: dict, key: str, where: str) -> str:
    value = get(obj, key, str, where)
    if len(value) > MAX_TEXT:
        raise FieldError(f"{where}.{key}" if where else key, f"longer than {MAX_TEXT} characters")
    return value


def instance_from_dict(d: Any, where: str, geometries: GeometryReader | None = None) -> Instance:
    d = require_object(d, where)
    reject_unknown(d, INSTANCE_FIELDS, where)
    iid = get(d, "id", str, where)
    if not iid or len(iid) > MAX_ID or not iid.isprintable():
        raise FieldError(f"{where}.id", f"must be 1-{MAX_ID} printable characters, got {iid[:80]!r}")
    words = get(d, "attribute_words", (list, type(None)), where, None)
    if words is not None:
        for j, w in enumerate(words):
            if not isinstance(w, str) or len(w) > MAX_TEXT:
                raise FieldError(f"{where}.attribute_words[{j}]", f"must be a string of at most {MAX_TEXT} characters")
    colour = get(d, "color", str, where)
    try:
        check_colour(colour)
    except ValueError:
        raise FieldError(f"{where}.color", f"colour must look like '#rrggbb', got {colour[:40]!r}") from None
    strength = get(d, "strength", (int, float), where, 1.0)  # files before format 2 have none: 1.0
    try:
        strength = check_strength(strength)
    except ValueError as e:
        raise FieldError(f"{where}.strength", str(e)) from None
    geometry = (geometries or GeometryReader()).read(get(d, "geometry", str, where), f"{where}.geometry")
    return Instance(
        name=_text(d, "name", where),
        prompt=_text(d, "prompt", where),
        color=colour,
        geometry=geometry,
        visible=get(d, "visible", bool, where),
        locked=get(d, "locked", bool, where),
        attribute_words=words,
        id=iid,
        strength=strength,
    )


def layout_from_dict(d: Any, where: str = "", geometries: GeometryReader | None = None) -> Layout:
    """Build a Layout from its JSON form, checking every field.

    Raises :class:`~ast_core.project.errors.FieldError` naming the bad field
    (e.g. ``instances[2].color``); the project reader adds the file name. ``geometries``
    reads the geometry (see :class:`~.wkt_geometry.GeometryReader`).
    """
    geometries = geometries or GeometryReader()
    d = require_object(d, where)
    reject_unknown(d, LAYOUT_FIELDS, where)
    prefix = f"{where}." if where else ""
    width = get(d, "width", int, where)
    height = get(d, "height", int, where)
    base = _text(d, "base_prompt", where)
    background = _text(d, "background_prompt", where)
    items = get(d, "instances", list, where)
    if len(items) > MAX_INSTANCES:
        raise FieldError(f"{prefix}instances", f"more than {MAX_INSTANCES} instances")
    instances = [instance_from_dict(item, f"{prefix}instances[{i}]", geometries) for i, item in enumerate(items)]
    check_drawing_cost([inst.geometry for inst in instances], width, height, f"{prefix}instances")
    seen: dict[str, int] = {}
    for i, inst in enumerate(instances):
        if inst.id in seen:
            raise FieldError(f"{prefix}instances[{i}].id", f"{inst.id!r} is already used by instances[{seen[inst.id]}]")
        seen[inst.id] = i
    try:
        return Layout(width, height, base, background, instances)
    except LayoutError as e:
        raise FieldError(f"{prefix}width/height", str(e)) from None
