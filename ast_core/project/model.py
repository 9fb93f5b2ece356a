"""What a project file holds: the layout, generation settings, schedule and render history."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..document import Layout


def new_render_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Render:
    """One entry of the render history.

    ``image_png`` is the image as PNG bytes (stored as is), ``parameters`` the
    generation parameters (JSON object), ``layout`` the layout snapshot it was made
    from (``layout_to_dict`` form), ``created`` an ISO 8601 time. ``id`` names the
    files ``renders/<id>.png`` and ``renders/<id>.json`` (letters, digits, ``-``, ``_``).
    """

    image_png: bytes
    parameters: dict[str, Any]
    layout: dict[str, Any]
    created: str = ""
    id: str = field(default_factory=new_render_id)


@dataclass
class Project:
    """A document as saved in a ``.astproj`` file.

    ``settings`` and ``schedule`` are JSON objects owned by the generation settings and
    the schedule model (``schedule=None``: the model family's default schedule).
    ``created``/``modified`` are ISO 8601 times; :func:`save_project` fills them in.
    """

    layout: Layout
    settings: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    renders: list[Render] = field(default_factory=list)
    created: str = ""
    modified: str = ""
