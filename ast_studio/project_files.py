"""New / Open / Save / Save As / Open Recent / Import, with the questions an artist expects.

Open takes a project or a PNG rendered by AST Studio (``ast-studio render`` or a history
export): a PNG opens as a new untitled project made from its metadata, with the PNG itself in
the history. Dialogs are Qt's static functions (QFileDialog.get*, QMessageBox.*) so tests can
replace them. A file that cannot be read shows its error and leaves the current document as it was.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from . import settings

log = logging.getLogger(__name__)

PROJECT_FILTER = "AST projects (*.astproj)"
OPEN_FILTERS = "AST projects and renders (*.astproj *.png);;AST projects (*.astproj);;Renders with AST Studio metadata (*.png)"
#: File name endings Open (and a drop on the window) takes.
OPENABLE = (".astproj", ".png")
EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def canvas_thumbnail(scene, max_side: int = 256):
    """The canvas drawn by the scene, as a PIL image for the project file."""
    from PIL import Image

    image = scene.render_canvas(max_side)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")


class ProjectFiles(QObject):
    opened = Signal(object)  # Path
    saved = Signal(object)  # Path

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document

    # ------------------------------------------------------------ questions
    def _error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.window, title, text)

    def maybe_save(self) -> bool:
        """Ask Save / Discard / Cancel when there are unsaved changes; True to go on."""
        if not self.document.is_modified:
            return True
        answer = QMessageBox.warning(
            self.window, "Unsaved changes",
            f"Save the changes to {self.document.display_name()} before closing it?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _start_dir(self) -> str:
        if self.document.path:
            return str(self.document.path.parent)
        recent = settings.recent_files()
        return str(recent[0].parent) if recent else str(Path.home())

    # --------------------------------------------------------------- actions
    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.document.reset()
        self.window.autosave.discard()
        return True

    def open(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project or render", self._start_dir(), OPEN_FILTERS)
        return self.open_path(Path(path)) if path else False

    def open_path(self, path: Path, ask: bool = True, as_untitled: bool = False) -> bool:
        """Open ``path`` (a project, or a render PNG); on error show the message and keep the current document."""
        from ast_core.project import ProjectFileError, load_project

        if Path(path).suffix.lower() == ".png":
            return self.open_png(Path(path), ask)
        if ask and not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except ProjectFileError as e:
            self._error("Cannot open project", str(e))
            return False
        except OSError as e:
            self._error("Cannot open project", f"{path}: {e.strerror or e}")
            return False
        self.document.load(project, None if as_untitled else Path(path).resolve())
        if as_untitled:
            self.document.set_untitled_name(Path(path).stem)
        else:
            settings.add_recent_file(Path(path))
        self.window.autosave.discard()
        self.opened.emit(Path(path))
        return True

    def open_png(self, path: Path, ask: bool = True) -> bool:
        """A render PNG as a new untitled project (its layout, settings, schedule; the PNG in the history)."""
        from ast_core.provenance import ProvenanceError, read_png

        if ask and not self.maybe_save():
            return False
        try:
            read = read_png(path)
        except ProvenanceError as e:
            self._error("Cannot open the image as a project", str(e))
            return False
        self.document.load(read.project, None)
        self.document.set_untitled_name(Path(path).stem)
        self.document.mark_modified()
        self.window.autosave.discard()
        self.opened.emit(Path(path))
        note = f"; {'; '.join(read.warnings)}" if read.warnings else ""
        self.window.statusBar().showMessage(f"Opened the project of {Path(path).name}{note}", 8000)
        if read.warnings:
            QMessageBox.information(self.window, "Opened with notes", f"Opened the project of {path}.\n\n"
                                    + "\n".join(f"• {w}" for w in read.warnings))
        return True

    def open_dropped(self, paths: list[Path]) -> bool:
        """Open the first project or PNG among files dropped on the window."""
        for path in paths:
            if path.suffix.lower() in OPENABLE and path.is_file():
                return self.open_path(path)
        self._error("Cannot open", "Drop a project (.astproj) or a PNG rendered by AST Studio.")
        return False

    def open_example(self, name: str = "beach") -> bool:
        """The bundled example, as an untitled copy (saving asks where)."""
        path = EXAMPLES / f"{name}.astproj"
        if not path.is_file():
            log.info("example project %s not found", path)
            return False
        return self.open_path(path, as_untitled=True)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.write(self.document.path)

    def save_as(self) -> bool:
        suggested = self.document.path or Path(self._start_dir()) / f"{self.document.display_name()}.astproj"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project as", str(suggested), PROJECT_FILTER)
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != ".astproj":
            path = path.with_name(path.name + ".astproj")
        return self.write(path)

    def write(self, path: Path) -> bool:
        from ast_core.project import ProjectFileError, save_project

        project = self.document.to_project()
        thumbnail = None if project.renders else canvas_thumbnail(self.window.canvas.scene())
        try:
            save_project(project, path, thumbnail=thumbnail)
        except ProjectFileError as e:
            self._error("Cannot save project", str(e))
            return False
        except OSError as e:
            self._error("Cannot save project", f"{path}: {e.strerror or e}")
            return False
        self.document.created = project.created
        self.document.mark_saved(Path(path).resolve())
        settings.add_recent_file(Path(path))
        self.window.autosave.discard()
        self.saved.emit(Path(path))
        self.window.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    # --------------------------------------------------------------- imports
    def _take_import(self, imported, source: str) -> None:
        self.document.reset(imported.layout)
        self.document.set_untitled_name(Path(source).stem)
        project_settings = imported.project_settings()
        if project_settings:
            from ast_core.project import ProjectSettings

            self.document.settings.assign(ProjectSettings.from_dict(project_settings))
        self.document.mark_modified()
        self.window.autosave.discard()
        missing = self.document.layout.instances_missing_from_base_prompt()
        notes = list(imported.warnings)
        if missing:
            notes.append(f"{len(missing)} instance(s) are not in the base prompt; they are flagged in the "
                         f"Instances panel (use “Append to base prompt”).")
        if self.document.layout.background_missing_from_base_prompt():
            notes.append("The background prompt is not in the base prompt; it is flagged in the Prompts panel "
                         "(use “Append missing”).")
        if notes:
            QMessageBox.information(self.window, "Imported with notes",
                                    f"Imported {source}.\n\n" + "\n".join(f"• {n}" for n in notes))

    def _run_import(self, what: str, fn, source: str) -> bool:
        from ast_core.importers import ImportFileError

        try:
            imported = fn()
        except ImportFileError as e:
            self._error(f"Cannot import {what}", str(e))
            return False
        except OSError as e:
            self._error(f"Cannot import {what}", f"{source}: {e.strerror or e}")
            return False
        self._take_import(imported, source)
        return True

    def import_seed_sketch(self) -> bool:
        png, _ = QFileDialog.getOpenFileName(self.window, "Import seed sketch (colour PNG)", self._start_dir(),
                                             "Colour sketches (*.png)")
        if not png:
            return False
        json_path = Path(png).with_suffix(".json")
        if not json_path.is_file():
            chosen, _ = QFileDialog.getOpenFileName(self.window, "Prompts of the sketch (JSON)",
                                                    str(Path(png).parent), "JSON (*.json)")
            if not chosen:
                return False
            json_path = Path(chosen)
        if not self.maybe_save():
            return False
        from ast_core.importers import import_seed

        return self._run_import("seed sketch", lambda: import_seed(png, json_path), png)

    def import_boxes(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import boxes (JSON)", self._start_dir(), "JSON (*.json)")
        if not path:
            return False
        from ast_core.importers import ImportFileError, import_boxes
        from ast_core.importers.files import read_json

        index = None
        try:
            data = read_json(path)
        except ImportFileError as e:
            self._error("Cannot import boxes", str(e))
            return False
        if isinstance(data, list) and len(data) > 1:
            names = [f"{i}: {it.get('name', 'layout')}" if isinstance(it, dict) else f"{i}"
                     for i, it in enumerate(data)]
            choice, ok = QInputDialog.getItem(self.window, "Import boxes", "This file holds several layouts:",
                                              names, 0, False)
            if not ok:
                return False
            index = names.index(choice)
        if not self.maybe_save():
            return False
        return self._run_import("boxes", lambda: import_boxes(path, index=index), path)

    def import_masks(self) -> bool:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Import masks (one black/white image per instance)",
                                                self._start_dir(), "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)")
        if not paths:
            return False
        prompts, _ = QFileDialog.getOpenFileName(self.window, "Prompts for the masks (JSON, optional: Cancel "
                                                 "for none)", str(Path(paths[0]).parent), "JSON (*.json)")
        if not self.maybe_save():
            return False
        from ast_core.importers import import_masks

        return self._run_import("masks", lambda: import_masks(paths, prompts or None), paths[0])
