"""Autosave to a recovery file while the document is modified; find leftovers after a crash.

Each running studio writes ``session-<pid>.astproj`` (+ ``.json`` naming the document's own
path) in the recovery folder every ``interval_ms`` while modified, and deletes them when the
document is saved, discarded or closed cleanly. Files left by a process that is no longer
running are what a crash left behind: :func:`pending_recoveries` lists them, newest first.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 60_000


def default_folder() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


@dataclass
class RecoveryFile:
    project: Path
    info: Path
    original: Path | None  # the document's own file, None when it was untitled
    saved: float  # modification time of the recovery file

    @property
    def name(self) -> str:
        return self.original.name if self.original else "an untitled document"

    def remove(self) -> None:
        for p in (self.project, self.info):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def set_aside(self) -> Path:
        """Keep an unreadable recovery file under another name so it is not offered again."""
        target = self.project.with_suffix(".unreadable")
        os.replace(self.project, target)
        try:
            self.info.unlink()
        except FileNotFoundError:
            pass
        return target


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def pending_recoveries(folder: Path | None = None) -> list[RecoveryFile]:
    """Recovery files whose studio is no longer running, newest first."""
    folder = Path(folder) if folder else default_folder()
    found = []
    for info in folder.glob("session-*.json"):
        project = info.with_suffix(".astproj")
        try:
            data = json.loads(info.read_text(encoding="utf-8"))
            pid = int(data.get("pid", -1))
            original = Path(data["path"]) if data.get("path") else None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            log.warning("ignoring unreadable recovery note %s: %s", info, e)
            continue
        if not project.is_file() or _process_alive(pid):
            continue
        found.append(RecoveryFile(project, info, original, project.stat().st_mtime))
    return sorted(found, key=lambda r: r.saved, reverse=True)


class Autosave(QObject):
    """Writes the document to this session's recovery file on a timer, while it is modified."""

    failed = Signal(str)
    saved = Signal(object)  # Path

    def __init__(self, document, interval_ms: int = DEFAULT_INTERVAL_MS, folder: Path | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.folder = Path(folder) if folder else default_folder()
        stem = f"session-{os.getpid()}-{id(self):x}"
        self.project_path = self.folder / f"{stem}.astproj"
        self.info_path = self.folder / f"{stem}.json"
        self.timer = QTimer(self)
        self.timer.setInterval(int(interval_ms))
        self.timer.timeout.connect(self.autosave)
        document.modified_changed.connect(self._on_modified)
        self._on_modified(document.is_modified)

    def _on_modified(self, modified: bool) -> None:
        if modified:
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()
            self.discard()

    def autosave(self) -> bool:
        if not self.document.is_modified:
            return False
        from ast_core.project import save_project

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save_project(self.document.to_project(), self.project_path, keep_backup=False)
            note = {"pid": os.getpid(), "path": str(self.document.path) if self.document.path else None}
            self.info_path.write_text(json.dumps(note), encoding="utf-8")
        except Exception as e:  # never let an autosave problem interrupt the artist
            log.exception("autosave to %s failed", self.project_path)
            self.failed.emit(f"Autosave failed: {e}")
            return False
        self.saved.emit(self.project_path)
        return True

    def discard(self) -> None:
        for p in (self.project_path, self.info_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("could not remove recovery file %s: %s", p, e)
