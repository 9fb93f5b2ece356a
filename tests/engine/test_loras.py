"""LoRAs: a kohya-format LoRA made here changes the image and at strength 0 does not; several at once
with strengths, switched without reloading; recorded in metadata; bad files get one clear line."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from shapely.geometry import box

from ast_core.cli import main
from ast_core.document import Instance, Layout
from ast_core.generate import GenerationSettings, generate
from ast_core.provenance import read_png_metadata
from ast_core.models import LoraChoice, ModelLoadError, inspect_file, load_model
from ast_core.models.loras import LoraError
from ast_core.project import Project, save_project
from lora_files import kohya_flux_lora, misfit_flux_lora

SETTINGS = GenerationSettings(width=64, height=64, steps=2, seed=3)


def _layout() -> Layout:
    return Layout(64, 64, "a white goat on a sunny beach", "a sunny beach",
                  [Instance(name="Goat", prompt="a white goat", geometry=box(0, 16, 40, 64))])


def _image(model) -> np.ndarray:
    return np.asarray(generate(_layout(), None, SETTINGS, model).images[0]).astype(np.float32)


@pytest.fixture(scope="module")
def loras(tmp_path_factory):
    root = tmp_path_factory.mktemp("loras")
    return (kohya_flux_lora(root / "ink.safetensors", 1),
            kohya_flux_lora(root / "paper.safetensors", 2, range(2, 5), range(2)))


@pytest.fixture(scope="module")
def plain(tiny_model):
    return _image(tiny_model)


def test_kohya_lora_changes_the_image_and_at_zero_does_not(tiny_model, loras, plain):
    ink, _ = loras
    facts = inspect_file(ink)
    assert facts.kind == "lora" and facts.architecture == "flux"
    model = load_model("tiny-flux", device="cpu", dtype="f32", loras=(LoraChoice(str(ink), 1.0),))
    assert model.pipeline is not tiny_model.pipeline  # the shared built-in pipeline is never changed
    with_lora = _image(model)
    assert np.abs(with_lora - plain).mean() > 1.0
    model.use_loras((LoraChoice(str(ink), 0.0),))
    np.testing.assert_array_equal(_image(model), plain)
    np.testing.assert_array_equal(_image(tiny_model), plain)


def test_several_loras_with_strengths_switch_without_reloading(loras, plain):
    ink, paper = loras
    model = load_model("tiny-flux", device="cpu", dtype="f32")
    assert model.shared  # the process-wide built-in pipeline: copied before a LoRA changes it
    model.use_loras((LoraChoice(str(ink), 1.0),))
    pipe = model.pipeline
    one = _image(model)
    model.use_loras((LoraChoice(str(ink), 1.0), LoraChoice(str(paper), 0.7)))
    both = _image(model)
    md = generate(_layout(), None, SETTINGS, model).metadata["model"]
    assert [(x["name"], x["scale"]) for x in md["loras"]] == [("ink.safetensors", 1.0), ("paper.safetensors", 0.7)]
    assert all(len(x["sha256"]) == 64 for x in md["loras"])
    assert np.abs(both - one).mean() > 0.5
    model.use_loras((LoraChoice(str(ink), 1.0),))
    np.testing.assert_allclose(_image(model), one, atol=1.0)  # float rounding of the adapter sum only
    model.use_loras(())
    np.testing.assert_array_equal(_image(model), plain)
    assert model.pipeline is pipe and generate(_layout(), None, SETTINGS, model).metadata["model"]["loras"] == []


def test_bad_lora_files_are_refused_and_the_active_ones_stay(loras, tmp_path):
    ink, _ = loras
    model = load_model("tiny-flux", device="cpu", dtype="f32", loras=(LoraChoice(str(ink), 1.0),))
    before = _image(model)
    not_lora = tmp_path / "vae.safetensors"
    save_file({"encoder.conv_out.weight": torch.zeros(32, 8, 3, 3), "decoder.conv_in.weight": torch.zeros(8, 16, 3, 3)},
              not_lora)
    sd3_lora = tmp_path / "sd3.safetensors"
    save_file({"lora_unet_joint_blocks_0_x_block_attn_qkv.lora_down.weight": torch.zeros(2, 32),
               "lora_unet_joint_blocks_0_x_block_attn_qkv.lora_up.weight": torch.zeros(96, 2)}, sd3_lora)
    misfit = misfit_flux_lora(tmp_path / "wide.safetensors")
    cases = [(not_lora, "not a LoRA, it holds a vae"), (sd3_lora, "made for sd3, this model is FLUX.1"),
             (misfit, "does not fit this FLUX.1 model"), (tmp_path / "gone.safetensors", "file not found")]
    for path, message in cases:
        with pytest.raises(LoraError, match=message):
            model.use_loras((LoraChoice(str(ink), 1.0), LoraChoice(str(path), 1.0)))
    np.testing.assert_array_equal(_image(model), before)
    with pytest.raises(ModelLoadError, match="does not fit"):
        load_model("tiny-flux", device="cpu", loras=(LoraChoice(str(misfit)),))


@pytest.mark.slow
def test_render_lora_flags_and_project_loras(loras, tmp_path, capsys):
    from ast_core.models.options import loras_to_settings

    ink, paper = loras
    project = tmp_path / "p.astproj"
    save_project(Project(_layout(), settings={"generation": {"seed": 3, "steps": 2},
                                              "loras": loras_to_settings((LoraChoice(str(paper), 0.5),))}), project)
    base = ["render", str(project), "--model", "tiny-flux", "--device", "cpu"]
    assert main([*base, "-o", str(tmp_path / "project.png")]) == 0
    assert "1 LoRA" in capsys.readouterr().out
    assert main([*base, "-o", str(tmp_path / "ink.png"), "--lora", f"{ink}:0.8", "--lora", str(paper)]) == 0
    md = read_png_metadata(tmp_path / "ink.png")["metadata"]["model"]
    assert [(x["name"], x["scale"]) for x in md["loras"]] == [("ink.safetensors", 0.8), ("paper.safetensors", 1.0)]
    assert read_png_metadata(tmp_path / "project.png")["metadata"]["model"]["loras"][0]["scale"] == 0.5
    capsys.readouterr()
    for bad, message in ((f"{ink}:lots", "the strength after ':' must be a number"),
                         (f"{ink}:20", "between -10 and 10"), (str(tmp_path / "nope.safetensors"), "file not found")):
        assert main([*base, "-o", str(tmp_path / "bad.png"), "--lora", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "bad.png").exists()
