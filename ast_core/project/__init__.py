"""The ``.astproj`` project file: a zip of JSON parts and PNG images.

Layout of the archive (format 2; :mod:`.migrations` reads format 1)::

    manifest.json        format_version, app, app_version, created, modified, renders (ids, in order)
    layout.json          canvas, prompts, instances bottom-to-top; geometry as WKT
    settings.json        generation settings, LoRAs, method parameters (ProjectSettings)
    schedule.json        the step-layer schedule (Schedule), absent = the model family's default
    renders/<id>.png     one rendered image
    renders/<id>.json    its id, created, parameters and layout snapshot
    thumbnail.png        at most 256x256
    background.png       optional: the picture shown under the layout to trace against
    background.json      its opacity, whether it is shown, and its name (CanvasBackground)

``save_project`` is atomic and keeps ``PATH.bak``; ``load_project`` validates every
field and raises :class:`ProjectFileError` ("<file>: <part/field>: <problem>").
``layout_from_dict`` on its own raises :class:`FieldError` ("<field>: <problem>").
"""
from .canvas_background import CanvasBackground
from .errors import FieldError, ProjectFileError
from .layout_json import layout_from_dict, layout_to_dict
from .migrations import FORMAT_VERSION
from .model import Project, Render
from .reader import load_project, read_thumbnail
from .settings import ProjectSettings, RenderSettings
from .writer import backup_path, save_project

__all__ = [
    "CanvasBackground", "FORMAT_VERSION", "FieldError", "Project", "ProjectFileError", "ProjectSettings", "Render", "RenderSettings",
    "backup_path", "layout_from_dict", "layout_to_dict",
    "load_project", "read_thumbnail", "save_project",
]
