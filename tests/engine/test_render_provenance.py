"""``render --count``, ``import-png`` and the progress bar, on tiny-flux (in-process)."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from ast_core.cli import main
from ast_core.document import Instance, Layout
from ast_core.project import Project, load_project, save_project
from ast_core.provenance import read_metadata

#: what legitimately differs between two renders of the same image
VARYING = ("created", "image")


@pytest.fixture
def animals(tmp_path):
    layout = Layout(64, 64, "a red cat and a blue dog on green grass", "green grass", [
        Instance(name="cat", prompt="a red cat", color="#e6194b", geometry=box(0, 8, 30, 60)),
        Instance(name="dog", prompt="a blue dog", color="#4363d8", geometry=box(34, 20, 62, 58)),
    ])
    path = tmp_path / "animals.astproj"
    save_project(Project(layout, settings={"generation": {"seed": 5, "steps": 2}}), path)
    return path


def render(project, out, *extra) -> int:
    return main(["render", str(project), "-o", str(out), "--model", "tiny-flux", *extra])


def pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def same_record(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k not in VARYING} == {k: v for k, v in b.items() if k not in VARYING}


def test_count_writes_numbered_variations_each_reproducible_from_its_png(animals, tmp_path, capsys):
    out = tmp_path / "cat.png"
    assert render(animals, out, "--count", "3") == 0
    assert "seeds 5-7" in capsys.readouterr().out
    paths = [tmp_path / f"cat-{k}.png" for k in (1, 2, 3)]
    assert all(p.is_file() for p in paths) and not out.exists()
    images = [pixels(p) for p in paths]
    assert not np.array_equal(images[0], images[1]) and not np.array_equal(images[1], images[2])
    records = [read_metadata(p) for p in paths]
    assert [r["seed"] for r in records] == [5, 6, 7] and [r["image"]["index"] for r in records] == [1, 2, 3]

    # the second variation, reopened as a project, renders the same image and the same metadata
    project = tmp_path / "second.astproj"
    assert main(["import-png", str(paths[1]), "-o", str(project)]) == 0
    assert "seed 6, method ast, made with tiny-flux" in capsys.readouterr().out
    reopened = load_project(project)
    assert reopened.settings.generation.seed == 6 and len(reopened.renders) == 1
    again = tmp_path / "again.png"
    assert render(project, again) == 0
    assert np.array_equal(pixels(again), images[1])
    assert same_record(read_metadata(again), records[1])

    capsys.readouterr()
    assert render(animals, out, "--count", "3") == 2  # the numbered files exist: nothing is replaced
    err = capsys.readouterr().err
    assert "cat-1.png: already exists (use --force" in err and len(err.strip().splitlines()) == 1
    assert render(animals, out, "--count", "17") == 2
    assert "--count must be between 1 and 16" in capsys.readouterr().err


def test_import_png_refuses_what_is_not_an_ast_studio_render(tmp_path, capsys):
    plain = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(plain)
    assert main(["import-png", str(plain), "-o", str(tmp_path / "p.astproj")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "photo.png: holds no AST Studio metadata" in err
    assert not (tmp_path / "p.astproj").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_stderr_on_a_terminal_and_quiet_means_quiet(animals, tmp_path, monkeypatch, capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert render(animals, tmp_path / "p.png", "--count", "2", "--steps", "3") == 0
    shown = terminal.getvalue()
    assert "Building the built-in tiny-flux" in shown and "Encoding prompts" in shown
    assert "Image 2/2" in shown and "6/6" in shown  # every step of every image, in one bar
    assert "step/s]" in shown and "<" in shown  # tqdm's pace and its "elapsed<left" times
    assert "wrote" in capsys.readouterr().out and "wrote" not in shown

    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert render(animals, tmp_path / "q.png", "--quiet") == 0
    assert quiet.getvalue() == "" and capsys.readouterr().out == ""
    assert (tmp_path / "q.png").is_file()
