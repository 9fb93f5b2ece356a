"""Builders shared by the project-file tests: sample layouts/projects and raw zip archives."""
from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image

from ast_core.document import Layout
from ast_core.project import Project, Render, layout_to_dict


def sample_layout() -> Layout:
    layout = Layout(256, 192, "a red fox and a white goat in a meadow", "a meadow")
    fox = layout.add_instance(name="Fox", prompt="a red fox", id="fox")
    layout.paint_stroke(fox.id, [(20, 30), (80, 90), (120, 60)], 14)
    goat = layout.add_instance(name="Goat", prompt="a white goat", attribute_words=["white"], id="goat")
    layout.paint_polygon(goat.id, [(100, 100), (200, 110), (180, 180), (90, 170)])
    layout.erase_polygon([(140, 130), (160, 130), (150, 150)], [goat.id])  # a hole
    layout.add_instance(name="Later", prompt="a bird", visible=False, locked=True, id="bird")
    return layout


def png_bytes(size=(32, 24), colour=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def sample_project() -> Project:
    layout = sample_layout()
    render = Render(png_bytes(), {"seed": 7, "steps": 4, "model": "tiny-flux"}, layout_to_dict(layout),
                    "2026-01-02T03:04:05+00:00", "r1")
    return Project(layout, {"seed": 7, "steps": 4}, {"preset": "default", "curves": [1, 2, 3]}, [render])


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_zip(path: Path, members: dict[str, bytes] | list[tuple[str, bytes]]) -> Path:
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


def as_json(value) -> bytes:
    return json.dumps(value).encode()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height with almost no pixel data (a 'pixel bomb')."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
