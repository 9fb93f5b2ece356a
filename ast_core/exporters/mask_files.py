"""Per-instance mask images (white = the instance) on the pixel grid or any other grid.

Masks are exclusive by z-order (what the generator uses); the background mask is what
no visible instance covers. ``masks.json`` lists the files with names and prompts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..document import Layout
from ..masks import rasterize


#: the most memory the mask images of one export may take (masks and images are all made before
#: anything is written, so that a failure writes nothing)
MAX_MASK_BYTES = 2 << 30


class MasksTooLarge(ValueError):
    """The masks of an export would not fit in ``MAX_MASK_BYTES``."""


@dataclass
class MaskFile:
    name: str  # file name inside the output folder
    image: Image.Image


def slug(text: str, fallback: str = "instance") -> str:
    s = "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:40].strip("-")
    return s or fallback


def _image(mask: np.ndarray, soft: bool) -> Image.Image:
    if soft:
        return Image.fromarray(np.clip(np.rint(mask * 255), 0, 255).astype(np.uint8), "L")
    return Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8), "L")


def check_mask_memory(layout: Layout, grid: tuple[int, int] | None = None, soft: bool = False) -> None:
    """Raise MasksTooLarge when the masks of ``layout`` on ``grid`` (the pixel grid if None)
    would take more than ``MAX_MASK_BYTES``: 1,000 instances on a 4096^2 canvas would be
    some 48 GiB, refused in a line instead of exhausting memory."""
    cols, rows = grid or (layout.width, layout.height)
    n = len(layout.visible_instances())
    need = n * cols * rows * (9 if soft else 3)  # two masks per instance and its image
    if need > MAX_MASK_BYTES:
        raise MasksTooLarge(f"{n} masks of {cols}x{rows} cells need about {need / 2**30:.1f} GiB of memory, "
                            f"more than {MAX_MASK_BYTES / 2**30:.0f} GiB")


def mask_files(layout: Layout, grid: tuple[int, int] | None = None, soft: bool = False) -> tuple[list[MaskFile], dict]:
    """The mask images to write and the ``masks.json`` index (nothing is written here).
    Raises MasksTooLarge first when they would not fit in memory."""
    check_mask_memory(layout, grid, soft)
    ms = rasterize(layout, grid=grid, soft=soft)
    by_id = {i.id: i for i in layout.instances}
    files = [MaskFile("00_background.png", _image(ms.background, soft))]
    index = {
        "width": layout.width, "height": layout.height, "grid": list(ms.grid), "soft": soft,
        "base_prompt": layout.base_prompt,
        "background": {"file": files[0].name, "prompt": layout.background_prompt},
        "instances": [],
    }
    digits = max(2, len(str(len(ms.ids))))
    for k, iid in enumerate(ms.ids):
        inst = by_id[iid]
        name = f"{k + 1:0{digits}d}_{slug(inst.name)}.png"
        files.append(MaskFile(name, _image(ms.instances[k], soft)))
        index["instances"].append({"file": name, "id": iid, "name": inst.name, "prompt": inst.prompt,
                                   "color": inst.color, "z": k})
    if digits > 2:
        files[0].name = f"{0:0{digits}d}_background.png"
        index["background"]["file"] = files[0].name
    return files, index
