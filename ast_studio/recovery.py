"""Autosave to a recovery file while the document is modified; find leftovers after a crash.

Each running studio writes ``session-<pid>-<n>.astproj`` (+ ``.json`` naming the document's
own path) in the recovery folder a moment after each burst of edits: ``delay_ms`` (2 s)
after the last edit, and at the latest ``max_wait_ms`` (20 s) after the first one while
edits keep coming. The snapshot is taken on the GUI thread (a copy, a few milliseconds);
encoding and writing (zip, thumbnail, fsync) happen on a background thread. The files are
deleted when the document is saved, discarded or closed cleanly. Files left by a process
that is no longer running are what a crash left behind: :func:`pending_recoveries` lists
them, newest first.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

log = logging.getLogger(__name__)

DEFAULT_DELAY_MS = 2_000  # quiet time after the last edit of a burst
DEFAULT_MAX_WAIT_MS = 20_000  # while edits keep coming, write at least this often


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
        if _process_alive(pid):
            continue
        if not project.is_file():  # killed between writing the note and the project
            _remove(info)
            continue
        found.append(RecoveryFile(project, info, original, project.stat().st_mtime))
    return sorted(found, key=lambda r: r.saved, reverse=True)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("could not remove recovery file %s: %s", path, e)


class Autosave(QObject):
    """Writes the document to this session's recovery file shortly after each burst of edits."""

    failed = Signal(str)
    saved = Signal(object)  # Path (emitted on the GUI thread, also for background writes)
    _written = Signal(object, object)  # (Path | None, error text | None), from the writer thread

    def __init__(self, document, delay_ms: int = DEFAULT_DELAY_MS, folder: Path | None = None, parent=None,
                 max_wait_ms: int = DEFAULT_MAX_WAIT_MS) -> None:
        super().__init__(parent)
        self.document = document
        self.folder = Path(folder) if folder else default_folder()
        stem = f"session-{os.getpid()}-{id(self):x}"
        self.project_path = self.folder / f"{stem}.astproj"
        self.info_path = self.folder / f"{stem}.json"
        #: restarted by every edit: fires once the edits pause
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(delay_ms))
        self.timer.timeout.connect(self.autosave_in_background)
        #: started by the first edit of a burst, not restarted: continuous edits are written too
        self.deadline = QTimer(self)
        self.deadline.setSingleShot(True)
        self.deadline.setInterval(max(int(max_wait_ms), int(delay_ms)))
        self.deadline.timeout.connect(self.autosave_in_background)
        #: seconds each write took (snapshot to file in place), for the curious and the tests
        self.write_seconds: list[float] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._lock = threading.Lock()  # one write or discard at a time
        self._epoch = 0  # bumped by discard(): writes queued before it are dropped
        self._pending = 0  # background writes not finished yet (GUI thread only)
        self._stopped = False
        self._written.connect(self._on_background_written)
        document.modified_changed.connect(self._on_modified)
        document.undo_stack.indexChanged.connect(lambda _i: self._on_edit())
        document.part_changed.connect(lambda _name: self._on_edit())
        self._on_modified(document.is_modified)

    # ------------------------------------------------------------------ when
    def _on_modified(self, modified: bool) -> None:
        if modified:
            self._on_edit()
        else:
            self.timer.stop()
            self.deadline.stop()
            self.discard()

    def _on_edit(self) -> None:
        try:
            if not self.document.is_modified or self._stopped:
                return
        except RuntimeError:  # the undo stack announces its own destruction too
            return
        self.timer.start()  # (re)start: the write waits for the edits to pause
        if not self.deadline.isActive():
            self.deadline.start()

    @property
    def busy(self) -> bool:
        """True while a write is scheduled or running."""
        return self.timer.isActive() or self._pending > 0

    # ------------------------------------------------------------------ writing
    def _snapshot(self):
        note = {"pid": os.getpid(), "path": str(self.document.path) if self.document.path else None}
        return self.document.to_project(), note

    def autosave(self) -> bool:
        """Write the recovery file now, on this thread (True when written)."""
        self.timer.stop()
        self.deadline.stop()
        if not self.document.is_modified or self._stopped:
            return False
        project, note = self._snapshot()
        with self._lock:
            error = self._write(project, note)
        self._on_written(None if error else self.project_path, error)
        return error is None

    def autosave_in_background(self) -> None:
        """Snapshot the document now; encode and write it on the writer thread."""
        self.timer.stop()
        self.deadline.stop()
        if not self.document.is_modified or self._stopped:
            return
        project, note = self._snapshot()
        epoch, started = self._epoch, time.perf_counter()
        self._pending += 1

        def write() -> None:
            with self._lock:
                if epoch != self._epoch:  # discarded meanwhile: the document was saved or closed
                    self._written.emit(None, None)
                    return
                error = self._write(project, note, started)
            self._written.emit(None if error else self.project_path, error)

        self._writer.submit(write)

    def _write(self, project, note: dict, started: float | None = None) -> str | None:
        """Write note, then project, each atomically (the pair is complete once the project is in
        place); returns an error message or None. Called with the lock held."""
        from ast_core.project import save_project

        started = time.perf_counter() if started is None else started
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            part = self.info_path.with_name(self.info_path.name + ".part")
            part.write_text(json.dumps(note), encoding="utf-8")
            os.replace(part, self.info_path)
            save_project(project, self.project_path, keep_backup=False)
        except Exception as e:  # never let an autosave problem interrupt the artist
            log.exception("autosave to %s failed", self.project_path)
            return f"Autosave failed: {e}"
        self.write_seconds.append(time.perf_counter() - started)
        return None

    def _on_background_written(self, path, error) -> None:
        self._pending = max(0, self._pending - 1)
        self._on_written(path, error)

    def _on_written(self, path, error) -> None:
        if error:
            self.failed.emit(error)
        elif path is not None:
            self.saved.emit(path)

    # ------------------------------------------------------------------ clean-up
    def discard(self) -> None:
        """Remove this session's recovery files (waits for a write in progress, drops queued ones)."""
        with self._lock:
            self._epoch += 1
            for p in (self.project_path, self.info_path):
                _remove(p)

    def stop(self) -> None:
        """At a clean close: no more writes, and nothing left behind."""
        self._stopped = True
        self.timer.stop()
        self.deadline.stop()
        self.discard()
        self._writer.shutdown(wait=True)
        self.discard()
