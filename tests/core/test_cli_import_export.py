"""The headless commands: import-seed/boxes/masks, export-sketch/masks, info."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ast_core import cli
from ast_core.project import load_project, save_project

from astproj_samples import sha

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> dict[str, str]:
    return {p.name: sha(p) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def beach(tmp_path, seed_examples, capsys) -> Path:
    out = tmp_path / "beach.astproj"
    code, stdout, err = run(capsys, "import-seed", seed_examples / "beach.png", seed_examples / "beach.json", "-o", out)
    assert code == 0, err
    assert "6 instances" in stdout and err == ""
    return out


def test_import_seed_then_info_lists_instances_and_background(beach, seed_examples, capsys):
    data = json.loads((seed_examples / "beach.json").read_text())
    code, out, err = run(capsys, "info", beach)
    assert code == 0 and err == ""
    assert "6 instances" in out
    assert f"background:  {data['segments'][0]!r}" in out
    for prompt in data["segments"][1:]:
        assert repr(prompt) in out
    lines = [line for line in out.splitlines() if " px (" in line]
    assert len(lines) == 7  # background + 6 instances
    generation = load_project(beach).settings.generation
    assert (generation.seed, generation.seed_mode) == (data["seed"], "fixed")
    code, out, _ = run(capsys, "info", beach, "--json")
    info = json.loads(out)
    assert len(info["instances"]) == 6 and info["warnings"] == []
    assert sum(i["area_px"] for i in info["instances"]) + info["background"]["area_px"] == 512 * 512


def test_info_warns_about_missing_text_and_empty_instances(tmp_path, capsys):
    (tmp_path / "b.json").write_text(json.dumps({
        "width": 256, "height": 256, "base_prompt": "a cat", "background_prompt": "a room",
        "regions": [{"description": "a cat", "mask": [0, 0, 64, 64]},
                    {"description": "a dog", "mask": [64, 64, 128, 128]}]}))
    out_path = tmp_path / "b.astproj"
    code, _, err = run(capsys, "import-boxes", tmp_path / "b.json", "-o", out_path)
    assert code == 0 and "warning" in err and "--append-to-base" in err
    code, out, _ = run(capsys, "info", out_path)
    assert "'a dog' is not in the base prompt" in out and "'a cat' is not" not in out
    assert "background prompt 'a room' is not in the base prompt" in out and "method:      AST" in out
    # regional prompting uses each prompt on its own: nothing to flag (as in the studio)
    project = load_project(out_path)
    project.settings.set_generation(project.settings.generation.with_changes(method="regional"))
    save_project(project, out_path)
    code, out, _ = run(capsys, "info", out_path, "--json")
    info = json.loads(out)
    assert info["method"] == "regional" and not any("base prompt" in w for w in info["warnings"])
    code, _, _ = run(capsys, "import-boxes", tmp_path / "b.json", "-o", out_path, "--append-to-base", "--force")
    assert code == 0 and load_project(out_path).layout.base_prompt == "a cat. a dog."


@pytest.mark.parametrize("argv_tail,match", [
    (["missing.png", "beach.json"], "missing.png: no such file"),
    (["beach.json", "beach.json"], "beach.json: not a readable image"),
    (["beach.png", "beach.png"], "beach.png: not UTF-8 text"),
])
def test_import_seed_bad_input(tmp_path, seed_examples, capsys, argv_tail, match):
    before = listing(tmp_path)
    args = [seed_examples / a if a != "missing.png" else tmp_path / a for a in argv_tail]
    code, out, err = run(capsys, "import-seed", *args, "-o", tmp_path / "x.astproj")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and match in err and "Traceback" not in err
    assert listing(tmp_path) == before


def test_refuses_to_overwrite_without_force(beach, seed_examples, capsys):
    before = sha(beach)
    code, _, err = run(capsys, "import-seed", seed_examples / "living_room.png", seed_examples / "living_room.json",
                       "-o", beach)
    assert code == 2 and "already exists (use --force" in err and sha(beach) == before
    code, _, _ = run(capsys, "import-seed", seed_examples / "living_room.png", seed_examples / "living_room.json",
                     "-o", beach, "--force")
    assert code == 0 and len(load_project(beach).layout.instances) == 9
    assert sha(Path(str(beach) + ".bak")) == before  # the replaced project is kept


def test_output_must_be_a_project_in_an_existing_folder(tmp_path, seed_examples, capsys):
    png, js = seed_examples / "beach.png", seed_examples / "beach.json"
    code, _, err = run(capsys, "import-seed", png, js, "-o", tmp_path / "x.zip")
    assert code == 2 and "must end in .astproj" in err
    code, _, err = run(capsys, "import-seed", png, js, "-o", tmp_path / "no" / "x.astproj")
    assert code == 2 and "does not exist" in err
    assert list(tmp_path.iterdir()) == []


def test_import_boxes_needs_a_choice(tmp_path, seed_examples, capsys):
    code, _, err = run(capsys, "import-boxes", seed_examples / "regional_boxes.json", "-o", tmp_path / "b.astproj")
    assert code == 2 and "--index N or --name NAME" in err and err.count("\n") == 1
    code, out, err = run(capsys, "import-boxes", seed_examples / "regional_boxes.json", "--name", "ship_rainbow",
                         "-o", tmp_path / "b.astproj")
    assert code == 0 and "4 instances" in out and "1280x768" in out


def test_export_sketch_and_masks(tmp_path, seed_examples, capsys):
    beach = tmp_path / "kept.astproj"
    code, _, err = run(capsys, "import-seed", seed_examples / "beach.png", seed_examples / "beach.json",
                       "--keep-colours", "-o", beach)
    assert code == 0, err
    code, out, err = run(capsys, "export-sketch", beach, "-o", tmp_path / "sketch.png")
    assert code == 0, err
    exported = np.asarray(Image.open(tmp_path / "sketch.png").convert("RGB"))
    original = np.asarray(Image.open(seed_examples / "beach.png").convert("RGB"))
    assert (exported == original).all(-1).mean() > 0.98
    prompts = json.loads((tmp_path / "sketch.json").read_text())
    assert prompts["segments"] == json.loads((seed_examples / "beach.json").read_text())["segments"]
    assert prompts["seed"] == 945554353
    # export-sketch refuses to overwrite.
    code, _, err = run(capsys, "export-sketch", beach, "-o", tmp_path / "sketch.png")
    assert code == 2 and "already exists" in err

    masks = tmp_path / "masks"
    code, out, err = run(capsys, "export-masks", beach, "-o", masks)
    assert code == 0, err
    names = sorted(p.name for p in masks.iterdir())
    assert names[0] == "00_background.png" and "masks.json" in names and len(names) == 8
    total = sum((np.asarray(Image.open(masks / n)) > 0).astype(int) for n in names if n.endswith(".png"))
    assert (total == 1).all()
    code, _, err = run(capsys, "export-masks", beach, "-o", masks)
    assert code == 2 and "would overwrite" in err
    code, _, err = run(capsys, "export-masks", beach, "-o", tmp_path / "tokens", "--grid", "32x32", "--soft")
    assert code == 0 and Image.open(tmp_path / "tokens" / "01_several-seagulls.png").size == (32, 32)
    code, _, err = run(capsys, "export-masks", beach, "-o", tmp_path / "bad", "--grid", "big")
    assert code == 2 and "--grid 'big'" in err and not (tmp_path / "bad").exists()


def test_import_masks_command(tmp_path, capsys):
    a = np.zeros((64, 80), np.uint8)
    a[10:40, 10:40] = 255
    Image.fromarray(a).save(tmp_path / "cat.png")
    Image.fromarray(255 - a).save(tmp_path / "floor.png")
    (tmp_path / "p.json").write_text(json.dumps({"prompt": "a cat on the floor", "segments": ["", "the floor", "a cat"]}))
    code, out, err = run(capsys, "import-masks", tmp_path / "floor.png", tmp_path / "cat.png", "--prompts",
                         tmp_path / "p.json", "-o", tmp_path / "m.astproj")
    assert code == 0, err
    layout = load_project(tmp_path / "m.astproj").layout
    assert [i.prompt for i in layout.instances] == ["the floor", "a cat"] and layout.width == 80
    code, _, err = run(capsys, "import-masks", tmp_path / "cat.png", "--prompts", tmp_path / "p.json",
                       "-o", tmp_path / "n.astproj")
    assert code == 2 and "1 mask file" in err and not (tmp_path / "n.astproj").exists()


def test_damaged_project_is_a_clean_error(tmp_path, capsys):
    bad = tmp_path / "bad.astproj"
    bad.write_bytes(b"PK\x03\x04garbage")
    for argv in (["info", bad], ["export-sketch", bad, "-o", tmp_path / "s.png"], ["export-masks", bad, "-o", tmp_path / "m"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and str(bad) in err and "not an AST Studio project" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.astproj"]


def test_console_script_runs_commands_without_qt(beach):
    """`python -m ast_studio info X` goes through the launcher without importing Qt."""
    code = ("import sys, runpy; sys.argv = ['ast-studio', 'info', %r]; "
            "from ast_studio.launcher import main; rc = main(); "
            "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)") % str(beach)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "6 instances" in proc.stdout
    proc = subprocess.run([sys.executable, "-c", code.replace(str(beach), str(beach) + ".missing")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
