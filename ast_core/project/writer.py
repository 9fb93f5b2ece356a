"""Writing ``.astproj`` files atomically, keeping the previous version as ``PATH.bak``.

The archive is built in memory first (so an unserialisable setting, or anything the
reader would refuse, is refused before anything touches the disk), written to a
temporary file in the target's folder, flushed and fsync'ed, then moved over the target
with ``os.replace``. A crash at any point leaves either the old file or the new one,
never a mix; a failed write raises an OSError that names the file being saved.
"""
from __future__ import annotations

import functools

import io
import os
import shutil
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from .. import __version__
from . import images
from .errors import FieldError, ProjectFileError
from .layout_json import layout_from_dict, layout_to_dict
from .migrations import FORMAT_VERSION
from ..schedule import Schedule
from .model import Project
from .canvas_background import background_from_parts
from .reader import (BACKGROUND_PNG, BACKGROUND_VIEW, LAYOUT, MANIFEST, MAX_RENDERS, RENDER_ID, SCHEDULE, SETTINGS,
                     THUMBNAIL)
from .settings import ProjectSettings
from .strict_json import JsonBudget, dump_json, parse_json
from .thumbnail import fit, layout_thumbnail
from .wkt_geometry import GeometryReader

BACKUP_SUFFIX = ".bak"
_TEMP_SUFFIX = ".saving"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def backup_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


def _json_member(label: str, member: str, value) -> bytes:
    try:
        return dump_json(value)
    except (TypeError, ValueError, RecursionError) as e:
        raise ProjectFileError(label, member, f"cannot be saved as JSON ({e})") from None


@functools.lru_cache(maxsize=4)
def render_thumbnail(image_png: bytes) -> bytes | None:
    """The thumbnail PNG of a render (None if it does not decode). Kept for the last few renders:
    every save and autosave of a project takes its newest render's, and decoding a 1024x1024
    render takes some 75 ms (the bytes' hash is cached by Python, so a hit costs nothing)."""
    try:
        return images.encode_png(fit(images.decode_png(image_png)))
    except ValueError:
        return None


def build_archive(project: Project, label: str, thumbnail: Image.Image | None, created: str, modified: str) -> bytes:
    """The whole project file as bytes (nothing is written to disk)."""
    if not isinstance(project.settings, ProjectSettings):
        raise ProjectFileError(label, SETTINGS, "settings must be ProjectSettings")
    if project.schedule is not None and not isinstance(project.schedule, Schedule):
        raise ProjectFileError(label, SCHEDULE, "schedule must be a Schedule or None")
    schedule = project.schedule.to_dict() if project.schedule is not None else project.unread_schedule
    if len(project.renders) > MAX_RENDERS:
        raise ProjectFileError(label, "renders", f"more than {MAX_RENDERS} renders")
    members: list[tuple[str, bytes, int]] = []
    ids = []
    for i, r in enumerate(project.renders):
        if not isinstance(r.id, str) or not RENDER_ID.match(r.id) or r.id in ids:
            raise ProjectFileError(label, f"renders[{i}].id", f"{r.id!r} is not a unique id of letters, digits, '-', '_'")
        if not isinstance(r.image_png, (bytes, bytearray)) or not bytes(r.image_png).startswith(images.PNG_SIGNATURE):
            raise ProjectFileError(label, f"renders/{r.id}.png", "image_png must be PNG bytes")
        if not isinstance(r.parameters, dict) or not isinstance(r.layout, dict):
            raise ProjectFileError(label, f"renders/{r.id}.json", "parameters and layout must be dicts")
        ids.append(r.id)
        meta = {"id": r.id, "created": r.created, "parameters": r.parameters, "layout": r.layout}
        members.append((f"renders/{r.id}.json", _json_member(label, f"renders/{r.id}.json", meta), zipfile.ZIP_DEFLATED))
        members.append((f"renders/{r.id}.png", bytes(r.image_png), zipfile.ZIP_STORED))
    manifest = {
        "format_version": FORMAT_VERSION,
        "app": "AST Studio",
        "app_version": __version__,
        "created": created,
        "modified": modified,
        "renders": ids,
    }
    head = [
        (MANIFEST, _json_member(label, MANIFEST, manifest), zipfile.ZIP_DEFLATED),
        (LAYOUT, _json_member(label, LAYOUT, layout_to_dict(project.layout)), zipfile.ZIP_DEFLATED),
        (SETTINGS, _json_member(label, SETTINGS, project.settings.to_dict()), zipfile.ZIP_DEFLATED),
    ]
    if schedule is not None:
        head.append((SCHEDULE, _json_member(label, SCHEDULE, schedule), zipfile.ZIP_DEFLATED))
    background = project.background
    if background is not None:
        try:
            background_from_parts(background.view_dict(), background.image_png)
        except FieldError as e:
            raise ProjectFileError(label, BACKGROUND_PNG, f"would not read back ({e})") from None
        head.append((BACKGROUND_VIEW, _json_member(label, BACKGROUND_VIEW, background.view_dict()),
                     zipfile.ZIP_DEFLATED))
        head.append((BACKGROUND_PNG, background.image_png, zipfile.ZIP_STORED))
    if thumbnail is not None:
        thumbnail_png = images.encode_png(fit(thumbnail))
    else:
        thumbnail_png = render_thumbnail(bytes(project.renders[-1].image_png)) if project.renders else None
        if thumbnail_png is None:
            thumbnail_png = images.encode_png(fit(layout_thumbnail(project.layout)))
    head.append((THUMBNAIL, thumbnail_png, zipfile.ZIP_STORED))
    # Read the JSON back now, as the reader will: a value json.dumps accepts but the reader
    # would refuse (a non-string key turned into a string, nesting or size past the limits,
    # a layout past the geometry limits) is refused here, before the file is touched.
    budget, snapshots = JsonBudget(), GeometryReader(text_only=True)
    for name, data, _ in head + members:
        if name.endswith(".json"):
            try:
                value = parse_json(data, budget)
                if name == LAYOUT:
                    layout_from_dict(value)
                elif name.startswith("renders/"):
                    layout_from_dict(value["layout"], "layout", snapshots)
            except FieldError as e:
                raise ProjectFileError(label, name, f"would not read back ({e})") from None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, method in head + members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compress_type=method)
    return buf.getvalue()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep_backup(path: Path) -> None:
    """Make PATH.bak a copy of the current PATH (atomically replacing an older backup)."""
    bak = backup_path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{bak.name}.", suffix=_TEMP_SUFFIX)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(path, tmp)  # cheap: the old inode survives the os.replace below
        except OSError:
            shutil.copy2(path, tmp)
        os.replace(tmp, bak)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _remove_stale_temps(path: Path) -> None:
    """Temp files a killed save of this same file left behind."""
    for p in path.parent.glob(f".{path.name}.*{_TEMP_SUFFIX}"):
        try:
            p.unlink()
        except OSError:
            pass


def save_project(
    project: Project, path: str | Path, thumbnail: Image.Image | None = None, keep_backup: bool = True,
    modified: str | None = None,
) -> None:
    """Save ``project`` to ``path`` atomically.

    The previous file (if any) is kept as ``PATH.bak`` unless ``keep_backup`` is False
    (autosave/recovery files). ``project.created`` (if empty) and ``project.modified``
    are set once the file is in place (``modified`` fixes the time, for reproducible files). The thumbnail defaults to the newest render,
    else the layout drawn as a sketch. Raises ProjectFileError for a project that cannot
    be serialised, OSError for disk problems; in both cases PATH is unchanged.
    """
    path = Path(path)
    label = str(path)
    if path.exists() and not path.is_file():
        raise ProjectFileError(label, "", "exists and is not a file")
    if not path.parent.is_dir():
        raise ProjectFileError(label, "", f"folder {str(path.parent)!r} does not exist")
    modified = modified or now_iso()
    created = project.created or modified
    data = build_archive(project, label, thumbnail, created, modified)
    try:
        _write(path, data, keep_backup)
    except OSError as e:
        # Name the file being saved (the failing call named a temp file, or none).
        if e.errno is None:
            raise OSError(f"{e}: {path}") from e
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e
    project.created, project.modified = created, modified


def _write(path: Path, data: bytes, keep_backup: bool) -> None:
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        if keep_backup and path.is_file():
            _keep_backup(path)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    if os.name != "posix":
        return 0
    mask = os.umask(0)
    os.umask(mask)
    return mask
