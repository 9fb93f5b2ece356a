"""Box layouts in the Regional-Prompting-FLUX form.

``{"width", "height", "base_prompt", "background_prompt", "regions": [{"description",
"mask": [x1, y1, x2, y2]}]}`` (pixels), or a list of such objects (pick one by index or
by its ``"name"``). Regions become rectangular instances stacked in file order (the
last on top); each description becomes the instance's prompt.

Regional prompting encodes each region's text on its own, while AST needs each
instance's text inside the base prompt. Both readings are kept possible: by default
the base prompt is left as written and a warning names the instances it lacks;
``append_to_base=True`` appends the missing descriptions to the base prompt.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import shapely

from ..document import Instance, Layout, colours_for_prompts
from .files import canvas_size, read_json, seed_setting
from .naming import name_from_prompt, unique_names
from .result import ImportFileError, Imported


def _describe_choices(items: list) -> str:
    names = [str(it.get("name", f"#{i}")) if isinstance(it, dict) else f"#{i}" for i, it in enumerate(items)]
    return ", ".join(f"{i}: {n}" for i, n in enumerate(names))


def pick(data: Any, path: Path, index: int | None, name: str | None) -> tuple[dict, str]:
    """The chosen layout object of a boxes file and how to call it in messages."""
    if isinstance(data, dict):
        if index not in (None, 0) or (name is not None and data.get("name") != name):
            raise ImportFileError(f"{path}: holds a single layout; --index/--name do not match it")
        return data, str(path)
    if not isinstance(data, list) or not data:
        raise ImportFileError(f"{path}: must be a JSON object (one layout) or a non-empty list of layouts")
    if index is not None and name is not None:
        raise ImportFileError("give either --index or --name, not both")
    if name is not None:
        hits = [i for i, it in enumerate(data) if isinstance(it, dict) and it.get("name") == name]
        if not hits:
            raise ImportFileError(f"{path}: no layout named {name!r} (choices: {_describe_choices(data)})")
        index = hits[0]
    elif index is None:
        if len(data) != 1:
            raise ImportFileError(
                f"{path}: holds {len(data)} layouts, choose one with --index N or --name NAME "
                f"({_describe_choices(data)})")
        index = 0
    if not 0 <= index < len(data):
        raise ImportFileError(f"{path}: --index {index} is out of range (0 to {len(data) - 1})")
    item = data[index]
    if not isinstance(item, dict):
        raise ImportFileError(f"{path}: layout [{index}] must be a JSON object")
    return item, f"{path} [{index}]"


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _text(obj: dict, key: str, where: str, default: str | None = None) -> str:
    v = obj.get(key, default)
    if not isinstance(v, str):
        raise ImportFileError(f"{where}: \"{key}\" must be a string")
    return v


def import_boxes(path: str | Path, index: int | None = None, name: str | None = None,
                 append_to_base: bool = False) -> Imported:
    path = Path(path)
    item, where = pick(read_json(path), path, index, name)
    w, h = item.get("width"), item.get("height")
    if not (_number(w) and _number(h)):
        raise ImportFileError(f"{where}: \"width\" and \"height\" must be numbers of pixels")
    width, height, warnings = canvas_size(w, h, where)
    base = _text(item, "base_prompt", where)
    background = _text(item, "background_prompt", where, "")
    regions = item.get("regions")
    if not isinstance(regions, list):
        raise ImportFileError(f"{where}: \"regions\" must be a list")
    sx, sy = width / w, height / h
    canvas = shapely.box(0, 0, w, h)
    texts, boxes = [], []
    for i, reg in enumerate(regions):
        rw = f"{where}: regions[{i}]"
        if not isinstance(reg, dict):
            raise ImportFileError(f"{rw}: must be an object with \"description\" and \"mask\"")
        desc = _text(reg, "description", rw)
        box = reg.get("mask")
        if not (isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box)):
            raise ImportFileError(f"{rw}: \"mask\" must be [x1, y1, x2, y2] in pixels")
        x1, y1, x2, y2 = box
        if x2 <= x1 or y2 <= y1:
            raise ImportFileError(f"{rw}: \"mask\" {box} has no area (needs x1 < x2 and y1 < y2)")
        rect = shapely.box(x1, y1, x2, y2)
        inside = rect.intersection(canvas)
        if inside.area < rect.area:
            warnings.append(f"{rw}: box {box} reaches outside the {w}x{h} canvas; the outside part is cut off")
        texts.append(desc)
        boxes.append(shapely.affinity.scale(inside, sx, sy, origin=(0, 0)))
    names = unique_names([name_from_prompt(t, f"Region {i + 1}") for i, t in enumerate(texts)])
    instances = []
    for t, n, g, colour in zip(texts, names, boxes, colours_for_prompts(texts)):
        instances.append(Instance(name=n, prompt=t, color=colour, geometry=g))
    layout = Layout(width, height, base, background, instances)
    missing = layout.instances_missing_from_base_prompt()
    if missing and append_to_base:
        extra = " ".join(t.strip() if t.strip().endswith((".", "!", "?")) else t.strip() + "."
                         for t in (i.prompt for i in missing) if t.strip())
        sep = "" if not base.strip() else (" " if base.rstrip().endswith((".", "!", "?")) else ". ")
        layout.set_prompts(base=base.rstrip() + sep + extra)
        warnings.append(f"appended {len(missing)} region description(s) to the base prompt so AST can find them")
    elif missing:
        warnings.append(
            f"{len(missing)} of {len(instances)} region descriptions are not in the base prompt "
            f"({', '.join(repr(i.name) for i in missing)}): AST needs each instance's text inside the base "
            f"prompt; edit the prompts, or import again with --append-to-base")
    return Imported(layout, warnings, seed_setting(item, where, warnings))
