"""Plain black/white mask images, one per instance, plus optional prompts.

A pixel brighter than mid-grey (> 127 after conversion to grey; transparent counts as
black) belongs to the instance. All masks must have the same size. Instances are
stacked in the order the files are given (the last on top).

The prompts file is either the seed form ``{"prompt": base, "segments": [background,
instance 1, ...]}`` (one instance segment per mask, in order) or
``{"base_prompt", "background_prompt", "instances": [prompt | {"prompt", "name",
"color"}, ...]}``. Without it, names come from the file names and prompts are empty.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely.affinity
from PIL import Image

from ..document import Instance, Layout, colours_for_prompts
from ..document.instance import check_colour
from .files import canvas_size, read_json, seed_setting
from .naming import name_from_prompt, unique_names
from .result import ImportFileError, Imported
from .tracing import trace


def _read_mask(path: Path) -> np.ndarray:
    from .files import MAX_IMAGE_PIXELS

    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    try:
        with Image.open(path) as im:
            if im.size[0] * im.size[1] > MAX_IMAGE_PIXELS:
                raise ImportFileError(f"{path}: image of {im.size[0]}x{im.size[1]} pixels is too large")
            if "A" in im.getbands() or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                grey = Image.alpha_composite(black, rgba).convert("L")
            else:
                grey = im.convert("L")
            return np.asarray(grey) > 127
    except ImportFileError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImportFileError(f"{path}: not a readable image ({str(e)[:120]})") from None


def _prompt_entries(data: Any, path: Path, count: int, warnings: list[str]) -> tuple[str, str, list[dict], dict]:
    if not isinstance(data, dict):
        raise ImportFileError(f"{path}: must be a JSON object")
    settings = seed_setting(data, str(path), warnings)
    if "segments" in data:
        segs = data["segments"]
        base = data.get("prompt", "")
        if not isinstance(segs, list) or not segs or not all(isinstance(s, str) for s in segs) or not isinstance(base, str):
            raise ImportFileError(f"{path}: \"prompt\" must be a string and \"segments\" a list of strings (background first)")
        entries = [{"prompt": s} for s in segs[1:]]
        background = segs[0]
    else:
        base, background = data.get("base_prompt", ""), data.get("background_prompt", "")
        if not isinstance(base, str) or not isinstance(background, str):
            raise ImportFileError(f"{path}: \"base_prompt\" and \"background_prompt\" must be strings")
        items = data.get("instances")
        if not isinstance(items, list):
            raise ImportFileError(f"{path}: needs \"instances\" (a list, one per mask) or seed-style \"segments\"")
        entries = []
        for i, it in enumerate(items):
            if isinstance(it, str):
                entries.append({"prompt": it})
            elif isinstance(it, dict) and isinstance(it.get("prompt", ""), str):
                e = {"prompt": it.get("prompt", "")}
                for key in ("name", "color"):
                    if key in it:
                        if not isinstance(it[key], str):
                            raise ImportFileError(f"{path}: instances[{i}].{key} must be a string")
                        e[key] = it[key]
                if "color" in e:
                    try:
                        e["color"] = check_colour(e["color"])
                    except ValueError as err:
                        raise ImportFileError(f"{path}: instances[{i}].color: {err}") from None
                entries.append(e)
            else:
                raise ImportFileError(f"{path}: instances[{i}] must be a prompt string or an object with \"prompt\"")
    if len(entries) != count:
        raise ImportFileError(f"{path}: has prompts for {len(entries)} instance(s) but {count} mask file(s) were given")
    return base, background, entries, settings


def import_masks(mask_paths: list[str | Path], prompts_path: str | Path | None = None) -> Imported:
    paths = [Path(p) for p in mask_paths]
    if not paths:
        raise ImportFileError("give at least one mask image")
    warnings: list[str] = []
    if prompts_path is not None:
        base, background, entries, settings = _prompt_entries(read_json(prompts_path), Path(prompts_path), len(paths),
                                                              warnings)
    else:
        base, background, settings = "", "", {}
        entries = [{"name": p.stem} for p in paths]
        warnings.append("no prompts file: instance prompts are empty, names come from the file names")
    masks = [_read_mask(p) for p in paths]
    h, w = masks[0].shape
    for p, m in zip(paths, masks):
        if m.shape != (h, w):
            raise ImportFileError(f"{p}: is {m.shape[1]}x{m.shape[0]} but {paths[0]} is {w}x{h}; all masks must have one size")
    width, height, size_warnings = canvas_size(w, h, str(paths[0]))
    warnings += size_warnings
    names = unique_names([e.get("name") or name_from_prompt(e.get("prompt", ""), p.stem)
                          for e, p in zip(entries, paths)])
    instances = []
    auto = iter(colours_for_prompts([e.get("prompt", "") for e in entries if not e.get("color")],
                                    [e["color"] for e in entries if e.get("color")]))
    for p, m, e, n in zip(paths, masks, entries, names):
        g = trace(m)
        if (width, height) != (w, h):
            g = shapely.affinity.scale(g, width / w, height / h, origin=(0, 0))
        if g.is_empty:
            warnings.append(f"{p}: no white pixels: instance {n!r} is empty")
        colour = e.get("color") or next(auto)
        instances.append(Instance(name=n, prompt=e.get("prompt", ""), color=colour, geometry=g))
    layout = Layout(width, height, base, background, instances)
    if prompts_path is not None:
        for inst in layout.instances_missing_from_base_prompt():
            warnings.append(f"instance {inst.name!r}: its prompt {inst.prompt!r} is not in the base prompt")
    return Imported(layout, warnings, settings)
