"""What a project file holds: the layout, generation settings, schedule and render history."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..document import Layout
from ..schedule import Schedule
from .canvas_background import CanvasBackground
from .settings import ProjectSettings


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
    """A document as saved in a ``.astproj`` file, as typed objects.

    ``settings`` is a :class:`~ast_core.project.settings.ProjectSettings` (a JSON object is
    accepted and read forgivingly); ``schedule`` a :class:`~ast_core.schedule.Schedule`, or
    None for the model family's default schedule (a dict is parsed). A stored schedule this
    version cannot read is kept as it was in ``unread_schedule`` (written back unchanged
    until a new schedule replaces it), with the reason in ``schedule_problem``.
    ``created``/``modified`` are ISO 8601 times; :func:`save_project` fills them in.
    ``background`` is the picture shown under the layout to trace against (or None).
    """

    layout: Layout
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    schedule: Schedule | None = None
    renders: list[Render] = field(default_factory=list)
    created: str = ""
    modified: str = ""
    unread_schedule: dict[str, Any] | None = None
    schedule_problem: str = ""
    background: CanvasBackground | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.settings, ProjectSettings):
            self.settings = ProjectSettings.from_dict(self.settings if self.settings is not None else {})
        if isinstance(self.schedule, dict):
            try:
                self.schedule = Schedule.from_dict(self.schedule)
            except ValueError as e:  # kept as it is, as the reader keeps one it cannot read
                self.unread_schedule, self.schedule, self.schedule_problem = self.schedule, None, str(e)
        if self.schedule is not None and not isinstance(self.schedule, Schedule):
            raise ValueError(f"schedule: expected a Schedule, a dict or None, got {type(self.schedule).__name__}")
        if self.background is not None and not isinstance(self.background, CanvasBackground):
            raise ValueError(f"background: expected a CanvasBackground or None, got {type(self.background).__name__}")
