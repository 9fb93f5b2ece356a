"""Desktop integration: the .astproj MIME type, the desktop entry that names it, the application's
desktop file name (Wayland finds the icon through it), and the startup warning for a torch build
that cannot use this machine's GPU."""
from __future__ import annotations

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_mime_type_and_desktop_entry_agree():
    root = ET.parse(PACKAGING / "ast-studio-mime.xml").getroot()
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == "application/x-astproj"
    assert [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")] == ["*.astproj"]
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/zip"  # a .astproj is a zip
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "ast-studio.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert "application/x-astproj" in desktop["MimeType"].split(";")
    assert desktop["Icon"] == mime.find(f"{MIME_NS}icon").get("name") == "ast-studio"
    assert desktop["Exec"].startswith("ast-studio ")


def test_application_desktop_file_name(qapp):
    from ast_studio.app import application

    app = application()
    assert app.desktopFileName() == "ast-studio" == (PACKAGING / "ast-studio.desktop").stem


def test_wrong_torch_build_is_one_line_in_the_status_bar(qtbot, monkeypatch, caplog):
    from ast_core.models import torch_builds
    from ast_studio.app import warn_about_torch_build
    from ast_studio.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    monkeypatch.setattr(torch_builds, "probe_machine", lambda **kw: torch_builds.Machine("nvidia"))
    monkeypatch.setattr(torch_builds, "installed_torch", lambda *a: torch_builds.InstalledTorch("2.13.0+cpu"))
    warn_about_torch_build(window)
    text = window.statusBar().currentMessage()
    assert "has no CUDA: it is the CPU build, but this machine has an NVIDIA GPU" in text and "\n" not in text
    assert any("has no CUDA" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(torch_builds, "probe_machine", lambda **kw: torch_builds.Machine(""))
    window.statusBar().clearMessage()
    warn_about_torch_build(window)
    assert window.statusBar().currentMessage() == ""
