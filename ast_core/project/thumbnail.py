"""A small picture of a project for file dialogs and the recent-files list."""
from __future__ import annotations

import numpy as np
from PIL import Image

from ..document import Layout
from ..masks import rasterize

THUMBNAIL_SIDE = 256


def layout_thumbnail(layout: Layout, side: int = THUMBNAIL_SIDE) -> Image.Image:
    """The layout drawn as a colour sketch (white background), at most ``side`` pixels wide/high."""
    scale = side / max(layout.width, layout.height)
    cols, rows = max(1, round(layout.width * scale)), max(1, round(layout.height * scale))
    masks = rasterize(layout, grid=(cols, rows))
    rgb = np.full((rows, cols, 3), 255, np.uint8)
    by_id = {i.id: i for i in layout.instances}
    for k, iid in enumerate(masks.ids):
        colour = by_id[iid].color
        rgb[masks.instances[k] > 0] = [int(colour[j : j + 2], 16) for j in (1, 3, 5)]
    return Image.fromarray(rgb, "RGB")


def fit(image: Image.Image, side: int = THUMBNAIL_SIDE) -> Image.Image:
    im = image.convert("RGB")
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    return im
