"""The studio with damaged and hostile project files (issue 17): what the reader accepts, the
window opens, shows, saves and autosaves; what it refuses is one message naming file and field."""
from __future__ import annotations

import errno
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ast_core.project import Render, layout_to_dict, load_project, save_project
from ast_studio.app import create_window

from editing_support import discard_changes

PROJECT_FILTER = "AST projects (*.astproj)"


def damaged_pixels(png: bytes) -> bytes:
    """The PNG with its image data replaced by bytes that are not a zlib stream, checksums kept right."""
    pos = png.find(b"IDAT") - 4
    length = struct.unpack(">I", png[pos:pos + 4])[0]
    junk = bytes(range(length % 256)) + bytes(length - length % 256)
    return png[:pos + 8] + junk + struct.pack(">I", zlib.crc32(b"IDAT" + junk)) + png[pos + 12 + length:]


def sample(tmp_path: Path) -> Path:
    """A project whose renders hold odd parameters and an image that does not decode."""
    import io

    from PIL import Image

    from ast_core.document import Layout

    layout = Layout(256, 192, "a red fox in a meadow", "a meadow")
    fox = layout.add_instance(name="Fox", prompt="a red fox", id="fox")
    layout.paint_polygon(fox.id, [(20, 20), (120, 20), (120, 120), (20, 120)])
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(png, format="PNG")
    good = png.getvalue()
    renders = [
        Render(good, {"model": "tiny-flux", "settings": ["seed", 3], "schedule": "fast"}, layout_to_dict(layout), "", "odd"),
        Render(damaged_pixels(good), {"settings": {"seed": 4, "steps": 2}}, layout_to_dict(layout), "", "damaged"),
    ]
    from ast_core.project import Project

    path = tmp_path / "odd.astproj"
    save_project(Project(layout, {"generation": {"steps": "many", "seed": 1e300}}, {"format_version": "x"}, renders),
                 path)
    return path


@pytest.fixture
def shown(monkeypatch) -> list:
    """Error messages the studio showed (instead of a modal box)."""
    messages: list = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: messages.append((title, text)))
    return messages


@pytest.fixture
def studio(qtbot, tmp_path, shown):
    def open_studio(path: Path):
        window = create_window([str(path)], recovery_folder=tmp_path / "recovery")
        qtbot.addWidget(window, before_close_func=discard_changes)
        window.show()
        qtbot.waitExposed(window)
        return window

    return open_studio


def test_an_odd_project_opens_shows_its_history_and_saves(studio, shown, tmp_path, monkeypatch):
    path = sample(tmp_path)
    window = studio(path)
    assert shown == []
    doc, history = window.document, window.generation.history
    assert doc.path == path.resolve() and [r.id for r in doc.renders] == ["odd", "damaged"]
    history.decode_thumbnails()
    assert history.strip.count() == 2
    for row in range(2):
        history.strip.setCurrentRow(row)
        window.generation.view_render(history.selected_render())
        assert window.generation.preview.caption.text().startswith("Render · seed ")
    history.select("damaged")
    messages = []
    history.message.connect(messages.append)
    assert history.export_selected(tmp_path / "damaged.png") is None
    assert "cannot be decoded" in messages[-1] and not (tmp_path / "damaged.png").exists()
    target = tmp_path / "again.astproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), PROJECT_FILTER))
    window.actions_by_name["save_as"].trigger()
    again, original = load_project(target), load_project(path)
    assert layout_to_dict(again.layout) == layout_to_dict(original.layout)
    assert (again.settings, again.schedule) == (original.settings, original.schedule)
    assert [(r.id, r.image_png, r.parameters) for r in again.renders] == [
        (r.id, r.image_png, r.parameters) for r in original.renders]


def test_a_hostile_file_is_one_message_and_the_document_stays(studio, shown, tmp_path):
    window = studio(sample(tmp_path))
    hostile = tmp_path / "hostile.astproj"
    with zipfile.ZipFile(sample(tmp_path)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    layout = json.loads(members["layout.json"])
    layout["instances"][0]["geometry"] = "GEOMETRYCOLLECTION (" * 50_000 + ")" * 50_000  # crashed GEOS's reader
    members["layout.json"] = json.dumps(layout).encode()
    with zipfile.ZipFile(hostile, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    assert not window.files.open_path(hostile, ask=False)
    assert shown == [("Cannot open project", f"{hostile}: layout.json: instances[0].geometry: must be a POLYGON or "
                                             "MULTIPOLYGON, got GEOMETRYCOLLECTION")]
    assert window.document.path.name == "odd.astproj"


def test_a_failed_autosave_names_the_file(studio, tmp_path, monkeypatch):
    import ast_core.project.writer as writer

    window = studio(sample(tmp_path))
    window.document.mark_modified()

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", full_disk)
    assert not window.autosave.autosave()
    message = window.statusBar().currentMessage()
    assert "No space left on device" in message and str(window.autosave.project_path) in message
