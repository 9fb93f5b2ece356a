"""``ast-studio render`` and ``export-tiny-model`` on the command line (in-process)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ast_core.cli import main
from ast_core.provenance import METADATA_KEY, read_metadata
from ast_core.project import Project, layout_to_dict, save_project


@pytest.fixture
def beach_project(tmp_path, seed_layout):
    path = tmp_path / "beach.astproj"
    save_project(Project(seed_layout("beach"), settings={"generation": {"seed": 11, "steps": 3}}), path)
    return path


def _render(project, out, *extra):
    return main(["render", str(project), "-o", str(out), "--model", "tiny-flux", "--size", "128x128", *extra])


def test_render_writes_png_with_metadata_and_masks(beach_project, tmp_path, capsys, seed_layout):
    out = tmp_path / "out.png"
    masks = tmp_path / "masks"
    assert _render(beach_project, out, "--save-masks", str(masks)) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "seed 11" in printed and "method ast" in printed
    with Image.open(out) as im:
        assert im.size == (128, 128)
        assert METADATA_KEY in im.text and "parameters" in im.text and "ast-studio:layout" not in im.text
    md = read_metadata(out)
    assert md["seed"] == 11 and md["settings"]["steps"] == 3 and md["model"]["family"] == "tiny-flux"
    assert md["layout"] == layout_to_dict(seed_layout("beach"))

    roles = json.loads((masks / "token_roles.json").read_text())
    assert roles["token_grid"]["cols"] == 8 and roles["token_grid"]["rows"] == 8
    assert len(roles["segments"]) == 7 and roles["segments"][0]["name"] == "background"
    pngs = sorted(p.name for p in masks.glob("mask-*.png"))
    assert len(pngs) == 7 and pngs[0] == "mask-00-background.png"
    stack = np.stack([np.asarray(Image.open(masks / s["mask_file"])) for s in roles["segments"]])
    assert stack.shape == (7, 8, 8) and set(np.unique(stack)) <= {0, 255}
    assert ((stack > 0).sum(0) == 1).all()  # exclusive segments cover every token once
    chair = next(s for s in roles["segments"] if s.get("prompt") == "a green beach chair")
    t5 = chair["parts"]["t5"]
    assert t5["span_tokens"] == ["▁a", "▁green", "▁beach", "▁chair"]
    assert chair["text_rows"] == t5["span"]  # FLUX: the text block is the T5 rows alone
    by_row = {t["row"]: t for t in roles["text_tokens"]}
    assert {r["role"] for r in by_row[t5["span"][1]]["roles"]} == {"attribute"}
    assert {r["role"] for r in by_row[t5["span"][3]]["roles"]} == {"instance"}
    assert md["segments"][2]["grid_cells"] == chair["tokens_in_mask"]


def test_render_none_method_and_refusals(beach_project, tmp_path, capsys):
    out = tmp_path / "plain.png"
    assert _render(beach_project, out, "--method", "none", "--steps", "2", "--seed", "5") == 0
    assert read_metadata(out)["method_used"] == "none"
    capsys.readouterr()
    assert _render(beach_project, out) == 2  # exists
    assert "already exists (use --force" in capsys.readouterr().err
    assert _render(beach_project, tmp_path / "x.jpg") == 2
    assert "must end in .png" in capsys.readouterr().err
    assert main(["render", str(beach_project), "-o", str(tmp_path / "s.png"), "--model", "tiny-flux",
                 "--size", "100x100"]) == 2
    err = capsys.readouterr().err
    assert "width must be a multiple of 16" in err and len(err.strip().splitlines()) == 1
    assert _render(tmp_path / "missing.astproj", tmp_path / "m.png") == 2
    assert "missing.astproj" in capsys.readouterr().err
    assert main(["render", str(beach_project), "-o", str(tmp_path / "f.png"), "--model",
                 str(tmp_path / "no-model")]) == 2
    assert "model folder not found" in capsys.readouterr().err


def test_render_reports_instance_missing_from_base_prompt(tmp_path, seed_layout, capsys):
    layout = seed_layout("beach")
    inst = layout.instances[0]
    layout.update_instance(inst.id, prompt="a purple submarine")
    path = tmp_path / "bad.astproj"
    save_project(Project(layout), path)
    assert _render(path, tmp_path / "o.png", "--steps", "1") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"instance '{inst.name}'" in err and "add 'a purple submarine' to the base prompt" in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("method_name,expected", [
    ("ast", "has no prompt: describe it, and put that text in the base prompt"),
    ("regional", "has no prompt: regional prompting needs one for every instance"),
])
def test_an_instance_without_a_prompt_is_refused_before_the_model_loads(tmp_path, seed_layout, capsys,
                                                                          method_name, expected):
    layout = seed_layout("beach")
    inst = layout.instances[0]
    layout.update_instance(inst.id, prompt="")
    path = tmp_path / "bad.astproj"
    save_project(Project(layout), path)
    # a model folder that does not exist: the prompt problem is found first
    code = main(["render", str(path), "-o", str(tmp_path / "o.png"), "--model", str(tmp_path / "no-model"),
                 "--method", method_name])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"instance '{inst.name}' {expected}" in err and "no-model" not in err
    assert not (tmp_path / "o.png").exists()


def test_check_prompts_without_a_model(seed_layout):
    from ast_core.methods import method
    from ast_core.prompts import PromptError

    layout = seed_layout("beach")
    for name in ("ast", "regional", "none"):
        method(name).check_prompts(layout)  # the example is fine under every method
    first = layout.instances[0]
    layout.update_instance(first.id, prompt="  ")
    with pytest.raises(PromptError, match=f"'{first.name}' has no prompt"):
        method("ast").check_prompts(layout)
    with pytest.raises(PromptError, match="regional prompting needs one"):
        method("regional").check_prompts(layout)
    method("none").check_prompts(layout)  # the plain model reads no instance prompt
    layout.update_instance(first.id, visible=False)  # a hidden instance sits the render out
    method("ast").check_prompts(layout)
    layout.update_instance(first.id, visible=True, prompt="a purple submarine")  # not in the base prompt
    with pytest.raises(PromptError, match="add 'a purple submarine' to the base prompt"):
        method("ast").check_prompts(layout)
    method("regional").check_prompts(layout)  # each region's prompt on its own
    assert method("ast").prompt_problems(layout) == [
        f"instance '{first.name}': its prompt 'a purple submarine' is not in the base prompt: "
        "add 'a purple submarine' to the base prompt, or edit the instance prompt"]
    layout.set_prompts(background="a dark forest")
    assert len(method("ast").prompt_problems(layout)) == 2
    assert "the background prompt 'a dark forest' is not in the base prompt" in method("ast").prompt_problems(layout)[1]
    layout.set_prompts(base="")
    with pytest.raises(PromptError, match="the base prompt is empty"):
        method("ast").check_prompts(layout)
    method("regional").check_prompts(layout)  # regional renders the base pass from an empty prompt


def test_export_tiny_model_command(tmp_path, capsys):
    folder = tmp_path / "tiny"
    assert main(["export-tiny-model", str(folder)]) == 0
    assert (folder / "model_index.json").is_file() and "wrote tiny-flux" in capsys.readouterr().out
    (tmp_path / "file").write_text("x")
    assert main(["export-tiny-model", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_out_of_memory_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    """An allocation failure during the run is reported with advice, exit 2."""
    import ast_core.generate as engine
    from ast_core.cli import main
    from ast_core.document import Layout
    from ast_core.project import Project, save_project
    from shapely.geometry import box

    layout = Layout(64, 64, "a red car on a road", "a road")
    layout.add_instance(name="car", prompt="a red car", geometry=box(0, 0, 32, 32))
    save_project(Project(layout), tmp_path / "p.astproj")

    def run_out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(engine, "generate", run_out_of_memory)
    code = main(["render", str(tmp_path / "p.astproj"), "-o", str(tmp_path / "o.png"), "--model", "tiny-flux"])
    err = capsys.readouterr().err
    assert code == 2 and "needs more memory than is free" in err and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()


def test_without_model_render_follows_the_studios_configuration_else_tiny_flux(beach_project, tmp_path, capsys):
    """One rule for the studio and the command line: the configured model, else tiny-flux with a note."""
    from ast_core.models.configuration import ModelConfiguration, configuration_path, write_configuration

    def render(name, *extra):
        return main(["render", str(beach_project), "-o", str(tmp_path / name), "--size", "128x128", *extra])

    assert render("first.png") == 0  # nothing configured (an isolated, empty configuration folder)
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 1 and "no model configured" in notes[0] and "tiny-flux" in notes[0]
    assert read_metadata(tmp_path / "first.png")["model"]["family"] == "tiny-flux"

    missing = tmp_path / "models" / "FLUX.1-dev"
    write_configuration(ModelConfiguration(model="FLUX.1-dev", source="folder", folder=str(missing)))
    assert render("dev.png") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(missing) in err and str(configuration_path()) in err
    assert not (tmp_path / "dev.png").exists()

    write_configuration(ModelConfiguration(model="FLUX.1-dev", source="folder", folder=""))
    assert render("nofolder.png") == 2
    assert "no model folder set for FLUX.1-dev" in capsys.readouterr().err

    write_configuration(ModelConfiguration(model="tiny-flux", device="cpu", dtype="f32"))
    assert render("chosen.png") == 0
    captured = capsys.readouterr()
    assert "no model configured" not in captured.err
    md = read_metadata(tmp_path / "chosen.png")
    assert md["model"]["family"] == "tiny-flux" and md["model"]["device"] == "cpu" and md["model"]["dtype"] == "f32"


def test_render_on_sd3_writes_clip_and_t5_token_roles(beach_project, tmp_path):
    out, masks = tmp_path / "sd3.png", tmp_path / "sd3-masks"
    assert main(["render", str(beach_project), "-o", str(out), "--model", "tiny-sd3", "--size", "128x128",
                 "--steps", "2", "--save-masks", str(masks)]) == 0
    md = read_metadata(out)
    assert md["model"]["family"] == "tiny-sd3" and md["model"]["architecture"] == "sd3"
    assert md["method_used"] == "ast" and md["schedule"]["layers"] == [{"kind": "joint", "count": 24}]
    roles = json.loads((masks / "token_roles.json").read_text())
    assert [p["name"] for p in roles["text_parts"]] == ["clip", "t5"]
    chair = next(s for s in roles["segments"] if s.get("prompt") == "a green beach chair")
    assert chair["parts"]["clip"]["span_tokens"] == ["a</w>", "green</w>", "beach</w>", "chair</w>"]
    assert chair["parts"]["t5"]["span_tokens"] == ["▁a", "▁green", "▁beach", "▁chair"]
    parts = {t["part"] for t in roles["text_tokens"]}
    assert parts == {"clip", "t5"}
