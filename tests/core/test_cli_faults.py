"""The headless commands under faults (issue 17): a full disk, a bad command line, too much to make.

Every case ends in one line on stderr and exit code 2, and leaves no temp file, no half-made
folder and no replaced file behind.
"""
from __future__ import annotations

import errno
import importlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ast_core.cli.import_export as import_export
from ast_core import cli
from ast_core.project import save_project

from astproj_samples import sample_project, sha

#: the module (``ast_core.exporters.mask_files`` is also the name of its function)
mask_files_module = importlib.import_module("ast_core.exporters.mask_files")

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str, command: str) -> bool:
    """stderr holds exactly one line, the error (warnings about the project may come before it)."""
    lines = [line for line in err.splitlines() if not line.startswith(f"ast-studio {command}: warning: ")]
    return len(lines) == 1 and lines[0].startswith(f"ast-studio {command}: error: ") and err.endswith("\n")


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "scene.astproj"
    save_project(sample_project(), path)
    return path


def full_disk_after(monkeypatch, nbytes: int) -> None:
    """Files the export commands open fail with ENOSPC once ``nbytes`` are written (like a full disk)."""
    real_open = open

    class Filling:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:nbytes])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(import_export, "open", lambda *a, **k: Filling(real_open(*a, **k)), raising=False)


@pytest.mark.parametrize("command", ["export-sketch", "export-masks"])
def test_a_full_disk_leaves_nothing_behind(project, tmp_path, capsys, monkeypatch, command):
    out = tmp_path / ("sketch.png" if command == "export-sketch" else "masks")
    before = sorted(os.listdir(tmp_path))
    full_disk_after(monkeypatch, 100)
    code, stdout, err = run(capsys, command, project, "-o", out)
    assert code == 2 and stdout == "" and one_error(err, command)
    assert "No space left on device" in err and str(tmp_path) in err
    assert sorted(os.listdir(tmp_path)) == before  # no *.writing file, no half-made folder


def test_a_full_disk_replaces_no_existing_file(project, tmp_path, capsys, monkeypatch):
    out = tmp_path / "sketch.png"
    code, _, err = run(capsys, "export-sketch", project, "-o", out)
    assert code == 0, err
    kept = {p.name: sha(p) for p in (out, out.with_suffix(".json"))}
    full_disk_after(monkeypatch, 10)
    code, _, err = run(capsys, "export-sketch", project, "-o", out, "--force")
    assert code == 2 and one_error(err, "export-sketch")
    assert {p.name: sha(p) for p in (out, out.with_suffix(".json"))} == kept
    assert sorted(os.listdir(tmp_path)) == ["scene.astproj", "sketch.json", "sketch.png"]


def test_real_short_writes_leave_nothing_behind(project, tmp_path):
    """The kernel refuses writes past a file-size limit (EFBIG) part-way through: a real short write."""
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (400, 400))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    out = tmp_path / "masks"
    proc = subprocess.run([sys.executable, "-m", "ast_studio", "export-masks", str(project), "-o", str(out),
                           "--grid", "256x256"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          preexec_fn=small_files)
    assert proc.returncode == 2 and one_error(proc.stderr, "export-masks"), proc.stderr
    assert "File too large" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["scene.astproj"]


@pytest.mark.parametrize("argv,prog", [
    (["info"], "ast-studio info"),
    (["export-masks", "x.astproj", "--grid"], "ast-studio export-masks"),
    (["render", "x.astproj", "-o", "y.png", "--steps", "many"], "ast-studio render"),
    (["--no-such-option"], "ast-studio"),
])
def test_a_bad_command_line_is_one_line(capsys, argv, prog):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"{prog}: error: ") and "usage:" not in err


def test_masks_too_big_to_make_are_refused_first(project, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mask_files_module, "MAX_MASK_BYTES", 1 << 20)
    code, _, err = run(capsys, "export-masks", project, "-o", tmp_path / "m", "--grid", "1024x1024")
    assert code == 2 and err.count("\n") == 1 and "need about" in err and "smaller --grid" in err
    assert not (tmp_path / "m").exists()


def test_info_shows_control_characters_escaped(tmp_path, capsys):
    project = sample_project()
    project.layout.set_prompts(base="a fox\x1b[2J\u202e and a goat")
    project.layout.update_instance("fox", name="Fox\x07\nnext")
    path = tmp_path / "odd.astproj"
    save_project(project, path)
    code, out, err = run(capsys, "info", path)
    assert code == 0 and err == ""
    assert "base prompt: a fox\\x1b[2J\\u202e and a goat" in out and "Fox\\x07\\nnext" in out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
