"""The canvas background: a picture (a render, or any imported image) shown under the layout to
trace shapes against, saved with the project (``background.png`` + ``background.json``).

It is part of the project, not a view setting: an artist who traced a reference expects it to
be there when the project is reopened. The picture is stored as PNG; ``background.json``
holds how it is shown::

    {"opacity": 0.5, "visible": true, "name": "render 3 (seed 7)"}

The picture is drawn inside the canvas, centred, keeping its aspect ratio; it never takes
part in generation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import images
from .errors import FieldError
from .fields import get, reject_unknown, require_object

FIELDS = {"opacity", "visible", "name"}
MAX_NAME = 1_000
DEFAULT_OPACITY = 0.5


def check_opacity(value: Any) -> float:
    """``value`` as a float from 0 to 1, or ValueError saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= 1.0:
        raise ValueError(f"opacity must be a number from 0 to 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class CanvasBackground:
    """A picture under the layout: PNG bytes, opacity (0-1), shown or hidden, and where it came from."""

    image_png: bytes
    opacity: float = DEFAULT_OPACITY
    visible: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.image_png, (bytes, bytearray)) or not bytes(self.image_png).startswith(
                images.PNG_SIGNATURE):
            raise ValueError("canvas background: the picture must be PNG bytes")
        object.__setattr__(self, "image_png", bytes(self.image_png))
        object.__setattr__(self, "opacity", check_opacity(self.opacity))
        if not isinstance(self.visible, bool):
            raise ValueError(f"canvas background: visible must be true/false, got {self.visible!r}")
        if not isinstance(self.name, str):
            raise ValueError(f"canvas background: name must be text, got {self.name!r}")
        object.__setattr__(self, "name", self.name[:MAX_NAME])

    def with_changes(self, **changes) -> "CanvasBackground":
        values = {"image_png": self.image_png, "opacity": self.opacity, "visible": self.visible,
                  "name": self.name, **changes}
        return CanvasBackground(**values)

    def view_dict(self) -> dict[str, Any]:
        """The ``background.json`` part."""
        return {"opacity": self.opacity, "visible": self.visible, "name": self.name}


def background_from_parts(view: Any, png: bytes) -> CanvasBackground:
    """The background from its two members; FieldError naming the field (``""`` for the PNG
    itself is named by the caller) when something is wrong."""
    view = require_object(view, "")
    reject_unknown(view, FIELDS, "")
    opacity = get(view, "opacity", (int, float), "", DEFAULT_OPACITY)
    try:
        opacity = check_opacity(opacity)
    except ValueError as e:
        raise FieldError("opacity", str(e)) from None
    visible = get(view, "visible", bool, "", True)
    name = get(view, "name", str, "", "")
    if len(name) > MAX_NAME:
        raise FieldError("name", f"longer than {MAX_NAME} characters")
    images.check_png_structure(png)
    return CanvasBackground(png, opacity, visible, name)
