"""Single-file weights: original key layouts, GGUF and fp8 transformers under AST, all-in-one files,
component files, models-folder scans, and one clear line for every bad file."""
from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from shapely.geometry import box

from ast_core.cli import main
from ast_core.document import Instance, Layout
from ast_core.generate import GenerationSettings, generate
from ast_core.models import ModelLoadError, ModelOptions, inspect_file, load_model, scan_folder
from ast_core.models import flux_single_file

pytest.importorskip("gguf")

SETTINGS = GenerationSettings(width=64, height=64, steps=2, seed=5)


def _layout() -> Layout:
    return Layout(64, 64, "a white goat next to a red car on a sunny beach", "a sunny beach", [
        Instance(name="Goat", prompt="a white goat", geometry=box(0, 16, 32, 64)),
        Instance(name="Car", prompt="a red car", geometry=box(32, 0, 64, 40)),
    ])


def _image(model, settings=SETTINGS) -> np.ndarray:
    return np.asarray(generate(_layout(), None, settings, model).images[0]).astype(np.float32) / 255


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """tiny-flux and tiny-sd3 as folders, original-layout safetensors and GGUF files (via the CLI)."""
    root = tmp_path_factory.mktemp("exports")
    for family in ("flux", "sd3"):
        assert main(["export-tiny-model", str(root / family), "--family", family,
                     "--single-file", str(root / f"{family}.safetensors")]) == 0
        assert main(["export-tiny-model", "--family", family, "--single-file", str(root / f"{family}-q8.gguf")]) == 0
    assert main(["export-tiny-model", "--single-file", str(root / "flux-q4.gguf"), "--gguf-type", "Q4_0"]) == 0
    return root


@pytest.fixture(scope="module")
def folder_models(exports):
    return {f: load_model(str(exports / f), device="cpu", dtype="f32") for f in ("flux", "sd3")}


def test_flux_conversion_equals_diffusers_converter():
    """Ours reads the width from the checkpoint; diffusers' hard-codes FLUX.1's 3072. With that one
    line replaced by the checkpoint's width, diffusers' converter gives exactly our tensors, and at
    FLUX.1's real width (meta tensors) the two agree on every name and shape unchanged."""
    import diffusers.loaders.single_file_utils as su

    from ast_core.models.tiny_flux import build_tiny_flux

    state = build_tiny_flux().transformer.state_dict()
    original = flux_single_file.from_diffusers(state)
    ours = flux_single_file.to_diffusers(dict(original))
    assert set(ours) == set(state) and all(torch.equal(ours[k], state[k]) for k in state)

    source = inspect.getsource(su.convert_flux_transformer_checkpoint_to_diffusers)
    if "inner_dim = 3072" in source:
        source = source.replace("inner_dim = 3072", "inner_dim = checkpoint['img_in.weight'].shape[0]")
        namespace = dict(vars(su))
        exec(source, namespace)  # noqa: S102 - diffusers' own function with the width line generalised
        theirs_fn = namespace["convert_flux_transformer_checkpoint_to_diffusers"]
    else:
        theirs_fn = su.convert_flux_transformer_checkpoint_to_diffusers
    theirs = theirs_fn({flux_single_file.PREFIX + k: v for k, v in original.items()})
    assert set(theirs) == set(ours) and all(torch.equal(theirs[k], ours[k]) for k in ours)

    from diffusers import FluxTransformer2DModel

    with torch.device("meta"):  # FLUX.1-dev's widths, one block of each kind, no memory
        real = FluxTransformer2DModel(num_layers=1, num_single_layers=1, guidance_embeds=True).state_dict()
    a = flux_single_file.to_diffusers(flux_single_file.from_diffusers(real))
    b = su.convert_flux_transformer_checkpoint_to_diffusers(flux_single_file.from_diffusers(real))
    assert {k: tuple(v.shape) for k, v in a.items()} == {k: tuple(v.shape) for k, v in b.items()}
    assert {k: tuple(v.shape) for k, v in a.items()} == {k: tuple(v.shape) for k, v in real.items()}


@pytest.mark.parametrize("family", ["flux", "sd3"])
def test_single_file_export_loads_to_the_same_image_as_the_folder(exports, folder_models, family):
    facts = inspect_file(exports / f"{family}.safetensors")
    assert facts.kind == "transformer" and facts.family == f"tiny-{family}" and facts.storage == "f32"
    marker = "double_blocks.0.img_attn.qkv.weight" if family == "flux" else "joint_blocks.0.x_block.attn.qkv.weight"
    assert marker in facts.tensors  # the original layout, not diffusers'
    model = load_model(ModelOptions(source=str(exports / f"{family}.safetensors"), base=str(exports / family),
                                    device="cpu", dtype="f32"))
    assert model.describe()["files"]["transformer"]["kind"] == "transformer"
    assert model.describe()["base"] == str(exports / family)
    np.testing.assert_array_equal(_image(model), _image(folder_models[family]))


@pytest.mark.parametrize("family, tolerance", [("flux", 0.02), pytest.param("sd3", 0.03, marks=pytest.mark.slow)])
def test_gguf_transformer_renders_close_under_ast(exports, folder_models, family, tolerance):
    """A GGUF (Q8_0) transformer stays quantised in memory; AST acts on it as on the unquantised one."""
    model = load_model(str(exports / f"{family}-q8.gguf"), device="cpu", dtype="f32")  # parts from the built-in
    linear = model.transformer.transformer_blocks[0].attn.to_q
    assert type(linear).__name__ == "GGUFLinear" and linear.weight.quant_type.name == "Q8_0"
    assert model.describe()["quantize"] == "gguf" and model.describe()["files"]["transformer"]["storage"] == "Q8_0"
    reference = _image(folder_models[family])
    ast = _image(model)
    plain = _image(model, GenerationSettings(width=64, height=64, steps=2, seed=5, method="none"))
    assert 0 < np.abs(ast - reference).mean() < tolerance
    assert np.abs(ast - plain).mean() > 5 * np.abs(ast - reference).mean()  # AST changes far more than Q8 does


@pytest.mark.slow
def test_q4_gguf_renders_close_and_wrong_quantize_with_gguf_is_refused(exports, folder_models):
    q4 = load_model(str(exports / "flux-q4.gguf"), device="cpu", dtype="f32")
    diff = np.abs(_image(q4) - _image(folder_models["flux"])).mean()
    assert 0 < diff < 0.05
    with pytest.raises(ModelLoadError, match="GGUF file, already quantised"):
        load_model(str(exports / "flux-q4.gguf"), device="cpu", quantize="fp8")


def test_fp8_transformer_and_t5_render_close_under_ast(folder_models, exports):
    from ast_core.models.quantisation import storage_summary

    model = load_model(str(exports / "flux"), device="cpu", dtype="f32", quantize="fp8", text_encoder_quantize="fp8")
    assert "float8_e4m3fn" in storage_summary(model.transformer).split(",")[0]
    assert "float8_e4m3fn" in storage_summary(model.pipeline.text_encoder_2)
    md = model.describe()
    assert md["quantize"] == "fp8" and md["text_encoder_quantize"] == "fp8"
    diff = np.abs(_image(model) - _image(folder_models["flux"])).mean()
    assert 0 < diff < 0.03


def test_component_files_replace_the_base_parts(exports, folder_models, tmp_path):
    """A VAE file and text-encoder files (a CLIP in ComfyUI's prefixed layout, an fp8-stored T5)."""
    folder = exports / "flux"
    clip = {f"text_model.{k}": v.half() for k, v in load_file(folder / "text_encoder" / "model.safetensors").items()}
    save_file(clip, tmp_path / "clip_l.safetensors")
    t5 = {k: v.to(torch.float8_e4m3fn) if v.ndim == 2 and k != "shared.weight" else v
          for k, v in load_file(folder / "text_encoder_2" / "model.safetensors").items()}
    save_file(t5, tmp_path / "t5xxl_fp8.safetensors")
    (tmp_path / "ae.safetensors").write_bytes((folder / "vae" / "diffusion_pytorch_model.safetensors").read_bytes())
    assert inspect_file(tmp_path / "clip_l.safetensors").encoder == "clip-l"
    assert inspect_file(tmp_path / "t5xxl_fp8.safetensors").storage == "fp8 e4m3"
    model = load_model(ModelOptions(
        source=str(exports / "flux.safetensors"), base=str(folder), vae=str(tmp_path / "ae.safetensors"),
        text_encoders=(str(tmp_path / "t5xxl_fp8.safetensors"), str(tmp_path / "clip_l.safetensors")),
        device="cpu", dtype="f32"))
    assert set(model.describe()["files"]) == {"transformer", "vae", "text_encoder", "text_encoder_2"}
    assert 0 < np.abs(_image(model) - _image(folder_models["flux"])).mean() < 0.03


def test_all_in_one_checkpoint(exports, folder_models, tmp_path):
    """Transformer under model.diffusion_model. and the text encoders under text_encoders.*.transformer."""
    folder = exports / "sd3"
    parts = {f"model.diffusion_model.{k}": v for k, v in load_file(exports / "sd3.safetensors").items()}
    for slot, name in (("text_encoder", "clip_l"), ("text_encoder_2", "clip_g"), ("text_encoder_3", "t5xxl")):
        for k, v in load_file(folder / slot / "model.safetensors").items():
            parts[f"text_encoders.{name}.transformer.{k}"] = v
    save_file(parts, tmp_path / "sd3_all_in_one.safetensors")
    facts = inspect_file(tmp_path / "sd3_all_in_one.safetensors")
    assert facts.kind == "checkpoint" and facts.parts == ("transformer", "clip-l", "clip-g", "t5")
    model = load_model(ModelOptions(source=str(tmp_path / "sd3_all_in_one.safetensors"), base=str(folder),
                                    device="cpu", dtype="f32"))
    assert set(model.describe()["files"]) == {"transformer", "text_encoder", "text_encoder_2", "text_encoder_3"}
    np.testing.assert_array_equal(_image(model), _image(folder_models["sd3"]))


def test_base_needs_only_configs_for_parts_given_as_files(exports, tmp_path):
    import shutil

    configs = tmp_path / "configs-only"
    shutil.copytree(exports / "flux", configs)
    for f in (configs / "transformer").glob("*.safetensors"):
        f.unlink()
    model = load_model(ModelOptions(source=str(exports / "flux.safetensors"), base=str(configs), device="cpu",
                                    dtype="f32"))
    assert model.family.name == "tiny-flux"
    for f in (configs / "vae").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(ModelLoadError, match=r"incomplete: missing vae/\*\.safetensors.*give those parts as files"):
        load_model(ModelOptions(source=str(exports / "flux.safetensors"), base=str(configs), device="cpu"))


def test_scan_a_comfy_models_folder(exports, tmp_path, capsys):
    root = tmp_path / "models"
    for sub in ("checkpoints", "diffusion_models", "unet", "clip", "vae", "loras"):
        (root / sub).mkdir(parents=True)
    (root / "diffusion_models" / "flux1-tiny.safetensors").write_bytes((exports / "flux.safetensors").read_bytes())
    (root / "unet" / "sd3-tiny-Q8_0.gguf").write_bytes((exports / "sd3-q8.gguf").read_bytes())
    (root / "vae" / "ae.safetensors").write_bytes(
        (exports / "flux" / "vae" / "diffusion_pytorch_model.safetensors").read_bytes())
    (root / "clip" / "t5xxl.safetensors").write_bytes(
        (exports / "flux" / "text_encoder_2" / "model.safetensors").read_bytes())
    save_file({"lora_unet_double_blocks_0_img_attn_proj.lora_down.weight": torch.zeros(2, 32),
               "lora_unet_double_blocks_0_img_attn_proj.lora_up.weight": torch.zeros(32, 2)},
              root / "loras" / "style.safetensors")
    (root / "checkpoints" / "broken.safetensors").write_bytes(b"\x0a\x00\x00\x00\x00\x00\x00\x00{not json}")
    (root / "checkpoints" / "notes.txt").write_text("ignored")
    found, problems = scan_folder(root)
    kinds = {f.path.name: (f.kind, f.family or f.architecture, f.encoder, f.storage) for f in found}
    assert kinds == {
        "flux1-tiny.safetensors": ("transformer", "tiny-flux", "", "f32"),
        "sd3-tiny-Q8_0.gguf": ("transformer", "tiny-sd3", "", "Q8_0"),
        "ae.safetensors": ("vae", "", "", "f32"),
        "t5xxl.safetensors": ("text_encoder", "", "t5", "f32"),
        "style.safetensors": ("lora", "flux", "", "f32"),
    }
    assert len(problems) == 1 and "broken.safetensors" in problems[0] and "not JSON" in problems[0]
    assert main(["models", "scan", str(root)]) == 0
    table = capsys.readouterr().out
    assert "diffusion_models/flux1-tiny.safetensors" in table and "unreadable:" in table
    assert main(["models", "scan", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["files"]) == 5 and data["files"][0]["kind"]


@pytest.mark.parametrize("content, message", [
    (b"", "too short to be a weights file"),
    (b"\x00" * 8 + b"xx", "not a safetensors or GGUF file"),
    (b"\xff\x00\x00\x00\x00\x00\x00\x00{", "truncated"),
    (b"GGUF\x09\x00\x00\x00" + b"\x00" * 16, "GGUF version 9 is not supported"),
])
def test_bad_files_get_one_clear_line(tmp_path, capsys, content, message):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(content)
    project = _project(tmp_path)
    assert main(["render", str(project), "-o", str(tmp_path / "o.png"), "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and str(bad) in err
    assert not (tmp_path / "o.png").exists()


def test_wrong_kind_of_file_is_named(exports, tmp_path, capsys):
    project = _project(tmp_path)
    vae = exports / "flux" / "vae" / "diffusion_pytorch_model.safetensors"
    t5 = exports / "flux" / "text_encoder_2" / "model.safetensors"
    clip_g = tmp_path / "clip_g.safetensors"  # only its width tells a CLIP-G from a CLIP-L
    save_file({"text_model.embeddings.token_embedding.weight": torch.zeros(4, 1280)}, clip_g)
    cases = [
        (["--model", str(vae)], "not a diffusion transformer AST Studio runs: it holds a vae"),
        (["--model", str(exports / "flux.safetensors"), "--base", str(exports / "sd3")],
         "is a tiny-flux transformer but the base"),
        (["--model", str(exports / "flux"), "--vae", str(exports / "flux.safetensors")], "not a VAE"),
        (["--model", str(exports / "flux"), "--text-encoder", str(vae)], "not a text encoder"),
        (["--model", str(exports / "flux"), "--text-encoder", str(clip_g)], "a clip-g encoder; FLUX.1 uses clip-l, t5"),
        (["--model", str(exports / "flux"), "--text-encoder", str(t5), "--text-encoder", str(t5)],
         "a second t5 encoder"),
        (["--model", "tiny-flux", "--vae", str(vae)], "is built in"),
        (["--model", str(tmp_path / "missing.safetensors")], "file not found"),
        (["--model", str(exports / "flux"), "--vae", str(tmp_path / "vae.ckpt")], "pickled .ckpt"),
    ]
    (tmp_path / "vae.ckpt").write_bytes(b"pickle")
    for extra, message in cases:
        assert main(["render", str(project), "-o", str(tmp_path / "o.png"), *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (extra, err)


def _project(tmp_path):
    from ast_core.project import Project, save_project

    path = tmp_path / "p.astproj"
    save_project(Project(_layout(), settings={"generation": {"seed": 1, "steps": 1}}), path)
    return path
