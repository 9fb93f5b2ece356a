"""Reading ``.astproj`` files: hardened, validating, and never writing anything.

Every problem becomes a :class:`ProjectFileError` naming the file, the member/field
and the problem. Limits guard against hostile archives: member names must stay
inside the archive (no absolute paths, no ``..``), the number of members, each
member's size and the total uncompressed size are capped (sizes are enforced on the
bytes actually inflated, not the sizes the archive claims), JSON parts are parsed
within value and depth limits (:mod:`.strict_json`), geometry within vertex limits
(:mod:`.wkt_geometry`; a render's layout snapshot has its fields and geometry text checked,
and is parsed in full when it is used), and images are checked from their headers and
chunk checksums only: their pixels are decoded when a render is shown or exported.
"""
from __future__ import annotations

import lzma
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from . import images
from .errors import FieldError, ProjectFileError
from .fields import get, get_timestamp, reject_unknown, require_object
from .canvas_background import background_from_parts
from .layout_json import layout_from_dict
from .migrations import FORMAT_VERSION, MigrationError, migrate
from .model import Project, Render
from .settings import ProjectSettings
from .strict_json import JsonBudget, parse_json
from .wkt_geometry import GeometryReader

MAX_MEMBERS = 5_000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RENDERS = 2_000

MANIFEST, LAYOUT, SETTINGS, SCHEDULE, THUMBNAIL = (
    "manifest.json", "layout.json", "settings.json", "schedule.json", "thumbnail.png")
BACKGROUND_VIEW, BACKGROUND_PNG = "background.json", "background.png"  # format 2: the canvas background
RENDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MANIFEST_FIELDS = {"format_version", "app", "app_version", "created", "modified", "renders"}
RENDER_FIELDS = {"id", "created", "parameters", "layout"}
#: What reading a member can raise, whatever codec stored it (deflate, bzip2, LZMA, zstd, ...).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError, RuntimeError,
    ValueError, struct.error, IndexError, KeyError, TypeError)
try:  # Python 3.14+: zip members stored with Zstandard
    from compression.zstd import ZstdError

    _READ_ERRORS += (ZstdError,)
except ImportError:
    pass


def _unsafe_name(name: str) -> str | None:
    """Why a member name could escape or confuse (None if it is safe)."""
    if not name or len(name) > 255:
        return "empty or over-long name"
    if "\x00" in name or "\\" in name:
        return "contains a backslash or NUL"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "path with '..', '.' or an empty part"
    return None


class _Archive:
    """Checked access to the members of one zip file, with running size accounting."""

    def __init__(self, zf: zipfile.ZipFile, label: str) -> None:
        self.zf, self.label, self.total = zf, label, 0
        self.budget = JsonBudget()
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ProjectFileError(label, "archive", f"{len(infos)} members, more than the limit of {MAX_MEMBERS}")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            why = _unsafe_name(info.filename)
            if why:
                raise ProjectFileError(label, repr(info.filename[:80]), f"unsafe member name ({why})")
            if info.filename in self.infos:
                raise ProjectFileError(label, info.filename, "member appears twice in the archive")
            if info.flag_bits & 0x1:
                raise ProjectFileError(label, info.filename, "member is encrypted")
            if info.file_size > MAX_MEMBER_BYTES:
                raise ProjectFileError(label, info.filename,
                                       f"member of {info.file_size} bytes is larger than the limit of {MAX_MEMBER_BYTES}")
            self.infos[info.filename] = info
        declared = sum(i.file_size for i in infos)
        if declared > MAX_TOTAL_BYTES:
            raise ProjectFileError(label, "archive", f"{declared} bytes uncompressed, more than the limit of {MAX_TOTAL_BYTES}")

    def __contains__(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str) -> bytes:
        if name not in self.infos:
            raise ProjectFileError(self.label, name, "missing from the archive")
        try:
            with self.zf.open(self.infos[name]) as f:
                data = f.read(MAX_MEMBER_BYTES + 1)
        except _READ_ERRORS as e:
            raise ProjectFileError(self.label, name, f"cannot be read ({str(e)[:120] or type(e).__name__})") from None
        if len(data) > MAX_MEMBER_BYTES:
            raise ProjectFileError(self.label, name, f"inflates to more than the limit of {MAX_MEMBER_BYTES} bytes")
        self.total += len(data)
        if self.total > MAX_TOTAL_BYTES:
            raise ProjectFileError(self.label, name, f"archive inflates to more than the limit of {MAX_TOTAL_BYTES} bytes")
        return data

    def json(self, name: str) -> Any:
        try:
            return parse_json(self.read(name), self.budget)
        except FieldError as e:
            raise ProjectFileError(self.label, name, str(e)) from None


def _field(label: str, member: str, fn, *args):
    """Run a validator, turning its FieldError into a ProjectFileError for ``member``."""
    try:
        return fn(*args)
    except FieldError as e:
        raise ProjectFileError(label, member, str(e)) from None


def _manifest(m: Any) -> dict:
    m = require_object(m, "")
    reject_unknown(m, MANIFEST_FIELDS, "")
    get(m, "format_version", int, "")
    get(m, "app", str, "", "")
    get(m, "app_version", str, "", "")
    get_timestamp(m, "created", "", "")
    get_timestamp(m, "modified", "", "")
    renders = get(m, "renders", list, "", [])
    if len(renders) > MAX_RENDERS:
        raise FieldError("renders", f"more than {MAX_RENDERS} renders")
    seen = set()
    for i, rid in enumerate(renders):
        if not isinstance(rid, str) or not RENDER_ID.match(rid):
            raise FieldError(f"renders[{i}]", "must be a render id (1-64 letters, digits, '-' or '_')")
        if rid in seen:
            raise FieldError(f"renders[{i}]", f"render {rid!r} is listed twice")
        seen.add(rid)
    return m


def _render(meta: Any, rid: str, png: bytes, snapshots: GeometryReader) -> Render:
    meta = require_object(meta, "")
    reject_unknown(meta, RENDER_FIELDS, "")
    if get(meta, "id", str, "") != rid:
        raise FieldError("id", f"must match the file name {rid!r}")
    created = get_timestamp(meta, "created", "", "")
    parameters = require_object(get(meta, "parameters", dict, ""), "parameters")
    snapshot = get(meta, "layout", dict, "")
    layout_from_dict(snapshot, "layout", snapshots)  # fields checked, geometry text too; kept as stored
    return Render(png, parameters, snapshot, created, rid)


def _open_zip(path: Path, label: str) -> zipfile.ZipFile:
    if not path.exists():
        if path.is_symlink():
            raise ProjectFileError(label, "", "no such file (a symbolic link that leads nowhere, or in a loop)")
        raise ProjectFileError(label, "", "no such file")
    if not path.is_file():
        raise ProjectFileError(label, "", "not a file")
    try:
        return zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise ProjectFileError(label, "", "not an AST Studio project (not a zip archive, or a damaged one)") from None
    except _READ_ERRORS as e:
        raise ProjectFileError(label, "", f"cannot be opened ({str(e)[:120] or type(e).__name__})") from None


def load_project(path: str | Path) -> Project:
    """Read and validate a ``.astproj`` file. Raises :class:`ProjectFileError`."""
    path = Path(path)
    label = str(path)
    with _open_zip(path, label) as zf:
        ar = _Archive(zf, label)
        if MANIFEST not in ar:
            raise ProjectFileError(label, MANIFEST, "missing: not an AST Studio project")
        manifest = _field(label, MANIFEST, _manifest, ar.json(MANIFEST))
        parts: dict[str, Any] = {
            "manifest": manifest,
            "layout": ar.json(LAYOUT),
            "settings": ar.json(SETTINGS) if SETTINGS in ar else {},
            "schedule": ar.json(SCHEDULE) if SCHEDULE in ar else None,
            "renders": [],
            "background": None,
        }
        if BACKGROUND_VIEW in ar or BACKGROUND_PNG in ar:
            if 2 <= manifest["format_version"] <= FORMAT_VERSION:  # format 1 has none: members ignored
                parts["background"] = (ar.json(BACKGROUND_VIEW), ar.read(BACKGROUND_PNG))
        for rid in manifest.get("renders", []):
            member = f"renders/{rid}.json"
            parts["renders"].append((rid, ar.json(member), ar.read(f"renders/{rid}.png")))
        try:
            parts = migrate(parts, manifest["format_version"])
        except MigrationError as e:
            raise ProjectFileError(label, f"{MANIFEST}: format_version", str(e)) from None

        layout = _field(label, LAYOUT, layout_from_dict, parts["layout"], "", GeometryReader())
        settings = ProjectSettings.from_dict(_field(label, SETTINGS, require_object, parts["settings"], ""))
        schedule = parts["schedule"]
        if schedule is not None:
            _field(label, SCHEDULE, require_object, schedule, "")
            # one it cannot read (a newer version's, or edited by hand) is kept as it is: saved
            # back unchanged until the artist replaces it; the studio says what is wrong with it
        renders = []
        snapshots = GeometryReader(text_only=True)  # parsed in full when a render's layout is used
        for rid, meta, png in parts["renders"]:
            _field(label, f"renders/{rid}.png", images.check_png_structure, png)
            renders.append(_field(label, f"renders/{rid}.json", _render, meta, rid, png, snapshots))
        if THUMBNAIL in ar:
            _field(label, THUMBNAIL, images.check_png_structure, ar.read(THUMBNAIL))
        background = None
        if parts["background"] is not None:
            view, png = parts["background"]
            _field(label, BACKGROUND_PNG, images.check_png_structure, png)
            background = _field(label, BACKGROUND_VIEW, background_from_parts, view, png)
        m = parts["manifest"]
        return Project(layout, settings, schedule, renders, m.get("created", ""), m.get("modified", ""),
                       background=background)


def read_thumbnail(path: str | Path):
    """The project's thumbnail as a PIL image, or None if it has none. Raises ProjectFileError."""
    path = Path(path)
    label = str(path)
    with _open_zip(path, label) as zf:
        ar = _Archive(zf, label)
        if THUMBNAIL not in ar:
            return None
        return _field(label, THUMBNAIL, images.decode_png, ar.read(THUMBNAIL))
