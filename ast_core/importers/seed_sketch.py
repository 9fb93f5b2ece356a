"""Colour sketches of the original AST demo: a PNG plus a JSON of prompts.

The rule (tests/data/seed-examples/README.md): pure white is the background and gets
``segments[0]``; every other colour is one instance, colours ranked by pixel count
(largest first; equal counts by colour value) get ``segments[1]``, ``segments[2]``...;
pure black is ignored. Instances are stacked in that order (largest at the bottom).
An optional ``"names"`` list (one per instance segment, as written by the sketch
exporter) gives the instances' names; otherwise names come from the prompts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely.affinity

from ..document import Instance, Layout, colour_for_prompt, colours_for_prompts
from .files import canvas_size, colour_hex, read_image, read_json, seed_setting
from .naming import name_from_prompt, unique_names
from .result import ImportFileError, Imported
from .tracing import trace

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def colour_ranking(rgb: np.ndarray) -> list[tuple[tuple[int, int, int], int]]:
    """Non-white, non-black colours of an RGB image with their pixel counts, in segment order."""
    flat = rgb.reshape(-1, 3).astype(np.uint32)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    found = []
    for v, n in zip(values.tolist(), counts.tolist()):
        c = ((v >> 16) & 255, (v >> 8) & 255, v & 255)
        if c not in (WHITE, BLACK):
            found.append((c, n))
    found.sort(key=lambda cn: (-cn[1], cn[0]))
    return found


def _prompts(data, path: Path) -> tuple[str, list[str], list[str] | None]:
    if not isinstance(data, dict):
        raise ImportFileError(f"{path}: must be a JSON object with \"prompt\" and \"segments\"")
    prompt = data.get("prompt")
    if not isinstance(prompt, str):
        raise ImportFileError(f"{path}: \"prompt\" must be a string (the full scene prompt)")
    segments = data.get("segments")
    if not isinstance(segments, list) or not segments or not all(isinstance(s, str) for s in segments):
        raise ImportFileError(f"{path}: \"segments\" must be a non-empty list of strings (background first)")
    names = data.get("names")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names)):
        raise ImportFileError(f"{path}: \"names\" must be a list of non-empty strings")
    return prompt, segments, names


def import_seed(png_path: str | Path, json_path: str | Path, colours: str = "palette") -> Imported:
    """Import a seed sketch.

    ``colours="palette"`` (default) gives the instances the studio's distinct palette colours,
    since a sketch's colours only identify segments (the demo's sketches use near-identical
    dark reds); ``colours="sketch"`` keeps the sketch's own colours, so that an exported
    sketch re-imports with the very same colours.
    """
    if colours not in ("palette", "sketch"):
        raise ValueError(f"colours must be 'palette' or 'sketch', got {colours!r}")
    png_path, json_path = Path(png_path), Path(json_path)
    data = read_json(json_path)
    prompt, segments, names = _prompts(data, json_path)
    rgb = read_image(png_path, "RGB")
    h, w = rgb.shape[:2]
    width, height, warnings = canvas_size(w, h, str(png_path))
    settings = seed_setting(data, str(json_path), warnings)
    ranking = colour_ranking(rgb)
    wanted = len(segments) - 1
    if len(ranking) > wanted:
        extra = ranking[wanted:]
        warnings.append(
            f"{png_path}: {len(ranking)} colours but {json_path} has {wanted} instance segments: the "
            f"{len(extra)} smallest colour(s) ({sum(n for _, n in extra)} pixels) are left out"
        )
        ranking = ranking[:wanted]
    if len(ranking) < wanted:
        warnings.append(
            f"{png_path}: only {len(ranking)} colour(s) for {wanted} instance segments: the last "
            f"{wanted - len(ranking)} instance(s) are empty, paint them in the studio"
        )
    if not (rgb == WHITE).all(-1).any():
        warnings.append(f"{png_path}: no white pixels, so the background ({segments[0]!r}) covers nothing")
    if names is not None and len(names) != wanted:
        warnings.append(f"{json_path}: \"names\" has {len(names)} entries for {wanted} instances; names taken from prompts")
        names = None
    inst_prompts = segments[1:]
    inst_names = unique_names(names if names is not None else
                              [name_from_prompt(p, f"Instance {k + 1}") for k, p in enumerate(inst_prompts)])
    sx, sy = width / w, height / h
    instances = []
    used = set()
    auto = colours_for_prompts(inst_prompts) if colours == "palette" else None
    for k, text in enumerate(inst_prompts):
        if k < len(ranking):
            colour, _ = ranking[k]
            geometry = trace((rgb == colour).all(-1))
            if (sx, sy) != (1.0, 1.0):
                geometry = shapely.affinity.scale(geometry, sx, sy, origin=(0, 0))
            hexcol = colour_hex(colour) if colours == "sketch" else None
        else:
            geometry, hexcol = None, None
        if hexcol is None:
            hexcol = auto[k] if auto else colour_for_prompt(text, list(used))
        used.add(hexcol)
        instances.append(Instance(name=inst_names[k], prompt=text, color=hexcol,
                                  **({"geometry": geometry} if geometry is not None else {})))
    layout = Layout(width, height, prompt, segments[0], instances)
    for inst in layout.instances_missing_from_base_prompt():
        warnings.append(f"instance {inst.name!r}: its prompt {inst.prompt!r} is not in the base prompt")
    return Imported(layout, warnings, settings)
