"""Model options: typed and validated, round trip, recorded; what each device / package allows;
device messages for a wrong torch build; group offload and VAE tiling under AST; render's flags."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from shapely.geometry import box

from ast_core.cli import main
from ast_core.document import Instance, Layout
from ast_core.generate import GenerationSettings, generate
from ast_core.provenance import read_metadata
from ast_core.models import LoraChoice, ModelLoadError, ModelOptions, OptionError, load_model, parse_lora
from ast_core.models.options import AUTO_TILING_PIXELS, CHOICES, LABELS, loras_from_settings
from ast_core.models.quantisation import QuantisationError, check
from ast_core.project import Project, save_project

CPU = torch.device("cpu")


def _layout(size: int = 64) -> Layout:
    return Layout(size, size, "a white goat on a sunny beach", "a sunny beach",
                  [Instance(name="Goat", prompt="a white goat", geometry=box(0, size // 4, size // 2, size))])


# ---------------------------------------------------------------------- the options value
def test_options_round_trip_and_defaults():
    full = ModelOptions(source="/m/flux1-dev-Q4_0.gguf", base="black-forest-labs/FLUX.1-dev", vae="/m/ae.safetensors",
                        text_encoders=("/m/t5.safetensors", "/m/clip_l.safetensors"), device="cuda:1", dtype="bf16",
                        text_encoder_quantize="fp8", offload="group", vae_tiling="on",
                        loras=(LoraChoice("/l/a.safetensors", 0.8), LoraChoice("/l/b.safetensors", -0.5)))
    assert ModelOptions.from_dict(full.to_dict()) == full.validate()
    assert ModelOptions.from_dict({}) == ModelOptions() and ModelOptions().source == "tiny-flux"
    assert full.is_file and full.is_gguf and full.cpu_offload
    assert full.load_key() == full.with_changes(loras=()).load_key()  # LoRAs apply without reloading
    assert full.load_key() != full.with_changes(offload="model").load_key()
    assert "flux1-dev-Q4_0.gguf" in full.describe() and "2 LoRAs" in full.describe()
    for name, choices in CHOICES.items():  # every choice the studio offers has a default and (where listed) a label
        assert getattr(ModelOptions(), name) in choices
        assert name not in LABELS or set(LABELS[name]) == set(choices)


@pytest.mark.parametrize("data, message", [
    ({"quantise": "fp8"}, "unknown model option.*quantise"),
    ({"quantize": "q4"}, "quantize must be one of none, fp8, nf4, int8, torchao-int8, torchao-fp8, got 'q4'"),
    ({"offload": True}, "offload must be one of"),
    ({"device": "tpu"}, "device must be one of auto, cuda, mps, xpu, cpu"),
    ({"source": "a.gguf", "quantize": "nf4"}, "GGUF file, already quantised"),
    ({"source": ""}, "source: give"),
    ({"text_encoders": "t5.safetensors"}, "text_encoders must be a list"),
    ({"loras": [{"path": "a.safetensors", "scale": 11}]}, "between -10 and 10"),
    ({"loras": [{"path": "a.safetensors", "strength": 1}]}, "unknown field.*strength"),
    ({"loras": [{"path": "a.safetensors"}, {"path": "a.safetensors", "scale": 0.5}]}, "listed twice"),
    ({"loras": [{"path": "a.safetensors", "scale": float("nan")}]}, "must be a number"),
    ([], "must be a JSON object"),
])
def test_bad_options_name_the_option(data, message):
    with pytest.raises(OptionError, match=message):
        ModelOptions.from_dict(data)


def test_parse_lora_and_project_loras():
    assert parse_lora("ink.safetensors") == LoraChoice("ink.safetensors", 1.0)
    assert parse_lora("ink.safetensors:0.25") == LoraChoice("ink.safetensors", 0.25)
    assert parse_lora("ink.safetensors:-1") == LoraChoice("ink.safetensors", -1.0)
    assert parse_lora(r"C:\loras\ink.safetensors") == LoraChoice(r"C:\loras\ink.safetensors", 1.0)
    assert parse_lora(r"C:\loras\ink.safetensors:0.5") == LoraChoice(r"C:\loras\ink.safetensors", 0.5)
    with pytest.raises(OptionError, match="must be a number, got 'x'"):
        parse_lora("ink.safetensors:x")
    assert loras_from_settings({}) == () and loras_from_settings({"loras": []}) == ()
    assert loras_from_settings({"loras": [{"path": "a.safetensors", "scale": 0.5}]}) == (LoraChoice("a.safetensors", 0.5),)
    with pytest.raises(OptionError, match="loras must be a list"):
        loras_from_settings({"loras": "a.safetensors"})


# ---------------------------------------------------------------------- devices and packages
@pytest.mark.parametrize("kind, device, message", [
    ("nf4", CPU, "nf4 \\(bitsandbytes\\) runs on NVIDIA CUDA GPUs only, this run is on cpu; use fp8 or a GGUF file"),
    ("int8", torch.device("mps"), "int8 \\(bitsandbytes\\) runs on NVIDIA CUDA GPUs only, this run is on mps"),
    ("fp8", torch.device("mps"), "Apple MPS has no float8 type"),
])
def test_quantisation_the_device_cannot_do(kind, device, message):
    with pytest.raises(QuantisationError, match=message):
        check(kind, device)
    check("none", device)


def test_missing_packages_are_named(monkeypatch):
    from ast_core.models import quantisation

    monkeypatch.setattr(quantisation, "has_package", lambda name: False)
    with pytest.raises(QuantisationError, match=r"torchao-int8 needs the torchao package: .venv/bin/pip install torchao"):
        check("torchao-int8", CPU)
    with pytest.raises(QuantisationError, match=r"GGUF files need the gguf package.*ast-studio\[gguf\]"):
        quantisation.require_gguf()
    with pytest.raises(ModelLoadError, match="GGUF files need the gguf package"):
        load_model("/nowhere/model.gguf", device="cpu")
    check("fp8", CPU)  # built in: needs nothing


def test_load_refuses_what_the_device_cannot_do_in_one_line():
    with pytest.raises(ModelLoadError) as e:
        load_model("tiny-flux", device="cpu", text_encoder_quantize="nf4")
    assert str(e.value).startswith("text_encoder_quantize nf4 (bitsandbytes) runs on NVIDIA CUDA GPUs only")
    assert "\n" not in str(e.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the messages of a torch without a usable GPU")
def test_wrong_build_messages():
    from ast_core.models import resolve_device

    with pytest.raises(ValueError) as e:
        resolve_device("cuda")
    msg = str(e.value)
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        assert f"this torch ({torch.__version__}) has no CUDA: it is the CPU build; reinstall with AST_TORCH=" in msg
        assert "dev.py" in msg
    else:
        assert "sees no GPU" in msg
    if not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        with pytest.raises(ValueError, match="has no XPU|sees no Intel GPU"):
            resolve_device("xpu")
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="sees no Apple GPU"):
            resolve_device("mps")
    with pytest.raises(ValueError, match="unknown device 'gpu9'"):
        resolve_device("gpu9")
    with pytest.raises(ModelLoadError, match="has no CUDA|sees no GPU"):
        load_model("tiny-flux", device="cuda")


# ---------------------------------------------------------------------- offload and tiling under AST
def test_group_offload_hooks_keep_ast_exact(tiny_model):
    """Group offload's hooks wrap the blocks; AST's processors still run inside them (onload on the CPU here)."""
    from ast_core.models.loading import place
    from ast_core.models.tiny_flux import build_tiny_flux

    settings = GenerationSettings(width=64, height=64, steps=2, seed=2)
    reference = np.asarray(generate(_layout(), None, settings, tiny_model).images[0])
    model = load_model("tiny-flux", device="cpu", dtype="f32")
    model.pipeline, model.shared = build_tiny_flux(fresh=True), False
    model.pipeline.set_progress_bar_config(disable=True)
    place(model.pipeline, CPU, "group", offload_device=CPU)
    assert any(hasattr(m, "_diffusers_hook") for m in model.transformer.modules())
    result = generate(_layout(), None, settings, model)
    np.testing.assert_array_equal(np.asarray(result.images[0]), reference)


def test_vae_tiling_auto_on_and_recorded(tiny_model):
    options = ModelOptions()
    assert not options.vae_tiles(1344, 768) and not options.vae_tiles(1024, 1024)
    assert options.vae_tiles(2048, 2048) and 2048 * 2048 > AUTO_TILING_PIXELS
    assert ModelOptions(vae_tiling="on").vae_tiles(64, 64) and not ModelOptions(vae_tiling="off").vae_tiles(4096, 4096)
    settings = GenerationSettings(width=128, height=128, steps=1, seed=2)
    whole = generate(_layout(128), None, settings, tiny_model)
    tiled_model = load_model("tiny-flux", device="cpu", dtype="f32", vae_tiling="on")
    tiled = generate(_layout(128), None, settings, tiled_model)  # tiny VAE tiles are 64 px: 4 overlapping tiles
    assert tiled.metadata["model"]["vae_tiled"] and not whole.metadata["model"]["vae_tiled"]
    a, b = (np.asarray(r.images[0]).astype(float) for r in (whole, tiled))
    assert 0 < np.abs(a - b).mean() < 20  # the same picture, blended at the tile seams


def test_render_records_every_option(tmp_path, capsys):
    project = tmp_path / "p.astproj"
    save_project(Project(_layout(), settings={"generation": {"seed": 4, "steps": 1}}), project)
    out = tmp_path / "o.png"
    assert main(["render", str(project), "-o", str(out), "--model", "tiny-flux", "--device", "cpu", "--quantize",
                 "fp8", "--t5-quantize", "fp8", "--vae-tiling", "off", "--dtype", "f32"]) == 0
    assert "on CPU" in capsys.readouterr().out
    md = read_metadata(out)["model"]
    assert (md["quantize"], md["text_encoder_quantize"], md["vae_tiling"], md["offload"], md["dtype"]) == (
        "fp8", "fp8", "off", "none", "f32")
    assert md["device_name"] == "CPU" and md["loras"] == [] and md["files"] == {}
    assert main(["render", str(project), "-o", str(tmp_path / "x.png"), "--model", "tiny-flux", "--device", "cpu",
                 "--quantize", "nf4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NVIDIA CUDA GPUs only" in err
    assert main(["render", str(project), "-o", str(tmp_path / "x.png"), "--model", "tiny-flux", "--offload", "disk"]) == 2
    assert "invalid choice: 'disk'" in capsys.readouterr().err


def test_torchao_int8_where_installed(tiny_model):
    """torchao is an optional extra (not in the test environment by default): run when it is there."""
    pytest.importorskip("torchao")
    settings = GenerationSettings(width=64, height=64, steps=2, seed=2)
    reference = np.asarray(generate(_layout(), None, settings, tiny_model).images[0]).astype(float)
    model = load_model("tiny-flux", device="cpu", dtype="bf16", quantize="torchao-int8",
                       text_encoder_quantize="torchao-int8")
    assert type(model.transformer.transformer_blocks[0].attn.to_q.weight).__name__ == "Int8Tensor"
    image = np.asarray(generate(_layout(), None, settings, model).images[0]).astype(float)
    assert 0 < np.abs(image - reference).mean() < 8  # bf16 + int8 weights vs f32
