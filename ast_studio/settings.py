"""The studio's own preferences (QSettings, INI format), typed with defaults.

A bad stored value falls back to its default with a log line. Tests point QSettings at a
temporary folder (``QSettings.setPath``) and enable ``QStandardPaths`` test mode, so the
user's real settings are never touched.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)

ORGANISATION = "AST Studio"
APPLICATION = "studio"
MAX_RECENT = 10


def store() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def _typed(key: str, default, kind):
    value = store().value(key, default)
    if kind is bool and isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    try:
        return kind(value)
    except (TypeError, ValueError):
        log.warning("setting %s has a bad value %r; using %r", key, value, default)
        return default


def recent_files() -> list[Path]:
    value = store().value("files/recent", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        log.warning("setting files/recent has a bad value %r; using []", value)
        return []
    return [Path(v) for v in value if isinstance(v, str) and v][:MAX_RECENT]


def add_recent_file(path: Path) -> list[Path]:
    path = Path(path).resolve()
    files = [path] + [p for p in recent_files() if p != path]
    store().setValue("files/recent", [str(p) for p in files[:MAX_RECENT]])
    return files[:MAX_RECENT]


def clear_recent_files() -> None:
    store().setValue("files/recent", [])


def first_run() -> bool:
    return not _typed("app/has_run", False, bool)


def mark_has_run() -> None:
    store().setValue("app/has_run", True)


def brush_diameter() -> float:
    return _typed("canvas/brush_diameter", 24.0, float)


def set_brush_diameter(value: float) -> None:
    store().setValue("canvas/brush_diameter", float(value))


def models_folder() -> str:
    """The folder "Scan a models folder…" scanned last ("" before the first scan)."""
    return _typed("models/scan_folder", "", str)


def set_models_folder(folder: str) -> None:
    store().setValue("models/scan_folder", str(folder))


def window_state() -> tuple:
    s = store()
    return s.value("window/geometry"), s.value("window/state")


def save_window_state(geometry, state) -> None:
    s = store()
    s.setValue("window/geometry", geometry)
    s.setValue("window/state", state)
