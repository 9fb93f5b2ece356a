"""A layout as a colour sketch in the seed format (PNG + JSON), the inverse of the importer.

Visible instances are painted bottom to top in their colours on white (exclusive by
z-order, pixel centres decide). Colours the seed format cannot carry (white = the
background, black = ignored, or a colour already used by another instance) are
replaced by distinct ones. The JSON lists the segments in the importer's order:
background first, then instances by pixel count (largest first, equal counts by
colour value), so ``import_seed(export)`` gives back the same instances and areas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..document import Layout, next_colour
from ..masks import rasterize

WHITE, BLACK = "#ffffff", "#000000"


@dataclass
class Sketch:
    image: Image.Image
    prompts: dict[str, Any]  # the seed JSON: layout, prompt, segments, names
    colours: dict[str, str] = field(default_factory=dict)  # instance id -> colour used
    warnings: list[str] = field(default_factory=list)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def render_sketch(layout: Layout, png_name: str = "layout.png") -> Sketch:
    warnings = []
    for inst in layout.instances:
        if not inst.visible:
            warnings.append(f"instance {inst.name!r} is hidden and is left out of the sketch")
    masks = rasterize(layout)
    by_id = {i.id: i for i in layout.instances}
    used = [WHITE, BLACK]
    colours: dict[str, str] = {}
    rgb = np.full((layout.height, layout.width, 3), 255, np.uint8)
    entries = []
    for k, iid in enumerate(masks.ids):
        inst = by_id[iid]
        m = masks.instances[k] > 0
        count = int(m.sum())
        if count == 0:
            why = "is empty" if inst.is_empty else "is entirely covered by instances above it"
            warnings.append(f"instance {inst.name!r} {why} and is left out of the sketch")
            continue
        colour = inst.color
        if colour in used:
            new = next_colour(used)
            what = "white (the background)" if colour == WHITE else "black (ignored)" if colour == BLACK else "already used"
            warnings.append(f"instance {inst.name!r}: colour {colour} is {what}; drawn in {new}")
            colour = new
        used.append(colour)
        colours[iid] = colour
        rgb[m] = _rgb(colour)
        entries.append((count, _rgb(colour), inst))
    entries.sort(key=lambda e: (-e[0], e[1]))
    prompts = {
        "layout": png_name,
        "prompt": layout.base_prompt,
        "segments": [layout.background_prompt] + [inst.prompt for _, _, inst in entries],
        "names": [inst.name for _, _, inst in entries],
    }
    return Sketch(Image.fromarray(rgb, "RGB"), prompts, colours, warnings)
